"""The ``nnscratch`` command's entry point (``pyproject.toml``'s script, ``python -m nnscratch``):
the CLI's modules are imported inside it, so that Ctrl-C while they load ends like Ctrl-C at any
other moment, one line and exit code 130, not a traceback."""

import sys

#: What Ctrl-C outside training prints (exit code 130, 128 + SIGINT, as a shell shows it).
INTERRUPTED = "nnscratch: interrupted"


def main(argv=None):
    """``nnscratch.cli.main(argv)``, imported here; returns the exit code."""
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    return cli_main(argv)
