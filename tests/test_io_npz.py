"""The safe .npz reader (nnscratch.npz): what it reads, each kind of bad file it refuses with our
error, and that an error of our own code is not passed off as a damaged file."""

import struct
import zipfile

import numpy as np
import pytest

from nnscratch import NnscratchError
from nnscratch.npz import read_npz, write_npz


def npy(header, data=b""):
    """A .npy 1.0 stream with the header dict written as ``header`` (a string) and ``data``."""
    text = header.encode("latin1")
    text += b" " * ((64 - (10 + len(text) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def zip_of(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def patch_central(path, offset, fmt, value):
    """Overwrite a field of the (first) central directory entry: ``offset`` from its signature."""
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02") + offset
    data[at : at + struct.calcsize(fmt)] = struct.pack(fmt, value)
    path.write_bytes(bytes(data))
    return path


def test_reads_back_every_kind_of_array_exactly_and_writable(tmp_path):
    arrays = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "big_endian": np.arange(4, dtype=">i4"),
        "flags": np.array([True, False]),
        "scalar": np.float64(2.5),
        "empty": np.zeros((0, 3)),
        "u8": np.arange(3, dtype="u1"),
    }
    write_npz(tmp_path / "a.npz", arrays)
    back = read_npz(tmp_path / "a.npz")
    assert set(back) == set(arrays)
    for name, array in arrays.items():
        assert back[name].dtype == np.asarray(array).dtype and back[name].shape == np.shape(array)
        np.testing.assert_array_equal(back[name], array)
        assert back[name].flags.writeable  # optimizer state read from a file is updated in place
    assert back["fortran"].flags.f_contiguous
    compressed = tmp_path / "c.npz"
    np.savez_compressed(compressed, **arrays)
    np.testing.assert_array_equal(read_npz(compressed)["f32"], arrays["f32"])


def test_encrypted_member_is_refused_before_zipfile_asks_for_a_password(tmp_path):
    path = zip_of(
        tmp_path / "e.npz",
        {"a.npy": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", bytes(8))},
    )
    patch_central(path, 8, "<H", 0x1)  # general purpose flags: encrypted
    with pytest.raises(NnscratchError, match="e.npz.*a.npy is encrypted"):
        read_npz(path)


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, 99])
def test_member_packed_with_another_method_is_refused(tmp_path, method):
    data = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", bytes(8))
    if method == 99:  # a method zipfile does not know at all
        path = patch_central(zip_of(tmp_path / "m.npz", {"a.npy": data}), 10, "<H", 99)
    else:
        path = zip_of(tmp_path / "m.npz", {"a.npy": data}, method)
    with pytest.raises(NnscratchError, match=f"packed with zip method {method}"):
        read_npz(path)


def test_member_needing_a_newer_zip_version_is_our_error(tmp_path):
    path = zip_of(
        tmp_path / "v.npz",
        {"a.npy": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", bytes(8))},
    )
    patch_central(path, 6, "<H", 99)  # version needed to extract: 9.9
    with pytest.raises(NnscratchError, match="v.npz' needs a newer zip reader"):
        read_npz(path)


def test_member_said_to_lie_past_the_end_of_the_file_is_refused(tmp_path):
    path = zip_of(
        tmp_path / "o.npz",
        {"a.npy": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", bytes(8))},
    )
    patch_central(path, 42, "<I", 0xFFFF_0000)  # local header offset
    with pytest.raises(NnscratchError, match="a.npy lies past the end of the file"):
        read_npz(path)


@pytest.mark.parametrize(
    "header, data, message",
    [
        ("{'descr': ('<f8',), 'fortran_order': False, 'shape': (3,), }", bytes(24), "IndexError"),
        ("{'descr': (), 'fortran_order': False, 'shape': (3,), }", bytes(24), "IndexError"),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (-2, -4), }",
            bytes(64),
            r"declares shape \(-2, -4\)",
        ),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
            bytes(16),
            "different amount of data",
        ),
        ("{'descr': '<f8', 'fortran_order': 1, 'shape': (3,), }", bytes(24), "ValueError"),
        (
            "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }",
            bytes(24),
            "refusing to load it",
        ),
    ],
)
def test_bad_npy_headers_are_our_error(tmp_path, header, data, message):
    path = zip_of(tmp_path / "h.npz", {"a.npy": npy(header, data)})
    with pytest.raises(NnscratchError, match=message):
        read_npz(path)


def test_a_name_twice_is_refused(tmp_path):
    data = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", bytes(8))
    path = tmp_path / "d.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("a.npy", data)
            zf.writestr("a.npy", data)
    with pytest.raises(NnscratchError, match="holds a.npy twice"):
        read_npz(path)


def test_a_bug_in_our_code_is_not_reported_as_a_damaged_file(tmp_path, monkeypatch):
    """Only what a bad file raises becomes "cannot be read": a RuntimeError, AttributeError or
    TypeError from the code itself must surface as what it is."""
    write_npz(tmp_path / "a.npz", {"x": np.zeros(3)})
    for error in (RuntimeError, AttributeError, TypeError):

        def broken(*args, error=error):
            raise error("a bug")

        monkeypatch.setattr(np.lib.format, "read_array_header_1_0", broken)
        with pytest.raises(error, match="a bug"):
            read_npz(tmp_path / "a.npz")
