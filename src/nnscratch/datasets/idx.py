"""The IDX file format of MNIST and Fashion-MNIST, read and written with nothing but NumPy.

An IDX file is a header and then the array's elements, big-endian, in C order::

    bytes 0-1   0x00 0x00                 (the magic number starts with two zero bytes)
    byte  2     element type              0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                          0x0D float32, 0x0E float64
    byte  3     number of dimensions d    (1 for labels, 3 for images)
    4·d bytes   each dimension, uint32 big-endian   (60000, 28, 28)
    the data    exactly prod(dims) · itemsize bytes

The files are usually gzip-compressed (``*.gz``); :func:`read_idx` accepts both. Every check that
fails raises :class:`~nnscratch.errors.NnscratchError` naming the file and what is wrong with it.
"""

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import NnscratchError

#: element-type byte → big-endian NumPy dtype
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_CODES = {(dtype.kind, dtype.itemsize): code for code, dtype in IDX_TYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"


#: gunzip stops at GZIP_ALWAYS_OK bytes or MAX_GZIP_RATIO × the compressed size, whichever is
#: larger: a few KB of hostile gzip cannot unpack to gigabytes (MNIST's files expand 2-5×)
MAX_GZIP_RATIO = 1000
GZIP_ALWAYS_OK = 64 * 2**20
#: NumPy's limit on the number of dimensions (32 before NumPy 2)
MAX_DIMS = 32


def gunzip_bytes(data, source):
    """Decompress ``data`` if it is gzip (by its magic bytes), else return it unchanged.

    A truncated or corrupt gzip stream, data after it that is not another gzip member, or more
    output than ``max(GZIP_ALWAYS_OK, MAX_GZIP_RATIO · len(data))`` is an error naming ``source``.
    """
    if not data.startswith(GZIP_MAGIC):
        return data
    limit = max(GZIP_ALWAYS_OK, MAX_GZIP_RATIO * len(data))
    parts, size, rest = [], 0, data
    try:
        while rest:  # one gzip member per pass (concatenated members are one valid file)
            if not rest.startswith(GZIP_MAGIC):
                raise zlib.error(f"{len(rest)} bytes after the gzip data")
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # checks the CRC and length
            part = inflate.decompress(rest, limit - size + 1)
            size += len(part)
            if size > limit:
                raise NnscratchError(
                    f"{source}: the gzip data unpacks to more than {limit} "
                    f"bytes (over {MAX_GZIP_RATIO} times its size): refusing "
                    "it; it is not an IDX file of a dataset"
                )
            if not inflate.eof:
                raise EOFError("the gzip stream ends early")
            parts.append(part)
            rest = inflate.unused_data
    except (EOFError, OSError, zlib.error) as exc:
        raise NnscratchError(
            f"{source}: the gzip data is truncated or corrupt ({exc}); "
            "delete the file and download it again"
        ) from None
    return b"".join(parts)


def parse_idx(data, source="<bytes>"):
    """Parse the bytes of an (uncompressed) IDX file into an array of its native shape.

    Checks the magic number, the element type, the number of dimensions and that the file holds
    exactly ``prod(dims) · itemsize`` bytes of data after the header.
    """
    if len(data) < 4:
        raise NnscratchError(
            f"{source}: only {len(data)} bytes, too short for an IDX header "
            "(the file is truncated or not an IDX file)"
        )
    zero, code, ndim = data[:2], data[2], data[3]
    if zero != b"\x00\x00":
        raise NnscratchError(
            f"{source}: wrong magic number 0x{data[:4].hex()} (an IDX file "
            "starts with two zero bytes); this is not an IDX file"
        )
    if code not in IDX_TYPES:
        raise NnscratchError(
            f"{source}: unknown IDX element type 0x{code:02x} (known: "
            f"{', '.join(f'0x{c:02x}' for c in IDX_TYPES)})"
        )
    if ndim == 0 or ndim > MAX_DIMS:
        raise NnscratchError(
            f"{source}: the IDX header declares {ndim} dimensions; IDX files "
            f"of data sets have 1 to {MAX_DIMS} (the file is damaged)"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise NnscratchError(
            f"{source}: truncated header: {ndim} dimensions need "
            f"{header_size} header bytes, the file has {len(data)}"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = IDX_TYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # exact: int64 arithmetic would wrap
    actual = len(data) - header_size
    if actual != expected:
        what = "truncated" if actual < expected else "longer than its header says"
        raise NnscratchError(
            f"{source}: file is {what}: dimensions {dims} of {dtype.name} need "
            f"{expected} data bytes, found {actual}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(dims)
    return array.astype(dtype.newbyteorder("="))  # native byte order, and a writable copy


def read_idx(path):
    """Read an IDX file, gzip-compressed or raw, into an array (see :func:`parse_idx`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NnscratchError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return parse_idx(gunzip_bytes(data, path), path)


def idx_bytes(array):
    """The IDX encoding of ``array`` (one of the dtypes in ``IDX_TYPES``)."""
    array = np.asarray(array)
    code = _TYPE_CODES.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise NnscratchError(
            f"IDX cannot store dtype {array.dtype}; use one of "
            f"{', '.join(d.name for d in IDX_TYPES.values())}"
        )
    if not 1 <= array.ndim <= 255:
        raise NnscratchError(f"IDX stores 1 to 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()


def write_idx(path, array, compress=None):
    """Write ``array`` as an IDX file, gzip-compressed when ``compress`` (default: name ends .gz).

    The write is atomic: a temp file in the same folder, renamed when complete.
    """
    from ..atomic import atomic_write_bytes

    path = Path(path)
    data = idx_bytes(array)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        data = gzip.compress(data, mtime=0)
    atomic_write_bytes(path, data)


def check_images(images, source, n=None, image_shape=None):
    """Check an image array read from ``source``: (N, H, W) uint8, and its shape if given."""
    if images.ndim != 3:
        raise NnscratchError(
            f"{source}: wrong dimensions {images.shape}: images must be (N, height, width)"
        )
    if image_shape is not None and images.shape[1:] != tuple(image_shape):
        raise NnscratchError(
            f"{source}: wrong dimensions {images.shape}: expected images of "
            f"{image_shape[0]}×{image_shape[1]} pixels"
        )
    if n is not None and images.shape[0] != n:
        raise NnscratchError(f"{source}: wrong dimensions {images.shape}: expected {n} images")
    if images.dtype != np.uint8:
        raise NnscratchError(
            f"{source}: images must be uint8 (element type 0x08), got {images.dtype}"
        )
    return images


def check_labels(labels, source, n_classes, n=None):
    """Check a label array read from ``source``: (N,) integers in 0..n_classes-1."""
    if labels.ndim != 1:
        raise NnscratchError(f"{source}: wrong dimensions {labels.shape}: labels must be (N,)")
    if n is not None and labels.shape[0] != n:
        raise NnscratchError(f"{source}: wrong dimensions {labels.shape}: expected {n} labels")
    if not np.issubdtype(labels.dtype, np.integer):
        raise NnscratchError(f"{source}: labels must be integers, got {labels.dtype}")
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise NnscratchError(
            f"{source}: label out of range: labels[{i}] = {labels[i]}, expected 0..{n_classes - 1}"
        )
    return labels.astype(np.int64)
