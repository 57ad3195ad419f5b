"""The engine's layers: the textbook's (``nnscratch.layers``) with the same interfaces, state and
results, computed with fewer passes and temporaries. Each subclasses its textbook layer and
overrides only how forward and backward compute; tests prove them equal (float64, relative
difference ≤ 1e-12).
"""

import numpy as np

from .. import layers
from ..functions import negative_log_likelihood, to_index_labels
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
        return dout * (self.out > 0)


class SoftmaxWithLoss(layers.SoftmaxWithLoss):
    """``layers.SoftmaxWithLoss``: softmax as exp(log_softmax) from the engine's log-softmax, the
    true classes picked by flat positions kept for backward, ∂L/∂x written into one new array."""

    positions = None  # where the labels sit in y.ravel()

    def forward(self, x, t):
        log_y = log_softmax(x)
        self.y = np.exp(log_y)
        t = np.asarray(t)
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

    def backward(self, dout):
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
