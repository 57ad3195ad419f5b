"""The ``nnscratch`` command's entry point (``pyproject.toml``'s script, ``python -m nnscratch``):
the CLI's modules are imported inside it, so that Ctrl-C while they load ends like Ctrl-C at any
other moment, one line and exit code 130, not a traceback."""

import sys


def main(argv=None):
    """``nnscratch.cli.main(argv)``, imported here; returns the exit code."""
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        print("nnscratch: interrupted", file=sys.stderr)  # cli.interrupted's line: not loaded yet
        return 130
    return cli_main(argv)
