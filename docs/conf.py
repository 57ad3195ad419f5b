"""Sphinx configuration of the nnscratch site: one source, built once a language.

``python docs/build.py`` builds English into docs/_build/html and Chinese into
docs/_build/html/zh-CN; this file reads which one from ``NNSCRATCH_DOCS_LANG`` (en, zh-CN). The
Chinese pages are the English sources with the translations in locale/zh_CN (gettext): commands,
code and numbers stay in one place and only the prose is translated. Nothing is fetched from
another host, at build or view time: MathJax comes from sphinx-mathjax-offline, the theme's fonts
and icons from the theme's own package.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS))  # docs/_ext: the site's own directives

#: the language of this build: "en" or "zh-CN" (the figures' and the CLI's spelling)
LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
LANGS = {"en": "en", "zh-CN": "zh_CN"}
if LANG not in LANGS:
    raise ValueError(f"NNSCRATCH_DOCS_LANG={LANG!r}: choose one of {', '.join(LANGS)}")

project = "nnscratch"
author = "the nnscratch authors"
copyright = "2026, the nnscratch authors"
language = LANGS[LANG]
locale_dirs = ["locale/"]
gettext_compact = False  # one catalogue a page: locale/zh_CN/LC_MESSAGES/learn/chapter4.po
gettext_uuid = False
gettext_location = False  # the catalogues do not change when a line moves

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
    "_ext.nnscratch_docs",
]

root_doc = "index"
exclude_patterns = [
    "_build",
    "examples",
    "gallery/**.ipynb",
    "sg_execution_times.rst",
    "README.md",
    "**.ipynb_checkpoints",
    "jupyter_execute",
]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["nnscratch.css"]

# Markdown and notebooks (MyST); the tour notebook executes at build time, failing the build on an
# error in any cell
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3
# a [link](page) resolves among Sphinx's own objects and Python's: sphinx-argparse's domain cannot
# resolve such a link, and warns on each
myst_ref_domains = ["std", "py"]
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True

# the API reference: from the docstrings; private names and the imports of a module stay out
autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_numpy_docstring = True
napoleon_google_docstring = False

# the gallery: every figure, animation and experiment, each from a script run at build time, in
# this build's language (each script reads NNSCRATCH_DOCS_LANG)
sphinx_gallery_conf = {
    "examples_dirs": ["examples"],
    "gallery_dirs": ["gallery"],
    "filename_pattern": r"/(plot|animate|experiment)_",
    "subsection_order": ["examples/figures", "examples/animations", "examples/experiments"],
    "within_subsection_order": "_ext.nnscratch_docs.CommandOrder",
    # the downloaded notebook has no hidden block: its first cell sets the language
    "first_notebook_cell": f'LANG = "{LANG}"  # the figures\' language: "en" or "zh-CN"',
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "write_computation_times": False,  # its page loads jQuery and DataTables from a CDN
    "show_signature": False,
    "min_reported_time": 10**6,  # no "Total running time" line: a number no page can translate
    "matplotlib_animations": False,
    "image_scrapers": ("_ext.nnscratch_docs.image_scraper",),
    "reset_modules": ("matplotlib",),
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "capture_repr": (),
}

html_theme = "pydata_sphinx_theme"
html_title = "nnscratch"
html_logo = None
html_theme_options = {
    "navbar_end": ["language-switch", "theme-switcher", "navbar-icon-links"],
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": [],
    "secondary_sidebar_items": ["page-toc"],
}
html_context = {
    "lang": LANG,
    "other_lang": "en" if LANG == "zh-CN" else "zh-CN",
    "default_mode": "auto",  # unset, the theme's script logs an error on every page
}
html_show_sourcelink = False
html_copy_source = False

nitpicky = False
# the engine's classes subclass the textbook's of the same names (engine.layers.BatchNorm is a
# layers.BatchNorm): a type named in a docstring finds both, and links to the first
suppress_warnings = ["myst.header", "ref.python"]
