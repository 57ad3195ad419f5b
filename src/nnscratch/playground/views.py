"""What the page draws, computed by the library: every number here comes from the network's own
``predict``, layers and gradients; the browser only colours it in.

- :class:`Grid`: the plane around a 2-D set, cut into cells; the decision boundary is
  ``argmax_c net.predict(cell centre)`` with its probability, every hidden layer's units are
  that layer's activations at each cell (TensorFlow Playground's small heat maps), joined by
  their weights;
- :func:`weight_images`: the first layer's weights W1[:, j] of an image set, one image per unit;
- :func:`confusion`, :func:`gradient_errors`, :func:`model_bytes`, :func:`history_bytes`.
"""

import json
import tempfile
from pathlib import Path

import numpy as np

from ..gradcheck import gradient_check
from ..io import save_model
from ..layers import ACTIVATIONS, FEATURES, Features
from ..metrics import confusion_matrix
from ..plots.boundary import class_grid

#: cells per side of the decision boundary and of each unit's heat map
BOUNDARY_CELLS = 60
UNIT_CELLS = 24
#: the most samples of the current batch the gradient check uses (two losses per parameter)
GRADCHECK_SAMPLES = 16
#: digits shown: enough for the eye, few enough bytes per step
DECIMALS = 3


def rounded(a, decimals=DECIMALS):
    """``a`` as (nested) lists of floats rounded to ``decimals`` digits, for JSON."""
    return np.round(np.asarray(a, dtype=np.float64), decimals).tolist()


class Grid:
    """The rectangle [x_min, x_max] × [y_min, y_max]; cell (i, j) of an n × n grid has its centre
    at x = x_min + (j + ½)·(x_max − x_min)/n, y = y_max − (i + ½)·(y_max − y_min)/n (row 0 on
    top, as a canvas draws)."""

    def __init__(self, x_min, x_max, y_min, y_max):
        self.x_min, self.x_max, self.y_min, self.y_max = x_min, x_max, y_min, y_max

    @classmethod
    def around(cls, data, margin=0.1):
        """The data's bounding box (train and test), widened by ``margin`` of its span."""
        x = np.concatenate([data.x_train, data.x_test])
        low, high = x.min(axis=0), x.max(axis=0)
        pad = margin * np.maximum(high - low, 1e-3)
        return cls(
            float(low[0] - pad[0]),
            float(high[0] + pad[0]),
            float(low[1] - pad[1]),
            float(high[1] + pad[1]),
        )

    def extent(self):
        return {
            "x_min": self.x_min,
            "x_max": self.x_max,
            "y_min": self.y_min,
            "y_max": self.y_max,
            "cells": BOUNDARY_CELLS,
            "unit_cells": UNIT_CELLS,
        }

    def axes(self, n):
        """The n cell centres' x (left to right) and y (top to bottom) coordinates."""
        xs = self.x_min + (np.arange(n) + 0.5) * (self.x_max - self.x_min) / n
        ys = self.y_max - (np.arange(n) + 0.5) * (self.y_max - self.y_min) / n
        return xs, ys

    def centres(self, n):
        """The n² cell centres (n², 2), row by row from the top."""
        gx, gy = np.meshgrid(*self.axes(n))
        return np.c_[gx.ravel(), gy.ravel()]

    def boundary(self, net):
        """{"classes": argmax_c y (n²,), "confidence": max_c y (n²,)}, y = net.predict(centres):
        ``plots.class_grid`` on this grid's axes, row by row from the top."""
        classes, confidence = class_grid(net, *self.axes(BOUNDARY_CELLS))
        return {"classes": classes.ravel().tolist(), "confidence": rounded(confidence.ravel())}

    def network(self, net):
        """The whole network as the page draws it (TensorFlow Playground's view):
        ``{"inputs": {"names": every feature, "values": [feature [value at each centre]],
        "used": the network's}, "units": [layer [unit [value at each of the UNIT_CELLS²
        centres]]], "weights": [W1, W2, ...]}``: every input feature φ_k(x) over the plane
        (those the network does not take too, to be switched on), every hidden layer's outputs
        (after its activation, in evaluation mode), and the weights of the connections into
        each layer and the output (W1's rows: the used features, in their order)."""
        centres = self.centres(UNIT_CELLS)
        return {
            "inputs": {
                "names": list(FEATURES),
                "values": rounded(Features(list(FEATURES)).forward(centres).T),
                "used": net.features or ["x1", "x2"],
            },
            "units": [rounded(h.T) for h in hidden_layers(net, centres)],
            "weights": [rounded(w) for w in connection_weights(net)],
        }


def hidden_layers(net, x):
    """Each hidden layer's activations h_l = act(BN(h_{l-1} W_l + b_l)) (N, H_l) for inputs
    ``x``, in evaluation mode, first layer first."""
    activations = tuple(ACTIVATIONS.values())
    out = []
    with net.evaluating():
        h = np.asarray(x, dtype=net.dtype)
        for layer in net.layers:
            h = layer.forward(h)
            if isinstance(layer, activations):
                out.append(h)
    return out


def connection_weights(net):
    """W1, W2, ... of the network's Affine layers, in order: (inputs, H1), (H1, H2), ..., (H_L,
    classes)."""
    return [net.params[f"W{i}"] for i in range(1, len(net.params) + 1) if f"W{i}" in net.params]


def points(data):
    """The train and test points as [x0, x1, class] rows."""
    return {
        name: np.c_[np.round(x, DECIMALS), t].tolist()
        for name, x, t in (
            ("train", data.x_train, data.t_train),
            ("test", data.x_test, data.t_test),
        )
    }


def weight_images(net, data):
    """The first layer's weights as images: W1[:, j] reshaped to the image shape, for each unit j;
    {"shape": (H, W), "images": (units, H·W) rounded}."""
    return {
        "shape": list(data.info.get("image_shape", (1, net.input_size))),
        "images": rounded(net.params["W1"].T),
    }


def confusion(net, data):
    """The test set's confusion matrix C[true, predicted] (C, C) as lists."""
    predicted = net.predict(data.x_test).argmax(axis=1)
    return confusion_matrix(data.t_test, predicted, data.n_classes).tolist()


def gradient_errors(net, x, t):
    """Backprop against the numerical gradient on (x, t), the relative error per parameter.

    With dropout the check runs in evaluation mode (each forward pass would draw a new mask and
    the two gradients would see different networks); BatchNorm's running statistics are put back
    afterwards: a check is a measurement, not training."""
    saved, mode = dict(net.buffers), net.training
    net.train(not net.dropout)
    try:
        errors = gradient_check(net, x[:GRADCHECK_SAMPLES], t[:GRADCHECK_SAMPLES])
    finally:
        net.buffers.update(saved)
        net.train(mode)
    return {
        "errors": errors,
        "samples": int(min(len(x), GRADCHECK_SAMPLES)),
        "mode": "training" if not net.dropout else "evaluation (dropout off)",
    }


def model_config(settings, dataset, options):
    """What the model file says of the run: the dataset and the ``load_dataset`` options that
    draw it again (``nnscratch plot boundary --model`` reads them), and the page's settings."""
    return {"dataset": dataset, "dataset_options": options, "playground": settings}


def model_bytes(net, config):
    """The model file ``nnscratch train`` writes (``io.save_model``) with ``config``, as bytes."""
    with tempfile.TemporaryDirectory(prefix="nnscratch-playground-") as folder:
        path = save_model(Path(folder) / "model.npz", net, config)
        return path.read_bytes()


def history_bytes(history, config):
    """history.json as ``nnscratch train`` writes it: the config, then the history's lists."""
    return (json.dumps({"config": config, **history}, indent=2, allow_nan=True) + "\n").encode()
