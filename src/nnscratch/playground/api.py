"""The JSON API: a route table from (method, path) to what the session does.

    GET  /api/settings                        the settings table, the page's strings (one table
                                              per language) and the limits
    POST /api/sessions            {settings}  a new session: {"id", "setup", "state"}
    POST /api/sessions/ID/reset   {settings}  start again (same seed, same start):
                                              {"setup", "state"}
    POST /api/sessions/ID/step    {"iterations": n} or {"epochs": n}: {"state", "done": the
                                              steps taken (fewer than n where the request's
                                              time ran out), "seconds"}
    GET  /api/sessions/ID/state               {"state"}
    GET  /api/sessions/ID/settings            {"settings"}: what its network was built with
    POST /api/sessions/ID/gradcheck           {"errors": {parameter: relative error}, ...}
    POST /api/sessions/ID/classify {"pixels"} a digit drawn on the page (rows of gray levels):
                                              {"probabilities", "prepared"}, as predict does
    GET  /api/sessions/ID/model.npz           the model file, as ``nnscratch train`` writes it
    GET  /api/sessions/ID/history.json        the history, as ``nnscratch train`` writes it
    POST /api/sessions/ID/close               free the session (the page's ``pagehide``)

Each handler returns ``(status, content_type, body bytes, filename or None)``; errors are raised
(``RequestError`` with its status, ``NnscratchError`` 400) and answered by the server.
"""

import json
import time

from . import settings, views
from .session import MAX_EPOCHS, MAX_ITERATIONS, RequestError
from .strings import PAGE_STRINGS

JSON = "application/json"
#: how long a request waits for its session's previous one (a step takes at most
#: ``session.REQUEST_SECONDS``, a reset or a gradient check a few seconds on the largest nets)
LOCK_WAIT_SECONDS = 10.0


def _json(obj, status=200):
    return status, JSON, json.dumps(obj, allow_nan=False).encode(), None


def get_settings(store, body):
    return _json(
        {
            "settings": settings.table(),
            "strings": PAGE_STRINGS,
            "limits": {
                "iterations": MAX_ITERATIONS,
                "epochs": MAX_EPOCHS,
                "sessions": store.max_sessions,
                "layers": settings.MAX_LAYERS,
                "width": settings.MAX_WIDTH,
            },
        }
    )


def create(store, body):
    key, session = store.create(body.get("settings", {}))
    with session.lock:
        return _json({"id": key, "setup": session.setup(), "state": session.state()}, 201)


def reset(session, body):
    session.reset(body.get("settings", session.settings))
    return _json({"setup": session.setup(), "state": session.state()})


def step(session, body):
    unknown = set(body) - {"iterations", "epochs"}
    if unknown or len(body) > 1:
        raise RequestError('a step takes {"iterations": n} or {"epochs": n}')
    start = time.monotonic()
    if "epochs" in body:
        done = session.epochs(body["epochs"])
    else:
        done = session.step(body.get("iterations", 1))
    return _json({"state": session.state(), "done": done, "seconds": time.monotonic() - start})


def state(session, body):
    return _json({"state": session.state()})


def current_settings(session, body):
    """The settings the session's network was built with: what the page checks its form and
    URL against."""
    return _json({"settings": session.settings})


def classify(session, body):
    return _json(session.classify_drawing(body.get("pixels")))


def gradcheck(session, body):
    return _json(session.gradient_check())


def model(session, body):
    return (
        200,
        "application/octet-stream",
        views.model_bytes(session.net, session.config()),
        "playground-model.npz",
    )


def history(session, body):
    return (
        200,
        JSON,
        views.history_bytes(session.trainer.history, session.config()),
        "playground-history.json",
    )


#: (method, action) → handler(session, body), for /api/sessions/ID/ACTION
SESSION_ROUTES = {
    ("POST", "reset"): reset,
    ("POST", "step"): step,
    ("GET", "state"): state,
    ("GET", "settings"): current_settings,
    ("POST", "gradcheck"): gradcheck,
    ("POST", "classify"): classify,
    ("GET", "model.npz"): model,
    ("GET", "history.json"): history,
}


def dispatch(store, method, path, body):
    """Answer ``method path`` with the JSON ``body`` (a dict); 404/405 for unknown routes."""
    if path == "/api/settings" and method == "GET":
        return get_settings(store, body)
    if path == "/api/sessions" and method == "POST":
        with store.working():
            return create(store, body)
    parts = path.split("/")
    if len(parts) == 5 and parts[:3] == ["", "api", "sessions"]:
        key, action = parts[3], parts[4]
        if (method, action) == ("POST", "close"):
            return _json({"closed": store.close(key)})
        handler = SESSION_ROUTES.get((method, action))
        if handler is not None:
            session = store.get(key)
            # one request at a time per session: the next waits for the one in flight
            if not session.lock.acquire(timeout=LOCK_WAIT_SECONDS):
                raise RequestError(
                    "this session is busy with the previous request: wait for its answer",
                    status=409,
                )
            try:
                with store.working():
                    return handler(session, body)
            finally:
                session.lock.release()
        if any(action == a for _, a in SESSION_ROUTES):
            raise RequestError(f"{method} is not allowed on {path}", status=405)
    raise RequestError(f"no such API route: {method} {path}", status=404)
