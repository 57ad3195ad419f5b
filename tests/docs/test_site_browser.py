"""The built site in a real headless browser (Debian's chromium driven by Playwright), served
from 127.0.0.1 as a host would serve it: every page, in both languages, loads with no console
error, no failed request, no request to another host and no broken image; the language switch
leads to the same page in the other language, and the Chinese pages are in Chinese.

The site is ``$NNSCRATCH_DOCS_SITE`` (``.ci/run`` builds it first and sets it: missing, the test
fails) or else docs/_build/html when ``python docs/build.py`` made it (skipped where it did not).
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers import CHROMIUM, chromium

pytestmark = pytest.mark.slow  # a real browser, every page

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("NNSCRATCH_DOCS_SITE") or ROOT / "docs" / "_build" / "html")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)", allow_module_level=True)
if not (SITE / "index.html").exists():
    if os.environ.get("NNSCRATCH_DOCS_SITE"):
        raise FileNotFoundError(f"NNSCRATCH_DOCS_SITE={SITE}: no index.html there")
    pytest.skip("the site is not built (python docs/build.py)", allow_module_level=True)

#: Chinese characters, as the Chinese pages' text must have
HAN = re.compile(r"[\u4e00-\u9fff]")


#: API pages opened per language: they are one template over the docstrings (every link of
#: every page is checked without a browser by ``docs/build.py --check-links``)
API_PAGES = 4


def pages(site=SITE):
    """The pages of the site, as paths relative to it (the theme's fragments left out): every
    one but the generated API pages, of which the first :data:`API_PAGES` of each language."""
    found = sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if not {"_static", "_sources", "_images", "_downloads"} & set(p.relative_to(site).parts)
    )
    kept = []
    for path in found:
        api = path.removeprefix("zh-CN/").startswith("api/generated/")
        seen = sum(
            p.removeprefix("zh-CN/").startswith("api/generated/")
            for p in kept
            if p.startswith("zh-CN/") == path.startswith("zh-CN/")
        )
        if not api or seen < API_PAGES:
            kept.append(path)
    return kept


@pytest.fixture(scope="module")
def served():
    handler = functools.partial(QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def visit(browser, url):
    """Open ``url``; return (problems, the page's facts) once it has loaded."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, host = [], urlsplit(url).netloc

    def route(r):
        if urlsplit(r.request.url).netloc not in (host, ""):
            problems.append(f"request to another host: {r.request.url}")
            return r.abort()
        return r.continue_()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page.goto(url, wait_until="load")
    facts = page.evaluate(
        """() => ({
        lang: document.documentElement.lang,
        broken: [...document.images].filter(i => i.loading !== 'lazy' || i.complete)
            .filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src')),
        switch: (document.querySelector('a.language-switch') || {}).href || null,
        text: (document.querySelector('main') || document.body).innerText,
    })"""
    )
    page.close()
    problems += [f"broken image: {src}" for src in facts["broken"]]
    return problems, facts


def test_every_page_of_both_languages_loads_whole_from_this_host_only(browser, served):
    english = [p for p in pages() if not p.startswith("zh-CN/")]
    chinese = [p for p in pages() if p.startswith("zh-CN/")]
    assert "index.html" in english and "zh-CN/index.html" in chinese
    assert {p.removeprefix("zh-CN/") for p in chinese} == set(english)  # the same pages
    failures = {}
    for path in english + chinese:
        problems, facts = visit(browser, served + path)
        zh = path.startswith("zh-CN/")
        other = path.removeprefix("zh-CN/") if zh else f"zh-CN/{path}"
        if facts["switch"] != served + other:
            problems.append(f"language switch leads to {facts['switch']}, not {other}")
        if facts["lang"] != ("zh-CN" if zh else "en"):
            problems.append(f"html lang={facts['lang']!r}")
        if zh and path.startswith(("zh-CN/learn/", "zh-CN/guide/", "zh-CN/gallery/")):
            if not HAN.search(facts["text"]):
                problems.append("no Chinese text on a Chinese page")
        if problems:
            failures[path] = problems
    assert not failures, "\n".join(f"{p}: {'; '.join(v)}" for p, v in failures.items())
