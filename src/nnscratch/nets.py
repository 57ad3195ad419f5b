"""Networks built from layers: the notebook's TwoLayerNet and the deeper MultiLayerNet.

A network is a ``params`` dict (the textbook's W1, b1, W2, b2, ...), a list of layers that read it,
and a loss layer on top (SoftmaxWithLoss). ``gradient`` is backpropagation; ``numerical_gradient``
the notebook's central differences over every parameter — the slow yardstick backprop is checked
against. State that is not a parameter (BatchNorm's running mean and variance) lives in ``buffers``.
"""

import contextlib
import numbers

import numpy as np

from . import functions
from .errors import NnscratchError
from .layers import ACTIVATIONS, Affine, BatchNorm, Dropout, SoftmaxWithLoss
from .numgrad import numerical_gradient

WEIGHT_INITS = ("he", "xavier")


def _activation_layer(name):
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise NnscratchError(
            f"unknown activation {name!r}: use one of {', '.join(ACTIVATIONS)}") from None


def _check_positive_int(name, value):
    if not (isinstance(value, (int, np.integer)) and value > 0):
        raise NnscratchError(f"{name} must be a positive integer, got {value!r}")


class LayerNet:
    """What every network here shares: forward through ``layers``, loss, accuracy, gradients,
    weight decay and the train/eval switch.

    Subclasses fill ``self.params`` (dict of arrays), ``self.layers`` (list), ``self.last_layer``
    (a loss layer such as SoftmaxWithLoss) and optionally ``self.buffers`` (non-trainable state)
    and ``self.weight_decay_lambda`` λ, which adds ½ λ Σ_l ‖W_l‖² (the weights only, not biases
    nor BatchNorm's γ, β) to the loss and λ W_l to each weight's gradient.

    Mode: a new network is in training mode (Dropout drops, BatchNorm uses batch statistics and
    updates its running ones). ``predict`` and ``accuracy`` always run in evaluation mode;
    ``loss`` and the gradients run in the current mode.
    """

    params: dict
    layers: list
    last_layer: SoftmaxWithLoss
    buffers: dict = {}  # read-only default for nets without state; MultiLayerNet has its own
    weight_decay_lambda: float = 0.0
    training: bool = True

    # --- mode -----------------------------------------------------------------------------
    def train(self, mode=True):
        """Switch to training mode (``mode=False``: evaluation mode); returns the network."""
        self.training = bool(mode)
        for layer in self.layers:
            if hasattr(layer, "training"):
                layer.training = self.training
        return self

    def eval(self):
        """Switch to evaluation mode: Dropout is the identity, BatchNorm uses running statistics."""
        return self.train(False)

    @contextlib.contextmanager
    def evaluating(self):
        """``with net.evaluating():`` evaluation mode inside, the previous mode restored after."""
        previous = self.training
        self.eval()
        try:
            yield self
        finally:
            self.train(previous)

    # --- forward --------------------------------------------------------------------------
    def scores(self, x):
        """Scores (logits) before softmax: x (N, D) → (N, C), in the current mode."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def predict(self, x):
        """Class probabilities softmax(scores), row by row, in evaluation mode:
        x (N, D) → (N, C); x (D,) → (C,)."""
        x = np.asarray(x)
        if x.ndim == 1:
            return self.predict(x[np.newaxis, :])[0]
        with self.evaluating():
            return functions.softmax(self.scores(x))

    def weight_keys(self):
        """The keys of the weight matrices (W1, W2, ...), the ones weight decay acts on."""
        return [key for key in self.params if key.startswith("W")]

    def loss(self, x, t):
        """Mean cross-entropy of the predictions, L = -(1/N) Σ_n log y[n, t_n], plus the weight
        decay ½ λ Σ_l ‖W_l‖² when λ > 0."""
        loss = self.last_layer.forward(self.scores(x), t)
        if self.weight_decay_lambda:
            loss = loss + 0.5 * self.weight_decay_lambda * sum(
                np.sum(self.params[key] ** 2) for key in self.weight_keys())
        return loss

    def accuracy(self, x, t):
        """Fraction of samples whose most probable class is the label (index or one-hot),
        in evaluation mode."""
        with self.evaluating():
            return functions.accuracy(self.scores(x), t)

    # --- gradients ------------------------------------------------------------------------
    def numerical_gradient(self, x, t, h=1e-4):
        """∂L/∂θ for every parameter by central differences (two loss evaluations per weight).

        The running statistics in ``buffers`` are restored afterwards: thousands of forward
        passes are a measurement, not training."""
        saved = dict(self.buffers)
        loss_w = lambda _: self.loss(x, t)  # noqa: E731 - reads the perturbed params in place
        try:
            return {key: numerical_gradient(loss_w, param, h) for key, param in self.params.items()}
        finally:
            self.buffers.update(saved)

    def gradient(self, x, t):
        """∂L/∂θ for every parameter by backpropagation: one forward and one backward pass."""
        return self.loss_gradient(x, t)[1]

    def loss_gradient(self, x, t):
        """``(L, grads)``: the loss of the forward pass and backprop's ∂L/∂θ for every parameter."""
        loss = self.loss(x, t)
        dout = self.last_layer.backward(1.0)
        grads = {}
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if i == 0 and hasattr(layer, "backward_params"):
                layer.backward_params(dout)  # the gradient w.r.t. the data is not needed
            else:
                dout = layer.backward(dout)
            if hasattr(layer, "param_grads"):
                grads.update(layer.param_grads())
        if self.weight_decay_lambda:
            for key in self.weight_keys():
                grads[key] = grads[key] + self.weight_decay_lambda * self.params[key]
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
            _check_positive_int(name, value)
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": weight_init_std * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }
        self.buffers = {}
        self.layers = [Affine(self.params, "W1", "b1"), _activation_layer(activation),
                       Affine(self.params, "W2", "b2")]
        self.last_layer = SoftmaxWithLoss()


def init_std(weight_init, fan_in):
    """Standard deviation of the initial weights of a layer with ``fan_in`` inputs:
    "he" √(2 / fan_in) (for ReLU), "xavier" √(1 / fan_in) (for sigmoid and tanh), or a number."""
    if isinstance(weight_init, str):
        if weight_init == "he":
            return np.sqrt(2.0 / fan_in)
        if weight_init == "xavier":
            return np.sqrt(1.0 / fan_in)
        raise NnscratchError(f"unknown weight init {weight_init!r}: use 'he', 'xavier' or a "
                             "standard deviation such as 0.01")
    if isinstance(weight_init, numbers.Real) and weight_init > 0:
        return float(weight_init)
    raise NnscratchError(f"weight init must be 'he', 'xavier' or a positive standard deviation, "
                         f"got {weight_init!r}")


class MultiLayerNet(LayerNet):
    """A fully connected network of any depth:
    x → [Affine → (BatchNorm) → activation → (Dropout)] × len(hidden_sizes) → Affine → softmax.

    Parameters: W1..W{L}, b1..b{L} with L = len(hidden_sizes) + 1, W_l (n_{l-1}, n_l) drawn from
    N(0, std²) (``weight_init``: "he", "xavier" or a std; see :func:`init_std`), biases 0; with
    ``use_batchnorm`` also gamma1.., beta1.. (n_l,) starting at 1 and 0, and the buffers
    running_mean1.., running_var1.. starting at 0 and 1. ``weight_decay_lambda`` λ ≥ 0 (L2 penalty),
    ``dropout`` p in [0, 1) after each hidden activation. ``seed`` makes weights and dropout masks
    reproducible.
    """

    def __init__(self, input_size, hidden_sizes, output_size, activation="relu", weight_init="he",
                 weight_decay_lambda=0.0, dropout=0.0, use_batchnorm=False, seed=None):
        hidden_sizes = list(hidden_sizes)
        _check_positive_int("input_size", input_size)
        _check_positive_int("output_size", output_size)
        for size in hidden_sizes:
            _check_positive_int("every hidden size", size)
        if not (isinstance(weight_decay_lambda, numbers.Real) and weight_decay_lambda >= 0):
            raise NnscratchError(f"weight decay λ must be a number ≥ 0, got {weight_decay_lambda!r}")
        if not (isinstance(dropout, numbers.Real) and 0 <= dropout < 1):
            raise NnscratchError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        _activation_layer(activation)  # a clear error for an unknown name, before any work
        self.input_size, self.hidden_sizes, self.output_size = input_size, hidden_sizes, output_size
        self.activation, self.weight_init = activation, weight_init
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.dropout, self.use_batchnorm = float(dropout), bool(use_batchnorm)

        rng = np.random.default_rng(seed)
        sizes = [input_size, *hidden_sizes, output_size]
        self.params, self.buffers, self.layers = {}, {}, []
        for i in range(1, len(sizes)):
            std = init_std(weight_init, sizes[i - 1])
            self.params[f"W{i}"] = std * rng.standard_normal((sizes[i - 1], sizes[i]))
            self.params[f"b{i}"] = np.zeros(sizes[i])
        # dropout masks from their own stream, so that dropout on/off leaves the weights unchanged
        dropout_rng = np.random.default_rng(rng.integers(2 ** 63))
        for i in range(1, len(sizes)):
            self.layers.append(Affine(self.params, f"W{i}", f"b{i}"))
            if i == len(sizes) - 1:
                break
            if self.use_batchnorm:
                self.params[f"gamma{i}"] = np.ones(sizes[i])
                self.params[f"beta{i}"] = np.zeros(sizes[i])
                self.buffers[f"running_mean{i}"] = np.zeros(sizes[i])
                self.buffers[f"running_var{i}"] = np.ones(sizes[i])
                self.layers.append(BatchNorm(self.params, f"gamma{i}", f"beta{i}", self.buffers,
                                             f"running_mean{i}", f"running_var{i}"))
            self.layers.append(_activation_layer(activation))
            if self.dropout:
                self.layers.append(Dropout(self.dropout, dropout_rng))
        self.last_layer = SoftmaxWithLoss()
        self.train()

    def config(self):
        """The constructor's arguments (seed aside): enough to rebuild the same architecture."""
        return {"input_size": self.input_size, "hidden_sizes": list(self.hidden_sizes),
                "output_size": self.output_size, "activation": self.activation,
                "weight_init": self.weight_init, "weight_decay_lambda": self.weight_decay_lambda,
                "dropout": self.dropout, "use_batchnorm": self.use_batchnorm}
