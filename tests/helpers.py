"""What several test files share: running `nnscratch` as a real process (starting it, reading
its output line by line without hanging, checking a one-line error, a playground served and
stopped with Ctrl-C), a file mirror on 127.0.0.1 (Mirror), stopping a Trainer after a given
iteration (StopAt), a SimpleConvNet trained by `nnscratch train` (trained_cnn), Debian's chromium
driven by Playwright (chromium)."""

import contextlib
import http.client
import http.server
import queue
import re
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nnscratch.run.callbacks import Callback

#: the `nnscratch` command, run by this Python (so that it sees the PYTHONPATH the tests see)
COMMAND = [sys.executable, "-c", "import sys; from nnscratch.cli import main; sys.exit(main())"]


#: Debian's browser (apt-get install -y chromium); Playwright's own download is not reachable
CHROMIUM = Path("/usr/bin/chromium")


@contextlib.contextmanager
def chromium():
    """A headless :data:`CHROMIUM` driven by Playwright (``pip install playwright``)."""
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def at_a_terminal():
    """``preexec_fn``: Ctrl-C (SIGINT) delivered as at a terminal. A test run in the background
    (``&``, as some CI runners start jobs) inherits SIGINT ignored, and Python leaves it so."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args):
    """``nnscratch ARGS...`` as a running process, stdout and stderr piped as text."""
    return subprocess.Popen(
        COMMAND + [str(a) for a in args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=at_a_terminal,
    )


def wait_for_line(proc, prefix, timeout=60):
    """The first stdout line of ``proc`` that starts with ``prefix`` (read in a thread, so a
    process that never prints it fails the test instead of hanging it)."""
    lines = queue.Queue()

    def read():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            proc.kill()
            pytest.fail(f"no line starting with {prefix!r} within {timeout} s")
        if line is None:
            pytest.fail(f"the process ended without printing {prefix!r}: {proc.stderr.read()}")
        if line.startswith(prefix):
            return line


@contextlib.contextmanager
def playground(argv=None, **popen):
    """`nnscratch playground` (or ``argv``) with ``--no-browser --port 0`` running: yields
    ``(process, port)``, the port read from the URL it prints. On the way out it is sent Ctrl-C
    and waited for: then ``process.returncode`` and ``process.err`` (its stderr) are set (killed
    instead if the block failed)."""
    argv = [*(argv or [sys.executable, "-m", "nnscratch", "playground"]), "--no-browser"]
    process = subprocess.Popen(
        [*argv, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=at_a_terminal,
        **popen,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready else ""
        url = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert url, f"no URL printed: {line!r}"
        yield process, int(url.group(1))
        process.send_signal(signal.SIGINT)
        _, process.err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def status_of(port, path="/"):
    """The HTTP status of GET ``path`` on 127.0.0.1:``port``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def one_line_error(capsys):
    """stderr of the command just run in-process: one `nnscratch: error: ...` line, returned."""
    err = capsys.readouterr().err
    assert err.startswith("nnscratch: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


class StopAt(Callback):
    """Asks the trainer to stop after iteration ``k`` (what Ctrl-C does through the handler)."""

    def __init__(self, k):
        self.k = k

    def on_iteration_end(self, trainer, loss):
        if trainer.iteration == self.k:
            trainer.request_stop()


def trained_cnn(out, epochs):
    """``out``, the folder of `nnscratch train --model cnn --dataset digits --epochs EPOCHS`."""
    from nnscratch.cli import main

    argv = ["train", "--quiet", "--model", "cnn", "--dataset", "digits", "--epochs", str(epochs)]
    assert main([*argv, "--out", str(out)]) == 0
    return out


class Mirror:
    """An HTTP server on 127.0.0.1 (port 0) in a thread.

    ``routes`` maps a path to ``(kind, body)``: "good"/"bad" serve ``body``; "drop" announces
    ``len(body)`` bytes, sends half and closes the connection, ``drops`` times, then serves
    ``body``; a missing path is a 404. ``requests`` records every path asked for.
    """

    def __init__(self):
        self.routes, self.requests, self.drops = {}, [], {}
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                mirror.requests.append(self.path)
                kind, body = mirror.routes.get(self.path, ("missing", b""))
                if kind == "missing":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if kind == "drop" and mirror.drops.get(self.path, 0) > 0:
                    mirror.drops[self.path] -= 1
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def base(self, prefix):
        return f"http://127.0.0.1:{self.server.server_address[1]}/{prefix}/"

    def serve(self, prefix, blobs, kind="good"):
        for filename, body in blobs.items():
            self.routes[f"/{prefix}/{filename}"] = (kind, body)
        return self.base(prefix)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
