"""Layers of chapter 7: convolution and pooling through im2col, and Flatten.

Textbook code, the book's algorithm in plain NumPy (the engine's faster versions, tested equal,
are in ``nnscratch.engine.conv`` and ``nnscratch.engine.pooling``).

Shapes follow the book: images x (N, C, H, W), filters W (FN, C, FH, FW), biases b (FN,), and
an output of height

    out_h = (H + 2·pad − FH) // stride + 1        (out_w likewise with W and FW).

When (H + 2·pad − FH) is not a multiple of the stride, the last rows that do not fill a window are
left out (the ``//``), as in the book and in PyTorch; a window larger than the padded image is an
error naming the layer and the sizes.

im2col turns the convolution into one matrix product. Each row of ``col`` is one window of the
image, flattened, so that

    col (N·out_h·out_w, C·FH·FW),   out = col · W_colᵀ + b,   W_col = W.reshape(FN, C·FH·FW).

col2im is its adjoint: it adds each window's entries back onto the pixels they came from
(overlapping windows sum), which is how the gradient ∂L/∂col becomes ∂L/∂x.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import NnscratchError
from .validation import NONNEGATIVE_INT, POSITIVE_INT, check_choice

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike, NDArray

POOL_MODES = ("max", "average")


def conv_output_size(
    size: int,
    filter_size: int,
    stride: int = 1,
    pad: int = 0,
    layer: str = "Convolution",
    side: str = "height",
) -> int:
    """out = (size + 2·pad − filter_size) // stride + 1, the number of window positions along one
    side; an error naming ``layer`` when the window does not fit in the padded image at all."""
    if size + 2 * pad < filter_size:
        raise NnscratchError(
            f"{layer}: an image {side} of {size} with padding {pad} is "
            f"{size + 2 * pad}, smaller than the window's {filter_size}: use "
            "larger images, more padding or a smaller window"
        )
    return (size + 2 * pad - filter_size) // stride + 1


def output_size(
    x_shape: Sequence[int], FH: int, FW: int, stride: int, pad: int, layer: str
) -> tuple[int, int]:
    """(out_h, out_w) of images of shape x_shape (N, C, H, W) under FH × FW windows."""
    N, C, H, W = x_shape
    return (
        conv_output_size(H, FH, stride, pad, layer, "height"),
        conv_output_size(W, FW, stride, pad, layer, "width"),
    )


def check_images(x: ArrayLike, layer: str) -> np.ndarray:
    """x as an array of images (N, C, H, W), else an error naming ``layer``."""
    x = np.asarray(x)
    if x.ndim != 4:
        hint = (
            "one image (C, H, W) is x[np.newaxis]"
            if x.ndim == 3
            else "rows of flattened pixels (N, H·W) are x.reshape(N, 1, H, W), or load the data "
            "with flatten=False"
        )
        raise NnscratchError(
            f"{layer} takes images of shape (N, C, H, W), got an array of shape {x.shape}: {hint}"
        )
    return x


def check_window(FH: int, FW: int, stride: int, pad: int, where: str) -> None:
    """The window arguments of im2col and col2im, checked."""
    for value, name in ((FH, "FH"), (FW, "FW"), (stride, "stride")):
        POSITIVE_INT.check(value, f"{where} {name}")
    NONNEGATIVE_INT.check(pad, f"{where} pad")


def im2col(x: ArrayLike, FH: int, FW: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Images x (N, C, H, W) → col (N·out_h·out_w, C·FH·FW): one row per window position
    (n, y, x), holding its pixels x_pad[n, c, stride·y + i, stride·x + j] in (c, i, j) order.

    x_pad is x with ``pad`` zeros around each image. The loop runs over the FH·FW filter offsets
    (i, j): for each, the pixel at that offset of every window at once, a strided slice."""
    x = check_images(x, "im2col")
    check_window(FH, FW, stride, pad, "im2col")
    N, C, H, W = x.shape
    out_h, out_w = output_size(x.shape, FH, FW, stride, pad, "im2col")
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, FH, FW, out_h, out_w), dtype=x.dtype)
    for i in range(FH):
        for j in range(FW):
            col[:, :, i, j, :, :] = img[
                :, :, i : i + stride * out_h : stride, j : j + stride * out_w : stride
            ]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(
    col: np.ndarray, x_shape: Sequence[int], FH: int, FW: int, stride: int = 1, pad: int = 0
) -> np.ndarray:
    """The adjoint of :func:`im2col`: col (N·out_h·out_w, C·FH·FW) → images (N, C, H, W), each
    entry added onto the pixel it was taken from (windows that overlap sum; the padding is cut
    off). So ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ for all x, y, and col2im(∂L/∂col) is ∂L/∂x."""
    if len(x_shape) != 4:
        raise NnscratchError(f"col2im: x_shape must be the images' (N, C, H, W), got {x_shape!r}")
    check_window(FH, FW, stride, pad, "col2im")
    N, C, H, W = x_shape
    out_h, out_w = output_size(x_shape, FH, FW, stride, pad, "col2im")
    col = np.asarray(col)
    if col.shape != (N * out_h * out_w, C * FH * FW):
        raise NnscratchError(
            f"col2im: col has shape {col.shape} but images {tuple(x_shape)} with "
            f"{FH}×{FW} windows, stride {stride} and padding {pad} give "
            f"({N * out_h * out_w}, {C * FH * FW})"
        )
    col = col.reshape(N, out_h, out_w, C, FH, FW).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=col.dtype)
    for i in range(FH):
        for j in range(FW):
            img[:, :, i : i + stride * out_h : stride, j : j + stride * out_w : stride] += col[
                :, :, i, j
            ]
    return img[:, :, pad : pad + H, pad : pad + W]


class Convolution:
    """Convolution layer (cross-correlation, as in the book): out[n, f, y, x] =
    Σ_{c,i,j} W[f, c, i, j] · x_pad[n, c, stride·y + i, stride·x + j] + b[f].

    Shapes: x (N, C, H, W), W (FN, C, FH, FW), b (FN,), out (N, FN, out_h, out_w).
    Forward through im2col: out = col · W_colᵀ + b, W_col = W.reshape(FN, C·FH·FW).
    Backward, with dout_col = dout as rows (N·out_h·out_w, FN):
    ∂L/∂W_col = dout_colᵀ · col, ∂L/∂b = Σ_rows dout_col, ∂L/∂x = col2im(dout_col · W_col).
    """

    x_shape: Any = None  # forward's input shape
    col: Any = None  # forward's columns
    dW: Any = None  # ∂L/∂W
    db: Any = None  # ∂L/∂b

    def __init__(
        self,
        params: dict[str, NDArray[np.floating]],
        weight_key: str,
        bias_key: str,
        stride: int = 1,
        pad: int = 0,
    ) -> None:
        self.params, self.weight_key, self.bias_key = params, weight_key, bias_key
        self.stride: int = POSITIVE_INT.check(stride, "Convolution stride", hint="1 is usual")
        self.pad: int = NONNEGATIVE_INT.check(pad, "Convolution pad", hint="0 for none")

    def output_shape(self, x_shape: Sequence[int]) -> tuple[int, int, int, int]:
        """(N, FN, out_h, out_w) of images x_shape (N, C, H, W), or an error naming the layer."""
        FN, C, FH, FW = self.params[self.weight_key].shape
        layer = f"Convolution {self.weight_key}"
        if x_shape[1] != C:
            raise NnscratchError(
                f"{layer} has filters of {C} channel(s) but the images "
                f"{tuple(x_shape)} have {x_shape[1]}: give (N, {C}, H, W) images"
            )
        return (x_shape[0], FN, *output_size(x_shape, FH, FW, self.stride, self.pad, layer))

    def forward(self, x: ArrayLike) -> NDArray[np.floating]:
        W, b = self.params[self.weight_key], self.params[self.bias_key]
        x = check_images(x, f"Convolution {self.weight_key}")
        N, FN, out_h, out_w = self.output_shape(x.shape)
        self.x_shape = x.shape
        self.col = im2col(x, W.shape[2], W.shape[3], self.stride, self.pad)
        out = self.col @ W.reshape(FN, -1).T + b
        return out.reshape(N, out_h, out_w, FN).transpose(0, 3, 1, 2)

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        W = self.params[self.weight_key]
        FN, C, FH, FW = W.shape
        dout_col = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout_col, axis=0)
        self.dW = (dout_col.T @ self.col).reshape(W.shape)
        dcol = dout_col @ W.reshape(FN, -1)
        return col2im(dcol, self.x_shape, FH, FW, self.stride, self.pad)

    def param_grads(self) -> dict[str, NDArray[np.floating]]:
        return {self.weight_key: self.dW, self.bias_key: self.db}


class Pooling:
    """Pooling over pool_h × pool_w windows moved by ``stride`` (None: pool_h, non-overlapping
    windows for a square pool), per channel: "max" takes each window's largest value, "average"
    its mean.

    Shapes: x (N, C, H, W) → out (N, C, out_h, out_w), out_h = (H + 2·pad − pool_h) // stride + 1.
    Padding: max pooling pads with −∞ (the padding never wins), average pooling with 0 (counted in
    the pool_h·pool_w of the mean); pad must be smaller than the window.
    Forward through im2col, one row per window and channel: out = max (or mean) of the row.
    Backward: max sends dout to the window's maximum (the first one, in row-major order, on ties);
    average spreads dout / (pool_h·pool_w) over the window; col2im adds overlapping windows up.
    """

    x_shape: Any = None  # forward's input shape
    arg_max: Any = None  # max: each row's winning position

    def __init__(
        self, pool_h: int, pool_w: int, stride: int | None = None, pad: int = 0, mode: str = "max"
    ) -> None:
        self.pool_h: int = POSITIVE_INT.check(pool_h, "Pooling pool_h", hint="2 is usual")
        self.pool_w: int = POSITIVE_INT.check(pool_w, "Pooling pool_w", hint="2 is usual")
        self.stride: int = (
            self.pool_h
            if stride is None
            else POSITIVE_INT.check(stride, "Pooling stride", hint="2 is usual")
        )
        self.pad: int = NONNEGATIVE_INT.check(pad, "Pooling pad", hint="0 for none")
        if self.pad >= min(self.pool_h, self.pool_w):
            raise NnscratchError(
                f"Pooling pad {self.pad} must be smaller than the window "
                f"{self.pool_h}×{self.pool_w}, or windows would hold only padding"
            )
        self.mode = check_choice(mode, POOL_MODES, "pooling mode")

    def output_shape(self, x_shape: Sequence[int]) -> tuple[int, ...]:
        """(N, C, out_h, out_w) of images x_shape (N, C, H, W), or an error naming the layer."""
        return (
            *x_shape[:2],
            *output_size(x_shape, self.pool_h, self.pool_w, self.stride, self.pad, "Pooling"),
        )

    @property
    def fill(self) -> float:
        """The padding's value: −∞ for max (never a window's maximum), 0 for average."""
        return -np.inf if self.mode == "max" else 0.0

    def _padded(self, x: np.ndarray) -> np.ndarray:
        """x with ``pad`` rows and columns of :attr:`fill` around every image."""
        p = self.pad
        return np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)], "constant", constant_values=self.fill)

    def forward(self, x: ArrayLike) -> NDArray[np.floating]:
        x = check_images(x, "Pooling")
        N, C, out_h, out_w = self.output_shape(x.shape)
        self.x_shape = x.shape
        col = im2col(self._padded(x), self.pool_h, self.pool_w, self.stride)
        col = col.reshape(-1, self.pool_h * self.pool_w)  # one row per (n, y, x, c)
        if self.mode == "max":
            self.arg_max = np.argmax(col, axis=1)
            out = np.max(col, axis=1)
        else:
            out = np.mean(col, axis=1)
        return out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        N, C, H, W = self.x_shape
        p, size = self.pad, self.pool_h * self.pool_w
        dout = dout.transpose(0, 2, 3, 1).reshape(-1)  # rows (n, y, x, c)
        if self.mode == "max":
            dcol = np.zeros((dout.size, size), dtype=dout.dtype)
            dcol[np.arange(dout.size), self.arg_max] = dout
        else:
            dcol = np.repeat(dout[:, np.newaxis] / size, size, axis=1)
        dcol = dcol.reshape(-1, C * size)
        dx = col2im(dcol, (N, C, H + 2 * p, W + 2 * p), self.pool_h, self.pool_w, self.stride)
        return dx[:, :, p : p + H, p : p + W]


class Flatten:
    """Images (N, C, H, W) → rows (N, C·H·W), in the book's order (c, h, w), for an Affine layer
    after the convolutions. Backward reshapes dout (N, C·H·W) back to (N, C, H, W)."""

    x_shape: Any = None  # forward's input shape

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        self.x_shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        return dout.reshape(self.x_shape)
