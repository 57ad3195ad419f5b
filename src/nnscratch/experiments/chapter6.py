"""Chapter 6's experiments: why training works or fails, as numbers a figure is drawn from.

- :func:`activation_distributions`: the activations of a 5-layer, 100-unit network on random
  input, layer by layer, for weights of std 1, std 0.01, Xavier (1/√n) and He (√(2/n)), with
  sigmoid, tanh and ReLU (the book's ``weight_init_activation_histogram.py``);
- :func:`init_comparison`: training loss per iteration for std 0.01, Xavier and He (ReLU, 5 hidden
  layers: ``weight_init_compare.py``);
- :func:`batchnorm_comparison`: train accuracy per epoch with and without batch normalisation
  across initial weight scales (``batch_norm_test.py``);
- :func:`overfit_comparison`: train and test accuracy per epoch of a 7-layer network on 300
  images, plain, with weight decay λ = 0.1 and with dropout (``overfit_weight_decay.py``,
  ``overfit_dropout.py``).

Each returns plain Python numbers (lists, floats), saved as JSON beside its figure. Randomness
comes from ``seed`` alone: the same seed gives the same numbers.
"""

import math

import numpy as np

from .. import functions
from ..datasets import load_dataset
from ..errors import NnscratchError
from ..nets import init_std
from ..run.build import build
from ..run.trainer import train_or_diverge
from ..validation import check_choice, check_positive_int

__all__ = [
    "ACTIVATION_FUNCTIONS",
    "INITS",
    "activation_distributions",
    "batchnorm_comparison",
    "init_comparison",
    "overfit_comparison",
]

#: the activations the histogram experiment compares, by name
ACTIVATION_FUNCTIONS = {
    "sigmoid": functions.sigmoid,
    "tanh": functions.tanh,
    "relu": functions.relu,
}
#: the initial weights compared: a fixed standard deviation, or Xavier's / He's for the fan-in
INITS = {"std 1": 1.0, "std 0.01": 0.01, "Xavier": "xavier", "He": "he"}
HIST_BINS = 30


def activation_distributions(n_layers=5, nodes=100, samples=1000, seed=0):
    """x (samples, nodes) ~ N(0, 1) through ``n_layers`` layers z_l = f(z_{l-1}·W_l), W_l ~
    N(0, σ²) (nodes, nodes) for every init of :data:`INITS` and f of
    :data:`ACTIVATION_FUNCTIONS`; biases 0, as the book. Returns
    ``{activation: {init: [layer stats]}}``, each layer's stats: mean, std, rms, the fraction
    saturated (|z| > 0.99 of the range's end: z < 0.01 or z > 0.99 for sigmoid, |z| > 0.99 for
    tanh; z = 0 for ReLU), the histogram (``HIST_BINS`` counts over the range: [0, 1] for
    sigmoid and ReLU — ReLU's positive values only —, [-1, 1] for tanh) and the fraction above
    1. The same x and, per init, the same standard normal draws for every activation: only f
    and σ change between panels."""
    n_layers, nodes = check_positive_int(n_layers, "n_layers"), check_positive_int(nodes, "nodes")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((check_positive_int(samples, "samples"), nodes))
    unit_weights = rng.standard_normal((n_layers, nodes, nodes))
    results = {}
    for name, f in ACTIVATION_FUNCTIONS.items():
        results[name] = {}
        for init, spec in INITS.items():
            z, layers = x, []
            for w in unit_weights * init_std(spec, nodes):  # W_l = σ · N(0, 1)
                z = f(z @ w)
                layers.append(_layer_stats(name, z))
            results[name][init] = layers
    return results


def _layer_stats(activation, z):
    low = -1.0 if activation == "tanh" else 0.0
    if activation == "relu":
        saturated = np.mean(z == 0)
    elif activation == "tanh":
        saturated = np.mean(np.abs(z) > 0.99)
    else:
        saturated = np.mean((z < 0.01) | (z > 0.99))
    # ReLU's zeros (about half of its values) would hide the rest
    shown = z[z > 0] if activation == "relu" else z
    counts, _ = np.histogram(shown, bins=HIST_BINS, range=(low, 1.0))
    return {
        "mean": float(z.mean()),
        "std": float(z.std()),
        "rms": float(np.sqrt(np.mean(z * z))),
        "saturated": float(saturated),
        "hist": counts.tolist(),
        "range": [low, 1.0],
        "above_range": float(np.mean(z > 1.0)),
    }


def init_comparison(
    dataset="digits",
    iterations=2000,
    hidden=(100, 100, 100, 100),
    batch_size=128,
    lr=0.01,
    seed=0,
    data=None,
):
    """Mini-batch SGD (``lr``) for ``iterations`` steps of a ReLU MultiLayerNet with ``hidden``
    layers, from std 0.01, Xavier and He weights, the same batches for each. Returns
    ``{"iterations", "loss": {init: [L per iteration]}, "test_acc": {init: float}}``."""
    data = data or load_dataset(dataset)
    iterations = check_positive_int(iterations, "iterations")
    losses, test_acc = {}, {}
    for init in ("std 0.01", "Xavier", "He"):
        run = build(
            _plain_sgd(hidden, lr, batch_size, len(data.x_train), seed, weight_init=INITS[init]),
            data.without_test(),
        )
        run.trainer.run(iterations)
        losses[init] = [float(v) for v in run.trainer.history["train_loss"][:iterations]]
        test_acc[init] = float(run.net.accuracy(data.x_test, data.t_test))
    return {
        "iterations": iterations,
        "loss": losses,
        "test_acc": test_acc,
        "chance_loss": math.log(data.n_classes),
    }


def batchnorm_comparison(
    dataset="digits",
    scales=16,
    train_size=1000,
    epochs=20,
    hidden=(100, 100, 100, 100, 100),
    batch_size=100,
    lr=0.01,
    seed=0,
    data=None,
):
    """For each initial weight std w in ``np.logspace(0, -4, scales)`` (1 … 1e-4, the book's
    grid), a ReLU MultiLayerNet with ``hidden`` layers trained by SGD on the first
    ``train_size`` training images with and without batch normalisation, the same weights and
    batches for both. Returns ``{"scales": [w], "with_bn": [[train acc per epoch]],
    "without_bn": [...], "with_bn_diverged": [bool], "without_bn_diverged": [...]}`` (a run that
    diverged, its loss overflowing or past 100× its first, stops there: its list is shorter)."""
    data = data or load_dataset(dataset)
    n = min(check_positive_int(train_size, "train_size"), len(data.x_train))
    stds = np.logspace(0, -4, check_positive_int(scales, "scales"))
    out = {
        "scales": stds.tolist(),
        "with_bn": [],
        "without_bn": [],
        "with_bn_diverged": [],
        "without_bn_diverged": [],
        "train_size": n,
    }
    epochs = check_positive_int(epochs, "epochs")
    for std in stds:
        for key, bn in (("with_bn", True), ("without_bn", False)):
            spec = _plain_sgd(
                hidden, lr, batch_size, n, seed, weight_init=float(std), batchnorm=bn, epochs=epochs
            )
            history, diverged = _train(build(spec, data.first(n).without_test()).trainer)
            out[key].append([float(a) for a in history["train_acc"]])
            out[key + "_diverged"].append(diverged)
    return out


def _plain_sgd(hidden, lr, batch_size, n, seed, **options):
    """The options of the book's experiments: a ReLU MultiLayerNet of ``hidden`` layers trained
    by plain SGD at a constant rate ``lr`` on mini-batches of at most ``n`` samples; the weights
    and the batches from ``seed`` (one seed, as the book's scripts have one random state)."""
    return {
        "model": "mlp",
        "hidden": tuple(hidden),
        "activation": "relu",
        "batchnorm": False,
        "optimizer": "sgd",
        "lr": lr,
        "lr_schedule": "none",
        "batch_size": min(batch_size, n),
        "seed": seed,
        "epochs": 10**9,
        **options,
    }


def _train(trainer):
    """``(history, diverged)``: the run to its end, or to the step where it diverged (its loss
    overflowing, or past 100× its first: large initial weights without batch norm do, and that
    is the experiment's point, not an error)."""
    with np.errstate(over="ignore", invalid="ignore"):
        history, diverged = train_or_diverge(trainer)
    return history, diverged is not None


#: the overfitting experiment's three networks: options beyond the plain one's
OVERFIT_VARIANTS = {
    "plain": {},
    "weight decay λ = 0.1": {"weight_decay": 0.1},
    "dropout 0.2": {"dropout": 0.2},
}


def overfit_comparison(
    dataset="digits",
    train_size=300,
    epochs=200,
    hidden=(100, 100, 100, 100, 100, 100),
    batch_size=100,
    lr=0.01,
    seed=0,
    variants=None,
    data=None,
):
    """A 7-layer ReLU MultiLayerNet (``hidden`` six layers of 100) trained by SGD on the first
    ``train_size`` training images, as each of ``variants`` (names of
    :data:`OVERFIT_VARIANTS`; default all), the same initial weights and batches. Returns
    ``{variant: {"train_acc": [per epoch], "test_acc": [per epoch], "weight_norm": ‖W‖²
    summed at the end}}``."""
    data = data or load_dataset(dataset)
    n = min(check_positive_int(train_size, "train_size"), len(data.x_train))
    out = {}
    names = list(OVERFIT_VARIANTS if variants is None else variants)
    if not names:
        raise NnscratchError(f"no variant to train: name some of {', '.join(OVERFIT_VARIANTS)}")
    for name in names:  # every name checked before hours of training
        check_choice(name, OVERFIT_VARIANTS, "variant")
    epochs = check_positive_int(epochs, "epochs")
    for name in names:
        spec = _plain_sgd(
            hidden,
            lr,
            batch_size,
            n,
            seed,
            weight_init="he",
            epochs=epochs,
            **OVERFIT_VARIANTS[name],
        )
        run = build(spec, data.first(n))
        history = run.trainer.train()
        out[name] = {
            "train_acc": [float(a) for a in history["train_acc"]],
            "test_acc": [float(a) for a in history["test_acc"]],
            "weight_norm": float(
                sum(np.sum(run.net.params[k] ** 2) for k in run.net.weight_keys())
            ),
        }
    return {"train_size": n, "variants": out}
