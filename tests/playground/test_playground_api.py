"""The playground's HTTP API, against a server on 127.0.0.1 started by the test on a free port."""

import http.client
import json
import re
import socket
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnscratch.io import load_model
from nnscratch.playground import PlaygroundServer, SessionStore
from nnscratch.playground.server import MAX_BODY, STATIC
from nnscratch.playground.settings import SETTINGS as SETTING_NAMES
from tests.helpers import playground, status_of

SPIRAL = {
    "dataset": "spiral",
    "classes": 3,
    "n_samples": 400,
    "hidden": "16,16",
    "activation": "tanh",
    "optimizer": "adam",
    "lr": 0.01,
    "lr_schedule": "none",
    "batchnorm": False,
}


class Client:
    """Raw requests, with the headers (Host, Origin) under the test's control."""

    def __init__(self, server):
        self.server, self.port = server, server.port

    def request(self, method, path, body=None, headers=None, raw=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for key, value in headers.items():
            if value is not None:
                connection.putheader(key, value)
        if data is not None:
            connection.putheader("Content-Length", str(len(data)))
        connection.endheaders(data)
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        return response, payload

    def json(self, method, path, body=None, status=200, **options):
        response, payload = self.request(method, path, body, **options)
        assert response.status == status, payload
        assert response.getheader("Content-Type") == "application/json"
        return json.loads(payload)


def start(store=None):
    server = PlaygroundServer("127.0.0.1", 0, store=store)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def client():
    server = start()
    yield Client(server)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def fuzz_client():
    from nnscratch.playground.store import SessionStore as Store

    server = start(Store(max_sessions=4))
    yield Client(server)
    server.shutdown()
    server.server_close()


def new_session(client, settings=None):
    return client.json("POST", "/api/sessions", {"settings": settings or {}}, status=201)


def test_the_page_and_the_settings_are_served(client):
    response, page = client.request("GET", "/")
    assert response.status == 200 and b'<canvas id="boundary"' in page
    assert "default-src 'self'" in response.getheader("Content-Security-Policy")
    names = [s["name"] for s in client.json("GET", "/api/settings")["settings"]]
    assert {"dataset", "hidden", "lr", "seed", "batchnorm", "dropout"} <= set(names)


def test_a_session_steps_and_shows_what_it_learned(client):
    created = new_session(client, {"n_samples": 100})
    key, setup = created["id"], created["setup"]
    assert setup["n_train"] == 80 and len(setup["points"]["train"]) == 80
    state = client.json("POST", f"/api/sessions/{key}/step", {"iterations": 7})["state"]
    assert state["iteration"] == 7 and len(state["boundary"]["classes"]) == 60 * 60
    # 80 points in batches of 32: 3 steps an epoch, so 7 steps end in the 3rd epoch, and
    # {"epochs": 2} finishes it and one more
    state = client.json("POST", f"/api/sessions/{key}/step", {"epochs": 2})["state"]
    assert (state["epoch"], state["iteration"]) == (4, 12)
    assert len(state["curves"]["train_acc"]) == 4
    checked = client.json("POST", f"/api/sessions/{key}/gradcheck", {})
    assert max(checked["errors"].values()) < 1e-6
    again = client.json("POST", f"/api/sessions/{key}/reset", {})["state"]
    assert again["iteration"] == 0
    assert client.json("POST", f"/api/sessions/{key}/close")["closed"]
    client.json("GET", f"/api/sessions/{key}/state", status=404)


def test_the_downloads_are_the_library_files(client, tmp_path):
    key = new_session(client, {"n_samples": 100})["id"]
    client.json("POST", f"/api/sessions/{key}/step", {"iterations": 3})
    response, payload = client.request("GET", f"/api/sessions/{key}/model.npz")
    assert response.status == 200 and "attachment" in response.getheader("Content-Disposition")
    (tmp_path / "m.npz").write_bytes(payload)
    assert load_model(tmp_path / "m.npz").hidden_sizes == [16, 16]
    history = client.json("GET", f"/api/sessions/{key}/history.json")
    assert len(history["train_loss"]) == 3
    client.json("POST", f"/api/sessions/{key}/close")


@pytest.mark.parametrize(
    "host", ["evil.example:80", "evil.example", None, "127.0.0.1:1", "localhost"]
)
def test_a_foreign_host_is_refused(client, host):
    response, payload = client.request("GET", "/api/settings", headers={"Host": host})
    assert response.status == 421 and "Host" in json.loads(payload)["error"]


def test_localhost_is_its_own_host(client):
    client.json("GET", "/api/settings", headers={"Host": f"localhost:{client.port}"})


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "http://127.0.0.1:1", "https://127.0.0.1:{port}"]
)
def test_a_post_from_a_foreign_origin_is_refused(client, origin):
    origin = origin.format(port=client.port)
    body = client.json("POST", "/api/sessions", {}, status=403, headers={"Origin": origin})
    assert "refused" in body["error"]


def test_a_post_from_its_own_origin_is_answered(client):
    created = client.json(
        "POST",
        "/api/sessions",
        {"settings": {"n_samples": 100}},
        status=201,
        headers={"Origin": f"http://127.0.0.1:{client.port}"},
    )
    client.json("POST", f"/api/sessions/{created['id']}/close")


@pytest.mark.parametrize(
    "settings, word",
    [
        ({"lr": -1}, "lr"),
        ({"hidden": "8,100"}, "hidden"),
        ({"n_samples": 10**6}, "n_samples"),
        ({"optimizer": "magic"}, "optimizer"),
        ({"batch_size": 400}, "batch_size"),
    ],
)
def test_a_bad_setting_gets_400_and_a_message(client, settings, word):
    body = client.json("POST", "/api/sessions", {"settings": settings}, status=400)
    assert word in body["error"] and "Traceback" not in body["error"]


def test_bad_requests_get_json_errors(client):
    assert "not JSON" in client.json("POST", "/api/sessions", status=400, raw=b"{nope")["error"]
    client.json("POST", "/api/sessions", status=400, raw=b"[1, 2]")
    client.json("GET", "/api/nothing", status=404)
    key = new_session(client, {"n_samples": 100})["id"]
    client.json("GET", f"/api/sessions/{key}/step", status=405)
    assert (
        "iterations"
        in client.json("POST", f"/api/sessions/{key}/step", {"iterations": 10**6}, status=400)[
            "error"
        ]
    )
    client.json("POST", f"/api/sessions/{key}/step", {"lr": 1}, status=400)
    client.json("POST", f"/api/sessions/{key}/close")


def test_json_we_cannot_take_gets_400_not_500(client):
    for raw in (b"[" * 60_000, b'{"settings": {"n_samples": ' + b"9" * 5000 + b"}}"):
        assert (
            "not JSON we take" in client.json("POST", "/api/sessions", status=400, raw=raw)["error"]
        )


def test_a_request_waits_for_its_sessions_previous_one(client, monkeypatch):
    from nnscratch.playground import api

    key = new_session(client, {"n_samples": 100})["id"]
    session = client.server.store.get(key)
    session.lock.acquire()  # as if its previous request were still running...
    threading.Timer(0.3, session.lock.release).start()  # ...for 0.3 s more
    start = time.monotonic()
    client.json("POST", f"/api/sessions/{key}/step", {"iterations": 1})  # waited, then done
    assert time.monotonic() - start >= 0.25
    monkeypatch.setattr(api, "LOCK_WAIT_SECONDS", 0.1)
    with session.lock:  # a request that never ends: refused after the wait
        body = client.json("POST", f"/api/sessions/{key}/step", {"iterations": 1}, status=409)
    assert "busy" in body["error"]
    client.json("POST", f"/api/sessions/{key}/close")


def test_an_oversize_body_gets_413(client):
    body = client.json("POST", "/api/sessions", status=413, raw=b" " * (MAX_BODY + 1))
    assert str(MAX_BODY) in body["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/../server.py",
        "/server.py",
        "/static/app.js",
        "/%2e%2e/server.py",
        "/..%2fserver.py",
        "/app.js/../../x",
        "//etc/passwd",
        "/index.html%00",
    ],
)
def test_no_file_outside_the_static_assets(client, path):
    response, payload = client.request("GET", path)
    assert response.status == 404 and b"import" not in payload


# a URL naming a host: a scheme, or "//" followed by a host name
FOREIGN = re.compile(rb"https?:|(?<![:\w])//[\w.-]+\.[a-z]{2,}|//localhost", re.IGNORECASE)


def test_no_served_asset_names_another_host(client):
    served = [p for p in STATIC.iterdir() if p.is_file()]
    assert {p.name for p in served} >= {"index.html", "app.js", "style.css"}
    for path in served:
        response, payload = client.request("GET", f"/{path.name}")
        assert response.status == 200
        assert payload == path.read_bytes()
        # SVG's namespace is a name that createElementNS needs, never a place fetched
        named = payload.replace(b'"http://www.w3.org/2000/svg"', b"")
        assert not FOREIGN.findall(named), path.name
    assert FOREIGN.search(b'<script src="//cdn.example.com/x.js">')  # the scan can fail
    assert FOREIGN.search(b"url(https://fonts.example/a.woff)")
    assert FOREIGN.search(b'fetch("http://www.w3.org/2000/svg/x")')  # only the bare name passes


@pytest.mark.slow
def test_tabs_closed_without_their_beacon_never_lock_out_a_new_one():
    # 12 tabs opened and closed without a word (their beacon lost), on a store of 8 places
    server = start(SessionStore(max_sessions=8))
    client = Client(server)
    try:
        for _ in range(12):
            new_session(client, {"n_samples": 100})
        key = new_session(client, {"n_samples": 100})["id"]  # the thirteenth tab gets a place
        client.json("POST", f"/api/sessions/{key}/step", {"iterations": 1})
        assert len(server.store.sessions) == 8
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_requests_past_the_machines_bound_wait_then_get_a_clear_refusal():
    """Two places to compute (both taken, as by two long requests of other tabs): a third
    request waits its turn, and after the wait is refused with 503, not queued for ever."""
    store = SessionStore(max_busy=2, busy_wait=0.2)
    server = start(store)
    client = Client(server)
    try:
        key = new_session(client, {"n_samples": 100})["id"]
        with store.working(), store.working():
            refused = client.json(
                "POST", f"/api/sessions/{key}/step", {"iterations": 1}, status=503
            )
            assert "busy with 2 other requests" in refused["error"]
            client.json("POST", "/api/sessions", {}, status=503)
        with store.working():  # one place free: answered
            client.json("POST", f"/api/sessions/{key}/step", {"iterations": 1})
    finally:
        server.shutdown()
        server.server_close()


def test_spiral_is_learned_through_the_api_within_60_seconds(client):
    """The acceptance number: 2×16 tanh on spiral (3 classes), train accuracy ≥ 0.95."""
    created = new_session(client, SPIRAL)
    key, start_time, accuracy = created["id"], time.monotonic(), 0.0
    while time.monotonic() - start_time < 60 and accuracy < 0.95:
        state = client.json("POST", f"/api/sessions/{key}/step", {"epochs": 20})["state"]
        accuracy = state["curves"]["train_acc"][-1]
    assert accuracy >= 0.95, f"train accuracy {accuracy} after {state['epoch']} epochs"
    # every class has its region on the drawn boundary (the grid itself: test_playground_units)
    classes = np.array(state["boundary"]["classes"])
    assert np.bincount(classes, minlength=3).min() > 0
    client.json("POST", f"/api/sessions/{key}/close")


@pytest.mark.slow
def test_the_command_prints_its_url_and_stops_on_ctrl_c():
    with playground() as (process, port):
        assert status_of(port) == 200
    assert process.returncode == 130 and process.err.strip() == "nnscratch playground: stopped"


def test_http_11_keeps_the_connection_and_head_is_answered(client):
    connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=30)
    for _ in range(3):  # three requests, one connection
        connection.request("GET", "/api/settings")
        response = connection.getresponse()
        assert response.status == 200 and response.version == 11
        assert json.loads(response.read())["settings"]
    connection.request("HEAD", "/app.js")
    response = connection.getresponse()
    assert response.status == 200
    assert int(response.getheader("Content-Length")) == len((STATIC / "app.js").read_bytes())
    assert response.read() == b""  # the headers of a GET, no body
    connection.close()


def test_a_body_slower_than_the_timeout_gets_408(client, monkeypatch):
    from nnscratch.playground.server import Handler

    monkeypatch.setattr(Handler, "timeout", 0.5)
    with socket.create_connection(("127.0.0.1", client.port), timeout=10) as sock:
        sock.sendall(
            f"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1:{client.port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode()
        )  # 1 byte of the 100 announced, then nothing
        chunks = []
        while chunk := sock.recv(65536):  # to the end: the server closes the spent connection
            chunks.append(chunk)
        answer = b"".join(chunks).decode()
    assert answer.startswith("HTTP/1.1 408 "), answer
    assert "did not arrive in 0.5 s" in answer


@pytest.mark.slow
def test_clients_that_go_away_leave_no_traceback(tmp_path):
    """150 connections closed mid-request (a reset before the answer): the teacher's terminal
    shows not a line of them."""
    with playground() as (process, port):
        for _ in range(150):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(f"GET /app.js HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            # SO_LINGER 0: close with a reset, as a tab killed mid-load does
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            sock.close()
        time.sleep(0.5)
    assert process.err.strip() == "nnscratch playground: stopped", process.err


SETTING_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.text(alphabet="0123456789,²٣.-e", max_size=12),
    st.lists(st.integers(-5, 600), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=60, deadline=None)
@given(
    values=st.dictionaries(st.sampled_from(sorted(SETTING_NAMES)), SETTING_VALUES, max_size=4),
    step=st.one_of(
        st.dictionaries(
            st.sampled_from(["iterations", "epochs", "other"]), SETTING_VALUES, max_size=2
        ),
        SETTING_VALUES,
    ),
)
def test_no_malformed_field_gets_500(fuzz_client, values, step):
    response, payload = fuzz_client.request("POST", "/api/sessions", {"settings": values})
    assert response.status in (201, 400), payload
    if response.status == 201:
        key = json.loads(payload)["id"]
        response, payload = fuzz_client.request("POST", f"/api/sessions/{key}/step", step)
        assert response.status in (200, 400, 409), payload
        fuzz_client.request("POST", f"/api/sessions/{key}/close")
