"""The ``nnscratch`` command's entry point (``pyproject.toml``'s script, ``python -m nnscratch``):
the CLI's modules are imported inside it, so that Ctrl-C while they load ends like Ctrl-C at any
other moment, one line and exit code 130, not a traceback."""

import signal
import sys

INTERRUPTED = "nnscratch: interrupted"  # cli.interrupted's line: not loaded yet


def main(argv=None):
    """``nnscratch.cli.main(argv)``, imported here; returns the exit code."""
    pressed = []

    def on_ctrl_c(signum, frame):
        pressed.append(signum)
        raise KeyboardInterrupt

    # Python swallows a KeyboardInterrupt raised inside a callback of the import machinery
    # ("Exception ignored in ..."): remember the press too (where SIGINT is not ignored)
    default = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if default:
        signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        pressed.append(signal.SIGINT)
    finally:
        if default:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    if pressed:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    return cli_main(argv)
