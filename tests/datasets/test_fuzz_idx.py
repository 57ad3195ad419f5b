"""Fuzzing the IDX reader: random bytes and mutated valid files (raw and gzip) end in an array or
an NnscratchError — never another exception, never a hang, never an allocation larger than what
the file holds. Example counts keep the file at a few seconds on 2 cores."""

import gzip
import struct
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nnscratch.datasets.idx import MAX_GZIP_RATIO, idx_bytes, read_idx
from nnscratch.errors import NnscratchError

FUZZ = settings(
    max_examples=200,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

IMAGES = idx_bytes(np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4))
LABELS = idx_bytes(np.array([1, 0, 7], dtype=np.uint8))
FLOATS = idx_bytes(np.linspace(-1, 1, 6).reshape(3, 2))
VALID = [IMAGES, LABELS, FLOATS]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("idx-fuzz")


def read_or_refuse(path, data):
    """Write ``data`` to ``path`` and read it: an array no larger than the bytes given (after
    gunzip), or our error naming the file."""
    path.write_bytes(data)
    try:
        array = read_idx(path)
    except NnscratchError as exc:
        assert path.name in str(exc)
        return None
    raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    assert isinstance(array, np.ndarray) and array.nbytes <= len(raw)
    return array


@st.composite
def mutated(draw, originals):
    """A valid file with 1-4 edits: flip a bit, overwrite, insert, delete, truncate, or put a
    huge number into one of the header's fields."""
    data = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(
                ["flip", "overwrite", "insert", "delete", "truncate", "huge-dim", "ndim", "type"]
            )
        )
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and data:
            del data[at : at + draw(st.integers(1, 8))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "huge-dim" and len(data) >= 8:
            ndim = max(1, min(data[3], (len(data) - 4) // 4))
            i = draw(st.integers(0, ndim - 1))
            data[4 + 4 * i : 8 + 4 * i] = struct.pack(
                ">I", draw(st.sampled_from([2**32 - 1, 2**31, 2**16 + 1, 0, 10**9]))
            )
        elif kind == "ndim" and len(data) >= 4:
            data[3] = draw(st.sampled_from([0, 1, 2, 4, 33, 64, 65, 255]))
        elif kind == "type" and len(data) >= 3:
            data[2] = draw(st.integers(0, 255))
    return bytes(data)


@pytest.mark.slow
@FUZZ
@given(data=st.binary(max_size=200))
@example(data=b"")
@example(data=b"\x00\x00\x08")
@example(data=b"\x00\x00\x08\x01\xff\xff\xff\xff")
def test_random_bytes(folder, data):
    read_or_refuse(folder / "random.idx", data)


@FUZZ
@given(data=st.binary(max_size=200))
def test_random_bytes_after_the_gzip_magic(folder, data):
    read_or_refuse(folder / "random.idx.gz", b"\x1f\x8b" + data)


@pytest.mark.slow
@FUZZ
@given(data=mutated(VALID))
def test_mutated_raw_files(folder, data):
    read_or_refuse(folder / "mutated.idx", data)


@pytest.mark.slow
@FUZZ
@given(data=mutated(VALID))
def test_mutated_files_then_gzipped(folder, data):
    read_or_refuse(folder / "mutated-inside.idx.gz", gzip.compress(data, mtime=0))


@pytest.mark.slow
@FUZZ
@given(data=mutated([gzip.compress(v, mtime=0) for v in VALID]))
def test_mutated_gzip_files(folder, data):
    read_or_refuse(folder / "mutated.idx.gz", data)


@pytest.mark.parametrize(
    "dims",
    [
        (2**32 - 1,) * 3,  # 8·10^28 bytes: more than int64 holds
        (2**16, 2**16, 2**16, 2**16),  # 2^64: wraps to exactly 0 in int64 arithmetic
        (0, 2**32 - 1),  # zero elements: a valid, empty array
    ],
)
def test_huge_declared_dimensions_are_refused_without_allocating(folder, dims):
    data = bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    if 0 in dims:
        assert read_or_refuse(folder / "empty.idx", data).shape == dims
    else:
        with pytest.raises(NnscratchError, match="dimensions .* need .* data bytes, found 0"):
            read_idx(_write(folder / "huge.idx", data))


def test_more_dimensions_than_numpy_has_is_our_error(folder):
    data = bytes([0, 0, 0x08, 40]) + struct.pack(">40I", *[1] * 40) + b"\x07"
    with pytest.raises(NnscratchError, match="40 dimensions"):
        read_idx(_write(folder / "deep.idx", data))


def test_gzip_bomb_is_not_unpacked(folder, monkeypatch):
    import nnscratch.datasets.idx as idx

    bomb = gzip.compress(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 10**7) + bytes(10**7))
    assert len(bomb) * MAX_GZIP_RATIO < 10**7  # > 1000:1, no real IDX file comes close
    monkeypatch.setattr(idx, "GZIP_ALWAYS_OK", 10**6)  # the floor, 64 MiB, made small
    with pytest.raises(
        NnscratchError,
        match=rf"unpacks to more than {len(bomb) * 1000} bytes "
        r"\(over 1000 times its size\)",
    ):
        read_idx(_write(folder / "bomb.idx.gz", bomb))


def test_gzip_with_trailing_garbage_and_two_members(folder):
    with pytest.raises(NnscratchError, match="gzip data is truncated or corrupt"):
        read_idx(_write(folder / "trailing.idx.gz", gzip.compress(LABELS) + b"junk"))
    two = gzip.compress(LABELS[:5]) + gzip.compress(LABELS[5:])  # concatenated members
    assert read_idx(_write(folder / "two.idx.gz", two)).tolist() == [1, 0, 7]


def test_corrupt_deflate_stream_is_our_error(folder):
    good = bytearray(gzip.compress(IMAGES, mtime=0))
    good[12] ^= 0xFF  # inside the deflate data
    with pytest.raises(NnscratchError):
        read_idx(_write(folder / "corrupt.idx.gz", bytes(good)))


def _write(path, data):
    path.write_bytes(data)
    return path
