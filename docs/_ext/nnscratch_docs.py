"""The site's own pieces: the gallery's scraper for the images its scripts write.

nnscratch draws on matplotlib's ``Figure`` API, without pyplot, so sphinx-gallery's matplotlib
scraper sees nothing: each example saves its figure (PNG) or animation (GIF) as a user would, into
the folder it runs in (sphinx-gallery runs each example there), and :func:`image_scraper` moves
every new file to the gallery's image folder and shows it.
"""

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


class ChineseSearch(SearchChinese):
    """Sphinx's Chinese search, whose script names its stemmer ``ChineseStemmer`` but ships the
    English one (a script error on every Chinese page): named as what it ships."""

    language_name = "English"


def setup(app):
    search_languages["zh"] = ChineseSearch
    return {"parallel_read_safe": True, "parallel_write_safe": True}
