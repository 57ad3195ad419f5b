"""Figures in English or Chinese: each language's strings (``plots.strings``) and, for Chinese, a
CJK font the system has, found through matplotlib's font manager.

A figure function decorated with :func:`localized` takes ``lang="en"`` or ``lang="zh-CN"``; it
draws with that language's table of strings and, for Chinese, with a CJK font first in matplotlib's
font list (Latin letters, digits and math fall back to DejaVu Sans). Where matplotlib knows no CJK
font, the system's fonts are scanned once for ones installed since its cache was built; where
there is none it draws in English and warns once, in one line, which package to install: never
boxes in place of characters.
"""

import functools
import inspect
import warnings

import matplotlib
from matplotlib import font_manager

from ..validation import check_choice
from .strings import STRINGS

__all__ = [
    "CJK_FONTS",
    "LANGS",
    "FontWarning",
    "cjk_font",
    "class_label",
    "font_cache_path",
    "localized",
    "monospace_font",
    "refresh_fonts",
    "resolve_lang",
    "strings_for",
]

LANGS = tuple(STRINGS)
#: CJK fonts for Simplified Chinese, best first: Debian's fonts-noto-cjk, Adobe's Source Han,
#: macOS's and Windows' own, WenQuanYi
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Microsoft YaHei",
    "SimHei",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Serif CJK SC",
    "Noto Sans CJK JP",
)
#: monospaced CJK fonts (for the animations' counters), else the font above
CJK_MONO_FONTS = ("Noto Sans Mono CJK SC", "Sarasa Mono SC")
INSTALL_HINT = (
    "install a CJK font: Debian/Ubuntu `apt-get install fonts-noto-cjk`, Fedora "
    "`dnf install google-noto-sans-cjk-fonts` (macOS and Windows have one)"
)


class FontWarning(UserWarning):
    """No CJK font: the figure is drawn in English."""


_warned = False


def cjk_font(font_list=None, candidates=CJK_FONTS):
    """The first of ``candidates`` that matplotlib's font manager knows (``font_list``: the
    fonts to look in, default every font matplotlib found), or ``None``."""
    names = {
        font.name for font in (font_manager.fontManager.ttflist if font_list is None else font_list)
    }
    return next((name for name in candidates if name in names), None)


def monospace_font(font_list=None):
    """The first family of ``rcParams["font.monospace"]`` that is installed (matplotlib's own
    DejaVu Sans Mono where none is): text drawn with the whole list would log a "findfont: not
    found" line for every missing family, every time it is drawn."""
    return cjk_font(font_list, matplotlib.rcParams["font.monospace"]) or "DejaVu Sans Mono"


def font_cache_path():
    """matplotlib's font list cache: the file it reads at import instead of scanning the system."""
    from pathlib import Path

    return Path(matplotlib.get_cachedir(), f"fontlist-v{font_manager.FontManager.__version__}.json")


def refresh_fonts():
    """Add to matplotlib's font manager the system's fonts its cache does not know (installed
    after the cache was built, as ``apt-get install fonts-noto-cjk`` after a first figure), and
    write the cache anew so that later processes know them too. Returns how many were added."""
    manager = font_manager.fontManager
    known = {font.fname for font in manager.ttflist} | {font.fname for font in manager.afmlist}
    added = 0
    for path in font_manager.findSystemFonts():
        if path in known:
            continue
        try:
            manager.addfont(path)
        except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read: skip it
            continue
        added += 1
    if added:
        try:
            font_manager.json_dump(manager, font_cache_path())
        except OSError:  # a cache that cannot be written: this process knows the fonts anyway
            pass
    return added


_refreshed = False


def resolve_lang(lang, font_list=None):
    """``(language drawn, font or None)`` for ``lang``: "zh-CN" with a CJK font (after
    :func:`refresh_fonts`, once a process, where matplotlib knew none), or "en" (for "zh-CN"
    without one, after a :class:`FontWarning`, once a process)."""
    global _warned, _refreshed
    check_choice(lang, LANGS, "lang")
    if lang == "en":
        return "en", None
    font = cjk_font(font_list)
    if font is None and font_list is None and not _refreshed:
        _refreshed = True  # a scan of the system's fonts, once a process
        font = cjk_font() if refresh_fonts() else None
    if font is None:
        if not _warned:
            warnings.warn(
                f"no CJK font found, figures drawn in English: {INSTALL_HINT}",
                FontWarning,
                stacklevel=3,
            )
            _warned = True
        return "en", None
    return lang, font


def strings_for(lang):
    """The table of strings figures of ``lang`` are drawn with (English where no CJK font)."""
    return STRINGS[resolve_lang(lang)[0]]


def class_label(name, s):
    """A class's name as figures of the table ``s`` draw it: translated where the table has it
    ("class.Shirt" → "衬衫"), else as it is ("7")."""
    return s.get(f"class.{name}", name)


def localized(draw):
    """Decorator: ``draw(..., s=table)`` becomes ``draw(..., lang="en")``; it runs with the
    language's strings and, for Chinese, its font first in ``font.family`` (the texts a figure
    makes keep the font they were made with)."""

    @functools.wraps(draw)
    def figure(*args, lang="en", **kwargs):
        drawn, font = resolve_lang(lang)
        rc = (
            {}
            if font is None
            else {
                "font.family": [font, "DejaVu Sans"],
                "axes.unicode_minus": False,
                "font.monospace": [cjk_font(candidates=CJK_MONO_FONTS) or font, "DejaVu Sans Mono"],
            }
        )
        with matplotlib.rc_context(rc):
            return draw(*args, s=STRINGS[drawn], **kwargs)

    signature = inspect.signature(draw)
    params = [p for name, p in signature.parameters.items() if name != "s"]
    params.append(inspect.Parameter("lang", inspect.Parameter.KEYWORD_ONLY, default="en"))
    figure.__signature__ = signature.replace(parameters=params)
    return figure
