"""The engine's convolution: the textbook's ``conv.Convolution`` and ``conv.Flatten``, computed
in memory layouts that make every copy and product run over long contiguous stretches. Tests
prove them equal to the textbook, layer by layer and in whole networks.

Memory layout (the values are the book's; only where they sit differs). The layers hand each other
(N, C, H, W) views of *pixel-major* memory (H, W, N, C): for each pixel position, the whole
batch's channels — the rows of the convolution's product, in (y, x, n) order, as BLAS writes them
— so that pooling's windows, whole rows and columns of pixels, are long contiguous runs. Inside,
the convolution copies its input, padded, *channel-major* (C, H, W, N), in which an image row of
the whole batch is one contiguous run, so that every copy of im2col and every addition of col2im
moves long runs. :class:`Convolution` keeps [col, 1] for backward when it is small
(:data:`COL_KEPT_BYTES`; SimpleConvNet's first layer, 6 MB); a larger one (DeepConvNet's second
layer's is 45 MB) it builds and multiplies one band of output rows at a time (:data:`BAND_BYTES`),
small enough to stay in the CPU's cache between the copy and the product, and backward builds
each band again from the padded input it keeps. The bias is the weight of an input that is always
1 ([col, 1] · [W_col, b]ᵀ): no pass of its own over the output. Pooling (``engine.pooling``)
works on the pixel-major memory as it comes.
"""

from typing import Any

import numpy as np

from .. import conv
from ..conv import check_images

#: memory orders of (N, C, H, W) images, the axes as they sit in memory: the layers' pixel-major
#: (H, W, N, C); the convolution's channel-major (C, H, W, N)
PIXEL_MAJOR, CHANNEL_MAJOR = (2, 3, 0, 1), (1, 2, 3, 0)
#: bytes of [col, 1] made whole and kept for backward (SimpleConvNet's first layer: 6 MB); a
#: larger one is made in bands of output rows of about BAND_BYTES (a part of the CPU's L2
#: cache), and backward makes each band again
COL_KEPT_BYTES, BAND_BYTES = 1 << 23, 1 << 20


def memory_order(x):
    """The axes of ``x`` in the order they sit in memory (``x.transpose(order)`` is
    C-contiguous), or None when x is not a transpose of a contiguous array."""
    order = tuple(int(axis) for axis in np.argsort([-s for s in x.strides], kind="stable"))
    return order if x.transpose(order).flags.c_contiguous else None


def _empty(shape, order, dtype):
    """An uninitialised array of ``shape``, stored in memory ``order``."""
    return np.empty([shape[axis] for axis in order], dtype).transpose(np.argsort(order))


def _copy_images(target, x, order):
    """target[...] = x for images (N, C, H, W), target (or the array it is a part of) stored in
    memory ``order``. Into channel-major memory from another order, one image row h at a time:
    the whole copy would write with a long stride, where one row of every image fits in the cache
    (DeepConvNet's 1.25 million-value maps, pixel-major to channel-major: about 3 times faster)."""
    if order != CHANNEL_MAJOR or memory_order(x) == CHANNEL_MAJOR:
        target[...] = x
        return
    for h in range(x.shape[2]):
        target[:, :, h] = x[:, :, h]


def in_order(x, order):
    """``x`` stored in memory ``order`` (its axes as they sit in memory): x itself if it is, else a
    copy that is."""
    if x.transpose(order).flags.c_contiguous:
        return x
    copy = _empty(x.shape, order, x.dtype)
    _copy_images(copy, x, order)
    return copy


def padded(x, pad, fill=0, order=PIXEL_MAJOR):
    """x (N, C, H, W) with ``pad`` rows and columns of ``fill`` around every image, stored in
    memory ``order``: x itself when it is stored so already and pad is 0, else a copy."""
    if pad == 0:
        return in_order(x, order)
    N, C, H, W = x.shape
    shape = (N, C, H + 2 * pad, W + 2 * pad)
    x_pad = np.full([shape[axis] for axis in order], fill, x.dtype).transpose(np.argsort(order))
    _copy_images(x_pad[:, :, pad : pad + H, pad : pad + W], x, order)
    return x_pad


def offsets(a, axis, window, stride, count, first=0):
    """For k < window: the view of ``a`` at k + stride·y along ``axis``, y = first, ...,
    first + count − 1 — offset k of ``count`` windows moved by ``stride`` (a strided view)."""
    index = [slice(None)] * a.ndim
    for k in range(window):
        index[axis] = slice(k + stride * first, k + stride * (first + count - 1) + 1, stride)
        yield a[tuple(index)]


def window_pixels(a, h_axis, FH, FW, stride, y0, y1, out_w):
    """For every filter offset (i, j) in row-major order, the strided view
    a[i + stride·y, j + stride·x] (y0 ≤ y < y1, x < out_w) of an image array in memory order whose
    rows and columns are axes ``h_axis`` and ``h_axis + 1``: that offset's pixel of every window
    of output rows y0..y1."""
    for rows in offsets(a, h_axis, FH, stride, y1 - y0, first=y0):
        yield from offsets(rows, h_axis + 1, FW, stride, out_w)


def im2col_into(col_t, x_pad, h_axis, FH, FW, stride, y0, y1, out_w):
    """col_t[(c, i, j), window] = x_pad[c, ..., i + stride·y, j + stride·x, ...] for the windows of
    output rows y0..y1, in x_pad's memory order (C first): im2col's col, transposed, into
    ``col_t`` (C·FH·FW rows or more), one contiguous block per filter offset."""
    views = window_pixels(x_pad, h_axis, FH, FW, stride, y0, y1, out_w)
    first = next(views)
    blocks = col_t[: len(x_pad) * FH * FW].reshape(len(x_pad), FH, FW, *first.shape[1:])
    blocks[:, 0, 0] = first
    for (i, j), window in zip(list(np.ndindex(FH, FW))[1:], views):
        blocks[:, i, j] = window


def col2im_add(x_pad, col_t, h_axis, FH, FW, stride, y0, y1, out_w):
    """The adjoint of :func:`im2col_into`: each entry of col_t added onto x_pad's pixel it was
    taken from (overlapping windows sum), in place."""
    views = list(window_pixels(x_pad, h_axis, FH, FW, stride, y0, y1, out_w))
    blocks = col_t.reshape(len(x_pad), FH, FW, *views[0].shape[1:])
    for (i, j), window in zip(np.ndindex(FH, FW), views):
        window += blocks[:, i, j]


class Convolution(conv.Convolution):
    """``conv.Convolution`` (the same formulas and shapes): out = col · W_colᵀ + b computed as
    [col, 1] · [W_col, b]ᵀ (the bias is the weight of an input that is always 1: no pass of its
    own over the output), one band of output rows at a time (module docstring).
    Backward, with dout_col = dout as (out_h·out_w·N, FN):
    ∂L/∂W_col = dout_colᵀ · col, ∂L/∂b = Σ_rows dout_col (both from one product with [col, 1]),
    ∂L/∂x = col2im(dout_col · W_col), each a sum over the bands.
    """

    x_pad: Any = None  # forward's padded input, channel-major
    col_t: Any = None  # [col, 1]ᵀ when forward made it in one band, else None
    #: False for a network's first layer: backward then computes only ∂L/∂W and ∂L/∂b and
    #: returns None, since the data's gradient ∂L/∂x is never used (it costs a product and a
    #: col2im)
    input_gradient = True

    def forward(self, x):
        W = self.params[self.weight_key]
        x = check_images(x, f"Convolution {self.weight_key}")
        N, FN, out_h, out_w = self.output_shape(x.shape)
        self.x_shape = x.shape
        # (C, H + 2·pad, W + 2·pad, N): each image row of the whole batch contiguous
        self.x_pad = padded(x, self.pad, order=CHANNEL_MAJOR).transpose(CHANNEL_MAJOR)
        Wb = np.concatenate([W.reshape(FN, -1), self.params[self.bias_key][:, None]], 1)
        out = np.empty((out_h * out_w * N, FN), np.result_type(x, Wb))  # rows (y, x, n)
        self.col_t = None
        for _, _, rows, col_t in self._bands(out_h, out_w):
            # out = col · W_colᵀ + b = [col, 1] · [W_col, b]ᵀ, for the band's rows
            np.matmul(col_t.T, Wb.T, out=out[rows])
        # a single band is the whole [col, 1]ᵀ: kept, so that backward need not build it again
        self.col_t = col_t if rows == slice(0, len(out)) else None
        return out.reshape(out_h, out_w, N, FN).transpose(np.argsort(PIXEL_MAJOR))

    def _bands(self, out_h, out_w):
        """(y0, y1, rows, col_t) for each band of output rows y0 ≤ y < y1: ``rows``, the slice of
        the product's rows (y, x, n) they are, and col_t = [col, 1]ᵀ of their windows
        (C·FH·FW + 1, (y1 − y0)·out_w·N), built from the kept x_pad in one buffer, band after
        band (or the one band forward kept)."""
        if self.col_t is not None:
            yield 0, out_h, slice(0, self.col_t.shape[1]), self.col_t
            return
        FH, FW = self.params[self.weight_key].shape[2:]
        x_pad, per_row = self.x_pad, out_w * self.x_pad.shape[-1]
        K = len(x_pad) * FH * FW
        row_bytes = (K + 1) * per_row * x_pad.itemsize
        band = (
            out_h
            if out_h * row_bytes <= COL_KEPT_BYTES
            else max(1, min(out_h, BAND_BYTES // row_bytes))
        )
        buffer = np.empty((K + 1) * band * per_row, x_pad.dtype)
        for y0 in range(0, out_h, band):
            y1 = min(out_h, y0 + band)
            col_t = buffer[: (K + 1) * (y1 - y0) * per_row].reshape(K + 1, -1)
            im2col_into(col_t, x_pad, 1, FH, FW, self.stride, y0, y1, out_w)
            col_t[K] = 1
            yield y0, y1, slice(y0 * per_row, y1 * per_row), col_t

    def backward(self, dout):
        W = self.params[self.weight_key]
        FN, C, FH, FW = W.shape
        out_h, out_w = dout.shape[2:]
        # dout as dout_col (out_h·out_w·N, FN), rows (y, x, n): a view of the layout forward
        # returns — the book's dout.transpose(0, 2, 3, 1).reshape(-1, FN), in another row order
        dout_col = in_order(dout, PIXEL_MAJOR).transpose(PIXEL_MAJOR).reshape(-1, FN)
        W_col = W.reshape(FN, -1)
        grads = np.zeros((C * FH * FW + 1, FN), np.result_type(self.x_pad, dout_col))
        dx_pad = (
            np.zeros_like(self.x_pad, dtype=np.result_type(W, dout_col))
            if self.input_gradient
            else None
        )
        for y0, y1, rows, col_t in self._bands(out_h, out_w):
            # [∂L/∂W_col, ∂L/∂b]ᵀ = [col, 1]ᵀ · dout_col (C·FH·FW + 1, FN), band by band: the
            # faster orientation for BLAS; its last row is Σ_rows dout_col
            grads += col_t @ dout_col[rows]
            if dx_pad is not None:
                # ∂L/∂col = dout_col · W_col, as its transpose W_colᵀ · dout_colᵀ (col_t's
                # layout), added back onto the pixels it came from (col2im)
                col2im_add(
                    dx_pad, W_col.T @ dout_col[rows].T, 1, FH, FW, self.stride, y0, y1, out_w
                )
        self.dW = grads[:-1].T.reshape(W.shape)
        self.db = grads[-1]
        if dx_pad is not None:
            (H, Wd), p = self.x_shape[2:], self.pad
            dx = dx_pad[:, p : p + H, p : p + Wd].transpose(np.argsort(CHANNEL_MAJOR))
            return in_order(dx, PIXEL_MAJOR)
        return None


class Flatten(conv.Flatten):
    """``conv.Flatten``, whose backward lays ∂L/∂x out in memory as x was (pixel-major, the
    engine's layout, or as given)."""

    x_order: Any = None  # the memory order of forward's input

    def forward(self, x):
        self.x_order = memory_order(x)
        return super().forward(x)

    def backward(self, dout):
        dx = super().backward(dout)
        return dx if self.x_order is None else in_order(dx, self.x_order)
