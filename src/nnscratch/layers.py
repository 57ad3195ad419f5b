"""Layers of chapter 5: each ``forward`` keeps exactly what its ``backward`` needs.

``backward(dout)`` takes ∂L/∂out and returns ∂L/∂x; it never writes into its arguments or into
what forward kept. Layers with parameters read them from the network's ``params`` dict by key at
every call (so perturbing or replacing ``params["W1"]`` is always seen) and after backward give
their gradients by the same keys through ``param_grads()``.
"""

import numpy as np

from .functions import log_softmax, negative_log_likelihood, sigmoid


class Affine:
    """Fully connected layer: out = x·W + b.

    Shapes: x (N, D), W (D, H), b (H,), out (N, H).
    Backward: ∂L/∂x = dout·Wᵀ (N, D), ∂L/∂W = xᵀ·dout (D, H), ∂L/∂b = Σ_n dout_n (H,).
    """

    def __init__(self, params, weight_key, bias_key):
        self.params = params
        self.weight_key = weight_key
        self.bias_key = bias_key
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        return x @ self.params[self.weight_key] + self.params[self.bias_key]

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.params[self.weight_key].T

    def param_grads(self):
        return {self.weight_key: self.dW, self.bias_key: self.db}


class Sigmoid:
    """out = σ(x) elementwise; backward: ∂L/∂x = dout · out · (1 - out)."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)


class Relu:
    """out = max(0, x) elementwise; backward: ∂L/∂x = dout where x > 0, else 0."""

    def __init__(self):
        self.positive = None

    def forward(self, x):
        self.positive = x > 0
        return np.where(self.positive, x, 0)

    def backward(self, dout):
        return np.where(self.positive, dout, 0)


class Tanh:
    """out = tanh(x) elementwise; backward: ∂L/∂x = dout · (1 - out²)."""

    def __init__(self):
        self.out = None

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

    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        log_y = log_softmax(x)
        self.y = np.exp(log_y)
        self.t = np.asarray(t)
        return negative_log_likelihood(log_y, self.t)

    def backward(self, dout=1.0):
        n = self.y.shape[0]
        if self.t.shape == self.y.shape:
            dx = self.y - self.t
        else:
            dx = self.y.copy()
            dx[np.arange(n), self.t.reshape(n)] -= 1.0
        return dx * (dout / n)


ACTIVATIONS = {"sigmoid": Sigmoid, "relu": Relu, "tanh": Tanh}
