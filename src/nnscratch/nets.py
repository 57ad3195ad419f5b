"""Networks built from layers: the notebook's TwoLayerNet and the deeper MultiLayerNet.

Textbook code. A network is a ``params`` dict (the textbook's W1, b1, W2, b2, ...), a list of
layers that read it, and a loss layer on top (SoftmaxWithLoss). ``gradient`` is backpropagation;
``numerical_gradient`` the notebook's central differences over every parameter — the slow
yardstick backprop is checked against. State that is not a parameter (BatchNorm's running mean
and variance) lives in ``buffers``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import numpy as np

from . import functions
from .errors import NnscratchError
from .layers import (
    ACTIVATIONS,
    Affine,
    BatchNorm,
    Dropout,
    Features,
    SoftmaxWithLoss,
    check_features,
)
from .numgrad import numerical_gradient
from .validation import (
    PROBABILITY,
    check_choice,
    check_float_dtype,
    check_number,
    check_positive_int,
    default_of,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from numpy.typing import ArrayLike, DTypeLike, NDArray
    from typing_extensions import Self

    from .layers import Layer

WEIGHT_INITS = ("he", "xavier")

#: Rows per forward pass in ``predict`` and ``accuracy``: evaluating 60,000 images at once would
#: hold every layer's (60000, width) activations at the same time (123 MB for a width of 256 in
#: float64); in chunks the memory is bounded and the scores are the same, row by row.
EVAL_BATCH = 4096
#: positions per forward pass of a language model's evaluation: 2,048 × a vocabulary of 9,512
#: (全唐诗) float32 scores are 78 MB, and the loss holds a few arrays of that size
EVAL_TOKENS = 2048


def normal_weights(
    rng: np.random.Generator, std: float, shape: tuple[int, ...], dtype: DTypeLike
) -> NDArray[np.floating]:
    """N(0, std²) weights of ``shape``: drawn in float64, then rounded to ``dtype``, so that a
    float32 network starts from the float64 network's weights (same seed), rounded."""
    return (std * rng.standard_normal(shape)).astype(dtype, copy=False)


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

    dtype: the parameters' float type (``self.dtype``, float64 unless the subclass was given
    float32); inputs are cast to it on the way in, so that a float32 network computes in float32
    from end to end.
    """

    params: dict[str, NDArray[np.floating]]
    layers: list[Layer]
    last_layer: SoftmaxWithLoss
    # read-only default for nets without state; MultiLayerNet has its own
    buffers: dict[str, NDArray[np.floating]] = {}
    weight_decay_lambda: float = 0.0
    training: bool = True
    dtype: np.dtype = np.dtype(np.float64)
    #: whether the inputs are token ids (a language model's), given to the first layer as ints
    takes_ids: bool = False

    # --- mode -----------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        """Switch to training mode (``mode=False``: evaluation mode); returns the network."""
        self.training = bool(mode)
        for layer in self.layers:
            if hasattr(layer, "training"):
                layer.training = self.training
        return self

    def eval(self) -> Self:
        """Switch to evaluation mode: Dropout is the identity, BatchNorm uses running statistics."""
        return self.train(False)

    @contextlib.contextmanager
    def evaluating(self) -> Iterator[Self]:
        """``with net.evaluating():`` evaluation mode inside, the previous mode restored after."""
        previous = self.training
        self.eval()
        try:
            yield self
        finally:
            self.train(previous)

    # --- forward --------------------------------------------------------------------------
    def scores(self, x: ArrayLike) -> NDArray[np.floating]:
        """Scores (logits) before softmax: x (N, D) → (N, C), in the current mode and the
        network's dtype (x is cast to it: the cast matmul would make anyway, done once; token
        ids, where ``takes_ids``, stay ints)."""
        x = np.asarray(x)
        if x.dtype != self.dtype and not self.takes_ids:
            x = x.astype(self.dtype)
        for layer in self.layers:
            x = layer.forward(x)
        return x

    @property
    def eval_batch(self) -> int:
        """Rows per forward pass in ``predict`` and ``accuracy``: ``EVAL_BATCH`` (a network whose
        layers hold more per row sets fewer)."""
        return EVAL_BATCH

    def _evaluation_scores(self, x: ArrayLike) -> NDArray[np.floating]:
        """``scores(x)`` computed ``eval_batch`` rows at a time (call in evaluation mode, where
        each row's scores depend on that row alone)."""
        x = np.asarray(x)
        batch = self.eval_batch
        if x.ndim < 2 or len(x) <= batch:
            return self.scores(x)
        return np.concatenate([self.scores(x[i : i + batch]) for i in range(0, len(x), batch)])

    def predict(self, x: ArrayLike) -> NDArray[np.floating]:
        """Class probabilities softmax(scores), row by row, in evaluation mode:
        x (N, D) → (N, C); x (D,) → (C,)."""
        x = np.asarray(x)
        if x.ndim == 1:
            return self.predict(x[np.newaxis, :])[0]
        with self.evaluating():
            return functions.softmax(self._evaluation_scores(x))

    def weight_keys(self) -> list[str]:
        """The keys of the weight matrices (W1, W2, ...), the ones weight decay acts on."""
        return [key for key in self.params if key.startswith("W")]

    def loss(self, x: ArrayLike, t: ArrayLike) -> np.floating:
        """Mean cross-entropy of the predictions, L = -(1/N) Σ_n log y[n, t_n], plus the weight
        decay ½ λ Σ_l ‖W_l‖² when λ > 0. A single sample x (D,) with an int or one-hot (C,) label
        is a batch of one (so gradients and BatchNorm see rows, never a lone vector)."""
        x = np.asarray(x)
        if x.ndim == 1:
            x, t = x[np.newaxis, :], np.asarray(t)[np.newaxis, ...]
        return self._loss_of_scores(self.scores(x), t)

    def evaluation_loss(self, x: ArrayLike, t: ArrayLike) -> np.floating:
        """:meth:`loss` of a whole set in evaluation mode, its scores computed ``eval_batch``
        rows at a time: the same L, without every layer's activations of the whole set in
        memory at once (6,000 images through a convolution would hold a gigabyte)."""
        with self.evaluating():
            if self.takes_ids:  # the mean of the windows' losses, a chunk of them at a time
                return self._by_chunks(x, t, lambda s, tc: self._loss_of_scores(s, tc))
            return self._loss_of_scores(self._evaluation_scores(x), t)

    def _by_chunks(self, x: ArrayLike, t: ArrayLike, measure: Callable[..., Any]) -> Any:
        """The mean over a language model's windows of ``measure(scores, t)``, computed
        ``EVAL_TOKENS`` positions at a time: the scores (N, T, V) of a whole text are not held
        at once (1,024 windows of 64 tokens over 2,558 are 670 MB in float32)."""
        x, t = np.asarray(x), np.asarray(t)
        batch = max(1, EVAL_TOKENS // x.shape[1])
        total = sum(
            measure(self.scores(x[i : i + batch]), t[i : i + batch]) * len(x[i : i + batch])
            for i in range(0, len(x), batch)
        )
        return total / len(x)

    def _loss_of_scores(self, scores: NDArray[np.floating], t: ArrayLike) -> np.floating:
        """L = -(1/N) Σ_n log softmax(scores)[n, t_n] (+ ½ λ Σ_l ‖W_l‖²)."""
        loss = self.last_layer.forward(scores, t)
        if self.weight_decay_lambda:
            loss = loss + functions.weight_decay(
                [self.params[key] for key in self.weight_keys()], self.weight_decay_lambda
            )
        return loss

    def accuracy(self, x: ArrayLike, t: ArrayLike) -> float:
        """Fraction of samples whose most probable class is the label (index or one-hot),
        in evaluation mode."""
        with self.evaluating():
            if self.takes_ids:
                return float(self._by_chunks(x, t, functions.accuracy))
            return functions.accuracy(self._evaluation_scores(x), t)

    # --- gradients ------------------------------------------------------------------------
    def numerical_gradient(
        self, x: ArrayLike, t: ArrayLike, h: float = 1e-4
    ) -> dict[str, NDArray[np.floating]]:
        """∂L/∂θ for every parameter by central differences (two loss evaluations per weight).

        The running statistics in ``buffers`` are restored afterwards: thousands of forward
        passes are a measurement, not training."""
        saved = dict(self.buffers)
        loss_w = lambda _: self.loss(x, t)  # noqa: E731 - reads the perturbed params in place
        try:
            return {key: numerical_gradient(loss_w, param, h) for key, param in self.params.items()}
        finally:
            self.buffers.update(saved)

    def gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray[np.floating]]:
        """∂L/∂θ for every parameter by backpropagation: one forward and one backward pass."""
        return self.loss_gradient(x, t)[1]

    def loss_gradient(
        self, x: ArrayLike, t: ArrayLike
    ) -> tuple[np.floating, dict[str, NDArray[np.floating]]]:
        """``(L, grads)``: the loss of the forward pass and backprop's ∂L/∂θ for every parameter:
        ∂L/∂out flows back through the layers in reverse order, each turning it into ∂L/∂x (and
        keeping its parameters' gradients), as in the book."""
        loss = self.loss(x, t)
        dout = self.last_layer.backward(1.0)
        grads: dict[str, NDArray[np.floating]] = {}
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
            if hasattr(layer, "param_grads"):
                grads.update(layer.param_grads())
        if self.weight_decay_lambda:  # ∂(½ λ ‖W‖²)/∂W = λ W
            for key in self.weight_keys():
                grads[key] = grads[key] + self.weight_decay_lambda * self.params[key]
        return loss, {key: grads[key] for key in self.params}


class TwoLayerNet(LayerNet):
    """The notebook's network: x → Affine(W1, b1) → sigmoid → Affine(W2, b2) → softmax.

    Shapes: W1 (input_size, hidden_size), b1 (hidden_size,), W2 (hidden_size, output_size),
    b2 (output_size,). Weights are drawn from N(0, weight_init_std²), biases start at 0, from
    ``np.random.default_rng(seed)`` (same seed, same weights). ``dtype``: float64 (default) or
    float32 (the same weights rounded; training runs in float32 from end to end).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
        seed: int | np.random.SeedSequence | np.random.Generator | None = None,
        activation: str = "sigmoid",
        dtype: DTypeLike = np.float64,
    ) -> None:
        # plain Python values: config() is saved as JSON with models and checkpoints
        self.input_size = check_positive_int(input_size, "input_size")
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.output_size = check_positive_int(output_size, "output_size")
        self.activation = check_choice(activation, ACTIVATIONS, "activation")
        self.dtype = check_float_dtype(dtype)
        self.weight_init_std = check_number(
            weight_init_std,
            "weight_init_std",
            0,
            hint=f"the notebook's {default_of(TwoLayerNet, 'weight_init_std')}",
        )
        d, h, c, std = self.input_size, self.hidden_size, self.output_size, self.weight_init_std
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": normal_weights(rng, std, (d, h), self.dtype),
            "b1": np.zeros(h, self.dtype),
            "W2": normal_weights(rng, std, (h, c), self.dtype),
            "b2": np.zeros(c, self.dtype),
        }
        self.buffers = {}
        self.layers = [
            Affine(self.params, "W1", "b1"),
            ACTIVATIONS[activation](),
            Affine(self.params, "W2", "b2"),
        ]
        self.last_layer = SoftmaxWithLoss()

    def config(self) -> dict[str, Any]:
        """The constructor's arguments (seed aside): enough to rebuild the same architecture."""
        return {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "output_size": self.output_size,
            "activation": self.activation,
            "weight_init_std": self.weight_init_std,
            "dtype": self.dtype.name,
        }


def init_std(weight_init: str | float, fan_in: int) -> float:
    """Standard deviation of the initial weights of a layer with ``fan_in`` inputs:
    "he" √(2 / fan_in) (for ReLU), "xavier" √(1 / fan_in) (for sigmoid and tanh), or a number."""
    if isinstance(weight_init, str):
        gain = {"he": 2.0, "xavier": 1.0}[check_choice(weight_init, WEIGHT_INITS, "weight_init")]
        return np.sqrt(gain / fan_in)
    return check_number(
        weight_init,
        "weight init",
        0,
        low_open=True,
        hint="'he', 'xavier' or a standard deviation such as 0.01",
    )


class MultiLayerNet(LayerNet):
    """A fully connected network of any depth:
    x → [Affine → (BatchNorm) → activation → (Dropout)] × len(hidden_sizes) → Affine → softmax.

    Parameters: W1..W{L}, b1..b{L} with L = len(hidden_sizes) + 1, W_l (n_{l-1}, n_l) drawn from
    N(0, std²) (``weight_init``: "he", "xavier" or a std; see :func:`init_std`), biases 0; with
    ``use_batchnorm`` also gamma1.., beta1.. (n_l,) starting at 1 and 0, and the buffers
    running_mean1.., running_var1.. starting at 0 and 1. ``weight_decay_lambda`` λ ≥ 0 (L2 penalty),
    ``dropout`` p in [0, 1) after each hidden activation. ``seed`` makes weights and dropout masks
    reproducible. ``dtype`` float64 (default) or float32: parameters and buffers, and so the
    whole computation (float32 weights are the float64 ones rounded).

    ``features`` (2-D points only): TensorFlow Playground's input features, e.g. ``["x1", "x2",
    "x1^2", "x2^2"]`` (:data:`~nnscratch.layers.FEATURES`); a :class:`~nnscratch.layers.Features`
    layer comes first, x (N, 2) → φ(x) (N, K), and W1 is (K, n_1). The network still takes the
    points (N, 2), so its boundary, its predictions and its model file are a plain network's.
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init: str | float = "he",
        weight_decay_lambda: float = 0.0,
        dropout: float = 0.0,
        use_batchnorm: bool = False,
        seed: int | np.random.SeedSequence | np.random.Generator | None = None,
        dtype: DTypeLike = np.float64,
        features: Sequence[str] | None = None,
    ) -> None:
        # plain Python numbers: config() is saved as JSON with models and checkpoints
        self.input_size = check_positive_int(input_size, "input_size")
        self.features = None if features is None else check_features(features)
        if self.features is not None and self.input_size != 2:
            raise NnscratchError(
                f"features are made of a 2-D point (x1, x2), but input_size is "
                f"{self.input_size}: leave features out for other data"
            )
        self.hidden_sizes = [check_positive_int(size, "every hidden size") for size in hidden_sizes]
        self.output_size = check_positive_int(output_size, "output_size")
        self.activation = check_choice(activation, ACTIVATIONS, "activation")
        self.weight_init = (
            weight_init if isinstance(weight_init, str) else init_std(weight_init, 1)
        )  # a number: checked, as a float
        self.weight_decay_lambda = check_number(
            weight_decay_lambda, "weight decay λ", 0, hint="0 for none, e.g. 0.01 for a little"
        )
        self.dropout = PROBABILITY.check(
            dropout, "dropout", hint="the fraction of hidden units dropped, e.g. 0.5, 0 none"
        )
        self.use_batchnorm = bool(use_batchnorm)
        self.dtype = dtype = check_float_dtype(dtype)

        rng = np.random.default_rng(seed)
        inputs = self.input_size if self.features is None else len(self.features)
        sizes = [inputs, *self.hidden_sizes, self.output_size]
        self.params, self.buffers, self.layers = {}, {}, []
        if self.features is not None:
            self.layers.append(Features(self.features))
        for i in range(1, len(sizes)):
            std = init_std(weight_init, sizes[i - 1])
            self.params[f"W{i}"] = normal_weights(rng, std, (sizes[i - 1], sizes[i]), dtype)
            self.params[f"b{i}"] = np.zeros(sizes[i], dtype)
        # dropout masks from their own stream, so that dropout on/off leaves the weights unchanged
        dropout_rng = np.random.default_rng(rng.integers(2**63))
        for i in range(1, len(sizes)):
            self.layers.append(Affine(self.params, f"W{i}", f"b{i}"))
            if i == len(sizes) - 1:
                break
            if self.use_batchnorm:
                self.params[f"gamma{i}"] = np.ones(sizes[i], dtype)
                self.params[f"beta{i}"] = np.zeros(sizes[i], dtype)
                self.buffers[f"running_mean{i}"] = np.zeros(sizes[i], dtype)
                self.buffers[f"running_var{i}"] = np.ones(sizes[i], dtype)
                self.layers.append(
                    BatchNorm(
                        self.params,
                        f"gamma{i}",
                        f"beta{i}",
                        self.buffers,
                        f"running_mean{i}",
                        f"running_var{i}",
                    )
                )
            self.layers.append(ACTIVATIONS[activation]())
            if self.dropout:
                self.layers.append(Dropout(self.dropout, dropout_rng))
        self.last_layer = SoftmaxWithLoss()
        self.train()

    def config(self) -> dict[str, Any]:
        """The constructor's arguments (seed aside): enough to rebuild the same architecture."""
        return {
            "input_size": self.input_size,
            "hidden_sizes": list(self.hidden_sizes),
            "output_size": self.output_size,
            "activation": self.activation,
            "weight_init": self.weight_init,
            "weight_decay_lambda": self.weight_decay_lambda,
            "dropout": self.dropout,
            "use_batchnorm": self.use_batchnorm,
            "dtype": self.dtype.name,
            "features": self.features,
        }
