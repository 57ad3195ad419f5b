"""The IDX reader: exact round trips, and one clear error per kind of damage."""

import gzip
import struct

import numpy as np
import pytest

from nnscratch.datasets.idx import (
    check_images,
    check_labels,
    idx_bytes,
    parse_idx,
    read_idx,
    write_idx,
)
from nnscratch.errors import NnscratchError


def test_parse_hand_written_bytes():
    # header written by hand from the format: 0x00 0x00, type 0x08 (ubyte), 2 dims, 2 × 3
    data = bytes([0, 0, 0x08, 2]) + struct.pack(">II", 2, 3) + bytes([1, 2, 3, 250, 251, 252])
    array = parse_idx(data, "hand.idx")
    assert array.dtype == np.uint8
    np.testing.assert_array_equal(array, [[1, 2, 3], [250, 251, 252]])


def test_parse_big_endian_int32_by_hand():
    data = bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 2) + struct.pack(">ii", -2, 70000)
    np.testing.assert_array_equal(parse_idx(data), [-2, 70000])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_round_trip(tmp_path, dtype, name):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((5, 4, 3)) * 100).astype(dtype)
    path = tmp_path / name
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (5, 4, 3)
    np.testing.assert_array_equal(back, array)


def test_written_file_is_what_the_format_says(tmp_path):
    labels = np.array([3, 1, 4], dtype=np.uint8)
    path = tmp_path / "labels.idx"
    write_idx(path, labels)
    assert path.read_bytes() == b"\x00\x00\x08\x01\x00\x00\x00\x03\x03\x01\x04"


def test_truncated_data(tmp_path):
    path = tmp_path / "cut-images.idx"
    path.write_bytes(idx_bytes(np.zeros((4, 28, 28), np.uint8))[:-10])
    with pytest.raises(
        NnscratchError,
        match=r"cut-images\.idx: file is truncated.*3136 data "
        r"bytes, found 3126",
    ):
        read_idx(path)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "cut.idx.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8) % 7))[:-30])
    with pytest.raises(NnscratchError, match=r"cut\.idx\.gz: the gzip data is truncated"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "head.idx"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(NnscratchError, match=r"head\.idx: truncated header"):
        read_idx(path)


def test_too_long(tmp_path):
    path = tmp_path / "long.idx"
    path.write_bytes(idx_bytes(np.zeros(3, np.uint8)) + b"\x00")
    with pytest.raises(NnscratchError, match=r"long\.idx: file is longer than its header"):
        read_idx(path)


def test_wrong_magic(tmp_path):
    path = tmp_path / "notidx.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(NnscratchError, match=r"notidx\.png: wrong magic number 0x89504e47"):
        read_idx(path)


def test_unknown_element_type():
    with pytest.raises(NnscratchError, match=r"x\.idx: unknown IDX element type 0x07"):
        parse_idx(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]), "x.idx")


def test_wrong_dimensions_of_images():
    images = np.zeros((3, 27, 28), np.uint8)
    with pytest.raises(
        NnscratchError,
        match=r"imgs: wrong dimensions \(3, 27, 28\): expected "
        r"images of 28×28",
    ):
        check_images(images, "imgs", image_shape=(28, 28))
    with pytest.raises(NnscratchError, match=r"wrong dimensions \(3, 27, 28\): expected 5 images"):
        check_images(images, "imgs", n=5)
    with pytest.raises(NnscratchError, match=r"imgs: wrong dimensions \(3, 756\)"):
        check_images(images.reshape(3, -1), "imgs")


def test_label_out_of_range():
    labels = np.array([0, 9, 10, 3], dtype=np.uint8)
    with pytest.raises(
        NnscratchError,
        match=r"lbl: label out of range: labels\[2\] = 10, "
        r"expected 0\.\.9",
    ):
        check_labels(labels, "lbl", 10)


def test_labels_in_range_become_int64():
    out = check_labels(np.array([0, 9, 5], np.uint8), "lbl", 10)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [0, 9, 5])


def test_unreadable_file_names_it(tmp_path):
    with pytest.raises(NnscratchError, match=r"missing\.idx: cannot read"):
        read_idx(tmp_path / "missing.idx")


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(NnscratchError, match="IDX cannot store dtype uint16"):
        write_idx(tmp_path / "x.idx", np.zeros(3, np.uint16))
