"""Atomic writes: a temp file in the same folder, fsync, rename; a failure names the file it was
writing and leaves the old file (or nothing) where the new one was going."""

import errno
import json
import os
import stat

import pytest

from nnscratch.atomic import atomic_open, atomic_write_bytes, save_json
from nnscratch.cli import main


def disk_full(*args):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_atomic_write_bytes_and_save_json(tmp_path):
    atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    save_json(tmp_path / "h.json", {"loss": [1.5, float("nan")]})
    text = (tmp_path / "h.json").read_text()
    assert json.loads(text)["loss"][0] == 1.5 and "NaN" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "h.json"]


def test_saved_file_gets_the_mode_open_would_give(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o666 & ~0o027


def test_exception_inside_leaves_the_old_file_and_no_temp(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"old")
    with pytest.raises(KeyError):
        with atomic_open(tmp_path / "a.bin") as f:
            f.write(b"new, half")
            raise KeyError("boom")
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]
    assert (tmp_path / "a.bin").read_bytes() == b"old"


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_disk_full_names_the_file_being_written(tmp_path, monkeypatch, where):
    target = tmp_path / "model.npz"
    if where == "fsync":
        monkeypatch.setattr(os, "fsync", disk_full)

    with pytest.raises(OSError) as exc:
        with atomic_open(target) as f:
            if where == "write":
                f.write = disk_full
            f.write(b"data")
    assert exc.value.errno == errno.ENOSPC
    assert exc.value.filename == str(target)
    assert str(target) in str(exc.value)
    assert list(tmp_path.iterdir()) == []  # no temp file, no half file


def test_an_error_that_names_its_file_keeps_that_name(tmp_path):
    other = tmp_path / "elsewhere.txt"
    with pytest.raises(FileNotFoundError) as exc:
        with atomic_open(tmp_path / "a.bin"):
            open(other / "x")
    assert exc.value.filename == str(other / "x")


def test_cli_disk_full_while_saving_prints_the_file_name(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    monkeypatch.setattr(os, "fsync", disk_full)
    assert main(["train", "--epochs", "1", "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nnscratch: error: No space left on device: ")
    assert str(out) in err  # the file it was writing, in the run folder
    assert ":  " not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "exc, shown",
    [
        (OSError("disk full"), "nnscratch: error: disk full — choose a path you can write to"),
        (
            OSError(errno.EACCES, "Permission denied", "/x/y.npz"),
            "nnscratch: error: Permission denied: /x/y.npz — choose a path you can write to",
        ),
        (
            OSError(errno.ENOSPC, "No space left on device"),
            "nnscratch: error: No space left on device — choose a path you can write to",
        ),
    ],
)
def test_cli_os_error_message_never_has_an_empty_name(monkeypatch, capsys, exc, shown):
    def fail(args):
        raise exc

    monkeypatch.setattr("nnscratch.cli.train.cmd_train", fail)  # the parser is built in main
    assert main(["train", "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == shown
