"""Networks built from layers: the notebook's TwoLayerNet.

A network is a ``params`` dict (the textbook's W1, b1, W2, b2, ...), a list of layers that read it,
and a SoftmaxWithLoss on top. ``gradient`` is backpropagation; ``numerical_gradient`` the notebook's
central differences over every parameter — the slow yardstick backprop is checked against.
"""

import numpy as np

from . import functions
from .errors import NnscratchError
from .layers import ACTIVATIONS, Affine, SoftmaxWithLoss
from .numgrad import numerical_gradient


def _activation_layer(name):
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise NnscratchError(
            f"unknown activation {name!r}: use one of {', '.join(ACTIVATIONS)}") from None


class LayerNet:
    """What every network here shares: forward through ``layers``, loss, accuracy, gradients.

    Subclasses fill ``self.params`` (dict of arrays), ``self.layers`` (list) and
    ``self.last_layer`` (a SoftmaxWithLoss).
    """

    params: dict
    layers: list
    last_layer: SoftmaxWithLoss

    def scores(self, x):
        """Scores (logits) before softmax: x (N, D) → (N, C)."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def predict(self, x):
        """Class probabilities softmax(scores), row by row: x (N, D) → (N, C); x (D,) → (C,)."""
        x = np.asarray(x)
        if x.ndim == 1:
            return self.predict(x[np.newaxis, :])[0]
        return functions.softmax(self.scores(x))

    def loss(self, x, t):
        """Mean cross-entropy of the predictions: L = -(1/N) Σ_n log y[n, t_n]."""
        return self.last_layer.forward(self.scores(x), t)

    def accuracy(self, x, t):
        """Fraction of samples whose most probable class is the label (index or one-hot)."""
        return functions.accuracy(self.scores(x), t)

    def numerical_gradient(self, x, t, h=1e-4):
        """∂L/∂θ for every parameter by central differences (two loss evaluations per weight)."""
        loss_w = lambda _: self.loss(x, t)  # noqa: E731 - reads the perturbed params in place
        return {key: numerical_gradient(loss_w, param, h) for key, param in self.params.items()}

    def gradient(self, x, t):
        """∂L/∂θ for every parameter by backpropagation: one forward and one backward pass."""
        return self.loss_gradient(x, t)[1]

    def loss_gradient(self, x, t):
        """``(L, grads)``: the loss of the forward pass and backprop's ∂L/∂θ for every parameter."""
        loss = self.loss(x, t)
        dout = self.last_layer.backward(1.0)
        grads = {}
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
            if hasattr(layer, "param_grads"):
                grads.update(layer.param_grads())
        return loss, {key: grads[key] for key in self.params}


class TwoLayerNet(LayerNet):
    """The notebook's network: x → Affine(W1, b1) → sigmoid → Affine(W2, b2) → softmax.

    Shapes: W1 (input_size, hidden_size), b1 (hidden_size,), W2 (hidden_size, output_size),
    b2 (output_size,). Weights are drawn from N(0, weight_init_std²), biases start at 0, from
    ``np.random.default_rng(seed)`` (same seed, same weights).
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, seed=None,
                 activation="sigmoid"):
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                            ("output_size", output_size)):
            if not (isinstance(value, (int, np.integer)) and value > 0):
                raise NnscratchError(f"{name} must be a positive integer, got {value!r}")
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": weight_init_std * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }
        self.layers = [Affine(self.params, "W1", "b1"), _activation_layer(activation),
                       Affine(self.params, "W2", "b2")]
        self.last_layer = SoftmaxWithLoss()
