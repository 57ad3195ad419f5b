"""Downloads against an HTTP server on 127.0.0.1 that each test starts: good files are verified and
cached, bad or cut-off files never reach the place the loader reads, and every failure is clear."""

import dataclasses
import errno
import gzip
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

from nnscratch.datasets import load_dataset, sources
from nnscratch.datasets.download import download_dataset, download_file
from nnscratch.datasets.idx import idx_bytes
from nnscratch.datasets.sources import DatasetSpec, FileSpec
from nnscratch.errors import NnscratchError

N_TRAIN, N_TEST, SHAPE = 20, 10, (28, 28)


def make_fake_dataset(seed=0, name="mnist"):
    """A small MNIST-shaped dataset: ``(spec, {filename: gz bytes}, arrays)``.

    Its spec carries the real size, SHA-256 and MD5 of the files made here and no mirrors or
    system folders; tests add the mirrors they serve.
    """
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (N_TRAIN, *SHAPE), dtype=np.uint8),
        "train_labels": (np.arange(N_TRAIN) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (N_TEST, *SHAPE), dtype=np.uint8),
        "test_labels": (np.arange(N_TEST) % 10).astype(np.uint8),
    }
    names = {
        "train_images": "train-images-idx3-ubyte.gz",
        "train_labels": "train-labels-idx1-ubyte.gz",
        "test_images": "t10k-images-idx3-ubyte.gz",
        "test_labels": "t10k-labels-idx1-ubyte.gz",
    }
    blobs, files = {}, {}
    for role, array in arrays.items():
        raw = idx_bytes(array)
        gz = gzip.compress(raw, mtime=0)
        blobs[names[role]] = gz
        files[role] = FileSpec(
            names[role],
            len(gz),
            hashlib.sha256(gz).hexdigest(),
            hashlib.md5(gz).hexdigest(),
            len(raw),
            hashlib.sha256(raw).hexdigest(),
        )
    spec = DatasetSpec(
        name=name,
        title="fake",
        files=files,
        mirrors=(),
        system_dirs=(),
        n_train=N_TRAIN,
        n_test=N_TEST,
        image_shape=SHAPE,
    )
    return spec, blobs, arrays


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


@pytest.fixture
def mirror():
    m = Mirror()
    yield m
    m.close()


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real cache, no $NNSCRATCH_DATA: the user cache is tmp_path/cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NNSCRATCH_DATA", raising=False)
    return tmp_path / "cache" / "nnscratch"


def tampered(blobs):
    """Same names and sizes, one byte changed in each file."""
    return {name: body[:-1] + bytes([body[-1] ^ 0xFF]) for name, body in blobs.items()}


def use(monkeypatch, spec, *mirrors):
    spec = dataclasses.replace(spec, mirrors=tuple(mirrors))
    monkeypatch.setitem(sources.SPECS, spec.name, spec)
    return spec


FAST = {"backoff": 0, "timeout": 5, "progress": False}


def test_good_files_are_fetched_verified_and_cached(mirror, isolated, monkeypatch):
    spec, blobs, arrays = make_fake_dataset()
    use(monkeypatch, spec, mirror.serve("m1", blobs))
    data = load_dataset("mnist", normalize=False, dtype=np.float64, **FAST)
    np.testing.assert_array_equal(data.x_train, arrays["train_images"].reshape(N_TRAIN, -1))
    np.testing.assert_array_equal(data.t_test, arrays["test_labels"])
    folder = isolated / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(blobs)  # no .part left
    for filename, body in blobs.items():
        assert (folder / filename).read_bytes() == body
    assert data.info["source"] == "IDX files (downloaded)"
    assert {f["status"] for f in data.info["files"].values()} == {"official .gz (SHA-256)"}


def test_second_load_uses_the_cache_without_a_request(mirror, isolated, monkeypatch):
    spec, blobs, arrays = make_fake_dataset()
    use(monkeypatch, spec, mirror.serve("m1", blobs))
    load_dataset("mnist", **FAST)
    assert len(mirror.requests) == 4
    mirror.requests.clear()
    data = load_dataset("mnist", **FAST)
    assert mirror.requests == []
    assert data.info["source"] == "IDX files (cache)"


def test_wrong_checksum_is_rejected_and_the_next_mirror_used(mirror, isolated, monkeypatch):
    spec, blobs, arrays = make_fake_dataset()
    bad, good = mirror.serve("bad", tampered(blobs)), mirror.serve("good", blobs)
    use(monkeypatch, spec, bad, good)
    data = load_dataset("mnist", normalize=False, **FAST)
    np.testing.assert_array_equal(data.t_train, arrays["train_labels"])
    for filename, body in blobs.items():  # each file: bad mirror once (no retry), then good
        assert mirror.requests.count(f"/bad/{filename}") == 1
        assert mirror.requests.count(f"/good/{filename}") == 1
        assert (isolated / "mnist" / filename).read_bytes() == body


def test_wrong_checksum_alone_leaves_nothing(mirror, tmp_path):
    spec, blobs, _ = make_fake_dataset()
    fspec = spec.files["train_labels"]
    bad = mirror.serve("bad", tampered(blobs))
    with pytest.raises(NnscratchError, match=r"wrong SHA-256"):
        download_file(fspec, [bad], tmp_path / "dl", **FAST)
    assert list((tmp_path / "dl").iterdir()) == []


def test_file_of_wrong_size_is_rejected(mirror, tmp_path):
    spec, blobs, _ = make_fake_dataset()
    fspec = spec.files["train_labels"]
    short = mirror.serve("short", {fspec.filename: blobs[fspec.filename][:-5]})
    longer = mirror.serve("long", {fspec.filename: blobs[fspec.filename] + b"junk"})
    with pytest.raises(NnscratchError) as err:
        download_file(fspec, [short, longer], tmp_path / "dl", **FAST)
    assert "not the official" in str(err.value) and "more than the official" in str(err.value)
    assert mirror.requests.count(f"/short/{fspec.filename}") == 1  # complete but short: no retry
    assert list((tmp_path / "dl").iterdir()) == []


def test_dropped_connection_leaves_no_partial_file_and_a_retry_succeeds(mirror, tmp_path):
    spec, blobs, _ = make_fake_dataset()
    fspec = spec.files["train_images"]
    base = mirror.serve("m", blobs, kind="drop")
    path = f"/m/{fspec.filename}"
    mirror.drops[path] = 1
    folder = tmp_path / "dl"
    out = download_file(fspec, [base], folder, **FAST)
    assert mirror.requests.count(path) == 2
    assert out.read_bytes() == blobs[fspec.filename]
    assert [p.name for p in folder.iterdir()] == [fspec.filename]


def test_connection_dropped_every_time_leaves_nothing(mirror, tmp_path):
    spec, blobs, _ = make_fake_dataset()
    fspec = spec.files["train_images"]
    base = mirror.serve("m", blobs, kind="drop")
    mirror.drops[f"/m/{fspec.filename}"] = 99
    folder = tmp_path / "dl"
    with pytest.raises(NnscratchError, match=r"\(try 3/3\): connection closed after"):
        download_file(fspec, [base], folder, retries=3, **FAST)
    assert mirror.requests.count(f"/m/{fspec.filename}") == 3
    assert list(folder.iterdir()) == []


def test_all_mirrors_failing_gives_one_clear_error(mirror, isolated, monkeypatch):
    spec, blobs, _ = make_fake_dataset()
    missing = mirror.base("nothing-here")
    bad = mirror.serve("bad", tampered(blobs))
    dropping = mirror.serve("drop", blobs, kind="drop")
    for filename in blobs:
        mirror.drops[f"/drop/{filename}"] = 99
    use(monkeypatch, spec, missing, bad, dropping)
    with pytest.raises(NnscratchError) as err:
        load_dataset("mnist", retries=2, **FAST)
    message = str(err.value)
    assert "every mirror failed" in message
    assert f"{missing}train-images-idx3-ubyte.gz: HTTP 404" in message
    assert f"{bad}train-images-idx3-ubyte.gz: wrong SHA-256" in message
    assert f"{dropping}train-images-idx3-ubyte.gz (try 2/2): connection closed" in message
    assert "To place the files by hand" in message and str(isolated / "mnist") in message
    assert "\n" not in message  # the CLI prints it as one line
    folder = isolated / "mnist"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_unreachable_mirror_is_retried_then_reported(tmp_path):
    spec, _, _ = make_fake_dataset()
    m = Mirror()
    base = m.base("x")
    m.close()  # nothing listens on that port any more
    with pytest.raises(NnscratchError, match=r"\(try 2/2\): cannot connect"):
        download_file(spec.files["test_labels"], [base], tmp_path / "dl", retries=2, **FAST)


def test_download_dataset_keeps_files_already_there(mirror, tmp_path):
    spec, blobs, _ = make_fake_dataset()
    spec = dataclasses.replace(spec, mirrors=(mirror.serve("m", blobs),))
    download_dataset(spec, tmp_path, **FAST)
    assert len(mirror.requests) == 4
    download_dataset(spec, tmp_path, **FAST)
    assert len(mirror.requests) == 4
    download_dataset(spec, tmp_path, force=True, **FAST)
    assert len(mirror.requests) == 8


def test_tampered_file_in_the_cache_is_refused(mirror, isolated, monkeypatch):
    spec, blobs, _ = make_fake_dataset()
    use(monkeypatch, spec, mirror.serve("m", blobs))
    load_dataset("mnist", **FAST)
    target = isolated / "mnist" / "t10k-labels-idx1-ubyte.gz"
    labels = np.arange(N_TEST, dtype=np.uint8) % 10
    labels[0] = 7  # a valid IDX file, but not the official one
    target.write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(NnscratchError, match=r"t10k-labels-idx1-ubyte\.gz: checksum mismatch"):
        load_dataset("mnist", **FAST)


def test_the_file_appears_only_after_it_is_verified(mirror, tmp_path, monkeypatch):
    import nnscratch.datasets.download as download

    spec, blobs, _ = make_fake_dataset()
    fspec = spec.files["train_labels"]
    folder = tmp_path / "dl"
    seen = []
    real_stream = download._stream

    def watched(url, out, *args):
        real_stream(url, out, *args)  # streamed and verified, not yet renamed
        seen.extend(p.name for p in folder.iterdir())

    monkeypatch.setattr(download, "_stream", watched)
    download_file(fspec, [mirror.serve("m", blobs)], folder, **FAST)
    assert len(seen) == 1 and seen[0].startswith(f".{fspec.filename}.")  # a temp file beside it
    assert (folder / fspec.filename).read_bytes() == blobs[fspec.filename]


@pytest.mark.parametrize("failure", [KeyboardInterrupt, "disk full"])
def test_interrupt_or_full_disk_while_downloading_leaves_nothing(
    mirror, tmp_path, monkeypatch, failure
):
    spec, blobs, _ = make_fake_dataset()
    fspec = spec.files["train_images"]
    folder = tmp_path / "dl"

    def fail(*args):
        if failure == "disk full":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", fail)  # after the whole file is streamed and verified
    with pytest.raises(OSError if failure == "disk full" else KeyboardInterrupt) as exc:
        download_file(fspec, [mirror.serve("m", blobs)], folder, **FAST)
    if failure == "disk full":
        assert exc.value.filename == str(folder / fspec.filename)
    assert list(folder.iterdir()) == []
