"""Fashion-MNIST for the benchmarks, read straight from Debian's IDX files (no nnscratch loader).

MNIST cannot be downloaded on the benchmark machine; Fashion-MNIST has MNIST's shapes (60,000 +
10,000 images of 28×28 = 784 pixels, 10 classes), so every figure here is on Fashion-MNIST.
IDX: a big-endian header (magic, then one uint32 per dimension), then the raw uint8 values.
"""

import gzip
import os
import struct

import numpy as np

FASHION_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def read_idx(path):
    """The array stored in one (gzipped) IDX file."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    _, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if dtype_code != 0x08:
        raise ValueError(f"{path}: expected uint8 data (0x08), got type code {dtype_code:#x}")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion_mnist(dtype=np.float64):
    """((x_train, t_train), (x_test, t_test)): x (N, 784) in [0, 1] of ``dtype``, t int64 (N,)."""
    def part(prefix):
        x = read_idx(os.path.join(FASHION_DIR, f"{prefix}-images-idx3-ubyte.gz"))
        t = read_idx(os.path.join(FASHION_DIR, f"{prefix}-labels-idx1-ubyte.gz"))
        return (x.reshape(len(x), -1).astype(dtype) / dtype(255.0)), t.astype(np.int64)
    return part("train"), part("t10k")
