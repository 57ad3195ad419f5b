"""Layers of chapter 7: convolution and pooling on images, through im2col.

Shapes follow the book: images x (N, C, H, W), filters W (FN, C, FH, FW), biases b (FN,), and
an output of height

    out_h = (H + 2·pad − FH) // stride + 1        (out_w likewise with W and FW).

When (H + 2·pad − FH) is not a multiple of the stride, the last rows that do not fill a window are
left out (the ``//``), as in the book and in PyTorch; a window larger than the padded image is an
error naming the layer and the sizes.

im2col turns the convolution into one matrix product. Each row of ``col`` is one window of the
image, flattened, so that

    col (N·out_h·out_w, C·FH·FW),   out = col · W_colᵀ + b,   W_col = W.reshape(FN, C·FH·FW).

col is built one filter offset (i, j) at a time: for every offset, the pixels x[n, c, i + stride·y,
j + stride·x] of all windows at once (a strided view of the padded image, copied). col2im is its
adjoint: it adds each window's entries back onto the pixels they came from (overlapping windows
sum), which is how the gradient ∂L/∂col becomes ∂L/∂x.

Memory layout (the values are the book's; only where they sit differs). Images between the
layers are (N, C, H, W) views of channels-last memory (N, H, W, C) — what the book's
``out.reshape(N, out_h, out_w, FN).transpose(0, 3, 1, 2)`` returns, the product's own memory —
and every layer gives back that layout (:func:`channels_last`): an operation on two arrays laid
out differently costs a strided pass, and pooling's windows are fastest over channels-last
memory. im2col reads, and col2im writes, a channel-major copy (C, N, H, W), in which each image
row is contiguous, and col is returned as the transpose of a C-contiguous
(C·FH·FW, N·out_h·out_w) array: each filter offset writes one contiguous block, and the matrix
products take the transposes as BLAS flags.
"""

import numpy as np

from .errors import NnscratchError
from .validation import check_choice, check_nonnegative_int, check_positive_int

POOL_MODES = ("max", "average")
#: memory orders of (N, C, H, W) images: channels-last (N, H, W, C), channel-major (C, N, H, W)
CHANNELS_LAST, CHANNEL_MAJOR = (0, 2, 3, 1), (1, 0, 2, 3)


def conv_output_size(size, filter_size, stride=1, pad=0, layer="Convolution", side="height"):
    """out = (size + 2·pad − filter_size) // stride + 1, the number of window positions along one
    side; an error naming ``layer`` when the window does not fit in the padded image at all."""
    if size + 2 * pad < filter_size:
        raise NnscratchError(f"{layer}: an image {side} of {size} with padding {pad} is "
                             f"{size + 2 * pad}, smaller than the window's {filter_size}: use "
                             "larger images, more padding or a smaller window")
    return (size + 2 * pad - filter_size) // stride + 1


def check_images(x, layer):
    """x as an array of images (N, C, H, W), else an error naming ``layer``."""
    x = np.asarray(x)
    if x.ndim != 4:
        hint = ("one image (C, H, W) is x[np.newaxis]" if x.ndim == 3 else
                "rows of flattened pixels (N, H·W) are x.reshape(N, 1, H, W), or load the data "
                "with flatten=False")
        raise NnscratchError(f"{layer} takes images of shape (N, C, H, W), got an array of shape "
                             f"{x.shape}: {hint}")
    return x


def channels_last(x):
    """Images x (N, C, H, W) stored channels-last, (N, H, W, C): x itself if it is, else a copy."""
    if x.transpose(CHANNELS_LAST).flags.c_contiguous:
        return x
    return np.ascontiguousarray(x.transpose(CHANNELS_LAST)).transpose(0, 3, 1, 2)


def _channels_last_full(N, C, H, W, fill, dtype):
    """(N, C, H, W) images filled with ``fill`` (None: left unset), stored channels-last."""
    a = np.empty((N, H, W, C), dtype) if fill is None else np.full((N, H, W, C), fill, dtype)
    return a.transpose(0, 3, 1, 2)


def _padded(x, pad, fill=0, order=CHANNELS_LAST):
    """x (N, C, H, W) with ``pad`` rows and columns of ``fill`` around every image, stored in
    memory ``order``: a copy, or x itself when it is stored so already and pad is 0."""
    if pad == 0 and x.transpose(order).flags.c_contiguous:
        return x
    N, C, H, W = x.shape
    padded = (N, C, H + 2 * pad, W + 2 * pad)
    x_pad = np.full([padded[axis] for axis in order], fill, x.dtype).transpose(np.argsort(order))
    x_pad[:, :, pad:pad + H, pad:pad + W] = x
    return x_pad


def _window_views(a, FH, FW, stride, out_h, out_w):
    """For every filter offset (i, j) in row-major order, the strided view
    a[..., i + stride·y, j + stride·x] (y < out_h, x < out_w): that offset's pixel of every
    window."""
    for i in range(FH):
        for j in range(FW):
            yield a[..., i:i + stride * (out_h - 1) + 1:stride,
                    j:j + stride * (out_w - 1) + 1:stride]


def _output_shape(x_shape, FH, FW, stride, pad, layer):
    """(out_h, out_w) of images x_shape (N, C, H, W)."""
    N, C, H, W = x_shape
    return (conv_output_size(H, FH, stride, pad, layer, "height"),
            conv_output_size(W, FW, stride, pad, layer, "width"))


def _check_window(FH, FW, stride, pad, where):
    """The window arguments of im2col and col2im, checked (the layers check theirs once)."""
    for value, name in ((FH, "FH"), (FW, "FW"), (stride, "stride")):
        check_positive_int(value, f"{where} {name}")
    check_nonnegative_int(pad, f"{where} pad")


def im2col(x, FH, FW, stride=1, pad=0, ones=False):
    """Images x (N, C, H, W) → col (N·out_h·out_w, C·FH·FW): one row per window position
    (n, y, x), its pixels x_pad[n, c, stride·y + i, stride·x + j] in (c, i, j) order — the book's
    layout. x_pad is x with ``pad`` zeros around each image. Works in x's dtype; the loop is over
    the FH·FW filter offsets only (see the module docstring for the memory layout).

    ``ones``: col with a last column of 1s, [col, 1] (N·out_h·out_w, C·FH·FW + 1) — the input the
    bias is the weight of, for :class:`Convolution`."""
    x = check_images(x, "im2col")
    _check_window(FH, FW, stride, pad, "im2col")
    N, C, H, W = x.shape
    out_h, out_w = _output_shape(x.shape, FH, FW, stride, pad, "im2col")
    # (C, N, H + 2·pad, W + 2·pad), each image row contiguous
    x_pad = _padded(x, pad, order=CHANNEL_MAJOR).transpose(CHANNEL_MAJOR)
    rows = C * FH * FW
    col_t = np.empty((rows + bool(ones), N * out_h * out_w), dtype=x.dtype)
    blocks = col_t[:rows].reshape(C, FH, FW, N, out_h, out_w)
    for (i, j), window in zip(np.ndindex(FH, FW), _window_views(x_pad, FH, FW, stride, out_h,
                                                                 out_w)):
        blocks[:, i, j] = window
    if ones:
        col_t[rows] = 1
    return col_t.T


def col2im(col, x_shape, FH, FW, stride=1, pad=0):
    """The adjoint of :func:`im2col`: col (N·out_h·out_w, C·FH·FW) → images (N, C, H, W), each
    entry added onto the pixel it was taken from (windows that overlap sum; the padding is cut
    off). So ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ for all x, y, and col2im(∂L/∂col) is ∂L/∂x."""
    if len(x_shape) != 4:
        raise NnscratchError(f"col2im: x_shape must be the images' (N, C, H, W), got {x_shape!r}")
    _check_window(FH, FW, stride, pad, "col2im")
    N, C, H, W = x_shape
    out_h, out_w = _output_shape(x_shape, FH, FW, stride, pad, "col2im")
    col = np.asarray(col)
    if col.shape != (N * out_h * out_w, C * FH * FW):
        raise NnscratchError(f"col2im: col has shape {col.shape} but images {tuple(x_shape)} with "
                             f"{FH}×{FW} windows, stride {stride} and padding {pad} give "
                             f"({N * out_h * out_w}, {C * FH * FW})")
    col_t = col.T.reshape(C, FH, FW, N, out_h, out_w)  # a view for im2col's layout
    x_pad = np.zeros((C, N, H + 2 * pad, W + 2 * pad), dtype=col.dtype)  # channel-major
    for (i, j), window in zip(np.ndindex(FH, FW), _window_views(x_pad, FH, FW, stride, out_h,
                                                                 out_w)):
        window += col_t[:, i, j]
    return channels_last(x_pad[:, :, pad:pad + H, pad:pad + W].transpose(CHANNEL_MAJOR))


class Convolution:
    """Convolution layer (cross-correlation, as in the book): out[n, f, y, x] =
    Σ_{c,i,j} W[f, c, i, j] · x_pad[n, c, stride·y + i, stride·x + j] + b[f].

    Shapes: x (N, C, H, W), W (FN, C, FH, FW), b (FN,), out (N, FN, out_h, out_w).
    Through im2col, as in the book: out = col · W_colᵀ + b with W_col = W.reshape(FN, C·FH·FW),
    computed as one product [col, 1] · [W_col, b]ᵀ (the bias is the weight of an input that is
    always 1: no pass of its own over the output).
    Backward, with dout_col = dout as (N·out_h·out_w, FN):
    ∂L/∂W_col = dout_colᵀ · col, ∂L/∂b = Σ_rows dout_col (both from one product with [col, 1]),
    ∂L/∂x = col2im(dout_col · W_col).
    """

    x_shape = col = dW = db = None  # forward's input shape and [col, 1]; ∂L/∂W, ∂L/∂b

    def __init__(self, params, weight_key, bias_key, stride=1, pad=0):
        self.params, self.weight_key, self.bias_key = params, weight_key, bias_key
        self.stride = check_positive_int(stride, "Convolution stride", hint="1 is usual")
        self.pad = check_nonnegative_int(pad, "Convolution pad", hint="0 for none")

    def output_shape(self, x_shape):
        """(N, FN, out_h, out_w) of images x_shape (N, C, H, W), or an error naming the layer."""
        FN, C, FH, FW = self.params[self.weight_key].shape
        layer = f"Convolution {self.weight_key}"
        if x_shape[1] != C:
            raise NnscratchError(f"{layer} has filters of {C} channel(s) but the images "
                                 f"{tuple(x_shape)} have {x_shape[1]}: give (N, {C}, H, W) images")
        return (x_shape[0], FN, *_output_shape(x_shape, FH, FW, self.stride, self.pad, layer))

    def forward(self, x):
        W = self.params[self.weight_key]
        FN, C, FH, FW = W.shape
        x = check_images(x, f"Convolution {self.weight_key}")
        N, FN, out_h, out_w = self.output_shape(x.shape)
        col = im2col(x, FH, FW, self.stride, self.pad, ones=True)
        # out = col · W_colᵀ + b = [col, 1] · [W_col, b]ᵀ (N·out_h·out_w, FN)
        out = col @ np.concatenate([W.reshape(FN, -1), self.params[self.bias_key][:, None]], 1).T
        self.x_shape, self.col = x.shape, col
        return out.reshape(N, out_h, out_w, FN).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout_col = self._dout_col(dout)
        self._param_gradients(dout_col)
        W = self.params[self.weight_key]
        FN, C, FH, FW = W.shape
        # ∂L/∂col = dout_col · W_col, computed as its transpose W_colᵀ · dout_colᵀ: the layout
        # of im2col's col, which col2im reads block by block
        dcol = (W.reshape(FN, -1).T @ dout_col.T).T
        return col2im(dcol, self.x_shape, FH, FW, self.stride, self.pad)

    def backward_params(self, dout):
        """∂L/∂W and ∂L/∂b only: for the first layer, whose ∂L/∂x (the data's) nobody needs."""
        self._param_gradients(self._dout_col(dout))

    @staticmethod
    def _dout_col(dout):
        """dout (N, FN, out_h, out_w) as dout_col (N·out_h·out_w, FN): a view of the layout
        forward returns, as the book writes it: dout.transpose(0, 2, 3, 1).reshape(-1, FN)."""
        return channels_last(dout).transpose(0, 2, 3, 1).reshape(-1, dout.shape[1])

    def _param_gradients(self, dout_col):
        # [∂L/∂W_col, ∂L/∂b] = dout_colᵀ · [col, 1], computed as its transpose [col, 1]ᵀ · dout_col
        # (C·FH·FW + 1, FN), the faster orientation for BLAS: its last row is Σ_rows dout_col
        grads = self.col.T @ dout_col
        self.dW = grads[:-1].T.reshape(self.params[self.weight_key].shape)
        self.db = grads[-1]

    def param_grads(self):
        return {self.weight_key: self.dW, self.bias_key: self.db}


class Pooling:
    """Pooling over pool_h × pool_w windows moved by ``stride`` (None: pool_h, non-overlapping
    windows for a square pool), per channel: "max" takes each window's largest value, "average"
    its mean.

    Shapes: x (N, C, H, W) → out (N, C, out_h, out_w), out_h = (H + 2·pad − pool_h) // stride + 1.
    Padding: max pooling pads with −∞ (the padding never wins), average pooling with 0 (counted in
    the pool_h·pool_w of the mean); pad must be smaller than the window.
    Backward: max sends dout to the position of each window's maximum (the first one, on ties);
    average spreads dout / (pool_h·pool_w) over the window; overlapping windows add up.
    The loops are over the pool_h·pool_w window offsets, never over pixels or samples, and
    free of masked assignments (``where=``), which are slow on masks as random as these.
    """

    x_shape = arg_max = None  # forward's input shape; max: the offset index of each maximum

    def __init__(self, pool_h, pool_w, stride=None, pad=0, mode="max"):
        self.pool_h = check_positive_int(pool_h, "Pooling pool_h", hint="2 is usual")
        self.pool_w = check_positive_int(pool_w, "Pooling pool_w", hint="2 is usual")
        self.stride = (self.pool_h if stride is None
                       else check_positive_int(stride, "Pooling stride", hint="2 is usual"))
        self.pad = check_nonnegative_int(pad, "Pooling pad", hint="0 for none")
        if self.pad >= min(self.pool_h, self.pool_w):
            raise NnscratchError(f"Pooling pad {self.pad} must be smaller than the window "
                                 f"{self.pool_h}×{self.pool_w}, or windows would hold only padding")
        self.mode = check_choice(mode, POOL_MODES, "pooling mode")

    def output_shape(self, x_shape):
        """(N, C, out_h, out_w) of images x_shape (N, C, H, W), or an error naming the layer."""
        return (*x_shape[:2], *_output_shape(x_shape, self.pool_h, self.pool_w, self.stride,
                                             self.pad, "Pooling"))

    def _windows(self, a, out_h, out_w):
        return _window_views(a, self.pool_h, self.pool_w, self.stride, out_h, out_w)

    def forward(self, x):
        x = check_images(x, "Pooling")
        out_h, out_w = self.output_shape(x.shape)[2:]
        self.x_shape = x.shape
        windows = self._windows(_padded(x, self.pad, -np.inf if self.mode == "max" else 0),
                                out_h, out_w)
        out = next(windows).copy(order="K")  # the (0, 0) offset; "K": channels-last, as x
        if self.mode == "average":
            for window in windows:  # out = Σ_{i,j} x[..., stride·y + i, stride·x + j] / (PH·PW)
                out += window
            out /= self.pool_h * self.pool_w
            return out
        # out = max over the window; arg_max = the offset k = i·PW + j of its first maximum:
        # k where the offset beats every earlier one (k exceeds any earlier index: a maximum)
        index = np.min_scalar_type(self.pool_h * self.pool_w)
        self.arg_max = np.zeros_like(out, dtype=index)
        larger = np.empty_like(out)
        for k, window in enumerate(windows, start=1):
            # larger = max(out, window) differs from out where the offset beats the earlier ones
            # (so the strided window is read once)
            np.maximum(out, window, out=larger)
            np.maximum(self.arg_max, (larger != out) * index.type(k), out=self.arg_max)
            out, larger = larger, out
        return out

    def backward(self, dout):
        N, C, H, W = self.x_shape
        p = self.pad
        dout = channels_last(dout)  # the layout of forward's output (Flatten gives rows)
        out_h, out_w = dout.shape[2:]
        # windows that do not overlap touch disjoint pixels: their parts are written, not added,
        # and when they tile the padded image, every pixel is written: no zeros needed first
        overlap = self.stride < max(self.pool_h, self.pool_w)
        tiled = (self.stride == self.pool_h == self.pool_w
                 and (out_h * self.stride, out_w * self.stride) == (H + 2 * p, W + 2 * p))
        dx_pad = _channels_last_full(N, C, H + 2 * p, W + 2 * p, None if tiled else 0,
                                     dout.dtype)
        # ∂L/∂x at pixel k of each window (+)= dout · ∂out/∂x_k, which is [arg_max = k] for max
        # (the maximum gets dout, the others 0) and 1/(PH·PW) for average
        for k, window in enumerate(self._windows(dx_pad, out_h, out_w)):
            weight = (self.arg_max == k if self.mode == "max"
                      else 1 / (self.pool_h * self.pool_w))
            if overlap:
                window += dout * weight
            else:
                np.multiply(dout, weight, out=window)
        return dx_pad[:, :, p:p + H, p:p + W]


class Flatten:
    """Images (N, C, H, W) → rows (N, C·H·W), in the book's order (c, h, w), for an Affine layer
    after the convolutions. Backward reshapes dout (N, C·H·W) back to (N, C, H, W), laid out in
    memory as x was (channels-last, the layers' layout, or as given)."""

    x_shape = x_channels_last = None

    def forward(self, x):
        self.x_shape = x.shape
        self.x_channels_last = x.ndim == 4 and x.transpose(CHANNELS_LAST).flags.c_contiguous
        return x.reshape(len(x), -1)

    def backward(self, dout):
        dx = dout.reshape(self.x_shape)
        return channels_last(dx) if self.x_channels_last else dx
