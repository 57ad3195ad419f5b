"""docs/build.py's two checks, on small sites and catalogues made here: the link check finds a
missing page, a missing anchor and anything fetched from another host, and lets a reader's link
to another site be; the translation check finds a missing, an empty and a fuzzy translation, and
leaves the pages that stay English alone."""

import pytest

from tests.docs.conftest import ROOT


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_link_check_finds_what_is_broken_and_only_that(tmp_path, docs_build):
    write(
        tmp_path / "index.html",
        '<a href="learn/a.html">a</a> <a href="learn/a.html#there">anchor</a>'
        '<a href="https://numpy.org">a reader may leave</a> <img src="_images/x.png">'
        '<a href="learn/">a folder</a> <a href="#top">here</a> <p id="top"></p>',
    )
    write(
        tmp_path / "learn" / "a.html",
        '<h1 id="there">a</h1><a href="../missing.html">gone</a>'
        '<a href="../index.html#nowhere">x</a>'
        '<script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/f.css"><img src="../_images/y.png">',
    )
    write(tmp_path / "learn" / "index.html", "<p>the folder's page</p>")
    write(tmp_path / "_images" / "x.png", "")
    write(tmp_path / "_static" / "macros.html", '<a href="{{ pathto(x) }}">a template</a>')
    broken = {(page.name, link, why) for page, link, why in docs_build.broken_links(tmp_path)}
    assert broken == {
        ("a.html", "../missing.html", "no such file"),
        ("a.html", "../index.html#nowhere", "no such anchor"),
        ("a.html", "https://cdn.example.org/x.js", "fetched from another host"),
        ("a.html", "//fonts.example.org/f.css", "fetched from another host"),
        ("a.html", "../_images/y.png", "no such file"),
    }


POT = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Learning"
msgstr ""

msgid "The gradient points uphill."
msgstr ""

msgid "Gradient descent"
msgstr ""
"""


def test_the_translation_check_finds_every_message_without_a_translation(tmp_path, docs_build):
    pytest.importorskip("babel", reason="babel comes with Sphinx: pip install '.[docs]'")
    pot, po = tmp_path / "pot", tmp_path / "po"
    for page in ("learn/chapter4", "learn/chapter5", "api/generated/nnscratch.layers"):
        write(pot / f"{page}.pot", POT)
    write(
        po / "learn/chapter4.po",
        POT.replace('msgid "Learning"\nmsgstr ""', 'msgid "Learning"\nmsgstr "学习"').replace(
            'msgid "The gradient points uphill."\nmsgstr ""',
            '#, fuzzy\nmsgid "The gradient points uphill."\nmsgstr "梯度指向上坡。"',
        ),
    )
    missing = docs_build.untranslated(pot, po)
    assert missing == [
        ("learn/chapter4", "The gradient points uphill."),  # fuzzy: a translation to look at again
        ("learn/chapter4", "Gradient descent"),  # empty
        ("learn/chapter5", "Learning"),  # no catalogue at all
        ("learn/chapter5", "The gradient points uphill."),
        ("learn/chapter5", "Gradient descent"),
    ]  # and nothing of api/: the API reference stays English


def test_docstrings_read_as_written_name_colon_description_and_absolute_values():
    """The API reference's reading of nnscratch's docstrings (docs/_ext): ``name : what it is``
    is a description, not a type; ``classes_ : ndarray (C,)`` stays numpydoc's type; ``|f|`` is
    an absolute value; a table keeps its bars; outside a section nothing is an entry."""
    pytest.importorskip("sphinx_gallery", reason="pip install '.[docs]'")
    import sys

    sys.path.insert(0, str(ROOT / "docs"))
    try:
        from _ext.nnscratch_docs import plain_docstring
    finally:
        sys.path.remove(str(ROOT / "docs"))
    lines = [
        "Round-off grows as 1e-16 · |f| / h.",
        "a : b is not an entry here",
        "",
        "Parameters",
        "----------",
        "net : a network with ``params`` (a LayerNet).",
        "    more about it",
        "x, t : (N, D) inputs and (N,) labels.",
        "classes_ : ndarray (C,)",
        "    The labels.",
        "| a | b |",
    ]
    plain_docstring(None, "class", "X", None, {}, lines)
    assert lines == [
        "Round-off grows as 1e-16 · \\|f\\| / h.",
        "a : b is not an entry here",
        "",
        "Parameters",
        "----------",
        "net",
        "    a network with ``params`` (a LayerNet).",
        "    more about it",
        "x, t",
        "    (N, D) inputs and (N,) labels.",
        "classes_ : ndarray (C,)",
        "    The labels.",
        "| a | b |",
    ]
