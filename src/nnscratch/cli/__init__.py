"""The ``nnscratch`` command: parses arguments and calls the library, nothing more.

Each subcommand lives in its own module with ``add_parser(subparsers)``, which registers the
arguments and sets ``func``; ``main`` turns our errors into one line on stderr and exit code 2,
warnings into one line each, Ctrl-C into one line and exit code 130, and a closed pipe into a
quiet exit. The ``nnscratch`` script starts at :func:`nnscratch.entry.main`, which imports this
module so that Ctrl-C while it loads is one line too.
"""

import argparse
import os
import sys
import warnings

from ..errors import NnscratchError
from ..run.interrupt import TrainingInterrupted
from . import (
    animate,
    compare,
    data,
    evaluate,
    experiment,
    generate,
    playground,
    plot,
    predict,
    search,
    train,
)

#: modules that each add one subcommand, in the order ``--help`` lists them
COMMANDS = [
    train,
    evaluate,
    predict,
    generate,
    data,
    plot,
    animate,
    compare,
    experiment,
    search,
    playground,
]


class Parser(argparse.ArgumentParser):
    """argparse, with a bad argument reported as one line (no usage block), exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class Version(argparse.Action):
    """``--version``, the version looked up only when asked for (importlib.metadata takes 30 ms
    of every command's start)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from .. import __version__

        print(f"nnscratch {__version__}")
        parser.exit()


def build_parser():
    parser = Parser(
        prog="nnscratch", description="How a neural network learns, from scratch in NumPy."
    )
    parser.add_argument(
        "--version", action=Version, nargs=0, help="show the version of nnscratch and exit"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def os_error_message(exc):
    """``strerror: filename`` of an OSError, without the name where it has none."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{reason}: {exc.filename}" if exc.filename else reason


def show_warning(message, category, filename, lineno, file=None, line=None):
    """A warning as the command shows it: one line, without the source line Python adds."""
    print(f"nnscratch: warning: {message}", file=sys.stderr if file is None else file)


def main(argv=None):
    """Run the command ``argv`` (default ``sys.argv[1:]``); returns the exit code: 0, 2 for an
    error (one line on stderr), 130 for Ctrl-C, 141 when the reader of its output went away."""
    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning
            args = build_parser().parse_args(argv)
            code = args.func(args)
            sys.stdout.flush()  # here, where a closed pipe is caught, not at the interpreter's exit
            return code
    except NnscratchError as exc:
        print(f"nnscratch: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `nnscratch ... | head`: the reader has all it wanted
        return closed_pipe()
    except OSError as exc:  # a folder that cannot be made, a file that cannot be written...
        print(
            f"nnscratch: error: {os_error_message(exc)} — choose a path you can write to",
            file=sys.stderr,
        )
        return 2
    except TrainingInterrupted as exc:  # a command that did not say more itself
        print(f"nnscratch: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        return interrupted()


def interrupted():
    """Ctrl-C outside training: one line, exit code 130 (128 + SIGINT), as a shell shows it."""
    print("nnscratch: interrupted", file=sys.stderr)
    return 130


def closed_pipe():
    """Exit quietly, as Unix tools do, when standard output's reader has closed the pipe: the
    exit code a shell shows for a process ended by SIGPIPE (128 + 13), nothing printed, and
    standard output pointed at the null device so that flushing it at exit fails no more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a test's captured stdout): nothing to do
        pass
    return 141


if __name__ == "__main__":
    sys.exit(main())
