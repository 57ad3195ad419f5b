"""Figures of a trained network: what its first layer sees, where it errs, its worst mistakes.

Each function takes a net (anything with a ``params`` dict and ``predict(x) → (N, C)``
probabilities, such as TwoLayerNet or a network loaded from a model file) and plain arrays, so it
works the same for a net trained a second ago and for one read from disk.
"""

import math

import numpy as np
from matplotlib.figure import Figure

from ..errors import NnscratchError
from ..metrics import confusion_matrix
from .lang import class_label, localized


def image_shape_of(n_pixels, image_shape):
    if image_shape is None:
        side = math.isqrt(n_pixels)
        if side * side != n_pixels:
            raise NnscratchError(
                f"cannot guess the image shape of {n_pixels} pixels: "
                "pass image_shape=(height, width)"
            )
        image_shape = (side, side)
    if image_shape[0] * image_shape[1] != n_pixels:
        raise NnscratchError(f"image_shape {tuple(image_shape)} does not hold {n_pixels} pixels")
    return tuple(image_shape)


def grid_shape(n, max_cols):
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def image_tiles(parent, images, cols, label, fontsize=9, **style):
    """``images`` (n, h, w) as a grid of tiles on ``parent`` (a Figure or SubFigure), ``cols`` a
    row, each without ticks and named ``label(j)`` below; cells past the last are hidden.
    ``style``: imshow's colour map and scale. Returns the axes (flat) and the last image."""
    rows, cols = grid_shape(len(images), cols)
    axes = np.atleast_1d(parent.subplots(rows, cols, squeeze=False)).ravel()
    im = None
    for j, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if j >= len(images):
            ax.set_axis_off()
            continue
        im = ax.imshow(images[j], **style)
        ax.set_xlabel(label(j), fontsize=fontsize, labelpad=1 if fontsize < 9 else 2)
    return axes, im


@localized
def first_layer_weights(net, image_shape=None, max_units=50, cols=10, *, s):
    """The first layer's weights W1 ``(D, H)``: column j, reshaped to the image, is the pattern that
    excites hidden unit j (red: a bright pixel raises its input a = x·W1 + b1, blue: lowers it).
    Shows up to ``max_units`` units on one symmetric colour scale."""
    w1 = np.asarray(net.params["W1"])
    shape = image_shape_of(w1.shape[0], image_shape)
    n = min(w1.shape[1], max_units)
    rows, cols = grid_shape(n, cols)
    vmax = float(np.max(np.abs(w1[:, :n]))) or 1.0
    fig = Figure(figsize=(1.25 * cols + 1.2, 1.35 * rows + 0.8), layout="constrained")
    axes, im = image_tiles(
        fig,
        w1[:, :n].T.reshape(n, *shape),
        cols,
        lambda j: s["weights.unit"].format(j=j),
        cmap="RdBu_r",
        vmin=-vmax,
        vmax=vmax,
    )
    fig.colorbar(im, ax=axes.tolist(), shrink=0.8, label=s["weights.colorbar"])
    fig.suptitle(
        s["weights.title"].format(h=shape[0], w=shape[1], n=n, total=w1.shape[1]), fontsize=13
    )
    # every cell's axis labels are the unit names; the figure-level labels say what the grid is
    fig.supxlabel(s["weights.xlabel"])
    fig.supylabel(s["weights.ylabel"])
    return fig


def predictions(net, x):
    """Predicted class (N,) and its probability (N,) from ``net.predict(x)``."""
    y = np.asarray(net.predict(x))
    pred = np.argmax(y, axis=1)
    return pred, y[np.arange(len(y)), pred]


@localized
def confusion_heatmap(net, x, t, class_names=None, *, s):
    """The confusion matrix of ``net`` on (x, t) (``metrics.confusion_matrix``) as a heat map:
    row = true class, column = predicted class; the diagonal holds the correct answers,
    everything else is a mistake."""
    t = np.asarray(t)
    pred, _ = predictions(net, x)
    k = int(max(np.max(t), np.max(pred))) + 1 if class_names is None else len(class_names)
    names = [str(i) if class_names is None else class_label(class_names[i], s) for i in range(k)]
    counts = confusion_matrix(t, pred, k)
    fig = Figure(figsize=(0.62 * k + 3, 0.62 * k + 2))
    ax = fig.subplots()
    # colour by the fraction of each true class, so small classes read as clearly as large ones
    frac = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if counts[i, j]:
                ax.text(
                    j,
                    i,
                    str(counts[i, j]),
                    ha="center",
                    va="center",
                    fontsize=11,
                    color="white" if frac[i, j] > 0.5 else ("C3" if i != j else "black"),
                )
    slanted = max(map(len, names)) > 3  # names, not digits: slanted so that they do not overlap
    ax.set_xticks(
        range(k), names, rotation=40 if slanted else 0, ha="right" if slanted else "center"
    )
    ax.set_yticks(range(k), names)
    ax.set(xlabel=s["confusion.xlabel"], ylabel=s["confusion.ylabel"])
    fig.colorbar(im, ax=ax, shrink=0.8, label=s["confusion.colorbar"])
    acc = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(s["confusion.title"].format(n=counts.sum(), acc=acc))
    return fig


@localized
def most_confident_mistakes(net, x, t, image_shape=None, k=12, cols=6, class_names=None, *, s):
    """The ``k`` misclassified samples the net was surest about, most confident first, each with
    its predicted class, that class's probability, and the true class (by name where
    ``class_names`` gives them). ``x`` is (N, D) rows of ``image_shape`` pixels, or images
    (N, C, H, W) of a convolutional net (the first channel is drawn)."""
    x, t = np.asarray(x), np.asarray(t)
    pred, prob = predictions(net, x)
    wrong = np.flatnonzero(pred != t)
    order = wrong[np.argsort(-prob[wrong], kind="stable")][:k]
    images = x[:, 0] if x.ndim == 4 else x.reshape(len(x), *image_shape_of(x.shape[1], image_shape))
    rows, cols = grid_shape(max(len(order), 1), cols)
    fig = Figure(figsize=(2.1 * cols, 2.45 * rows + 0.7), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])

    def name(c):
        return str(c) if class_names is None else class_label(class_names[c], s)

    titles = [s["mistakes.predicted"].format(label=name(pred[i]), prob=prob[i]) for i in order]
    trues = [s["mistakes.true"].format(label=name(t[i])) for i in order]
    size = 11 if max(map(len, titles + trues), default=0) <= 20 else 9  # "T-shirt/top" in 2 inches
    for ax, i, title, true in zip(axes, order, titles, trues):
        ax.imshow(images[i], cmap="gray_r")
        ax.set_title(title, fontsize=size, color="C3")
        ax.set_xlabel(true, fontsize=size)
    for ax in axes[len(order) :]:
        ax.set_axis_off()
    if len(order) == 0:
        axes[0].set_axis_on()
        axes[0].text(0.5, 0.5, s["mistakes.none"], ha="center", va="center", fontsize=14)
    fig.suptitle(s["mistakes.title"].format(k=len(order), wrong=len(wrong), n=len(t)), fontsize=13)
    fig.supxlabel(s["mistakes.xlabel"])
    fig.supylabel(s["mistakes.ylabel"])
    return fig
