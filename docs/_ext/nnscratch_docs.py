"""The site's own pieces: the gallery's scraper for the images its scripts write, and how the
API reference reads the docstrings.

nnscratch draws on matplotlib's ``Figure`` API, without pyplot, so sphinx-gallery's matplotlib
scraper sees nothing: each example saves its figure (PNG) or animation (GIF) as a user would, into
the folder it runs in (sphinx-gallery runs each example there), and :func:`image_scraper` moves
every new file to the gallery's image folder and shows it.
"""

import re
import shutil
from pathlib import Path

from sphinx.search import languages as search_languages
from sphinx.search.zh import SearchChinese
from sphinx_gallery.scrapers import figure_rst

#: what the examples write: figures and animations
IMAGE_SUFFIXES = (".png", ".gif")


def image_scraper(block, block_vars, gallery_conf):
    """rST showing the images the code block just wrote beside its script (moved out of the
    source folder, so that a rebuild starts clean)."""
    folder = Path(block_vars["src_file"]).parent
    images = []
    for written in sorted(p for p in folder.iterdir() if p.suffix in IMAGE_SUFFIXES):
        target = Path(next(block_vars["image_path_iterator"])).with_suffix(written.suffix)
        shutil.move(written, target)
        images.append(str(target))
    return figure_rst(images, gallery_conf["src_dir"])


#: the numpydoc sections whose entries are ``name : ...``
FIELD_SECTIONS = {"Parameters", "Other Parameters", "Attributes", "Returns", "Yields", "Raises"}
#: ``name : text`` at the start of an entry
ENTRY = re.compile(r"^(\s*)([\w*, ]+?) : (.+)$")
#: a type as numpydoc writes it: a few words of names, brackets and shapes ("ndarray (C,)")
TYPE = re.compile(r"^[\w\[\]\(\), .|*×-]+$")
#: |x| in a formula, an absolute value (reStructuredText would read a substitution)
ABSOLUTE = re.compile(r"(?<![\\|`\w])\|(?=[^\s|])([^|`\n]*?[^\s|])\|(?![|_\w`])")


def plain_docstring(app, what, name, obj, options, lines):
    """Let the docstrings read as they are written for a learner in the source:

    - an entry ``name : what it is`` (nnscratch's style: the description on the name's line)
      becomes numpydoc's ``name`` and the description below, where numpydoc would take the
      description for a type; ``name : ndarray (C,)`` stays a type;
    - an absolute value ``|f|`` is escaped, not read as a substitution.
    """
    section, out = None, []
    for i, line in enumerate(lines):
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if following and set(following) == {"-"} and line.strip():
            section = line.strip()
        elif not line.strip().startswith(("|", "+")):  # a table's rows keep their bars
            line = ABSOLUTE.sub(r"\\|\1\\|", line)
        match = ENTRY.match(line) if section in FIELD_SECTIONS else None
        if match and not (TYPE.match(match.group(3)) and len(match.group(3).split()) <= 4):
            indent, names, text = match.groups()
            out += [f"{indent}{names}", f"{indent}    {text}"]
            continue
        out.append(line)
    lines[:] = out


def skip_member(app, what, name, obj, skip, options):
    """scikit-learn's generated ``set_*_request`` methods (metadata routing) are not ours."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


class CommandOrder:
    """The gallery's order: the order in which ``nnscratch plot``, ``animate`` and ``experiment``
    list their figures (a sphinx-gallery sort key: ``plot_diff_error.py`` → "diff-error")."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        from nnscratch.cli import animate, experiment, figures, plot

        names = [*figures.NAMES, *plot.LANGUAGE, *animate.ANIMATIONS, *experiment.EXPERIMENTS]
        name = Path(filename).stem.split("_", 1)[-1].replace("_", "-")
        return (names.index(name) if name in names else len(names), filename)


#: a gallery index's thumbnail: its tooltip (the caption) and its title, raw HTML that gettext
#: does not see
THUMBNAIL = re.compile(
    r'(tooltip=")([^"]*)(".*?sphx-glr-thumbnail-title">)([^<]*)(</div>)', re.DOTALL
)


def translated_thumbnails(app, docname, source):
    """On a translated site, each thumbnail of a gallery index gets its example's translated
    title (as its title and its tooltip), from the example's catalogue."""
    if app.config.language == "en" or not docname.startswith("gallery/"):
        return
    if not docname.endswith("index"):
        return
    from babel.messages.pofile import read_po

    titles = {}
    folder = Path(app.srcdir, "locale", app.config.language, "LC_MESSAGES", "gallery")
    for po in folder.rglob("*.po"):
        with po.open("rb") as f:
            titles.update({m.id: m.string for m in read_po(f) if m.id and m.string})

    def swap(match):
        title = titles.get(match.group(4).strip(), match.group(4))
        return f"{match.group(1)}{title}{match.group(3)}{title}{match.group(5)}"

    source[0] = THUMBNAIL.sub(swap, source[0])


class ChineseSearch(SearchChinese):
    """Sphinx's Chinese search, whose script names its stemmer ``ChineseStemmer`` but ships the
    English one (a script error on every Chinese page): named as what it ships."""

    language_name = "English"


def setup(app):
    search_languages["zh"] = ChineseSearch
    app.connect("autodoc-process-docstring", plain_docstring, priority=400)  # before napoleon
    app.connect("autodoc-skip-member", skip_member)
    app.connect("source-read", translated_thumbnails)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
