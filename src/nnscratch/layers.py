"""Layers of chapter 5: each ``forward`` keeps exactly what its ``backward`` needs.

``backward(dout)`` takes ∂L/∂out and returns ∂L/∂x; it never writes into its arguments or into
what forward kept. Layers with parameters read them from the network's ``params`` dict by key at
every call (so perturbing or replacing ``params["W1"]`` is always seen) and after backward give
their gradients by the same keys through ``param_grads()``.

What forward keeps is declared in the class body (``x = dW = db = None``): None until the first
pass, an instance attribute after it.

Dropout and BatchNorm behave differently in training and in evaluation: they read their
``training`` attribute, which the network sets for all of them at once (``net.train()`` /
``net.eval()``). BatchNorm's running mean and variance are not parameters (no gradient) but state
the network keeps in its ``buffers`` dict by key, so that they can be saved with the model.
"""

import numpy as np

from .functions import (label_positions, log_softmax, mean_squared_error,
                        negative_log_likelihood, negative_log_likelihood_at, one_hot, relu,
                        sigmoid, to_index_labels)
from .validation import check_number, default_of


class Affine:
    """Fully connected layer: out = x·W + b.

    Shapes: x (N, D), W (D, H), b (H,), out (N, H).
    Backward: ∂L/∂x = dout·Wᵀ (N, D), ∂L/∂W = xᵀ·dout (D, H), ∂L/∂b = Σ_n dout_n (H,).
    """

    x = dW = db = None  # forward's input; backward's ∂L/∂W, ∂L/∂b

    def __init__(self, params, weight_key, bias_key):
        self.params, self.weight_key, self.bias_key = params, weight_key, bias_key

    def forward(self, x):
        self.x = x
        # out = x·W + b, the + b in place: x·W is a new array of our own
        out = x @ self.params[self.weight_key]
        out += self.params[self.bias_key]
        return out

    def backward(self, dout):
        self.backward_params(dout)
        return dout @ self.params[self.weight_key].T

    def backward_params(self, dout):
        """∂L/∂W = xᵀ·dout and ∂L/∂b = Σ_n dout_n only: for the first layer, whose ∂L/∂x (the
        data's) nobody needs — it would cost as much as the forward pass."""
        self.dW = self.x.T @ dout  # xᵀ is a view: BLAS gets the transpose flag, x is not copied
        self.db = np.add.reduce(dout, axis=0)  # dout.sum(axis=0) without its Python wrapper

    def param_grads(self):
        return {self.weight_key: self.dW, self.bias_key: self.db}


class Sigmoid:
    """out = σ(x) elementwise; backward: ∂L/∂x = dout · out · (1 - out)."""

    out = None  # σ(x), which backward needs

    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        # ∂L/∂x = (dout · out) · (1 - out), the second product in place
        dx = dout * self.out
        dx *= 1.0 - self.out
        return dx


class Relu:
    """out = max(0, x) elementwise; backward: ∂L/∂x = dout · [x > 0] (dout where x > 0, else 0).

    Unlike the book's version it builds new arrays: backward never writes into ``dout`` (the
    book's ``dout[self.mask] = 0`` changes the caller's array). It keeps its output, not a mask:
    out > 0 exactly where x > 0, and the next layer holds that array anyway, so forward is one
    pass (evaluation makes no mask at all) and backward makes the mask. Both passes are
    arithmetic, free of branches: ``np.where`` on a mask that is random, as ReLU's is, costs about
    ten times as much (a conv net's 1.7 million activations: 12 ms against 1).
    """

    out = None  # max(0, x)

    def forward(self, x):
        self.out = relu(x)
        return self.out

    def backward(self, dout):
        # ∂L/∂x = dout · [x > 0], and x > 0 where out > 0
        return dout * (self.out > 0)


class Tanh:
    """out = tanh(x) elementwise; backward: ∂L/∂x = dout · (1 - out²)."""

    out = None  # tanh(x)

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out ** 2)


class SoftmaxWithLoss:
    """Softmax followed by cross-entropy, fused: L = -(1/N) Σ_n log softmax(x_n)[t_n].

    Shapes: scores x (N, C); labels t index (N,) / (N, 1) or one-hot (N, C); L a scalar.
    Backward: ∂L/∂x = (softmax(x) - onehot(t)) / N — the reason the two are one layer.
    The loss is computed from log-softmax, exact and without the ε of ``cross_entropy_error``,
    so that it is precisely the function whose derivative backward returns.
    """

    y = t = positions = None  # softmax(x), the labels, and where they sit in y.ravel()

    def forward(self, x, t):
        log_y = log_softmax(x)
        self.y = np.exp(log_y)
        t = np.asarray(t)
        if t.shape == log_y.shape:  # one-hot rows in the scores' dtype: float32 stays float32
            self.t = t.astype(log_y.dtype, copy=False)
            return negative_log_likelihood(log_y, self.t)
        # index labels as ints (N,), and where they sit in y.ravel(): backward needs them too
        self.t = to_index_labels(t)
        if log_y.ndim != 2:  # one sample's scores (C,): only the loss, as the function gives it
            return negative_log_likelihood(log_y, self.t)
        self.positions = label_positions(self.t, log_y.shape[1])
        return negative_log_likelihood_at(log_y, self.positions)

    def backward(self, dout=1.0):
        single = self.y.ndim == 1  # one sample's scores (C,): N = 1, its label is the position
        n = 1 if single else self.y.shape[0]
        # ∂L/∂x = (y - onehot(t)) · dout / N, on one new array
        if self.t.shape == self.y.shape:
            dx = self.y - self.t
        else:
            dx = self.y.copy()
            # y[n, t_n] - 1 at the labels' flat positions; ravel() of our copy is a view
            dx.ravel()[self.t if single else self.positions] -= 1.0
        dx *= dout / n
        return dx


ReLU = Relu


class MeanSquaredErrorLoss:
    """Mean squared error as the last layer: L = (1/N) Σ_n Σ_k (y_nk - t_nk)² (``mean_squared_error``).

    Shapes: y (N, C) (the network's outputs, no softmax); t one-hot (N, C) or index labels (N,).
    Backward: ∂L/∂y = 2 (y - t) / N.
    """

    y = t = None  # the outputs and the one-hot targets

    def forward(self, y, t):
        t = np.asarray(t)
        if t.shape != y.shape:
            t = one_hot(to_index_labels(t), y.shape[-1], dtype=y.dtype)
        self.y, self.t = y, t
        return mean_squared_error(y, t)

    def backward(self, dout=1.0):
        return (self.y - self.t) * (2.0 * dout / self.y.shape[0])


class Dropout:
    """Inverted dropout: in training each unit is kept with probability 1 - p and scaled by
    1 / (1 - p); in evaluation the layer is the identity (the expected output is the same).

    Training: out = x · mask / (1 - p), mask_ij ~ Bernoulli(1 - p) from ``rng``;
    backward: ∂L/∂x = dout · mask / (1 - p). Shapes: any; out has x's shape.
    ``fixed_mask`` (a boolean array of x's shape), when set, replaces the random draw — the way a
    gradient check holds the random function still.
    """

    training = True
    fixed_mask = None
    scale = None  # mask / (1 - p) of the last training pass; None: the identity

    def __init__(self, ratio, rng):
        self.ratio = check_number(ratio, "dropout ratio", 0, 1, high_open=True,
                                  hint="0.5 drops half the units, 0 none")
        self.rng = rng

    def forward(self, x):
        if not self.training or self.ratio == 0:
            self.scale = None
            return x
        mask = (self.fixed_mask if self.fixed_mask is not None
                else self.rng.random(x.shape) >= self.ratio)
        # in x's dtype: a bool mask divided by a Python float would be float64
        self.scale = np.divide(mask, 1.0 - self.ratio, dtype=x.dtype)
        return x * self.scale

    def backward(self, dout):
        return dout if self.scale is None else dout * self.scale


class BatchNorm:
    """Batch normalisation (Ioffe & Szegedy 2015) of each feature over the mini-batch.

    Training: μ = mean_n x, σ² = mean_n (x - μ)², x̂ = (x - μ) / √(σ² + ε), out = γ x̂ + β;
    the running averages follow μ and σ² with ``momentum``: r ← m·r + (1 - m)·batch value.
    Evaluation: x̂ uses the running mean and variance instead (a fixed affine map per feature).
    Shapes: x (N, D), γ and β (D,) in ``params`` under ``gamma_key``/``beta_key``; the running mean
    and variance (D,) in ``buffers`` under ``mean_key``/``var_key``.
    Backward (training): with s = √(σ² + ε) and g = γ · dout,
    ∂L/∂β = Σ_n dout, ∂L/∂γ = Σ_n dout · x̂, ∂L/∂x = (g - mean_n g - x̂ · mean_n(g · x̂)) / s,
    computed as (γ / s) · (dout − ∂L/∂β / N − x̂ · ∂L/∂γ / N) (the same: γ is constant over n).
    In evaluation μ and σ² are constants and ∂L/∂x = g / s.
    """

    training = True
    x_hat = std = dgamma = dbeta = None  # x̂ and √(σ² + ε) for backward; ∂L/∂γ, ∂L/∂β

    def __init__(self, params, gamma_key, beta_key, buffers, mean_key, var_key, momentum=0.9,
                 eps=1e-5):
        self.params, self.gamma_key, self.beta_key = params, gamma_key, beta_key
        self.buffers, self.mean_key, self.var_key = buffers, mean_key, var_key
        self.momentum = check_number(momentum, "BatchNorm momentum", 0, 1,
                                     hint="0.9 follows the batches slowly, 0 keeps only the last")
        self.eps = check_number(eps, "BatchNorm eps", 0, low_open=True, hint=f"use e.g. {default_of(BatchNorm, 'eps')}")

    def forward(self, x):
        n = len(x)
        if self.training:
            mu = np.add.reduce(x, axis=0) / n
            xc = x - mu
            # σ² = mean_n (x − μ)², its sum of squares in one pass (no (x − μ)² array)
            var = np.einsum("nd,nd->d", xc, xc) / n
            m = self.momentum
            # new arrays, not in-place: a saved copy of the buffers is never changed behind its back
            self.buffers[self.mean_key] = m * self.buffers[self.mean_key] + (1 - m) * mu
            self.buffers[self.var_key] = m * self.buffers[self.var_key] + (1 - m) * var
        else:
            xc = x - self.buffers[self.mean_key]
            var = self.buffers[self.var_key]
        self.std = np.sqrt(var + self.eps)
        # x̂ = (x − μ) / √(σ² + ε), in xc's own array
        self.x_hat = np.divide(xc, self.std, out=xc)
        # out = γ x̂ + β, the + β in place
        out = self.params[self.gamma_key] * self.x_hat
        out += self.params[self.beta_key]
        return out

    def backward(self, dout):
        self.dbeta = np.add.reduce(dout, axis=0)
        self.dgamma = np.einsum("nd,nd->d", dout, self.x_hat)  # Σ_n dout · x̂ in one pass
        scale = self.params[self.gamma_key] / self.std  # γ / s
        if not self.training:
            return dout * scale
        # ∂L/∂x = (g − mean_n g − x̂ · mean_n(g · x̂)) / s with g = γ · dout, where
        # mean_n g = γ ∂L/∂β / N and mean_n(g · x̂) = γ ∂L/∂γ / N:
        # ∂L/∂x = (γ / s) · (dout − ∂L/∂β / N − x̂ · ∂L/∂γ / N), in one new array
        n = len(dout)
        dx = self.x_hat * (self.dgamma / n)
        dx += self.dbeta / n
        np.subtract(dout, dx, out=dx)
        dx *= scale
        return dx

    def param_grads(self):
        return {self.gamma_key: self.dgamma, self.beta_key: self.dbeta}


ACTIVATIONS = {"sigmoid": Sigmoid, "relu": Relu, "tanh": Tanh}
