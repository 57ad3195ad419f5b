"""The engine's layers: the textbook's (``nnscratch.layers``) with the same interfaces, state and
results, computed with fewer passes and temporaries. Each subclasses its textbook layer and
overrides only how forward and backward compute; tests prove them equal (float64, relative
difference ≤ 1e-12). Where the compiled kernels are loaded (``engine.compiled``), ReLU's
backward, the sigmoid's, softmax with the loss and batch norm in training run as one compiled
pass each.
"""

import numpy as np

from .. import layers
from ..functions import negative_log_likelihood, to_index_labels
from . import compiled
from .functions import label_positions, log_softmax, negative_log_likelihood_at, sigmoid


class Affine(layers.Affine):
    """``layers.Affine``: out = x·W + b with the + b in place on the product (an array of our own);
    Σ_n dout_n by ``np.add.reduce`` (``np.sum`` without its Python wrapper); xᵀ as a view (BLAS
    gets the transpose flag)."""

    #: False for a network's first layer: backward computes ∂L/∂W and ∂L/∂b only and returns
    #: None, since the data's gradient ∂L/∂x is never used (it would cost a whole product)
    input_gradient = True

    def forward(self, x):
        self.x = x
        out = x @ self.params[self.weight_key]
        out += self.params[self.bias_key]
        return out

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = np.add.reduce(dout, axis=0)
        return dout @ self.params[self.weight_key].T if self.input_gradient else None


class Sigmoid(layers.Sigmoid):
    """``layers.Sigmoid``, its backward's second product in place on the first's array."""

    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        kernels = compiled.loaded_for(dout, self.out)
        if kernels is not None:
            dx = np.empty_like(dout)
            one = dout.dtype.type(1.0)
            kernels.sigmoid_backward(dout.reshape(-1), self.out.reshape(-1), one, dx.reshape(-1))
            return dx
        dx = dout * self.out
        dx *= 1.0 - self.out
        return dx


class Relu(layers.Relu):
    """``layers.Relu``, keeping its output instead of a mask: out > 0 exactly where x > 0, and the
    next layer holds that array anyway, so forward is one pass (evaluation makes no mask at all)
    and backward makes the mask. Both passes are arithmetic, free of branches: ``np.where`` on a
    mask that is random, as ReLU's is, costs about ten times as much."""

    out = None

    def forward(self, x):
        self.out = np.maximum(x, 0)
        return self.out

    def backward(self, dout):
        kernels = compiled.loaded_for(dout, self.out)
        if kernels is not None:
            dx = np.empty_like(dout)
            kernels.relu_backward(dout.reshape(-1), self.out.reshape(-1), dx.reshape(-1))
            return dx
        return dout * (self.out > 0)


class SoftmaxWithLoss(layers.SoftmaxWithLoss):
    """``layers.SoftmaxWithLoss``: softmax as exp(log_softmax) from the engine's log-softmax, the
    true classes picked by flat positions kept for backward, ∂L/∂x written into one new array."""

    positions = None  # where the labels sit in y.ravel()

    def forward(self, x, t):
        t = np.asarray(t)
        kernels = compiled.loaded_for(x) if np.ndim(x) == 2 and t.shape != np.shape(x) else None
        if kernels is not None:  # softmax and the loss in one compiled pass over the rows
            self.t = to_index_labels(t)
            self.positions = label_positions(self.t, x.shape[1])  # checks the labels too
            self.y = np.empty_like(x)
            return x.dtype.type(kernels.softmax_cross_entropy(x, self.t, self.y))
        log_y = log_softmax(x)
        self.y = np.exp(log_y)
        if t.shape == log_y.shape:  # one-hot rows in the scores' dtype: float32 stays float32
            self.t = t.astype(log_y.dtype, copy=False)
            return negative_log_likelihood(log_y, self.t)
        self.t = to_index_labels(t)
        if log_y.ndim != 2:  # one sample's scores (C,): its label is the position
            self.positions = label_positions(self.t.reshape(1), log_y.shape[0])
            return -log_y[self.positions[0]]
        self.positions = label_positions(self.t, log_y.shape[1])
        return negative_log_likelihood_at(log_y, self.positions)

    def backward(self, dout=1.0):
        n = 1 if self.y.ndim == 1 else self.y.shape[0]
        if self.t.shape == self.y.shape:
            dx = self.y - self.t
        else:
            dx = self.y.copy()
            dx.ravel()[self.positions] -= 1.0  # ravel() of our copy is a view
        dx *= dout / n
        return dx


class BatchNorm(layers.BatchNorm):
    """``layers.BatchNorm`` with fewer passes and temporaries: σ² and ∂L/∂γ as one-pass einsum
    sums, x̂ in the centred array's own memory, and the book's chain rule gathered into
    ∂L/∂x = (γ / s) · (dout − ∂L/∂β / N − x̂ · ∂L/∂γ / N) (the same: γ is constant over n)."""

    def forward(self, x):
        n = len(x)
        kernels = compiled.loaded_for(x, self.params[self.gamma_key]) if x.ndim == 2 else None
        if self.training and kernels is not None:
            return self._forward_compiled(kernels, x)
        if self.training:
            mu = np.add.reduce(x, axis=0) / n
            xc = x - mu
            var = np.einsum("nd,nd->d", xc, xc) / n
            m = self.momentum
            # new arrays, not in-place: a saved copy of the buffers is never changed behind its back
            self.buffers[self.mean_key] = m * self.buffers[self.mean_key] + (1 - m) * mu
            self.buffers[self.var_key] = m * self.buffers[self.var_key] + (1 - m) * var
        else:
            xc = x - self.buffers[self.mean_key]
            var = self.buffers[self.var_key]
        self.std = np.sqrt(var + self.eps)
        self.x_hat = np.divide(xc, self.std, out=xc)
        out = self.params[self.gamma_key] * self.x_hat
        out += self.params[self.beta_key]
        return out

    def _forward_compiled(self, kernels, x):
        """The training forward above, in one compiled kernel (the running averages as there)."""
        gamma, beta = self.params[self.gamma_key], self.params[self.beta_key]
        mu, var, self.std = (np.empty_like(gamma) for _ in range(3))
        self.x_hat, out = np.empty_like(x), np.empty_like(x)
        n = x.dtype.type
        kernels.batch_norm(
            x, gamma, beta, n(self.eps), n(len(x)), mu, var, self.std, self.x_hat, out
        )
        m = self.momentum
        self.buffers[self.mean_key] = m * self.buffers[self.mean_key] + (1 - m) * mu
        self.buffers[self.var_key] = m * self.buffers[self.var_key] + (1 - m) * var
        return out

    def backward(self, dout):
        gamma = self.params[self.gamma_key]
        kernels = compiled.loaded_for(dout, self.x_hat, gamma) if self.training else None
        if kernels is not None:
            self.dgamma, self.dbeta, dx = (
                np.empty_like(gamma),
                np.empty_like(gamma),
                np.empty_like(dout),
            )
            kernels.batch_norm_backward(
                dout,
                self.x_hat,
                self.std,
                gamma,
                dout.dtype.type(len(dout)),
                self.dgamma,
                self.dbeta,
                dx,
            )
            return dx
        self.dbeta = np.add.reduce(dout, axis=0)
        self.dgamma = np.einsum("nd,nd->d", dout, self.x_hat)
        scale = self.params[self.gamma_key] / self.std  # γ / s
        if not self.training:
            return dout * scale
        n = len(dout)
        dx = self.x_hat * (self.dgamma / n)
        dx += self.dbeta / n
        np.subtract(dout, dx, out=dx)
        dx *= scale
        return dx
