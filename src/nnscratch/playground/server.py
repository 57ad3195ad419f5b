"""The HTTP side: static assets, the JSON API (``api``), and the checks a local server needs.

- Host: a request whose Host header is not this server's own host:port (127.0.0.1:PORT,
  localhost:PORT or the --host given) gets 421: a page elsewhere that rebinds its DNS name to
  127.0.0.1 cannot reach the API.
- Origin: a POST whose Origin, when present, is not this server's own origin gets 403: a page
  elsewhere cannot drive it by cross-site requests.
- Sizes: request bodies at most ``MAX_BODY`` bytes (413), and the settings' and sessions' bounds.
- Files: only the files of the package's ``static`` folder, by their exact names (a fixed table
  made at start-up: no path from the request ever reaches the file system).
- Errors: JSON ``{"error": message}`` with a 4xx (or 500 "internal error"), never a traceback;
  a body slower than ``Handler.timeout`` gets 408; a client that goes away mid-answer is not an
  error (nothing printed).
- Connections: HTTP/1.1 with keep-alive (HEAD answered too), at most ``MAX_CONNECTIONS`` at once
  (one thread each; more wait in the listen queue of ``request_queue_size``).
"""

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import NnscratchError
from . import api
from .session import RequestError
from .store import SessionStore

MAX_BODY = 64 * 1024
#: connections served at once (a class of tabs with keep-alive); more wait in the listen queue
MAX_CONNECTIONS = 64
#: what a client that went away mid-answer raises: its business, not an error of ours
GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
STATIC = Path(__file__).resolve().parent / "static"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
#: nothing from another host, no inline script, not framed by other pages
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def static_files():
    """URL path → (file, content type) for every asset of the static folder; "/" is index.html."""
    files = {
        f"/{p.name}": (p, TYPES[p.suffix])
        for p in sorted(STATIC.iterdir())
        if p.is_file() and p.suffix in TYPES
    }
    files["/"] = files["/index.html"]
    return files


def _netloc(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class PlaygroundServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its own names (for the Host and Origin checks) and
    holds the sessions."""

    daemon_threads = True
    request_queue_size = MAX_CONNECTIONS

    def __init__(self, host="127.0.0.1", port=8000, store=None):
        if ":" in host:
            self.address_family = socket.AF_INET6
        self._connections = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__((host, port), Handler)
        self.port = self.server_address[1]
        self.store = store if store is not None else SessionStore()
        self.files = static_files()
        self.allowed_hosts = {_netloc(h, self.port) for h in ("127.0.0.1", "localhost", host)}
        self.allowed_origins = {f"http://{h}" for h in self.allowed_hosts}
        self.url = f"http://{_netloc(host, self.port)}/"

    def process_request(self, request, client_address):
        """A thread for the connection once one of ``MAX_CONNECTIONS`` places is free: the
        accepting loop waits meanwhile, and further clients wait in the listen queue."""
        self._connections.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connections.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connections.release()

    def handle_error(self, request, client_address):
        """One line for a connection that failed outside a request's own handling (none for a
        client that went away), never the standard library's traceback."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, GONE + (TimeoutError,)):
            print(
                f"nnscratch playground: connection from {client_address[0]} failed: "
                f"{type(exc).__name__}: {exc}",
                file=sys.stderr,
            )


class Handler(BaseHTTPRequestHandler):
    server: PlaygroundServer
    server_version = "nnscratch-playground"
    protocol_version = "HTTP/1.1"  # keep-alive: a playing tab's requests share one connection
    timeout = 30  # seconds a connection may take to send its request: a stalled client is dropped
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # no access log: the terminal shows the URL and errors only

    def do_GET(self):
        self._handle("GET")

    def do_HEAD(self):
        self._handle("GET")  # the same answer, its body left out by _send

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def _handle(self, method):
        try:
            self._check_host_and_origin(method)
            path = urlsplit(self.path).path
            if path.startswith("/api/"):
                self._send(*api.dispatch(self.server.store, method, path, self._body(method)))
            elif method == "GET" and path in self.server.files:
                file, content_type = self.server.files[path]
                self._send(200, content_type, file.read_bytes())
            else:
                raise RequestError(f"no such page: {path}", status=404)
        except GONE:  # the client went away: nobody to answer
            self.close_connection = True
        except TimeoutError:  # the body did not come in time: the connection is spent
            self.close_connection = True
            self._quietly(self._error, 408, f"the request body did not arrive in {self.timeout} s")
        except RequestError as exc:
            self._error(exc.status, str(exc))
        except NnscratchError as exc:
            self._error(400, str(exc))
        except Exception as exc:  # a bug of ours: one line in the terminal, none in the page
            print(
                f"nnscratch playground: internal error on {method} {self.path}: "
                f"{type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
            self._error(500, f"internal error ({type(exc).__name__}): see the server's terminal")

    def _check_host_and_origin(self, method):
        host = self.headers.get("Host")
        if host not in self.server.allowed_hosts:
            raise RequestError(
                f"this server answers to {sorted(self.server.allowed_hosts)}, not to Host {host!r}",
                status=421,
            )
        origin = self.headers.get("Origin")
        if method != "GET" and origin is not None and origin not in self.server.allowed_origins:
            raise RequestError(
                f"requests from {origin!r} are refused: open the playground at {self.server.url}",
                status=403,
            )

    def _body(self, method):
        """The request's JSON object ({} for none), at most MAX_BODY bytes."""
        if method == "GET":
            return {}
        if "Transfer-Encoding" in self.headers:
            raise RequestError("send the body with a Content-Length", status=411)
        try:
            length = int(self.headers.get("Content-Length", 0))
        except ValueError:
            raise RequestError("Content-Length must be a number of bytes") from None
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True  # the unread body must not be taken for a request
            raise RequestError(
                f"the request body has {length} bytes; at most {MAX_BODY}", status=413
            )
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (ValueError, RecursionError) as exc:  # not JSON, too deep, a 5,000-digit number
            raise RequestError(f"the request body is not JSON we take: {exc}") from None
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object")
        return body

    def _quietly(self, send, *args):
        try:
            send(*args)
        except GONE:
            pass

    def _error(self, status, message):
        self._send(status, api.JSON, json.dumps({"error": message}).encode())

    def _send(self, status, content_type, body, filename=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", CSP)
        if filename:
            self.send_header("Content-Disposition", f'attachment; filename="{filename}"')
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
