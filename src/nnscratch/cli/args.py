"""Argument types shared by the subcommands: they reject bad values with a message argparse prints."""

import argparse


def number(convert, accept, expected):
    """An argparse type: ``convert(text)`` (int or float) that must satisfy ``accept``;
    otherwise the error says what was ``expected`` and what was given."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value

    return parse


positive_int = number(int, lambda v: v > 0, "a positive integer")
non_negative_int = number(int, lambda v: v >= 0, "a non-negative integer")
positive_float = number(float, lambda v: v > 0, "a positive number")
non_negative_float = number(float, lambda v: v >= 0, "a number ≥ 0")
probability = number(float, lambda v: 0 <= v < 1, "a number in [0, 1)")


#: figure languages: plots.strings.STRINGS's keys (a test checks; not imported here, so that the
#: command starts without matplotlib)
LANGS = ("en", "zh-CN")


def add_lang_argument(parser):
    """``--lang`` of the commands that draw figures."""
    parser.add_argument("--lang", choices=LANGS, default="en",
                        help="language of the figures' titles, labels and legends (default: en; "
                             "zh-CN needs a CJK font, e.g. Debian's fonts-noto-cjk)")


def add_listed_parser(sub, name, heading, items, width, **options):
    """``sub.add_parser(name, ...)`` whose help ends with ``items`` ({name: what it is}) listed
    under ``heading``, one a line."""
    listing = "\n".join(f"  {item:<{width}} {desc}" for item, desc in items.items())
    return sub.add_parser(name, epilog=f"{heading}:\n{listing}",
                          formatter_class=argparse.RawDescriptionHelpFormatter, **options)
