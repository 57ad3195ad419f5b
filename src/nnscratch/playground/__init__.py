"""``nnscratch playground``: watch a network learn in the browser, and steer it.

A small local web app over the library: the server holds one training session per browser tab (a
MultiLayerNet, its optimizer and a Trainer on the chosen data) and answers JSON; the page
(plain JavaScript, no build step, nothing from another host) asks it to step and draws what it
computed: the decision boundary, each first-layer unit, the curves, the confusion matrix.

Why the standard library (``http.server.ThreadingHTTPServer``) and not an ASGI stack: the page
polls and steps with ``fetch``, one small JSON answer per request, which needs no streaming or
WebSocket transport; so the server stays a few hundred readable lines with nothing to install and
nothing more to keep up to date.

Modules: ``settings`` (the one table of settings and its validation), ``session`` (one tab's
training), ``views`` (what the page draws, computed by the library), ``store`` (the open
sessions, their bound and expiry), ``api`` (the JSON routes), ``server`` (HTTP: Host and Origin
checks, sizes, static files), ``static/`` (the page).
"""

from .server import PlaygroundServer
from .store import SessionStore

__all__ = ["PlaygroundServer", "SessionStore"]
