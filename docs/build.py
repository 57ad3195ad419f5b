"""Build the documentation site offline, in English and Chinese, warnings as errors.

    pip install '.[docs]'
    python docs/build.py                 # both languages → docs/_build/html (open index.html)
    python docs/build.py --lang zh-CN    # one language
    python docs/build.py --check-links   # also: every internal link and image of the built pages
    python docs/build.py --gallery plot_loss   # only the gallery scripts whose names match
    python docs/build.py --copy /tmp/site      # a copy of docs/ built there (two builds at once)
    python docs/build.py --gettext       # the English messages (docs/_build/gettext), to update
                                         # the translations: sphinx-intl update -p ... -l zh_CN
    python docs/build.py --check-translations  # every message of every page translated

English lands in docs/_build/html, Chinese in docs/_build/html/zh-CN, the two linked page by page.
Each language is its own Sphinx run (its own doctrees): the gallery's scripts and the tour notebook
run again in that language, so the Chinese pages show Chinese figures.
"""

import argparse
import html.parser
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
BUILD = DOCS / "_build"
#: where each language's pages go, below BUILD/html
OUT = {"en": "", "zh-CN": "zh-CN"}
#: the tour notebook each language's site renders (as learn/tour.ipynb)
NOTEBOOKS = {
    "en": ROOT / "notebooks" / "how-a-network-learns.ipynb",
    "zh-CN": ROOT / "notebooks" / "how-a-network-learns.zh-CN.ipynb",
}
#: what a build writes into the source folder (made again each time, never committed)
GENERATED = [
    DOCS / "gallery",
    DOCS / "api" / "generated",
    DOCS / "learn" / "tour.ipynb",
    DOCS / "sg_execution_times.rst",
]


def clean_generated():
    for path in GENERATED:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def sphinx(builder, out, lang, extra=(), strict=True):
    """Run sphinx-build for one language; warnings are errors where ``strict``."""
    env = {**os.environ, "NNSCRATCH_DOCS_LANG": lang, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    command = [
        sys.executable, "-m", "sphinx", "-b", builder, *(["-W", "--keep-going"] * strict), "-q",
        "-d", str(BUILD / "doctrees" / f"{builder}-{lang}"), *extra, str(DOCS), str(out),
    ]  # fmt: skip
    return subprocess.run(command, env=env, cwd=ROOT).returncode


def copy_to(folder):
    """A copy of docs/ in folder/docs, beside links to the sources it includes, built there: two
    builds at once would overwrite each other's generated files."""
    folder = Path(folder).resolve()
    shutil.rmtree(folder / "docs", ignore_errors=True)
    skipped = {DOCS / "_build", *GENERATED}  # not locale/zh_CN/LC_MESSAGES/gallery: a source
    shutil.copytree(
        DOCS,
        folder / "docs",
        ignore=lambda where, names: {n for n in names if Path(where, n) in skipped},
    )
    for name in (
        "src",
        "notebooks",
        "README.md",
        "README.zh-CN.md",
        "CHANGELOG.md",
        "CONTRIBUTING.md",
        "benchmarks",
    ):
        link = folder / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    return folder / "docs" / "build.py"


def gettext(out):
    """The English messages of every page into ``out`` (*.pot), from a copy of docs/ (the
    sources stay as they are, for a build running beside it)."""
    with tempfile.TemporaryDirectory() as folder:
        copy = copy_to(folder).parent
        shutil.copyfile(NOTEBOOKS["en"], copy / "learn" / "tour.ipynb")
        env = {**os.environ, "NNSCRATCH_DOCS_LANG": "en"}
        command = [
            sys.executable, "-m", "sphinx", "-b", "gettext", "-Q", "-D",
            "sphinx_gallery_conf.plot_gallery=0", "-D", "nb_execution_mode=off",
            str(copy), str(out),
        ]  # fmt: skip
        return subprocess.run(command, env=env, cwd=folder).returncode


def build(lang, extra=(), strict=True):
    out = BUILD / "html" / OUT[lang]
    for old in out.iterdir() if out.is_dir() else ():  # English's folder holds zh-CN/: kept
        if old.name not in OUT.values():
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    clean_generated()
    shutil.copyfile(NOTEBOOKS[lang], DOCS / "learn" / "tour.ipynb")
    try:
        return sphinx("html", out, lang, extra, strict)
    finally:
        clean_generated()


#: pages whose messages stay English in the Chinese site, and why
UNTRANSLATED = {
    "api/": "the API reference: the docstrings, in English",
    "learn/tour": "the Chinese site renders the Chinese notebook",
    "guide/cli": "generated from the command's own --help, in English",
}


def untranslated(pot_dir, po_dir):
    """``(page, message)`` for every message of the English catalogues (``--gettext``) with no
    Chinese translation, or a fuzzy one, outside :data:`UNTRANSLATED`."""
    from babel.messages.pofile import read_po  # Sphinx's own dependency

    missing = []
    for pot in sorted(Path(pot_dir).rglob("*.pot")):
        page = pot.relative_to(pot_dir).with_suffix("").as_posix()
        if any(page.startswith(prefix) for prefix in UNTRANSLATED):
            continue
        po = Path(po_dir) / f"{page}.po"
        catalog = None
        if po.exists():
            with po.open("rb") as f:
                catalog = read_po(f)
        with pot.open("rb") as f:
            for message in read_po(f):
                if not message.id:
                    continue
                done = catalog.get(message.id) if catalog is not None else None
                if done is None or not done.string or done.fuzzy:
                    missing.append((page, message.id))
    return missing


class Links(html.parser.HTMLParser):
    """The links (href) and images (src) of one page, and the ids it defines."""

    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append((tag, attrs[name]))


def broken_links(site):
    """``(page, link, why)`` for every link or image of the built pages that points inside the
    site and finds no file or no anchor there, and every script, style sheet, font or image that
    would be fetched from another host (a link a reader clicks may leave the site)."""
    pages, broken = {}, []
    for page in sorted(site.rglob("*.html")):
        if {"_static", "_sources"} & set(page.relative_to(site).parts):
            continue  # the theme's template fragments, not pages
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        pages[page.resolve()] = parser
    for page, parser in pages.items():
        for tag, link in parser.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https") or link.startswith("//"):
                if tag != "a":
                    broken.append((page, link, "fetched from another host"))
                continue
            if parts.scheme in ("mailto", "data", "javascript") or not (
                parts.path or parts.fragment
            ):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append((page, link, "no such file"))
            elif parts.fragment and target in pages and parts.fragment not in pages[target].ids:
                broken.append((page, link, "no such anchor"))
    return broken


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=[*OUT, "all"], default="all")
    parser.add_argument("--check-links", action="store_true")
    parser.add_argument("--gettext", action="store_true", help="write the message catalogues only")
    parser.add_argument(
        "--check-translations",
        action="store_true",
        help="fail where a message of a page has no Chinese translation",
    )
    parser.add_argument("--gallery", metavar="REGEX", help="run only the gallery scripts matching")
    parser.add_argument("--copy", metavar="FOLDER", help="build a copy of docs/ in FOLDER/docs")
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="a draft: warnings stay warnings and the tour notebook is not executed (CI is strict)",
    )
    args = parser.parse_args(argv)
    if args.copy:
        rest = [
            a
            for a in (argv if argv is not None else sys.argv[1:])
            if a != args.copy and a != "--copy"
        ]
        return subprocess.run([sys.executable, str(copy_to(args.copy)), *rest]).returncode
    if args.gettext or args.check_translations:
        code = gettext(BUILD / "gettext")
        if code or not args.check_translations:
            return code
        missing = untranslated(BUILD / "gettext", DOCS / "locale" / "zh_CN" / "LC_MESSAGES")
        for page, message in missing:
            print(f"{page}: untranslated: {message[:100]!r}", file=sys.stderr)
        print(f"docs: {len(missing)} messages without a Chinese translation", file=sys.stderr)
        return 1 if missing else 0
    extra = ["-D", f"sphinx_gallery_conf.filename_pattern={args.gallery}"] if args.gallery else []
    if args.lenient:
        extra += ["-D", "nb_execution_mode=off"]
    for lang in OUT if args.lang == "all" else [args.lang]:
        code = build(lang, extra, not args.lenient)
        if code:
            print(f"docs: the {lang} build failed (exit code {code})", file=sys.stderr)
            return code
    if args.check_links:
        broken = broken_links(BUILD / "html")
        for page, link, why in broken:
            print(f"{page.relative_to(BUILD)}: {link}: {why}", file=sys.stderr)
        if broken:
            return 1
    print(f"docs: built {BUILD / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
