"""The ``nnscratch`` command: parses arguments and calls the library, nothing more.

Each subcommand lives in its own module with ``add_parser(subparsers)``, which registers the
arguments and sets ``func``; ``main`` turns our errors into one line on stderr and exit code 2.
"""

import argparse
import sys

from ..errors import NnscratchError
from ..run.interrupt import TrainingInterrupted
from . import animate, compare, data, evaluate, experiment, playground, plot, predict, search, train

#: modules that each add one subcommand, in the order ``--help`` lists them
COMMANDS = [train, evaluate, predict, data, plot, animate, compare, experiment, search, playground]


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


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except NnscratchError as exc:
        print(f"nnscratch: error: {exc}", file=sys.stderr)
        return 2
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
        print("nnscratch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
