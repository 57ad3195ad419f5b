"""The ``nnscratch`` command's entry point (``pyproject.toml``'s script, ``python -m nnscratch``):
Ctrl-C at any moment of the command, its first imports included, ends in one line and exit code
130, not a traceback, and is never lost.

Python can lose a KeyboardInterrupt raised inside an import: the import machinery's weakref
callbacks print "Exception ignored" and go on, an extension module's initialisation may clear it
or turn it into an ImportError, and CPython remembers one that escaped code an extension ran
through ``PyRun_String``, to kill the process with SIGINT at exit instead of exiting with our code.
So while the command runs, Ctrl-C inside an import is held until the outermost import returns.
"""

import builtins
import importlib
import signal
import sys
import threading

INTERRUPTED = "nnscratch: interrupted"  # cli.interrupted's line: not loaded yet


class CtrlCAfterImports:
    """``with CtrlCAfterImports():`` SIGINT raises KeyboardInterrupt at once, except while the main
    thread imports: then when its outermost import returns. Where SIGINT is ignored (a job started
    in the background) or outside the main thread, nothing changes."""

    def __init__(self):
        self.depth = 0  # imports under way in the main thread
        self.pending = False
        self.main = threading.main_thread().ident

    def on_ctrl_c(self, signum, frame):
        if not self.depth:
            raise KeyboardInterrupt
        self.pending = True

    def guarded(self, load):
        """``load`` (``__import__``, ``importlib.import_module``), counting the main thread's
        imports and raising a held Ctrl-C when the outermost one returns."""

        def guarded_load(*args, **kwargs):
            if threading.get_ident() != self.main:
                return load(*args, **kwargs)
            self.depth += 1
            try:
                return load(*args, **kwargs)
            finally:
                self.depth -= 1
                if not self.depth and self.pending:
                    self.pending = False
                    raise KeyboardInterrupt

        return guarded_load

    def __enter__(self):
        self.active = (
            threading.get_ident() == self.main
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )
        if self.active:
            self.loaders = builtins.__import__, importlib.import_module
            builtins.__import__ = self.guarded(builtins.__import__)
            importlib.import_module = self.guarded(importlib.import_module)
            signal.signal(signal.SIGINT, self.on_ctrl_c)
        return self

    def __exit__(self, *exc):
        if self.active:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            builtins.__import__, importlib.import_module = self.loaders


def main(argv=None):
    """``nnscratch.cli.main(argv)``, imported here; returns the exit code."""
    try:
        with CtrlCAfterImports():
            from .cli import main as cli_main

            return cli_main(argv)
    except KeyboardInterrupt:  # before the CLI's own handling was loaded
        print(INTERRUPTED, file=sys.stderr)
        return 130
