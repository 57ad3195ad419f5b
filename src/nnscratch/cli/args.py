"""Argument types shared by the subcommands, in the library's one dialect of checks: an option of
the run table (``run.options``) is parsed by its :meth:`~nnscratch.run.option.Option.parse`, any
other number by a :class:`~nnscratch.validation.Interval`; argparse prints the message as one
line."""

import argparse

from ..errors import NnscratchError
from ..plots.strings import STRINGS
from ..validation import NONNEGATIVE_INT, POSITIVE, POSITIVE_INT


def option_type(name):
    """An argparse type for the table's option ``name``: its parse, its message."""

    def parse(text):
        from ..run.options import OPTIONS

        try:
            return OPTIONS[name].parse(text)
        except NnscratchError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = name
    return parse


def number(interval, name, convert=int):
    """An argparse type: ``convert(text)`` (int or float) in ``interval``, else the interval's
    message naming ``name``."""

    def parse(text):
        try:
            return interval.check(convert(text), name)
        except (ValueError, NnscratchError):
            raise argparse.ArgumentTypeError(
                f"{name} must be {interval.describe()}, got {text!r}"
            ) from None

    parse.__name__ = name
    return parse


def positive_int(name):
    return number(POSITIVE_INT, name)


def non_negative_int(name):
    return number(NONNEGATIVE_INT, name)


def positive_float(name):
    return number(POSITIVE, name, float)


#: figure languages: the string tables' (plots.strings imports no matplotlib)
LANGS = tuple(STRINGS)


def add_lang_argument(parser):
    """``--lang`` of the commands that draw figures."""
    parser.add_argument(
        "--lang",
        choices=LANGS,
        default="en",
        help="language of the figures' titles, labels and legends (default: en; "
        "zh-CN needs a CJK font, e.g. Debian's fonts-noto-cjk)",
    )


def add_listed_parser(sub, name, heading, items, width, **options):
    """``sub.add_parser(name, ...)`` whose help ends with ``items`` ({name: what it is}) listed
    under ``heading``, one a line."""
    listing = "\n".join(f"  {item:<{width}} {desc}" for item, desc in items.items())
    return sub.add_parser(
        name,
        epilog=f"{heading}:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **options,
    )
