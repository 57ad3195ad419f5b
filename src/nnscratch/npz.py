"""The ``.npz`` files nnscratch keeps: numeric arrays only, written atomically, read without pickle.

An ``.npz`` is NumPy's zip of ``.npy`` arrays. Reading checks each member before unpacking it:

* the zip: at most :data:`MAX_MEMBERS` members, each named ``<name>.npy`` once, stored or deflated
  (what ``np.savez``/``np.savez_compressed`` write), not encrypted, lying inside the file;
* its size: at most :data:`MAX_MEMBER_BYTES` unpacked and :data:`MAX_COMPRESSION_RATIO` × its
  packed size (no decompression bomb);
* its ``.npy`` header: format 1.0 or 2.0, a bool/int/float dtype (never ``object``: pickled
  Python objects, which could run code), a shape whose size is exactly the data stored.

Then the data is read from the same open member: what is checked is what is read. Anything wrong
is an :class:`NnscratchError` naming the file.
"""

import math
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .atomic import atomic_open
from .errors import NnscratchError

#: limits that keep a hostile or damaged file from costing much: members in the zip, bytes one
#: member may unpack to (bytes ≤ this and ≤ 1000 × its compressed size: no decompression bomb)
MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 2**31
MAX_COMPRESSION_RATIO = 1000
#: dtype kinds a file may hold: bool, signed/unsigned int, float. Never "O" (pickled objects).
ALLOWED_KINDS = "biuf"
#: how np.savez (stored) and np.savez_compressed (deflated) write members
COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
#: general purpose flag bits of a zip member that zipfile cannot read without a password or at
#: all: encrypted (bit 0), compressed patched data (bit 5), strong encryption (bit 6)
UNREADABLE_FLAGS = 0x1 | 0x20 | 0x40

#: What reading a damaged file raises (tests/test_io_npz.py makes each; tests/test_fuzz_loader.py):
_DAMAGED = (
    zipfile.BadZipFile,  # not a zip, a bad CRC, a truncated or mismatched header
    zlib.error,  # a corrupt deflate stream
    EOFError,  # packed data cut short
    ValueError,  # an .npy header numpy cannot parse, a name that is not UTF-8
    IndexError,
)  # an .npy header with descr () or ('<f8',): numpy reads descr[1]


def savable(name, array):
    """``array`` as an ndarray, if a file may hold it (bool, integer, float), else a clear error."""
    array = np.asarray(array)
    if array.dtype.kind not in ALLOWED_KINDS:
        raise NnscratchError(
            f"{name} has dtype {array.dtype}: only bool, integer and float arrays can be saved"
        )
    return array


def write_npz(path, arrays):
    """Write ``{name: array}`` to ``path`` as an uncompressed ``.npz``, atomically."""
    with atomic_open(path) as f:
        np.savez(f, **arrays)


def _read_header(f, source, member):
    """(shape, fortran_order, dtype) of the .npy stream ``f``, checked."""
    major, minor = np.lib.format.read_magic(f)
    if (major, minor) == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif (major, minor) == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise NnscratchError(
            f"{source}: {member} has .npy format {major}.{minor}; nnscratch writes 1.0"
        )
    if dtype.hasobject or dtype.kind not in ALLOWED_KINDS or dtype.fields is not None:
        raise NnscratchError(
            f"{source}: {member} holds {dtype} data (object arrays are pickled "
            "Python objects, which could run code): refusing to load it; "
            "only numeric arrays are allowed"
        )
    return shape, fortran, dtype


def _check_member(info, source, file_bytes):
    """Refuse a member that is not an array nnscratch could have written, before unpacking it."""
    name = info.filename
    if not name.endswith(".npy"):
        raise NnscratchError(
            f"{source} holds {name!r}, which is not an array: not an nnscratch file"
        )
    if info.flag_bits & UNREADABLE_FLAGS or info.compress_type not in COMPRESSIONS:
        raise NnscratchError(
            f"{source}: {name} is encrypted or packed with zip method "
            f"{info.compress_type}: not an nnscratch file (they are stored or "
            "deflated)"
        )
    if info.header_offset + info.compress_size > file_bytes:
        raise NnscratchError(
            f"{source}: {name} lies past the end of the file: it is truncated or damaged"
        )
    if info.file_size > MAX_MEMBER_BYTES or info.file_size > MAX_COMPRESSION_RATIO * max(
        info.compress_size, 1
    ):
        raise NnscratchError(
            f"{source}: {name} declares {info.file_size} bytes: refusing to unpack it"
        )


def _read_member(zf, info, source):
    """The array in member ``info``: header checked, then exactly the declared data read."""
    with zf.open(info) as f:
        shape, fortran, dtype = _read_header(f, source, info.filename)
        nbytes = math.prod(shape) * dtype.itemsize
        if min(shape, default=0) < 0 or f.tell() + nbytes != info.file_size:
            raise NnscratchError(
                f"{source}: {info.filename} declares shape {shape} but holds "
                "a different amount of data: the file is damaged"
            )
        data = bytearray(nbytes)  # writable: optimizer state read here is updated in place
        if f.readinto(data) != nbytes or f.read(1):  # reading to the end checks the CRC
            raise NnscratchError(
                f"{source}: {info.filename} is shorter than its header says: the file is damaged"
            )
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C")


def _open_zip(file, source):
    try:
        return zipfile.ZipFile(file)
    except NotImplementedError:  # zipfile's answer to a member that needs zip version > 6.3
        raise NnscratchError(
            f"{source} needs a newer zip reader than Python's: not an nnscratch file"
        ) from None


def read_npz(path, what="file"):
    """Every array of the ``.npz`` at ``path``, read safely (no pickle, sizes checked).

    Returns ``{name: array}`` (names without ``.npy``). Raises NnscratchError for anything that
    is not such a file.
    """
    path = Path(path)
    source = f"{what} {str(path)!r}"
    if not path.is_file():
        raise NnscratchError(f"{source} does not exist (or is not a file): check the path")
    arrays = {}
    try:
        with open(path, "rb") as file, _open_zip(file, source) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise NnscratchError(f"{source} holds {len(infos)} entries: not an nnscratch file")
            file_bytes = os.fstat(file.fileno()).st_size
            for info in infos:
                _check_member(info, source, file_bytes)
                name = info.filename[: -len(".npy")]
                if name in arrays:
                    raise NnscratchError(
                        f"{source} holds {info.filename} twice: the file is damaged"
                    )
                arrays[name] = _read_member(zf, info, source)
    except NnscratchError:  # a ValueError too: raised above, not by a library
        raise
    except OSError as exc:
        raise NnscratchError(f"{source} cannot be read: {exc.strerror or exc}") from None
    except _DAMAGED as exc:
        raise NnscratchError(
            f"{source} cannot be read as an nnscratch .npz file "
            f"({type(exc).__name__}: {exc}); is it truncated or something "
            "else?"
        ) from None
    return arrays
