"""Downloads against an HTTP server on 127.0.0.1 that each test starts: good files are verified and
cached, bad or cut-off files never reach the place the loader reads, and every failure is clear."""

import dataclasses
import errno
import gzip
import hashlib
import os
import socket
import urllib.error

import numpy as np
import pytest

from nnscratch.cli import main
from nnscratch.datasets import download, load_dataset, sources
from nnscratch.datasets.download import DownloadError, download_dataset, download_file
from nnscratch.datasets.idx import idx_bytes
from nnscratch.datasets.sources import DatasetSpec, FileSpec
from nnscratch.errors import NnscratchError
from tests.helpers import Mirror

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

#: hosts under the reserved .invalid TLD never resolve (RFC 2606)
NOWHERE = ("http://nnscratch-test.invalid/mnist/", "https://nnscratch-test-2.invalid/data/")


@pytest.fixture
def offline(monkeypatch):
    """DNS fails for *.invalid at once, as offline (no waiting on a resolver that may hang here),
    and no proxy is used; returns the host names looked up, one entry per lookup."""
    looked_up = []
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".invalid"):
            looked_up.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return looked_up


@pytest.fixture
def sleeps(monkeypatch):
    """The backoff waits of the downloader, recorded instead of slept."""
    waited = []
    monkeypatch.setattr(download.time, "sleep", waited.append)
    return waited


def assert_short_error(message, folder, *names):
    """At most two lines that name ``folder`` and every one of ``names``, each line short but for
    the folder's path (the user's, as long as it is)."""
    lines = message.split("\n")
    assert len(lines) <= 2, message
    assert all(len(line.replace(str(folder), "")) < 160 for line in lines), message
    for name in (str(folder), *names):
        assert name in message, (name, message)


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
    with pytest.raises(DownloadError) as err:
        download_file(fspec, [short, longer], tmp_path / "dl", **FAST)
    assert "wrong size" in str(err.value)
    details = [attempt.detail for attempt in err.value.attempts]
    assert "not the official" in details[0] and "more than the official" in details[1]
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
    with pytest.raises(DownloadError, match="connection closed") as err:
        download_file(fspec, [base], folder, retries=3, **FAST)
    assert str(err.value.attempts[-1]).startswith(f"{base}{fspec.filename} (try 3/3): connection")
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
    with pytest.raises(DownloadError) as err:
        load_dataset("mnist", retries=2, **FAST)
    message = str(err.value)
    assert message.startswith("could not download train-images-idx3-ubyte.gz: no mirror served it")
    assert "(HTTP 404, wrong SHA-256, connection closed)" in message
    assert_short_error(message, isolated / "mnist", "--data-dir", "$NNSCRATCH_DATA")
    assert "http" not in message  # the URLs are in err.value.attempts, not in the message
    # loaded for a run (train, data info): the command that lists every try is named
    assert message.endswith("; each try: `nnscratch data download mnist --verbose`")
    name = "train-images-idx3-ubyte.gz"
    expected = [  # every try in full, in order: each one's start
        f"{missing}{name}: HTTP 404 Not Found",
        f"{bad}{name}: wrong SHA-256 ",
        f"{dropping}{name} (try 1/2): connection closed after ",
        f"{dropping}{name} (try 2/2): connection closed after ",
    ]
    tried = [str(attempt) for attempt in err.value.attempts]
    assert len(tried) == len(expected)
    assert all(line.startswith(start) for line, start in zip(tried, expected)), tried
    folder = isolated / "mnist"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_refused_connection_moves_on_to_the_next_mirror_at_once(mirror, tmp_path, sleeps):
    spec, blobs, _ = make_fake_dataset()
    fspec = spec.files["test_labels"]
    dead = Mirror()
    refusing = dead.base("x")
    dead.close()  # nothing listens on that port any more
    slow = {**FAST, "backoff": 1.0}
    out = download_file(fspec, [refusing, mirror.serve("m", blobs)], tmp_path / "dl", **slow)
    assert out.read_bytes() == blobs[fspec.filename]
    with pytest.raises(
        DownloadError, match=r"no mirror could be reached \(connection refused\)"
    ) as err:
        download_file(fspec, [refusing], tmp_path / "dl", retries=3, **slow)
    assert [attempt.url for attempt in err.value.attempts] == [f"{refusing}{fspec.filename}"]
    assert "cannot connect" in err.value.attempts[0].detail
    assert sleeps == []  # neither time: a refusal is not retried


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


def test_unresolvable_host_is_tried_once_per_mirror_without_sleeping(
    mirror, tmp_path, offline, sleeps
):
    spec, blobs, _ = make_fake_dataset()
    fspec = spec.files["train_labels"]
    dropping = mirror.serve("drop", blobs, kind="drop")
    mirror.drops[f"/drop/{fspec.filename}"] = 99
    with pytest.raises(DownloadError):
        download_file(fspec, [*NOWHERE, dropping], tmp_path / "dl", **{**FAST, "backoff": 1.0})
    assert offline == ["nnscratch-test.invalid", "nnscratch-test-2.invalid"]  # one lookup each
    assert mirror.requests.count(f"/drop/{fspec.filename}") == 3  # a dropped one is retried...
    assert sleeps == [1.0, 2.0]  # ...with backoff; the unresolvable ones without any wait


def test_an_unreachable_network_is_not_retried(mirror, tmp_path, monkeypatch, sleeps):
    spec, _, _ = make_fake_dataset()
    tried = []

    def unreachable(request, timeout):  # no route to any host: offline without a DNS failure
        tried.append(request.full_url)
        raise urllib.error.URLError(OSError(errno.ENETUNREACH, "Network is unreachable"))

    monkeypatch.setattr(download.urllib.request, "urlopen", unreachable)
    with pytest.raises(DownloadError, match=r"no mirror could be reached \(network unreachable\)"):
        download_file(
            spec.files["test_labels"],
            ["http://a/", "http://b/"],
            tmp_path,
            **{**FAST, "backoff": 1.0},
        )
    assert len(tried) == 2 and sleeps == []  # once per mirror, no backoff


def test_offline_error_is_two_short_lines_naming_the_file_and_the_folder(tmp_path, offline):
    spec, _, _ = make_fake_dataset()
    fspec = spec.files["train_images"]
    folder = tmp_path / "a folder with a rather long name, as home folders can be" / "mnist"
    with pytest.raises(DownloadError) as err:
        download_file(fspec, NOWHERE, folder, **FAST)
    message = str(err.value)
    assert message.startswith(
        "could not download train-images-idx3-ubyte.gz: no mirror could be reached "
        "(name resolution failed: no network?)\n"
    )
    assert_short_error(message, folder, fspec.filename, "--data-dir", "$NNSCRATCH_DATA")
    assert f"{fspec.size} bytes" in message
    assert [str(attempt) for attempt in err.value.attempts] == [
        f"{base}{fspec.filename}: cannot connect: [Errno {socket.EAI_NONAME}] Name or service "
        "not known"
        for base in NOWHERE
    ]


def test_cli_download_lists_each_url_tried_only_with_verbose(
    tmp_path, offline, monkeypatch, capsys
):
    spec, _, _ = make_fake_dataset()
    use(monkeypatch, spec, *NOWHERE)
    argv = ["data", "download", "mnist", "--data-dir", str(tmp_path), "--retries", "2"]
    urls = [f"{base}train-images-idx3-ubyte.gz" for base in NOWHERE]

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("nnscratch: error: could not download train-images-idx3-ubyte.gz: ")
    assert "--verbose shows each try" in err
    assert_short_error(err.rstrip("\n"), tmp_path / "mnist")
    assert "Traceback" not in err and not any(url in err for url in urls)

    assert main([*argv, "--verbose"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[: len(urls)] == [
        f"nnscratch: tried {url}: cannot connect: [Errno {socket.EAI_NONAME}] Name or service "
        "not known"
        for url in urls
    ]
    sha256 = spec.files["train_images"].sha256
    assert lines[len(urls)].endswith(f"bytes, SHA-256 {sha256}")
    assert lines[len(urls) + 1].startswith("nnscratch: error: could not download")
    assert "--verbose" not in lines[len(urls) + 1]
    assert len(lines) == len(urls) + 3  # the tries, the checksum, the two-line error
