"""Figures of chapter 6's experiments, drawn from the numbers ``nnscratch.experiments`` returns."""

import math

import numpy as np
from matplotlib.figure import Figure

from .lang import localized
from .training import moving_mean


@localized
def activation_histograms(results, activation, *, s):
    """One row per initial weight scale, one column per layer: the histogram of that layer's
    activations (``results`` from ``activation_distributions``), as the book's figures 6-10 to
    6-14 show them."""
    inits = results[activation]
    layers = len(next(iter(inits.values())))
    fig = Figure(figsize=(2.3 * layers, 1.9 * len(inits)))
    axes = np.atleast_2d(fig.subplots(len(inits), layers, sharey="row"))
    for r, (row, (init, stats)) in enumerate(zip(axes, inits.items())):
        for i, (ax, layer) in enumerate(zip(row, stats)):
            low, high = layer["range"]
            edges = np.linspace(low, high, len(layer["hist"]) + 1)
            ax.bar(edges[:-1], layer["hist"], width=np.diff(edges), align="edge")
            ax.set_xlim(low, high)
            if layer["above_range"] > 0.01:  # ReLU's with std 1: the values run far past 1
                ax.text(
                    0.97,
                    0.88,
                    s["exp.above"].format(share=layer["above_range"], high=high),
                    transform=ax.transAxes,
                    ha="right",
                    fontsize=8,
                    color="C3",
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8},
                )
            ax.set_title(s["exp.layer"].format(i=i + 1) if r == 0 else "", fontsize=9)
            ax.tick_params(labelsize=7)
        row[0].set_ylabel(init)
    what = s["exp.relu_values"] if activation == "relu" else s["exp.values"]
    fig.suptitle(s["exp.hist_title"].format(activation=activation, what=what))
    fig.tight_layout()
    return fig


@localized
def init_loss_curves(result, window=20, *, s):
    """Training loss per iteration (a moving mean of ``window``) for each initial weight scale,
    with the loss of a uniform guess, ln C, for reference (the book's figure 6-15)."""
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    for init, loss in result["loss"].items():
        ax.plot(*moving_mean(loss, min(window, len(loss))), label=init)
    ax.axhline(result["chance_loss"], color="gray", lw=0.8, ls=":", label=s["exp.chance"])
    ax.set_xlabel(s["curves.iteration"])
    ax.set_ylabel(s["exp.train_loss"])
    ax.set_ylim(bottom=0)
    ax.legend()
    ax.set_title(s["exp.init_title"])
    fig.tight_layout()
    return fig


@localized
def batchnorm_grid(result, *, s):
    """One small plot per initial weight std: train accuracy per epoch with batch norm (solid)
    and without (dashed), as the book's figure 6-19."""
    scales = result["scales"]
    cols = math.ceil(math.sqrt(len(scales)))
    rows = math.ceil(len(scales) / cols)
    fig = Figure(figsize=(2.4 * cols, 2.0 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True)).ravel()
    for i, (ax, std) in enumerate(zip(axes, scales)):
        for key, style, label in (
            ("with_bn", "-", s["exp.bn"]),
            ("without_bn", "--", s["exp.plain"]),
        ):
            acc = result[key][i]
            ax.plot(np.arange(1, len(acc) + 1), acc, style, label=label)
            if result[f"{key}_diverged"][i]:
                ax.text(
                    0.5,
                    0.5 if key == "without_bn" else 0.35,
                    s["exp.diverged"].format(label=label),
                    transform=ax.transAxes,
                    ha="center",
                    fontsize=7,
                    color="C3",
                )
        ax.set_title(s["exp.scale"].format(std=std), fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.tick_params(labelsize=7)
    for ax in axes[len(scales) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(s["exp.bn_title"])
    fig.tight_layout()
    return fig


@localized
def overfit_curves(result, *, s):
    """Train (solid) and test (dashed) accuracy per epoch of each variant, side by side: the gap
    is the overfitting (the book's figures 6-20, 6-21, 6-23)."""
    variants = result["variants"]
    fig = Figure(figsize=(4.2 * len(variants), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(variants), sharey=True))
    for ax, (name, curves) in zip(axes, variants.items()):
        epochs = np.arange(1, len(curves["train_acc"]) + 1)
        ax.plot(epochs, curves["train_acc"], label=s["curves.train"])
        ax.plot(epochs, curves["test_acc"], "--", label=s["curves.test"])
        ax.set_title(s.get(f"exp.variant.{name}", name))
        ax.set_xlabel(s["curves.epoch"])
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel(s["curves.accuracy"])
    axes[0].legend(loc="lower right")
    fig.suptitle(s["exp.overfit_title"].format(n=result["train_size"]))
    fig.tight_layout()
    return fig
