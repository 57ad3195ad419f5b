"""Layers of chapter 5: each ``forward`` keeps exactly what its ``backward`` needs.

Textbook code: every forward and backward is its formula in plain NumPy (the engine's faster
versions, tested equal, are in ``nnscratch.engine.layers``).

``backward(dout)`` takes ∂L/∂out and returns ∂L/∂x; it never writes into its arguments or into
what forward kept. Layers with parameters read them from the network's ``params`` dict by key at
every call (so perturbing or replacing ``params["W1"]`` is always seen) and after backward give
their gradients by the same keys through ``param_grads()``.

Dropout and BatchNorm behave differently in training and in evaluation: they read their
``training`` attribute, which the network sets for all of them at once (``net.train()`` /
``net.eval()``). BatchNorm's running mean and variance are not parameters (no gradient) but state
the network keeps in its ``buffers`` dict by key, so that they can be saved with the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .functions import (
    mean_squared_error,
    one_hot,
    relu,
    sigmoid,
    softmax,
    softmax_cross_entropy,
    to_index_labels,
)
from .validation import POSITIVE, PROBABILITY, Interval, check_names, default_of

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import ArrayLike, NDArray


class Layer(Protocol):
    """What every layer of a network's ``layers`` has (for type checkers: no class inherits it)."""

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]: ...

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]: ...


class Affine:
    """Fully connected layer: out = x·W + b.

    Shapes: x (N, D), W (D, H), b (H,), out (N, H).
    Backward: ∂L/∂x = dout·Wᵀ (N, D), ∂L/∂W = xᵀ·dout (D, H), ∂L/∂b = Σ_n dout_n (H,).
    """

    x: Any = None  # forward's input
    dW: Any = None  # backward's ∂L/∂W
    db: Any = None  # backward's ∂L/∂b

    def __init__(
        self, params: dict[str, NDArray[np.floating]], weight_key: str, bias_key: str
    ) -> None:
        self.params, self.weight_key, self.bias_key = params, weight_key, bias_key

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        self.x = x
        return x @ self.params[self.weight_key] + self.params[self.bias_key]

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        self.dW = self.x.T @ dout
        self.db = np.sum(dout, axis=0)
        return dout @ self.params[self.weight_key].T

    def param_grads(self) -> dict[str, NDArray[np.floating]]:
        return {self.weight_key: self.dW, self.bias_key: self.db}


class Sigmoid:
    """out = σ(x) elementwise; backward: ∂L/∂x = dout · out · (1 - out)."""

    out: Any = None  # σ(x), which backward needs

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        return dout * self.out * (1.0 - self.out)


class Relu:
    """out = max(0, x) elementwise; backward: ∂L/∂x = dout · [x > 0] (dout where x > 0, else 0).

    Unlike the book's version backward builds a new array: the book's ``dout[self.mask] = 0``
    changes the caller's array.
    """

    mask: Any = None  # [x > 0]

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        self.mask = x > 0
        return relu(x)

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        return dout * self.mask


class Tanh:
    """out = tanh(x) elementwise; backward: ∂L/∂x = dout · (1 - out²)."""

    out: Any = None  # tanh(x)

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        return dout * (1.0 - self.out**2)


class SoftmaxWithLoss:
    """Softmax followed by cross-entropy, as one layer: L = -(1/N) Σ_n log softmax(x_n)[t_n].

    Shapes: scores x (N, C) or one sample (C,); labels t index (N,) / (N, 1) or one-hot (N, C);
    L a scalar. Backward: ∂L/∂x = (softmax(x) - onehot(t)) / N — the reason the two are one layer.
    The loss is computed from log-softmax, exact and without the ε of ``cross_entropy_error``,
    so that it is precisely the function whose derivative backward returns.
    """

    y: Any = None  # softmax(x)
    t: Any = None  # the labels (one-hot as given, else index labels)

    def forward(self, x: ArrayLike, t: ArrayLike) -> np.floating:
        self.y = softmax(x)
        t = np.asarray(t)
        # one-hot rows in the scores' dtype (float32 stays float32), else index labels
        self.t = t.astype(self.y.dtype) if t.shape == self.y.shape else to_index_labels(t)
        return softmax_cross_entropy(x, self.t)

    def backward(self, dout: float = 1.0) -> NDArray[np.floating]:
        n = 1 if self.y.ndim == 1 else self.y.shape[0]
        t = self.t
        if t.shape != self.y.shape:  # index labels → one-hot rows of y's shape and dtype
            t = one_hot(t, self.y.shape[-1], dtype=self.y.dtype).reshape(self.y.shape)
        return (self.y - t) * (dout / n)


ReLU = Relu


class MeanSquaredErrorLoss:
    """Mean squared error as the last layer: L = (1/N) Σ_n Σ_k (y_nk - t_nk)²
    (``mean_squared_error``).

    Shapes: y (N, C) (the network's outputs, no softmax) or one sample (C,) (N = 1); t one-hot of
    y's shape or index labels. Backward: ∂L/∂y = 2 (y - t) / N.
    """

    y: Any = None  # the outputs
    t: Any = None  # the one-hot targets

    def forward(self, y: NDArray[np.floating], t: ArrayLike) -> np.floating:
        t = np.asarray(t)
        if t.shape != y.shape:
            t = one_hot(to_index_labels(t), y.shape[-1], dtype=y.dtype).reshape(y.shape)
        self.y, self.t = y, t
        return mean_squared_error(y, t)

    def backward(self, dout: float = 1.0) -> NDArray[np.floating]:
        n = 1 if self.y.ndim == 1 else self.y.shape[0]
        return (self.y - self.t) * (2.0 * dout / n)


class Dropout:
    """Inverted dropout: in training each unit is kept with probability 1 - p and scaled by
    1 / (1 - p); in evaluation the layer is the identity (the expected output is the same).

    Training: out = x · mask / (1 - p), mask_ij ~ Bernoulli(1 - p) from ``rng``;
    backward: ∂L/∂x = dout · mask / (1 - p). Shapes: any; out has x's shape.
    ``fixed_mask`` (a boolean array of x's shape), when set, replaces the random draw — the way a
    gradient check holds the random function still.
    """

    training: bool = True
    fixed_mask: NDArray[np.bool] | None = None
    # mask / (1 - p) of the last training pass; None: the identity
    scale: NDArray[np.floating] | None = None

    def __init__(self, ratio: float, rng: np.random.Generator) -> None:
        self.ratio: float = PROBABILITY.check(
            ratio, "dropout ratio", hint="0.5 drops half the units, 0 none"
        )
        self.rng = rng

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        if not self.training or self.ratio == 0:
            self.scale = None
            return x
        mask = (
            self.fixed_mask
            if self.fixed_mask is not None
            else self.rng.random(x.shape) >= self.ratio
        )
        # mask / (1 - p) in x's dtype: a bool array divided by a Python float would be float64
        self.scale = np.divide(mask, 1.0 - self.ratio, dtype=x.dtype)
        return x * self.scale

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        return dout if self.scale is None else dout * self.scale


class BatchNorm:
    """Batch normalisation (Ioffe & Szegedy 2015) of each feature over the mini-batch.

    Training: μ = mean_n x, σ² = mean_n (x - μ)², x̂ = (x - μ) / √(σ² + ε), out = γ x̂ + β;
    the running averages follow μ and σ² with ``momentum``: r ← m·r + (1 - m)·batch value.
    Evaluation: x̂ uses the running mean and variance instead (a fixed affine map per feature).
    Shapes: x (N, D), γ and β (D,) in ``params`` under ``gamma_key``/``beta_key``; the running mean
    and variance (D,) in ``buffers`` under ``mean_key``/``var_key``.
    Backward (training), with s = √(σ² + ε), the chain rule through x̂, σ² and μ as in the book:
    ∂L/∂β = Σ_n dout, ∂L/∂γ = Σ_n dout · x̂, ∂L/∂x̂ = γ · dout,
    ∂L/∂σ² = -½ Σ_n ∂L/∂x̂ · (x - μ) / s³, ∂L/∂x = ∂L/∂x̂ / s + (2/N) (x - μ) ∂L/∂σ² - ∂L/∂μ / N
    with ∂L/∂μ = Σ_n (∂L/∂x̂ / s + (2/N) (x - μ) ∂L/∂σ²). In evaluation μ and σ² are constants and
    ∂L/∂x = γ · dout / s.
    """

    training: bool = True
    xc: Any = None  # x - μ, for backward
    std: Any = None  # √(σ² + ε), for backward
    x_hat: Any = None  # x̂, for backward
    dgamma: Any = None  # ∂L/∂γ
    dbeta: Any = None  # ∂L/∂β

    def __init__(
        self,
        params: dict[str, NDArray[np.floating]],
        gamma_key: str,
        beta_key: str,
        buffers: dict[str, NDArray[np.floating]],
        mean_key: str,
        var_key: str,
        momentum: float = 0.9,
        eps: float = 1e-5,
    ) -> None:
        self.params, self.gamma_key, self.beta_key = params, gamma_key, beta_key
        self.buffers, self.mean_key, self.var_key = buffers, mean_key, var_key
        self.momentum: float = Interval(0, 1).check(
            momentum,
            "BatchNorm momentum",
            hint="0.9 follows the batches slowly, 0 keeps only the last",
        )
        self.eps: float = POSITIVE.check(
            eps, "BatchNorm eps", hint=lambda: f"use e.g. {default_of(BatchNorm, 'eps')}"
        )

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        if self.training:
            mu = np.mean(x, axis=0)
            self.xc = x - mu
            var = np.mean(self.xc**2, axis=0)
            m = self.momentum
            self.buffers[self.mean_key] = m * self.buffers[self.mean_key] + (1 - m) * mu
            self.buffers[self.var_key] = m * self.buffers[self.var_key] + (1 - m) * var
        else:
            self.xc = x - self.buffers[self.mean_key]
            var = self.buffers[self.var_key]
        self.std = np.sqrt(var + self.eps)
        self.x_hat = self.xc / self.std
        return self.params[self.gamma_key] * self.x_hat + self.params[self.beta_key]

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        gamma = self.params[self.gamma_key]
        self.dbeta = np.sum(dout, axis=0)
        self.dgamma = np.sum(dout * self.x_hat, axis=0)
        dx_hat = gamma * dout
        if not self.training:
            return dx_hat / self.std
        n = len(dout)
        dvar = -0.5 * np.sum(dx_hat * self.xc, axis=0) / self.std**3
        dxc = dx_hat / self.std + (2.0 / n) * self.xc * dvar
        dmu = np.sum(dxc, axis=0)
        return dxc - dmu / n

    def param_grads(self) -> dict[str, NDArray[np.floating]]:
        return {self.gamma_key: self.dgamma, self.beta_key: self.dbeta}


ACTIVATIONS: dict[str, type[Sigmoid | Relu | Tanh]] = {
    "sigmoid": Sigmoid,
    "relu": Relu,
    "tanh": Tanh,
}


#: TensorFlow Playground's input features of a point (x₁, x₂): name → (φ, ∂φ/∂x₁, ∂φ/∂x₂)
FEATURES: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {
    "x1": (lambda x1, x2: x1, lambda x1, x2: 1.0, lambda x1, x2: 0.0),
    "x2": (lambda x1, x2: x2, lambda x1, x2: 0.0, lambda x1, x2: 1.0),
    "x1^2": (lambda x1, x2: x1**2, lambda x1, x2: 2 * x1, lambda x1, x2: 0.0),
    "x2^2": (lambda x1, x2: x2**2, lambda x1, x2: 0.0, lambda x1, x2: 2 * x2),
    "x1x2": (lambda x1, x2: x1 * x2, lambda x1, x2: x2, lambda x1, x2: x1),
    "sin_x1": (lambda x1, x2: np.sin(x1), lambda x1, x2: np.cos(x1), lambda x1, x2: 0.0),
    "sin_x2": (lambda x1, x2: np.sin(x2), lambda x1, x2: 0.0, lambda x1, x2: np.cos(x2)),
}


def check_features(names: object) -> list[str]:
    """``names`` (a sequence, or text "x1,x2,x1^2") as a list of distinct names of
    :data:`FEATURES`, at least one; else an error that lists them."""
    return check_names(names, FEATURES, "features")


class Features:
    """The input features of a 2-D point, as TensorFlow Playground offers them: x = (x₁, x₂) becomes
    out = (φ_1(x), ..., φ_K(x)), the chosen ``names`` of :data:`FEATURES` (x₁, x₂, x₁², x₂², x₁x₂,
    sin x₁, sin x₂). With x₁² and x₂² a network without hidden layers can draw a circle.

    Shapes: x (N, 2), out (N, K). No parameters.
    Backward: ∂L/∂x_i = Σ_k dout_k · ∂φ_k/∂x_i (N, 2).
    """

    x: Any = None  # forward's input

    def __init__(self, names: Sequence[str]) -> None:
        self.names = check_features(names)

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        self.x = x
        x1, x2 = x[:, 0], x[:, 1]
        return np.stack([FEATURES[name][0](x1, x2) for name in self.names], axis=1)

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        x1, x2 = self.x[:, 0], self.x[:, 1]
        dx = np.zeros_like(self.x)
        for k, name in enumerate(self.names):
            _, d_dx1, d_dx2 = FEATURES[name]
            dx[:, 0] += dout[:, k] * d_dx1(x1, x2)
            dx[:, 1] += dout[:, k] * d_dx2(x1, x2)
        return dx
