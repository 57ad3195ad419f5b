"""The page in a real headless browser: Debian's chromium driven by Playwright.

Skipped, with the reason, where playwright or /usr/bin/chromium is missing (CI: ``pip install
playwright`` and ``apt-get install -y chromium``; Playwright's own browser download is not used).
"""

import re
import threading
import time

import numpy as np
import pytest

from nnscratch.playground import PlaygroundServer
from tests.helpers import CHROMIUM, chromium

pytestmark = pytest.mark.slow  # a real browser

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def served():
    server = PlaygroundServer("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def page(browser):
    # bypass_csp: the page forbids eval, and the test's wait_for_function evaluates text
    return browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)


def opened(page, served, query):
    """The playground at ``query``, once its session is made and nothing is in flight."""
    page.goto(served.url + query)
    page.wait_for_function("app.id !== null && app.pending === 0", polling=100)


def boundary_cells(page, cells=60):
    """The boundary canvas's RGB at the centre of each of the cells × cells grid cells."""
    data = page.evaluate(
        """(n) => {
        const c = document.getElementById('boundary'), ctx = c.getContext('2d'), out = [];
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++)
            out.push(...ctx.getImageData(Math.floor((j + 0.5) * c.width / n),
                                         Math.floor((i + 0.5) * c.height / n), 1, 1).data);
        return out; }""",
        cells,
    )
    return np.array(data, dtype=np.float64).reshape(cells * cells, 4)[:, :3]


def drawn_classes(rgb, n_classes):
    """The class whose colour each pixel shows: the page draws white + a·(colour − white), so
    the class is the one whose (colour − white) the pixel's (rgb − white) is best a multiple of."""
    residuals = []
    for k in range(n_classes):
        d = np.array([int(PALETTE[k][i : i + 2], 16) for i in (1, 3, 5)], float) - 255
        v = rgb - 255
        a = v @ d / (d @ d)
        residuals.append(np.sum((v - a[:, None] * d) ** 2, axis=1))
    return np.argmin(residuals, axis=0)


PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c"]


def test_play_on_spiral_learns_and_the_url_follows_the_settings(page, served, tmp_path):
    page.goto(served.url + "?dataset=spiral&classes=3")
    page.wait_for_function(
        "document.getElementById('iteration-count').textContent === '0' "
        "&& document.querySelectorAll('#columns .column').length >= 3",
        polling=100,
    )
    before = boundary_cells(page)
    page.click("#play")
    page.wait_for_function(
        "Number(document.getElementById('epoch-count').textContent) >= 3", polling=100
    )
    first_loss = float(page.text_content("#loss-value"))
    # the acceptance number: train accuracy ≥ 0.95 within 60 s, shown on the page
    page.wait_for_function(
        "Number(document.getElementById('train-acc').textContent) >= 0.95",
        polling=100,
        timeout=60_000,
    )
    page.click("#play")  # pause
    page.wait_for_timeout(500)  # a step under way lands
    last_loss = float(page.text_content("#loss-value"))
    assert last_loss < first_loss
    after = boundary_cells(page)
    assert np.mean(np.any(before != after, axis=-1)) > 0.1  # the boundary changed
    # what is drawn is the library's net.predict on the grid's cell centres
    (session,) = [s for s in served.store.sessions.values() if s is not None]
    predicted = session.net.predict(session.grid.centres(60)).argmax(axis=1)
    assert np.mean(drawn_classes(after, 3) == predicted) > 0.99
    page.screenshot(path=str(tmp_path / "spiral.png"))

    page.select_option("#setting-activation", "relu")
    page.wait_for_function("location.search.includes('activation=relu')")
    assert re.search(r"[?&]dataset=spiral", page.url) is None  # defaults stay out of the link
    page.fill("#setting-lr", "0.05")
    page.press("#setting-lr", "Enter")
    page.wait_for_function("location.search.includes('lr=0.05')")
    page.wait_for_function("app.pending === 0 && app.restartTimer === null")
    assert page.text_content("#iteration-count") == "0"  # a new setting starts again


def test_a_bad_setting_shows_its_message(page, served):
    page.goto(served.url + "?hidden=8,999")
    page.wait_for_selector("#error:not([hidden])")
    assert "hidden" in page.text_content("#error")


AGREEMENT = """async () => {
    const query = new URLSearchParams(location.search);
    const r = await fetch(`/api/sessions/${app.id}/settings`);
    const server = (await r.json()).settings;
    const out = [];
    for (const s of app.table) {
        const input = document.getElementById('setting-' + s.name);
        const form = s.kind === 'bool' ? String(input.checked)
            : s.kind === 'names' ? [...input.querySelectorAll('input:checked')]
                .map(b => b.value).join(',')
            : input.value.trim();
        const url = query.has(s.name) ? query.get(s.name)
            : (s.default === null ? '' : String(s.default));
        const echoed = server[s.name] === null ? '' : String(server[s.name]);
        const agree = form === url && (echoed === form || echoed === '');
        if (!agree) out.push([s.name, form, url, echoed]);
    }
    return {differ: out, idle: app.pending === 0 && app.restartTimer === null,
            mismatch: !document.getElementById('mismatch').hidden};
}"""

CHANGES = {
    "#setting-lr": ["0.01", "0.03", "0.1", "0.003"],
    "#setting-hidden": ["8", "16,8", "12", "8,8"],
    "#setting-batch_size": ["8", "16", "32", "10"],
}
SELECTS = {
    "#setting-activation": ["tanh", "relu", "sigmoid"],
    "#setting-optimizer": ["sgd", "adam", "momentum"],
}


#: features one may tick and untick at will (x1 and x2 stay: a network takes at least one)
FEATURE_CHOICES = ["x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"]


def test_quick_changes_while_playing_leave_form_url_and_network_equal(page, served):
    opened(page, served, "?dataset=spiral&classes=3")
    rng = np.random.default_rng(0)
    for round_ in range(20):
        if page.text_content("#play").strip().endswith("play"):
            page.click("#play")  # playing while the settings change
        for selector, values in CHANGES.items():  # five fields within a second
            page.fill(selector, str(rng.choice(values)))
            page.dispatch_event(selector, "change")
        for selector, values in SELECTS.items():
            page.select_option(selector, str(rng.choice(values)))
        page.click(f"#setting-features input[value='{rng.choice(FEATURE_CHOICES)}']")
        # every change applied (play goes on meanwhile: requests keep coming)
        page.wait_for_function(
            "app.restartTimer === null && app.applied === app.asked", polling=50, timeout=30_000
        )
        state = page.evaluate(AGREEMENT)
        assert state["differ"] == [] and not state["mismatch"], (round_, state)
    if page.text_content("#play").strip().endswith("pause"):
        page.click("#play")


def test_the_gradient_check_while_playing_pauses_checks_and_plays_on(page, served):
    opened(page, served, "?dataset=spiral&classes=3")
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('iteration-count').textContent) > 0")
    page.click("#gradcheck")
    page.wait_for_selector("#gradcheck-result tr.ok", timeout=30_000)
    assert page.is_hidden("#error")  # no "busy"
    start = int(page.text_content("#iteration-count"))
    page.wait_for_function(
        f"Number(document.getElementById('iteration-count').textContent) > {start}",
        timeout=10_000,
    )  # and play went on
    page.click("#play")


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_chinese_page_and_the_language_switch(page, served):
    from nnscratch.playground.strings import ZH_CN

    opened(page, served, "?lang=zh-CN&dataset=spiral&classes=3")
    assert page.text_content("#play") == ZH_CN["play"]
    assert page.eval_on_selector_all("legend", "ls => ls.map(l => l.textContent)") == [
        ZH_CN["group.data"],
        ZH_CN["group.network"],
        ZH_CN["group.training"],
    ]
    # every control's own words: labels (less their input), help lines, captions, buttons
    texts = page.evaluate(
        """() => [...document.querySelectorAll(
            'label, .help, figcaption, button, .counter > span, h1, a')].map(e => {
            const c = e.cloneNode(true);
            c.querySelectorAll('input, select, .help, b').forEach(x => x.remove());
            return c.textContent.trim(); }).filter(x => x)"""
    )
    english = [t for t in texts if not CJK.search(t) and re.search(r"[a-z]{4,}", t)]
    # names that are the textbook's own in Chinese too: the optimizers, activations, β, ε
    assert english == [] or set(english) <= {"Dropout"}, english
    page.select_option("#lang", "en")
    page.wait_for_function("location.search.includes('lang=en')")
    assert page.text_content("#play").endswith("play")
    header = page.eval_on_selector_all(
        "header h1, header button, .counter > span", "es => es.map(e => e.textContent).join(' ')"
    )
    assert not CJK.search(header), header  # the switch itself names 中文, in Chinese


@pytest.mark.parametrize("width, height", [(1400, 900), (800, 600), (390, 844)])
def test_screens_from_a_projector_to_a_phone(browser, served, tmp_path, width, height):
    page = browser.new_page(
        viewport={"width": width, "height": height}, device_scale_factor=2, bypass_csp=True
    )
    opened(page, served, "?dataset=spiral&classes=3")
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('epoch-count').textContent) >= 5")
    page.click("#play")
    page.wait_for_function("app.pending === 0")
    sizes = page.evaluate(
        """() => ({scroll: document.documentElement.scrollWidth,
                   boundary: document.getElementById('boundary').width,
                   css: document.getElementById('boundary').getBoundingClientRect().width,
                   curves: document.getElementById('curves').width})"""
    )
    page.screenshot(path=str(tmp_path / f"playground-{width}x{height}.png"), full_page=True)
    page.close()
    assert sizes["scroll"] <= width  # no sideways scrolling, on a phone too
    assert sizes["boundary"] == 2 * 420 and sizes["curves"] == 2 * 440  # sharp at scale 2
    assert sizes["css"] <= width


def test_the_whole_network_is_drawn_and_grows_with_plus_and_minus(page, served):
    opened(page, served, "?dataset=spiral&classes=3&hidden=6,4")
    assert page.eval_on_selector_all("#columns .feature-row", "rs => rs.length") == 7
    assert page.eval_on_selector_all(
        "#columns .feature-row:not(.off)", "rs => rs.map(r => r.textContent)"
    ) == ["x\u2081", "x\u2082"]  # every feature shown, the two the network takes on
    columns = page.eval_on_selector_all(
        "#columns .column", "cs => cs.map(c => c.querySelectorAll('.unit').length)"
    )
    assert columns == [0, 6, 4, 3]  # both hidden layers, the three classes
    lines = page.eval_on_selector_all("#links line", "ls => ls.length")
    assert lines == 2 * 6 + 6 * 4 + 4 * 3  # every weight a line
    (session,) = [s for s in served.store.sessions.values() if s is not None]
    first = page.eval_on_selector("#links line title", "t => t.textContent")
    assert first == f"weight {session.net.params['W1'][0, 0]:.3f}"  # hover: the weight itself
    page.click("#columns .column:nth-child(2) .head button")  # + a neuron in layer 1
    page.wait_for_function("location.search.includes('hidden=7%2C4')")
    page.wait_for_function("app.pending === 0 && app.restartTimer === null")
    page.click("#add-layer")
    page.wait_for_function("location.search.includes('hidden=7%2C4%2C4')")
    page.wait_for_function("app.pending === 0 && app.restartTimer === null")
    columns = page.eval_on_selector_all(
        "#columns .column", "cs => cs.map(c => c.querySelectorAll('.unit').length)"
    )
    assert columns == [0, 7, 4, 4, 3]


def link_ends(page):
    """Each line's left end (x, y), rounded, as the page drew it."""
    return page.eval_on_selector_all(
        "#links line",
        "ls => ls.map(l => [Math.round(+l.getAttribute('x1')), Math.round(+l.getAttribute('y1'))])",
    )


def feature_ends(page):
    """{feature: the middle of its tile's right edge (x, y)}, where its links start."""
    return page.eval_on_selector_all(
        "#columns canvas[data-feature]",
        """cs => Object.fromEntries(cs.map(c => { const b = c.getBoundingClientRect(),
            n = document.getElementById('network').getBoundingClientRect();
            return [c.dataset.feature, [Math.round(b.right - n.left),
                                        Math.round(b.top + b.height / 2 - n.top)]]; }))""",
    )


def test_features_are_fed_in_by_a_click_on_their_tile(page, served):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened(page, served, "?dataset=circles&hidden=3")
    for name in ("x1^2", "x2^2"):  # TensorFlow Playground's way: click the input's tile
        page.click(f"#columns .feature-row:has(canvas[data-feature='{name}'])")
    page.wait_for_function("location.search.includes('features=x1%2Cx2%2Cx1%5E2%2Cx2%5E2')")
    page.wait_for_function("app.pending === 0 && app.restartTimer === null")
    session = served.store.sessions[page.evaluate("app.id")]
    assert session.net.features == ["x1", "x2", "x1^2", "x2^2"]
    assert session.net.params["W1"].shape == (4, 3)
    ticked = page.eval_on_selector_all(
        "#setting-features input:checked", "bs => bs.map(b => b.value)"
    )
    assert ticked == ["x1", "x2", "x1^2", "x2^2"]  # the form says the same
    # W1's four rows start at the four tiles that are on, in the network's order
    tiles = feature_ends(page)
    ends = link_ends(page)
    assert len(ends) == 4 * 3 + 3 * 2
    assert ends[:12] == [tiles[name] for name in session.net.features for _ in range(3)]
    # untick x1 and x2 in the form: the squares alone, and the boundary a circle
    page.click("#setting-features input[value='x1']")
    page.click("#setting-features input[value='x2']")
    page.wait_for_function("app.pending === 0 && app.restartTimer === null")
    page.wait_for_function("location.search.includes('features=x1%5E2%2Cx2%5E2')")
    session = served.store.sessions[page.evaluate("app.id")]
    assert session.net.features == ["x1^2", "x2^2"]
    for _ in range(5):
        page.click("#epoch")
    page.wait_for_function("app.pending === 0 && app.state.epoch === 5")
    assert float(page.text_content("#test-acc")) >= 0.9
    # the last one ticked stays ticked
    page.click("#setting-features input[value='x1^2']")
    page.click("#setting-features input[value='x2^2']")
    page.wait_for_function("app.pending === 0 && app.restartTimer === null")
    assert page.eval_on_selector_all(
        "#setting-features input:checked", "bs => bs.map(b => b.value)"
    ) == ["x2^2"]
    # a link may name them in another order, with spaces: the form's order, everywhere
    opened(page, served, "?dataset=circles&hidden=3&features=x2^2,%20x1")
    assert "features=x1%2Cx2%5E2" in page.evaluate("location.search")
    assert page.evaluate(AGREEMENT)["differ"] == [] and page.is_hidden("#mismatch")
    session = served.store.sessions[page.evaluate("app.id")]
    assert session.net.features == ["x1", "x2^2"]
    tiles = feature_ends(page)
    assert link_ends(page)[:6] == [tiles["x1"]] * 3 + [tiles["x2^2"]] * 3
    assert errors == []


def test_draw_a_digit_gets_predicts_probabilities(page, served):
    from nnscratch.images import prepare_image

    opened(page, served, "?dataset=digits&hidden=16")
    page.click("#epoch")
    page.wait_for_function("app.pending === 0 && app.state.epoch === 1")
    assert page.is_visible("#digit-pad")
    box = page.locator("#digit-pad").bounding_box()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.15 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.85 * box["height"], steps=12)
    page.mouse.up()
    page.wait_for_function("app.digit !== undefined && app.pending === 0")
    pixels = np.array(page.evaluate("padPixels()"), dtype=float)
    shown = page.evaluate("app.digit.probabilities")
    assert page.eval_on_selector_all("#digit-probabilities tr", "rs => rs.length") == 10
    (session,) = [
        s for s in served.store.sessions.values() if s is not None and s.data.n_features == 64
    ]
    expected = session.net.predict(prepare_image(pixels / 255, "digits")[None])[0]
    np.testing.assert_allclose(shown, expected, atol=1e-6)


def test_settings_the_run_does_not_take_are_disabled(page, served):
    opened(page, served, "?dataset=digits&hidden=8&optimizer=adam")
    assert page.is_disabled("#setting-noise") and page.is_disabled("#setting-momentum")
    assert page.is_disabled("#setting-features input[value='x1']")  # features: of 2-D points
    assert page.is_enabled("#setting-beta1") and page.is_enabled("#setting-lr")
    page.select_option("#setting-optimizer", "momentum")
    page.wait_for_function("app.pending === 0 && app.restartTimer === null")
    page.wait_for_function("!document.getElementById('setting-momentum').disabled")
    assert page.is_disabled("#setting-beta1")


def test_tabs_closed_without_their_beacon_never_lock_out_a_new_one(browser, served):
    """12 tabs opened and closed with their close beacon lost (on a server of 8 places): a
    thirteenth tab gets a session and learns; a tab closed with its beacon frees its place."""
    before = set(served.store.sessions)
    lost = browser.new_context(bypass_csp=True)
    # a browser that crashed or was killed: the page's close beacon never leaves
    lost.add_init_script("navigator.sendBeacon = () => true;")
    try:
        for _ in range(12):
            tab = lost.new_page()
            opened(tab, served, "?dataset=moons&n_samples=100")
            tab.close()
            assert tab.is_closed()
    finally:
        lost.close()
    assert len(served.store.sessions) == served.store.max_sessions  # every place taken
    context = browser.new_context(bypass_csp=True)
    try:
        tab = context.new_page()
        opened(tab, served, "?dataset=moons&n_samples=100")
        tab.click("#epoch")
        tab.wait_for_function("app.pending === 0 && app.state.epoch === 1")
        assert tab.is_hidden("#error")
        key = tab.evaluate("app.id")
        assert served.store.sessions[key] is not None
        tab.close()  # with its beacon: the place is free at once
        deadline = time.monotonic() + 10
        while key in served.store.sessions and time.monotonic() < deadline:
            time.sleep(0.05)
        assert key not in served.store.sessions
    finally:
        context.close()
    assert not before & set(served.store.sessions)  # the earlier tabs gave up their places


def test_play_goes_on_past_its_window_of_losses(page, served, monkeypatch):
    """A lesson's worth of play, shortened by the setting that bounds it: a window of 200
    per-step losses, passed many times over, and no error."""
    from nnscratch.playground import session as session_module

    monkeypatch.setattr(session_module, "LOSS_WINDOW", 200)
    opened(page, served, "?dataset=moons")
    page.click("#play")
    page.wait_for_function(
        "Number(document.getElementById('iteration-count').textContent) > 3000", timeout=60_000
    )
    page.click("#play")
    page.wait_for_function("app.pending === 0")
    assert page.is_hidden("#error")
    session = served.store.sessions[page.evaluate("app.id")]
    assert session.trainer.iteration > 3000
    assert len(session.trainer.history["train_loss"]) == 200


def test_the_loss_on_a_log_scale(page, served):
    opened(page, served, "?dataset=moons")
    page.click("#epoch")
    page.click("#epoch")
    page.wait_for_function("app.pending === 0 && app.state.epoch === 2")

    def loss_pixels():
        return page.evaluate(
            """() => { const c = document.getElementById('curves');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height / 2).data;
            let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i] < 250 ? 1 : 0; return n; }"""
        )

    linear = loss_pixels()
    page.check("#log-loss")
    assert loss_pixels() != linear  # the loss panel drawn anew, on its log scale
