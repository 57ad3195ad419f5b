"""The book's networks with their gradients from the graph: the same classes, parameters, seeds and
layers as ``nnscratch.nets`` and ``nnscratch.convnets``, but ``loss_gradient`` builds the forward
pass out of autograd functions and calls ``backward()`` — no layer's hand-written backward is
used. The tests prove the two give the same loss and gradients, and the same training history.

Each layer of ``net.layers`` is one function of the graph (:data:`FUNCTIONS`): Affine is
``linear(x, W, b)``, ReLU is ``relu(x)``, BatchNorm is ``batch_norm(...)`` on the network's own
running statistics, Dropout is ``dropout(x, p, rng)`` from the layer's own generator (the same
masks), Convolution ``conv2d``, Pooling ``pooling``, Flatten a reshape; the loss is
``softmax_cross_entropy`` plus ½ λ Σ ‖W‖² when there is weight decay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import conv, convnets, layers, nets
from ..errors import NnscratchError
from . import functions as F
from .core import Parameter, Variable, no_grad

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike, NDArray


def _batch_norm(layer: layers.BatchNorm, x: Variable, p: dict[str, Variable], training: bool):
    # a node of its own on the network's running statistics: what the node keeps for its backward
    # is its own, whatever passes run before that backward
    keys = (layer.mean_key, layer.var_key)
    gamma, beta = p[layer.gamma_key], p[layer.beta_key]
    return F.batch_norm(x, gamma, beta, layer.buffers, keys, training, layer.momentum, layer.eps)


def _dropout(layer: layers.Dropout, x: Variable, p: dict[str, Variable], training: bool):
    return F.dropout(x, layer.ratio, layer.rng, training, mask=layer.fixed_mask)


def _pooling(layer: conv.Pooling, x: Variable, p: dict[str, Variable], training: bool):
    return F.pooling(x, layer.pool_h, layer.pool_w, layer.stride, layer.pad, layer.mode)


#: the textbook's layer class → its function of the graph, (layer, x, parameters, training) → y
FUNCTIONS: dict[type, Callable[..., Variable]] = {
    layers.Affine: lambda layer, x, p, training: F.linear(
        x, p[layer.weight_key], p[layer.bias_key]
    ),
    layers.Relu: lambda layer, x, p, training: F.relu(x),
    layers.Sigmoid: lambda layer, x, p, training: F.sigmoid(x),
    layers.Tanh: lambda layer, x, p, training: F.tanh(x),
    layers.Dropout: _dropout,
    layers.Features: lambda layer, x, p, training: F.features(x, layer.names),
    layers.BatchNorm: _batch_norm,
    conv.Convolution: lambda layer, x, p, training: F.conv2d(
        x, p[layer.weight_key], p[layer.bias_key], layer.stride, layer.pad
    ),
    conv.Pooling: _pooling,
    conv.Flatten: lambda layer, x, p, training: F.reshape(x, (len(x), -1)),
}


def function_of(layer: Any) -> Callable[..., Variable]:
    """The graph's function for ``layer`` (an engine's subclass finds its textbook class)."""
    for cls in type(layer).__mro__:
        if cls in FUNCTIONS:
            return FUNCTIONS[cls]
    raise NnscratchError(f"autograd has no function for a {type(layer).__name__} layer")


def parameters(net: Any) -> dict[str, Variable]:
    """``net``'s parameters as leaves of a new graph: Parameter(params[key], name=key), sharing
    the arrays (an optimizer's in-place step changes both)."""
    return {key: Parameter(value, name=key) for key, value in net.params.items()}


def forward(net: Any, x: ArrayLike, p: dict[str, Variable]) -> Variable:
    """The scores (N, C) of any of the book's networks as a graph: x through each of
    ``net.layers``' functions, in the network's mode, reading the parameters ``p``."""
    h = Variable(np.asarray(x, dtype=net.dtype), name="x")
    for layer in net.layers:
        h = function_of(layer)(layer, h, p, net.training)
    return h


def loss_variable(net: Any, x: ArrayLike, t: ArrayLike, p: dict[str, Variable]) -> Variable:
    """L = softmax_cross_entropy(forward(x), t) + ½ λ Σ_l Σ W_l², as a graph."""
    loss = F.softmax_cross_entropy(forward(net, x, p), t)
    if net.weight_decay_lambda:
        squares = [F.sum(p[key] ** 2) for key in net.params if key.startswith("W")]
        total = squares[0]
        for square in squares[1:]:
            total = total + square
        loss = loss + 0.5 * net.weight_decay_lambda * total
    loss.name = "L"
    return loss


class AutogradNet:
    """What the autograd networks add to a textbook network (put first among the bases): the
    scores from the graph's functions, and the gradients from ``backward()``."""

    def scores(self, x: ArrayLike) -> NDArray[np.floating]:
        """The scores (N, C), computed by the graph's functions without recording it."""
        with no_grad():
            return forward(self, x, parameters(self)).data

    def loss_gradient(self, x: ArrayLike, t: ArrayLike) -> tuple[Any, dict[str, Any]]:
        """``(L, grads)``: the loss and ∂L/∂θ for every parameter, by ``L.backward()``."""
        x = np.asarray(x)
        if x.ndim == 1:  # one sample: a batch of one, as LayerNet.loss
            x, t = x[np.newaxis, :], np.asarray(t)[np.newaxis, ...]
        p = parameters(self)
        loss = loss_variable(self, x, t, p)
        loss.backward()
        grads = {
            key: np.zeros_like(v.data) if v.grad is None else v.grad.data for key, v in p.items()
        }
        return loss.data[()], grads


class TwoLayerNet(AutogradNet, nets.TwoLayerNet):
    """The notebook's TwoLayerNet (same arguments, same weights for a seed), its gradients by
    autograd."""


class MultiLayerNet(AutogradNet, nets.MultiLayerNet):
    """MultiLayerNet (batch norm, dropout, weight decay as the textbook's), its gradients by
    autograd."""


class SimpleConvNet(AutogradNet, convnets.SimpleConvNet):
    """The book's chapter-7 SimpleConvNet, its gradients by autograd."""
