"""全唐诗 (``load_tang``): its files found or downloaded from an HTTP server on 127.0.0.1 that the
test starts, each checked against its SHA-256; damaged, cut-short and unreachable downloads.

The served files are real ones, copied from the pinned chinese-poetry copy in ``../shared`` (the
package never reads it); without it these tests are skipped. The package's table of the 58 files
is cut down to the few served here (``text.TANG_FILES`` pointed at a smaller table)."""

import hashlib
import json
import socket
from pathlib import Path

import numpy as np
import pytest

from nnscratch.datasets import text
from nnscratch.datasets.download import DownloadError
from nnscratch.datasets.text import CharTokenizer, load_tang, render_poem, tang_spec
from nnscratch.errors import NnscratchError
from tests.helpers import Mirror

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "chinese-poetry"
QTS = SHARED / "quan-tang-shi"
#: the files served here: three of the 58, small ones
SERVED = ("poet.tang.0.json", "poet.tang.1000.json", "poet.tang.57000.json")
FAST = {"backoff": 0, "timeout": 5, "progress": False}

needs_shared = pytest.mark.skipif(
    not QTS.is_dir(), reason="the pinned chinese-poetry copy (../shared/data) is not here"
)


def asked(server):
    """The file names the mirror was asked for, in order."""
    return [path.rsplit("/", 1)[-1] for path in server.requests]


@pytest.fixture
def blobs():
    if not QTS.is_dir():
        pytest.skip("the pinned chinese-poetry copy (../shared/data) is not here")
    return {name: (QTS / name).read_bytes() for name in SERVED}


@pytest.fixture
def server(blobs):
    """The served files under /qts/ (``server.base("qts")``)."""
    mirror = Mirror()
    mirror.serve("qts", blobs)
    yield mirror
    mirror.close()


@pytest.fixture
def small_table(tmp_path, monkeypatch):
    """The package's table of files, cut down to the served ones (their rows kept as they are);
    no $NNSCRATCH_DATA, and the user cache in tmp_path."""
    table = json.loads(text.TANG_FILES.read_text(encoding="utf-8"))
    table["files"] = [row for row in table["files"] if row[0] in SERVED]
    assert [row[0] for row in table["files"]] == list(SERVED)
    path = tmp_path / "table.json"
    path.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(text, "TANG_FILES", path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NNSCRATCH_DATA", raising=False)
    return table


def poems_of(blobs):
    return [poem for name in SERVED for poem in json.loads(blobs[name].decode("utf-8"))]


def assert_short(message, *names):
    lines = message.split("\n")
    assert len(lines) == 2, message
    assert all(len(line) < 220 for line in lines), message
    for name in names:
        assert name in message, (name, message)


@needs_shared
def test_the_package_table_is_the_pinned_manifest():
    manifest = json.loads((SHARED / "MANIFEST.json").read_text(encoding="utf-8"))
    table = json.loads(text.TANG_FILES.read_text(encoding="utf-8"))
    expected = sorted(
        (f["path_in_repository"], f["bytes"], f["sha256"])
        for f in manifest["files"]
        if f["file"].startswith("quan-tang-shi/")
    )
    rows = sorted((f"{table['directory']}/{n}", size, sha) for n, size, sha in table["files"])
    assert len(rows) == 58 and rows == expected
    assert table["commit"] == manifest["commit"]
    assert table["url_templates"] == [manifest["raw_url_template"], manifest["cdn_url_template"]]
    numbers = [int(name.split(".")[2]) for name, _, _ in table["files"]]
    assert numbers == sorted(numbers)  # the source's order


def test_default_mirrors_are_the_two_templates_at_the_commit_percent_encoded():
    raw, cdn = tang_spec().mirrors
    commit = "99ebbef7e1345c0985c44b9fd96a3f9e776f117b"
    folder = "%E5%85%A8%E5%94%90%E8%AF%97/"  # 全唐诗/
    assert (
        raw == f"https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/{commit}/{folder}"
    )
    assert cdn == f"https://cdn.jsdelivr.net/gh/chinese-poetry/chinese-poetry@{commit}/{folder}"
    assert len(tang_spec().files) == 58


def test_files_are_downloaded_verified_and_a_dataset_built(server, small_table, blobs, tmp_path):
    data = load_tang(tmp_path / "data", mirrors=[server.base("qts")], val_poems=0.1, **FAST)
    folder = tmp_path / "data" / "tang"
    assert sorted(p.name for p in folder.iterdir()) == sorted(SERVED)  # nothing partial left
    for name in SERVED:
        assert (folder / name).read_bytes() == blobs[name]
    assert sorted(asked(server)) == sorted(SERVED)
    poems = poems_of(blobs)
    assert data.name == "tang" and data.n_train_pieces + data.n_val_pieces == len(poems)
    assert data.n_val_pieces == round(0.1 * len(poems))
    assert len(data.train) + len(data.val) == sum(len(render_poem(p)) for p in poems)
    assert data.train.dtype == np.int64 and data.val.dtype == np.int64
    order = np.random.default_rng(0).permutation(len(poems))  # seed 0: the default
    train = sorted(order[data.n_val_pieces :].tolist())
    assert data.tokenizer.decode(data.train) == "".join(render_poem(poems[i]) for i in train)
    assert not (tmp_path / "cache").exists()  # data_dir given: the cache is left alone


def test_the_cache_is_the_default_folder_and_a_second_load_asks_nothing(
    server, small_table, tmp_path
):
    first = load_tang(mirrors=[server.base("qts")], **FAST)
    cached = tmp_path / "cache" / "nnscratch" / "tang"
    assert sorted(p.name for p in cached.iterdir()) == sorted(SERVED)
    server.requests.clear()
    second = load_tang(mirrors=[server.base("qts")], **FAST)
    assert asked(server) == []
    np.testing.assert_array_equal(first.train, second.train)


def test_a_corrupted_file_is_refused_and_nothing_partial_is_left(
    server, small_table, blobs, tmp_path
):
    bad = SERVED[1]
    corrupted = blobs[bad][:100] + bytes([blobs[bad][100] ^ 0xFF]) + blobs[bad][101:]
    server.routes[f"/qts/{bad}"] = ("bad", corrupted)
    folder = tmp_path / "data" / "tang"
    with pytest.raises(DownloadError) as err:
        load_tang(tmp_path / "data", mirrors=[server.base("qts")], **FAST)
    message = str(err.value)
    assert message.startswith(f"could not download {bad}: no mirror served it (wrong SHA-256)")
    assert_short(message, bad, "SHA-256", str(folder))
    assert "http" not in message  # the URL is in err.value.attempts
    assert "wrong SHA-256" in err.value.attempts[0].detail
    assert err.value.__cause__ is None and err.value.__suppress_context__
    # the file before it is kept (verified), nothing of the bad one, the next one not tried
    assert [p.name for p in folder.iterdir()] == [SERVED[0]]
    assert asked(server) == [SERVED[0], bad]
    # the server mended: the next load resumes with the bad file, the good one not asked again
    server.routes[f"/qts/{bad}"] = ("good", blobs[bad])
    server.requests.clear()
    load_tang(tmp_path / "data", mirrors=[server.base("qts")], **FAST)
    assert asked(server) == [bad, SERVED[2]]


def test_a_connection_dropped_half_way_is_retried_and_a_file_there_not_fetched_again(
    server, small_table, blobs, tmp_path
):
    dropped = SERVED[0]
    server.routes[f"/qts/{dropped}"] = ("drop", blobs[dropped])
    server.drops[f"/qts/{dropped}"] = 1
    data = load_tang(tmp_path / "data", mirrors=[server.base("qts")], **FAST)
    folder = tmp_path / "data" / "tang"
    assert asked(server).count(dropped) == 2
    assert (folder / dropped).read_bytes() == blobs[dropped]
    assert sorted(p.name for p in folder.iterdir()) == sorted(SERVED)
    server.requests.clear()
    again = load_tang(tmp_path / "data", mirrors=[server.base("qts")], **FAST)
    assert asked(server) == []
    np.testing.assert_array_equal(data.val, again.val)


def test_only_the_missing_files_are_downloaded(server, small_table, blobs, tmp_path):
    folder = tmp_path / "data"  # data_dir itself holds one file, as a user may put it there
    folder.mkdir()
    (folder / SERVED[2]).write_bytes(blobs[SERVED[2]])
    load_tang(folder, mirrors=[server.base("qts")], **FAST)
    assert asked(server) == [SERVED[0], SERVED[1]]
    assert sorted(p.name for p in (folder / "tang").iterdir()) == sorted(SERVED[:2])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_network_is_one_clear_error_and_leaves_nothing(small_table, tmp_path, monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    nowhere = f"http://127.0.0.1:{free_port()}/qts/"  # nothing listens there
    with pytest.raises(DownloadError) as err:
        load_tang(tmp_path / "data", mirrors=[nowhere], **FAST)
    message = str(err.value)
    folder = tmp_path / "data" / "tang"
    assert message.startswith(f"could not download {SERVED[0]}: no mirror could be reached")
    assert "connection refused" in message
    assert_short(message, SERVED[0], str(folder))
    assert "Traceback" not in message and err.value.__cause__ is None
    assert err.value.__suppress_context__
    assert list(folder.iterdir()) == []


def test_without_download_missing_files_are_an_error(small_table, tmp_path):
    with pytest.raises(NnscratchError, match=r"3 of its 3 files are not here .*download=True"):
        load_tang(tmp_path / "data", download=False)


def test_a_damaged_file_in_a_folder_is_refused_by_name(small_table, blobs, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for name in SERVED:
        (folder / name).write_bytes(blobs[name])
    good = blobs[SERVED[1]]
    damaged = good[:100] + bytes([good[100] ^ 0xFF]) + good[101:]
    (folder / SERVED[1]).write_bytes(damaged)
    digest = hashlib.sha256(damaged).hexdigest()
    with pytest.raises(NnscratchError, match=rf"{SERVED[1]}: not the official .*{digest}"):
        load_tang(folder, download=False)


def test_the_vectorised_encode_is_the_dictionary_lookup():
    rng = np.random.default_rng(0)
    alphabet = "床前明月光疑是地上霜\n，。ab\ufffd\U00020000"
    train = "".join(rng.choice(list(alphabet[:12]), 300))
    other = "".join(rng.choice(list(alphabet), 500))
    tok = CharTokenizer(train)
    ids = {c: i for i, c in enumerate(tok.chars)}
    for s in (train, other, ""):
        assert tok.encode(s).tolist() == [ids.get(c, 0) if c != "\ufffd" else 0 for c in s]
        assert tok.encode(s).dtype == np.int64


@needs_shared
@pytest.mark.slow
def test_all_58_files_load_from_a_folder_in_seconds(monkeypatch):
    monkeypatch.delenv("NNSCRATCH_DATA", raising=False)
    data = load_tang(QTS, download=False)
    assert data.n_train_pieces + data.n_val_pieces == 57607
    text_chars = len(data.train) + len(data.val)
    assert text_chars > 3668082  # the verse, plus titles, authors and newlines
    assert data.tokenizer.decode(data.train[:13]) == "《帝京篇十首 一》太宗皇帝"


def test_the_data_command_lists_downloads_and_describes_tang(
    server, small_table, blobs, tmp_path, capsys
):
    from nnscratch.cli import main

    small_table["url_templates"] = [server.base("qts")]  # no {commit}: the mirror as it is
    text.TANG_FILES.write_text(json.dumps(small_table, ensure_ascii=False), encoding="utf-8")
    folder = tmp_path / "data"
    assert main(["data", "list", "--data-dir", str(folder)]) == 0
    assert "3 of 3 files not found; `nnscratch data download tang`" in capsys.readouterr().out
    assert main(["data", "download", "tang", "--data-dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"tang: all 3 files verified in {folder / 'tang'} ({len(poems_of(blobs)):,} poems)\n"
    )
    assert main(["data", "list", "--data-dir", str(folder)]) == 0
    assert "tang: 全唐诗" in (listed := capsys.readouterr().out)
    assert "found: all 3 files" in listed
    assert main(["data", "info", "tang", "--data-dir", str(folder)]) == 0
    assert "training and" in capsys.readouterr().out
