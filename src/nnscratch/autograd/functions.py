"""The functions of the autograd graph, each with its forward (NumPy) and its backward (the local
derivative, written with Variables so that it can be differentiated again where noted).

Shapes: any, unless a docstring says otherwise; where a forward broadcasts, the backward sums the
gradient back to the input's shape (:func:`sum_to`). Elementwise functions, shape functions,
``matmul``, ``linear``, ``softmax`` and the arithmetic operators have backward passes made of
these same functions, so ``backward(create_graph=True)`` differentiates them again. The fused
network functions (``softmax_cross_entropy``, ``batch_norm``, ``conv2d``, ``pooling``) compute
their backward in one NumPy step, as the book's layers do: first derivatives only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import functions as book
from ..conv import col2im, im2col
from .core import (
    BroadcastTo,
    Function,
    GetItem,
    GetItemGrad,
    MatMul,
    Reshape,
    Sum,
    SumTo,
    Transpose,
    Variable,
    as_variable,
    broadcast_to,
    get_item,
    matmul,
    reshape,
    sum,  # noqa: A004 - the book's and NumPy's name
    sum_to,
    transpose,
)

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

#: every function of the graph, in the order of the book's chapters (``F.<name>``)
__all__ = [
    "exp",
    "log",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "reshape",
    "transpose",
    "sum",
    "mean",
    "broadcast_to",
    "sum_to",
    "get_item",
    "matmul",
    "linear",
    "softmax",
    "softmax_cross_entropy",
    "mean_squared_error",
    "dropout",
    "batch_norm",
    "conv2d",
    "pooling",
    # their Functions
    "BroadcastTo",
    "GetItem",
    "GetItemGrad",
    "MatMul",
    "Reshape",
    "Sum",
    "SumTo",
    "Transpose",
    "Exp",
    "Log",
    "Sin",
    "Cos",
    "Tanh",
    "Sigmoid",
    "ReLU",
    "Linear",
    "Softmax",
    "SoftmaxCrossEntropy",
    "BatchNorm",
    "Conv2d",
    "Pooling",
]


# --- elementwise ---------------------------------------------------------------------------------


class Exp(Function):
    """y = eˣ; ∂y/∂x = eˣ = y."""

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return np.exp(x)

    def backward(self, gy: Variable) -> Variable:
        return gy * self.output()


class Log(Function):
    """y = log x; ∂y/∂x = 1/x."""

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return np.log(x)

    def backward(self, gy: Variable) -> Variable:
        return gy / self.inputs[0]


class Sin(Function):
    """y = sin x; ∂y/∂x = cos x."""

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return np.sin(x)

    def backward(self, gy: Variable) -> Variable:
        return gy * cos(self.inputs[0])


class Cos(Function):
    """y = cos x; ∂y/∂x = −sin x."""

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return np.cos(x)

    def backward(self, gy: Variable) -> Variable:
        return gy * -sin(self.inputs[0])


class Tanh(Function):
    """y = tanh x; ∂y/∂x = 1 − y²."""

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return np.tanh(x)

    def backward(self, gy: Variable) -> Variable:
        y = self.output()
        return gy * (1 - y * y)


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ); ∂y/∂x = y (1 − y)."""

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return book.sigmoid(x)

    def backward(self, gy: Variable) -> Variable:
        y = self.output()
        return gy * y * (1 - y)


class ReLU(Function):
    """y = max(0, x); ∂y/∂x = [x > 0] (a constant: its own derivative is 0 almost everywhere)."""

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return np.maximum(x, 0)

    def backward(self, gy: Variable) -> Variable:
        return gy * (self.inputs[0].data > 0).astype(gy.dtype)


def exp(x: Variable | ArrayLike) -> Variable:
    return Exp()(x)


def log(x: Variable | ArrayLike) -> Variable:
    return Log()(x)


def sin(x: Variable | ArrayLike) -> Variable:
    return Sin()(x)


def cos(x: Variable | ArrayLike) -> Variable:
    return Cos()(x)


def tanh(x: Variable | ArrayLike) -> Variable:
    return Tanh()(x)


def sigmoid(x: Variable | ArrayLike) -> Variable:
    return Sigmoid()(x)


def relu(x: Variable | ArrayLike) -> Variable:
    return ReLU()(x)


# --- shapes: the ones Variable needs are core's ------------------------------------------


def mean(
    x: Variable | ArrayLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Variable:
    """Σ x / (number of terms) over ``axis``: a sum and a division, so its gradient is theirs."""
    x = as_variable(x)
    y = sum(x, axis, keepdims)
    return y * (y.size / x.size)


# --- products and the network's functions ------------------------------------------------------


class Linear(Function):
    """y = x W + b, the book's Affine as one function: x (N, D), W (D, H), b (H,) or None;
    ∂L/∂x = ∂L/∂y Wᵀ, ∂L/∂W = xᵀ ∂L/∂y, ∂L/∂b = Σ_n ∂L/∂y."""

    def forward(self, x: NDArray[Any], W: NDArray[Any], b: NDArray[Any] | None = None) -> Any:
        y = x @ W
        return y if b is None else y + b

    def backward(self, gy: Variable) -> tuple[Variable, ...]:
        x, W, *b = self.inputs
        gx, gW = matmul(gy, W.T), matmul(x.T, gy)
        return (gx, gW, sum_to(gy, b[0].shape)) if b else (gx, gW)


class Softmax(Function):
    """y = softmax(x) along the last axis; ∂L/∂x = y ⊙ (g − Σ_k g_k y_k), g = ∂L/∂y."""

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return book.softmax(x)

    def backward(self, gy: Variable) -> Variable:
        y = self.output()
        gx = y * gy
        return gx - y * sum(gx, axis=-1, keepdims=True)


class SoftmaxCrossEntropy(Function):
    """L = −(1/N) Σ_n log softmax(x_n)[t_n], the book's SoftmaxWithLoss: x (N, C), t index
    labels (N,) or one-hot (N, C); ∂L/∂x = (softmax(x) − onehot(t)) / N, none for t."""

    def forward(self, x: NDArray[Any], t: NDArray[Any]) -> NDArray[Any]:
        return np.asarray(book.softmax_cross_entropy(x, t), dtype=x.dtype)

    def backward(self, gy: Variable) -> tuple[Variable, None]:
        x, t = self.inputs[0].data, self.inputs[1].data
        y = book.softmax(x)
        if t.shape != y.shape:
            t = book.one_hot(book.to_index_labels(t), y.shape[-1], dtype=y.dtype)
        return gy * Variable((y - t) / len(x)), None


def linear(
    x: Variable | ArrayLike, W: Variable | ArrayLike, b: Variable | ArrayLike | None = None
) -> Variable:
    return Linear()(x, W) if b is None else Linear()(x, W, b)


def softmax(x: Variable | ArrayLike) -> Variable:
    return Softmax()(x)


def softmax_cross_entropy(x: Variable | ArrayLike, t: ArrayLike) -> Variable:
    return SoftmaxCrossEntropy()(x, np.asarray(t))


def mean_squared_error(y: Variable | ArrayLike, t: Variable | ArrayLike) -> Variable:
    """E = (1/N) Σ_n Σ_k (y_nk − t_nk)², the notebook's loss, made of the graph's own
    functions."""
    diff = as_variable(y) - t
    return sum(diff * diff) / len(diff)


def dropout(
    x: Variable | ArrayLike,
    ratio: float,
    rng: np.random.Generator,
    training: bool = True,
) -> Variable:
    """Inverted dropout, as the book's layer: in training x · mask / (1 − p), mask ~
    Bernoulli(1 − p) drawn from ``rng`` (the same draws as ``layers.Dropout`` from the same
    generator); in evaluation x itself. A product with a constant: its gradient is the mask's."""
    x = as_variable(x)
    if not training or ratio == 0:
        return x
    mask = rng.random(x.shape) >= ratio
    return x * np.divide(mask, 1.0 - ratio, dtype=x.dtype)


class BatchNorm(Function):
    """Batch normalisation, the book's layer as one function: x (N, D), γ and β (D,).
    Training: x̂ = (x − μ) / √(σ² + ε) with the batch's μ and σ², y = γ x̂ + β; evaluation: the
    running mean and variance given. Backward as ``layers.BatchNorm``'s (the chain rule through
    x̂, σ² and μ); first derivatives only."""

    def __init__(self, mean: NDArray[Any], var: NDArray[Any], training: bool, eps: float) -> None:
        self.mean, self.var, self.training, self.eps = mean, var, training, eps

    def forward(self, x: NDArray[Any], gamma: NDArray[Any], beta: NDArray[Any]) -> NDArray[Any]:
        mu, var = (x.mean(axis=0), None) if self.training else (self.mean, self.var)
        self.xc = x - mu
        if var is None:
            var = np.mean(self.xc**2, axis=0)
        self.batch_mean, self.batch_var = mu, var
        self.std = np.sqrt(var + self.eps)
        self.x_hat = self.xc / self.std
        return gamma * self.x_hat + beta

    def backward(self, gy: Variable) -> tuple[Variable, Variable, Variable]:
        dout, gamma = gy.data, self.inputs[1].data
        dbeta = dout.sum(axis=0)
        dgamma = np.sum(dout * self.x_hat, axis=0)
        dx_hat = gamma * dout
        if not self.training:
            dx = dx_hat / self.std
        else:
            n = len(dout)
            dvar = -0.5 * np.sum(dx_hat * self.xc, axis=0) / self.std**3
            dxc = dx_hat / self.std + (2.0 / n) * self.xc * dvar
            dx = dxc - np.sum(dxc, axis=0) / n
        return Variable(dx), Variable(dgamma), Variable(dbeta)


def batch_norm(
    x: Variable | ArrayLike,
    gamma: Variable | ArrayLike,
    beta: Variable | ArrayLike,
    running: dict[str, NDArray[Any]],
    keys: tuple[str, str],
    training: bool = True,
    momentum: float = 0.9,
    eps: float = 1e-5,
) -> Variable:
    """Batch normalisation of x (N, D) with γ, β (D,); the running mean and variance are
    ``running[keys[0]]`` and ``running[keys[1]]`` (a network's buffers), updated in training as
    the book's layer does: r ← m·r + (1 − m)·batch value."""
    mean_key, var_key = keys
    f = BatchNorm(running[mean_key], running[var_key], training, eps)
    y = f(x, gamma, beta)
    if training:
        running[mean_key] = momentum * running[mean_key] + (1 - momentum) * f.batch_mean
        running[var_key] = momentum * running[var_key] + (1 - momentum) * f.batch_var
    return y


class Conv2d(Function):
    """Convolution (cross-correlation, as the book): x (N, C, H, W), W (FN, C, FH, FW), b (FN,)
    → y (N, FN, out_h, out_w), through im2col: y = col W_colᵀ + b. Backward as the book's
    ``Convolution`` (first derivatives only)."""

    def __init__(self, stride: int, pad: int) -> None:
        self.stride, self.pad = stride, pad

    def forward(self, x: NDArray[Any], W: NDArray[Any], b: NDArray[Any]) -> NDArray[Any]:
        FN, _, FH, FW = W.shape
        N, _, H, Wd = x.shape
        out_h = (H + 2 * self.pad - FH) // self.stride + 1
        out_w = (Wd + 2 * self.pad - FW) // self.stride + 1
        self.col = im2col(x, FH, FW, self.stride, self.pad)
        y = self.col @ W.reshape(FN, -1).T + b
        return y.reshape(N, out_h, out_w, FN).transpose(0, 3, 1, 2)

    def backward(self, gy: Variable) -> tuple[Variable, Variable, Variable]:
        x, W = self.inputs[0].data, self.inputs[1].data
        FN, _, FH, FW = W.shape
        dout = gy.data.transpose(0, 2, 3, 1).reshape(-1, FN)
        db = dout.sum(axis=0)
        dW = (dout.T @ self.col).reshape(W.shape)
        dx = col2im(dout @ W.reshape(FN, -1), x.shape, FH, FW, self.stride, self.pad)
        return Variable(dx), Variable(dW), Variable(db)


class Pooling(Function):
    """Max or average pooling over pool_h × pool_w windows (no padding), per channel: x (N, C,
    H, W) → (N, C, out_h, out_w); backward as the book's ``Pooling`` (max: to each window's
    first maximum; average: spread evenly)."""

    def __init__(self, pool_h: int, pool_w: int, stride: int, mode: str) -> None:
        self.pool_h, self.pool_w, self.stride, self.mode = pool_h, pool_w, stride, mode

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        N, C, H, W = x.shape
        out_h = (H - self.pool_h) // self.stride + 1
        out_w = (W - self.pool_w) // self.stride + 1
        col = im2col(x, self.pool_h, self.pool_w, self.stride).reshape(
            -1, self.pool_h * self.pool_w
        )
        if self.mode == "max":
            self.arg_max = np.argmax(col, axis=1)
            y = np.max(col, axis=1)
        else:
            y = np.mean(col, axis=1)
        return y.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

    def backward(self, gy: Variable) -> Variable:
        x = self.inputs[0].data
        size = self.pool_h * self.pool_w
        dout = gy.data.transpose(0, 2, 3, 1).reshape(-1)
        if self.mode == "max":
            dcol = np.zeros((dout.size, size), dtype=dout.dtype)
            dcol[np.arange(dout.size), self.arg_max] = dout
        else:
            dcol = np.repeat(dout[:, np.newaxis] / size, size, axis=1)
        dcol = dcol.reshape(-1, x.shape[1] * size)
        return Variable(col2im(dcol, x.shape, self.pool_h, self.pool_w, self.stride))


def conv2d(
    x: Variable | ArrayLike,
    W: Variable | ArrayLike,
    b: Variable | ArrayLike,
    stride: int = 1,
    pad: int = 0,
) -> Variable:
    return Conv2d(stride, pad)(x, W, b)


def pooling(
    x: Variable | ArrayLike,
    pool_h: int,
    pool_w: int,
    stride: int | None = None,
    mode: str = "max",
) -> Variable:
    return Pooling(pool_h, pool_w, pool_h if stride is None else stride, mode)(x)
