"""The functions of the autograd graph, each with its forward (NumPy) and its backward (the local
derivative, written with Variables so that it can be differentiated again where noted).

Shapes: any, unless a docstring says otherwise; where a forward broadcasts, the backward sums the
gradient back to the input's shape (:func:`sum_to`). Elementwise functions, shape functions,
``matmul``, ``linear``, ``softmax`` and the arithmetic operators have backward passes made of
these same functions, so ``backward(create_graph=True)`` differentiates them again. The network
functions ``softmax_cross_entropy``, ``batch_norm``, ``conv2d`` and ``pooling`` are the book's own
formulas (its functions and layers) as single nodes, each backward one NumPy step: first
derivatives only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import conv, layers
from .. import functions as book
from ..validation import PROBABILITY
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
    "features",
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
    "Features",
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
    return SoftmaxCrossEntropy()(x, Variable(np.asarray(t), name="t"))


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
    mask: NDArray[np.bool_] | None = None,
) -> Variable:
    """Inverted dropout, as the book's layer: in training x · mask / (1 − p), mask ~
    Bernoulli(1 − p) drawn from ``rng`` (the same draws as ``layers.Dropout`` from the same
    generator; ``mask`` given: that one); in evaluation x itself. A product with a constant: its
    gradient is the mask's."""
    ratio = PROBABILITY.check(ratio, "dropout ratio", hint="0.5 drops half the units, 0 none")
    x = as_variable(x)
    if not training or ratio == 0:
        return x
    if mask is None:
        mask = rng.random(x.shape) >= ratio
    return x * np.divide(mask, 1.0 - ratio, dtype=x.dtype)


class Features(Function):
    """TensorFlow Playground's input features of a 2-D point, x (N, 2) → φ(x) (N, K): the book's
    ``layers.Features`` as one node of the graph. First derivatives only."""

    def __init__(self, names: list[str]) -> None:
        self.layer = layers.Features(names)

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return self.layer.forward(x)

    def backward(self, gy: Variable) -> Variable:
        return Variable(self.layer.backward(gy.data))


def features(x: Variable | ArrayLike, names: list[str]) -> Variable:
    return Features(names)(x)


class BatchNorm(Function):
    """Batch normalisation of x (N, D) with γ, β (D,): the book's layer (``layers.BatchNorm``)
    as one node of the graph — its forward (batch statistics in training, the running ones in
    evaluation, which it updates), its backward (the chain rule through x̂, σ² and μ, written
    out there). ``layer`` reads γ and β by key from its params: the inputs' arrays. First
    derivatives only."""

    def __init__(self, layer: layers.BatchNorm) -> None:
        self.layer = layer

    def forward(self, x: NDArray[Any], gamma: NDArray[Any], beta: NDArray[Any]) -> NDArray[Any]:
        return self.layer.forward(x)

    def backward(self, gy: Variable) -> tuple[Variable, Variable, Variable]:
        dx = self.layer.backward(gy.data)
        return Variable(dx), Variable(self.layer.dgamma), Variable(self.layer.dbeta)


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
    gamma, beta = as_variable(gamma), as_variable(beta)
    params = {"gamma": gamma.data, "beta": beta.data}
    layer = layers.BatchNorm(params, "gamma", "beta", running, *keys, momentum=momentum, eps=eps)
    layer.training = training
    return BatchNorm(layer)(x, gamma, beta)


class Conv2d(Function):
    """Convolution (cross-correlation, as the book): x (N, C, H, W), W (FN, C, FH, FW), b (FN,)
    → y (N, FN, out_h, out_w): the book's ``Convolution`` layer (im2col, then one product) as one
    node of the graph, its backward the layer's. First derivatives only."""

    def __init__(self, stride: int, pad: int) -> None:
        self.stride, self.pad = stride, pad

    def forward(self, x: NDArray[Any], W: NDArray[Any], b: NDArray[Any]) -> NDArray[Any]:
        self.layer = conv.Convolution({"W": W, "b": b}, "W", "b", self.stride, self.pad)
        return self.layer.forward(x)

    def backward(self, gy: Variable) -> tuple[Variable, Variable, Variable]:
        dx = self.layer.backward(gy.data)
        return Variable(dx), Variable(self.layer.dW), Variable(self.layer.db)


class Pooling(Function):
    """Max or average pooling over pool_h × pool_w windows, per channel: x (N, C, H, W) → (N, C,
    out_h, out_w): the book's ``Pooling`` layer as one node of the graph (max: the gradient to
    each window's first maximum; average: spread evenly). First derivatives only."""

    def __init__(self, layer: conv.Pooling) -> None:
        self.layer = layer

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return self.layer.forward(x)

    def backward(self, gy: Variable) -> Variable:
        return Variable(self.layer.backward(gy.data))


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
    pad: int = 0,
    mode: str = "max",
) -> Variable:
    return Pooling(conv.Pooling(pool_h, pool_w, stride, pad, mode))(x)
