"""The engine's pooling: ``conv.Pooling``'s maximum or mean of each window, channel by channel,
computed in two separable passes (tests prove it equal to the textbook).

A window's maximum is the maximum over its rows of the maximum over each row's columns (and its
mean the mean over rows of the row means), so pooling is computed in two passes over the
offsets: first along the width, for every row of pixels some window reaches (``rows``), then
along the height. On the engine's pixel-major memory (``engine.conv``: (H, W, N, C)), each offset of
either pass is a strided view whose contiguous runs are a whole batch's pixels (N·C values, or
out_w·N·C), where window by window they would be C values long; and a window takes PH + PW steps
instead of PH·PW. Max pooling keeps, for backward, which column won in each row and which row
won in each window (the first one, on ties): their product is the book's arg_max.
"""

from typing import Any

import numpy as np

from .. import conv
from ..conv import check_images
from .conv import PIXEL_MAJOR, in_order, offsets, padded


def _max_of(windows, out, arg):
    """out = the elementwise maximum of the views ``windows`` (offsets k = 0, 1, ...), and
    arg = the first k at which it is reached, in place."""
    windows = iter(windows)
    first, second = next(windows), next(windows, None)
    if second is None:  # a window one pixel wide
        np.copyto(out, first)
        arg[...] = 0
        return
    # the first two offsets in two passes: arg = [offset 1 > offset 0], a bool's 0 or 1 (arg
    # viewed as bool: the same bytes)
    np.maximum(first, second, out=out)
    np.greater(second, first, out=arg.view(bool))
    beats = None
    for k, window in enumerate(windows, start=2):
        # offset k wins where it beats every earlier one (ties keep the earlier); k exceeds any
        # earlier index, so arg = max(arg, k·[offset k wins])
        beats = np.greater(window, out, out=beats)
        np.maximum(out, window, out=out)
        np.maximum(arg, beats * arg.dtype.type(k), out=arg)


def _sum_of(windows, out):
    """out = the elementwise sum of the views ``windows``, in place."""
    windows = iter(windows)
    np.copyto(out, next(windows))
    for window in windows:
        out += window


class Pooling(conv.Pooling):
    """``conv.Pooling`` (the same windows, modes, padding and shapes), in two passes along the
    width then the height (module docstring):
    rows[h, x] = max_j x_pad[h, stride·x + j], out[y, x] = max_i rows[stride·y + i, x] (for
    average, sums and a division by pool_h·pool_w).
    Backward, the two passes in reverse: max sends dout to the winning row of each window and on
    to the winning column of that row — the window's maximum, the first one on ties, as the
    textbook's argmax; average spreads dout / (pool_h·pool_w) over the window; overlapping
    windows add up. The loops are over the window offsets, never over pixels or samples.
    """

    i_arg: Any = None  # max: each window's winning row
    j_arg: Any = None  # max: each window row's winning column

    def _used_rows(self, out_h):
        """The number of padded image rows some window reaches (from the top)."""
        return self.stride * (out_h - 1) + self.pool_h

    def forward(self, x):
        x = check_images(x, "Pooling")
        N, C = x.shape[:2]
        out_h, out_w = self.output_shape(x.shape)[2:]
        self.x_shape = x.shape
        # (H + 2·pad, W + 2·pad, N·C): pixel-major, every pixel's batch of values contiguous
        x_pad = padded(x, self.pad, self.fill).transpose(PIXEL_MAJOR)
        x_pad = x_pad.reshape(*x_pad.shape[:2], N * C)[: self._used_rows(out_h)]
        rows = np.empty((len(x_pad), out_w, N * C), x.dtype)
        out = np.empty((out_h, out_w, N * C), x.dtype)
        columns = offsets(x_pad, 1, self.pool_w, self.stride, out_w)
        if self.mode == "max":
            index = np.min_scalar_type(max(self.pool_h, self.pool_w))
            self.j_arg, self.i_arg = np.empty(rows.shape, index), np.empty(out.shape, index)
            # rows = max over each window row's columns, then out = max over the window's rows
            _max_of(columns, rows, self.j_arg)
            _max_of(offsets(rows, 0, self.pool_h, self.stride, out_h), out, self.i_arg)
        else:
            # out = Σ_i Σ_j x_pad[stride·y + i, stride·x + j] / (PH·PW)
            _sum_of(columns, rows)
            _sum_of(offsets(rows, 0, self.pool_h, self.stride, out_h), out)
            out /= self.pool_h * self.pool_w
        return out.reshape(out_h, out_w, N, C).transpose(np.argsort(PIXEL_MAJOR))

    def backward(self, dout):
        N, C, H, W = self.x_shape
        p = self.pad
        out_h, out_w = dout.shape[2:]
        used = self._used_rows(out_h)
        dout = in_order(dout, PIXEL_MAJOR).transpose(PIXEL_MAJOR).reshape(out_h, out_w, N * C)
        # parts of windows that do not overlap are written, not added; where the windows tile a
        # side, every entry is written: no zeros needed first
        d_rows = (np.empty if self.stride == self.pool_h else np.zeros)(
            (used, out_w, N * C), dout.dtype
        )
        average = 1 / (self.pool_h * self.pool_w) if self.mode == "average" else None
        self._spread(
            dout,
            offsets(d_rows, 0, self.pool_h, self.stride, out_h),
            self.i_arg,
            self.pool_h,
            average,
        )
        tiled = (
            self.stride == self.pool_w and self.stride * out_w == W + 2 * p and used == H + 2 * p
        )
        dx_pad = (np.empty if tiled else np.zeros)((H + 2 * p, W + 2 * p, N * C), dout.dtype)
        self._spread(
            d_rows,
            offsets(dx_pad[:used], 1, self.pool_w, self.stride, out_w),
            self.j_arg,
            self.pool_w,
            None if average is None else 1,
        )
        dx_pad = dx_pad.reshape(H + 2 * p, W + 2 * p, N, C)[p : p + H, p : p + W]
        return dx_pad.transpose(np.argsort(PIXEL_MAJOR))

    def _spread(self, d, targets, arg, size, weight):
        """One pass backward: ∂L/∂x at offset k of each window (+)= d · ∂out/∂x_k, which is
        [arg = k] for max (the winner gets d, the others 0) and ``weight`` for average."""
        overlap = self.stride < size
        for k, target in enumerate(targets):
            dx_k = arg == k if weight is None else weight
            if overlap:
                target += d * dx_k
            else:
                np.multiply(d, dx_k, out=target)
