"""load_dataset: its options, the order in which data is looked for, the OpenML path, and the
`nnscratch data` and `nnscratch train --data-dir` commands — all offline."""

import dataclasses
import gzip
import hashlib
import math
import types

import numpy as np
import pytest

from nnscratch.cli import main
from nnscratch.datasets import Dataset, load_dataset, load_digits, one_hot, sources
from nnscratch.datasets.idx import idx_bytes
from nnscratch.errors import NnscratchError
from tests.datasets.test_download import (  # noqa: F401  (isolated is a fixture used here)
    N_TEST,
    N_TRAIN,
    isolated,
    make_fake_dataset,
    use,
)
from tests.helpers import Mirror


def place(folder, blobs, gunzip=False):
    """Put the dataset's files in ``folder``, gzipped as published or decompressed."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in blobs.items():
        if gunzip:
            (folder / name[:-3]).write_bytes(gzip.decompress(body))
        else:
            (folder / name).write_bytes(body)
    return folder


@pytest.fixture
def fake(monkeypatch, isolated, tmp_path):  # noqa: F811
    """A fake "mnist" with a system folder tmp_path/system, no mirrors, OpenML name mnist_784."""
    spec, blobs, arrays = make_fake_dataset()
    spec = dataclasses.replace(
        spec, system_dirs=(str(tmp_path / "system"),), openml_name="mnist_784"
    )
    monkeypatch.setitem(sources.SPECS, "mnist", spec)
    return types.SimpleNamespace(
        spec=spec, blobs=blobs, arrays=arrays, cache=isolated, tmp=tmp_path
    )


# ---- digits (bundled) keeps working as before ----


def test_digits_unpacks_like_the_book():
    (x_train, t_train), (x_test, t_test) = load_dataset("digits")
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert x_train.dtype == np.float64 and 0 <= x_train.min() and x_train.max() == 1.0
    assert t_train.dtype.kind == "i"


def test_digits_options():
    raw = load_dataset("digits", normalize=False, dtype=np.float32)
    scaled = load_digits()
    assert raw.x_train.dtype == np.float32
    np.testing.assert_array_equal(raw.x_train, scaled.x_train * 16)
    assert set(np.unique(raw.x_train)) <= set(range(17))
    book = load_dataset("digits", flatten=False, one_hot=True)
    assert book.x_train.shape == (1437, 1, 8, 8)
    np.testing.assert_array_equal(book.t_train, one_hot(scaled.t_train, 10))


def test_validation_split_is_stratified_seeded_and_disjoint():
    full = load_dataset("digits", seed=3)
    a = load_dataset("digits", val_size=0.25, seed=3)
    b = load_dataset("digits", val_size=0.25, seed=3)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    np.testing.assert_array_equal(a.x_test, full.x_test)  # the test set is untouched
    assert len(a.x_val) == math.ceil(0.25 * len(full.x_train))  # 360 of 1437
    assert len(a.x_train) + len(a.x_val) == len(full.x_train)
    # the two parts together are exactly the original training rows
    rows = lambda x: sorted(map(bytes, x))  # noqa: E731
    assert rows(np.vstack([a.x_train, a.x_val])) == rows(full.x_train)
    # stratified: each class's count is its share of the whole, within one sample
    expected = np.bincount(full.t_train) * len(a.x_val) / len(full.x_train)
    assert np.all(np.abs(np.bincount(a.t_val, minlength=10) - expected) <= 1)


def test_unknown_dataset_and_bad_dtype():
    with pytest.raises(
        NnscratchError,
        match="^dataset must be one of digits, mnist, "
        "fashion-mnist, moons, circles, spiral, xor, "
        "gaussians, tang300, tang, text, got 'cifar'$",
    ):
        load_dataset("cifar")
    with pytest.raises(NnscratchError, match="dtype must be float32 or float64"):
        load_dataset("digits", dtype=np.int32)
    with pytest.raises(
        NnscratchError, match="source must be one of auto, local, openml, got 'web'"
    ):
        load_dataset("mnist", source="web")


# ---- IDX datasets from local folders ----


def test_idx_options(fake):
    place(fake.tmp / "mine", fake.blobs)
    data = load_dataset("mnist", data_dir=fake.tmp / "mine")
    assert isinstance(data, Dataset) and data.n_classes == 10 and data.n_features == 784
    assert data.x_train.dtype == np.float32
    np.testing.assert_array_equal(
        data.x_train, fake.arrays["train_images"].reshape(N_TRAIN, 784).astype(np.float32) / 255
    )
    book = load_dataset(
        "mnist",
        data_dir=fake.tmp / "mine",
        flatten=False,
        one_hot=True,
        normalize=False,
        dtype=np.float64,
    )
    assert book.x_test.shape == (N_TEST, 1, 28, 28) and book.x_test.dtype == np.float64
    np.testing.assert_array_equal(book.x_test[:, 0], fake.arrays["test_images"])
    np.testing.assert_array_equal(book.t_test, one_hot(fake.arrays["test_labels"], 10))
    val = load_dataset("mnist", data_dir=fake.tmp / "mine", val_size=10, seed=0)
    assert len(val.x_val) == 10 and len(val.x_train) == N_TRAIN - 10
    np.testing.assert_array_equal(np.bincount(val.t_val), np.ones(10))


def test_search_order(fake, monkeypatch):
    system = place(fake.tmp / "system", fake.blobs)
    assert load_dataset("mnist").info["folder"] == str(system)
    cache = place(fake.cache / "mnist", fake.blobs)
    assert load_dataset("mnist").info["folder"] == str(cache)
    env = place(fake.tmp / "env" / "mnist", fake.blobs)
    monkeypatch.setenv("NNSCRATCH_DATA", str(fake.tmp / "env"))
    assert load_dataset("mnist").info["folder"] == str(env)
    flat = place(fake.tmp / "flat", fake.blobs)  # the four files directly in --data-dir
    data = load_dataset("mnist", data_dir=flat)
    assert data.info["folder"] == str(flat) and data.info["source"] == "IDX files (--data-dir)"


def test_decompressed_files_are_verified_by_content(fake):
    place(fake.tmp / "raw", fake.blobs, gunzip=True)
    data = load_dataset("mnist", data_dir=fake.tmp / "raw")
    assert {f["status"] for f in data.info["files"].values()} == {"IDX content (SHA-256)"}
    np.testing.assert_array_equal(data.t_train, fake.arrays["train_labels"])


def test_label_out_of_range_in_a_verified_set_is_caught(fake, monkeypatch):
    # a spec whose checksums describe a file with label 10: it passes the checksum, not the check
    labels = np.arange(N_TRAIN, dtype=np.uint8) % 10
    labels[4] = 10
    spec, blobs, _ = make_fake_dataset()
    bad = gzip.compress(idx_bytes(labels), mtime=0)
    files = dict(spec.files)
    files["train_labels"] = dataclasses.replace(
        files["train_labels"], size=len(bad), sha256=hashlib.sha256(bad).hexdigest()
    )
    monkeypatch.setitem(sources.SPECS, "mnist", dataclasses.replace(spec, files=files))
    folder = place(fake.tmp / "bad", {**blobs, "train-labels-idx1-ubyte.gz": bad})
    with pytest.raises(
        NnscratchError,
        match=r"train-labels-idx1-ubyte\.gz: label out of range: "
        r"labels\[4\] = 10",
    ):
        load_dataset("mnist", data_dir=folder)


def test_local_source_never_downloads(fake):
    with pytest.raises(
        NnscratchError,
        match=r"mnist is not on this machine \(looked in .*system"
        r"\); run `nnscratch data download mnist`",
    ):
        load_dataset("mnist", source="local")


def test_openml_path(fake, monkeypatch):
    # OpenML's mnist_784 is one table, training rows first; a 30-row stand-in of the same layout
    calls = []
    pixels = np.vstack([fake.arrays["train_images"], fake.arrays["test_images"]]).reshape(30, 784)
    labels = np.concatenate([fake.arrays["train_labels"], fake.arrays["test_labels"]])

    def fake_fetch_openml(name, **kwargs):
        calls.append((name, kwargs))
        return types.SimpleNamespace(
            data=pixels.astype(np.float64), target=np.array([str(t) for t in labels], dtype=object)
        )

    import sklearn.datasets

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fake_fetch_openml)
    data = load_dataset("mnist", source="openml", dtype=np.float64)
    assert calls[0][0] == "mnist_784" and calls[0][1]["as_frame"] is False
    assert calls[0][1]["data_home"] == fake.cache / "openml"
    np.testing.assert_array_equal(data.x_train, pixels[:N_TRAIN] / 255.0)
    np.testing.assert_array_equal(data.x_test, pixels[N_TRAIN:] / 255.0)
    np.testing.assert_array_equal(data.t_test, fake.arrays["test_labels"])
    assert data.info["source"].startswith("OpenML mnist_784")


def test_openml_failure_is_a_clear_error(fake, monkeypatch):
    def offline(name, **kwargs):
        raise OSError("Name or service not known")

    import sklearn.datasets

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", offline)
    with pytest.raises(
        NnscratchError,
        match=r"fetch_openml\('mnist_784'\) failed: Name or "
        r"service not known; check the network",
    ):
        load_dataset("mnist", source="openml")


# ---- the command line ----


def test_cli_data_list(fake, capsys):
    place(fake.tmp / "system", fake.blobs)
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert f"found: {fake.tmp / 'system'} (system)" in out
    assert "digits" in out and "bundled" in out
    # one status line a dataset, each its own: a text of the user's is not scikit-learn's
    entries = dict(zip(out.splitlines()[::2], out.splitlines()[1::2]))
    text = next(v for k, v in entries.items() if k.startswith("text:"))
    assert text.strip() == "your own file: nnscratch train --model gpt --text FILE"
    assert sum("scikit-learn (always" in v for v in entries.values()) == 1  # digits only


def test_cli_data_info(fake, capsys):
    place(fake.tmp / "system", fake.blobs)
    assert main(["data", "info", "mnist"]) == 0
    out = capsys.readouterr().out
    assert f"train: x ({N_TRAIN}, 784) float32" in out
    assert "per class: 2 2 2 2 2 2 2 2 2 2" in out
    assert out.count("checksum: official .gz (SHA-256)") == 4


def test_cli_data_info_missing_is_one_line_exit_2(fake, capsys):
    assert main(["data", "info", "mnist"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nnscratch: error: mnist is not on this machine") and err.count("\n") == 1


def test_cli_data_download(fake, monkeypatch, capsys):
    mirror = Mirror()
    try:
        use(monkeypatch, fake.spec, mirror.serve("m", fake.blobs))
        assert main(["data", "download", "mnist", "--data-dir", str(fake.tmp / "d")]) == 0
    finally:
        mirror.close()
    out = capsys.readouterr().out
    assert "mnist: all 4 files verified" in out
    assert sorted(p.name for p in (fake.tmp / "d" / "mnist").iterdir()) == sorted(fake.blobs)


def test_cli_train_with_data_dir(fake, capsys):
    place(fake.tmp / "mine", fake.blobs)
    code = main(
        [
            "train",
            "--dataset",
            "mnist",
            "--data-dir",
            str(fake.tmp / "mine"),
            "--epochs",
            "1",
            "--batch-size",
            "5",
            "--quiet",
        ]
    )
    assert code == 0
    assert (
        f"on mnist ({N_TRAIN} train, {N_TEST} test images from IDX files" in capsys.readouterr().out
    )


def test_cli_data_download_digits_needs_nothing(capsys):
    assert main(["data", "download", "digits"]) == 0
    assert "bundled with scikit-learn" in capsys.readouterr().out
    assert main(["data", "download", "cifar"]) == 2
    assert (
        "'cifar' is not an IDX dataset: choose one of fashion-mnist, mnist"
        in capsys.readouterr().err
    )


def test_a_dataset_says_what_its_samples_are_and_where_they_came_from():
    digits = load_dataset("digits")
    assert digits.samples == "images"
    assert digits.describe() == "1437 train, 360 test images from scikit-learn (bundled)"
    moons = load_dataset("moons")
    assert moons.samples == "points"
    assert moons.describe() == "400 train, 100 test points generated by nnscratch.datasets.toy2d"
    assert moons.without_test().describe() == (
        "400 train points generated by nnscratch.datasets.toy2d"
    )
