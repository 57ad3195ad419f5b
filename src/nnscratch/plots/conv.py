"""Figures of a convolutional network (chapter 7): its first-layer filters, before and after
learning (the book's figure 7-24), and the feature maps they make of one image.

A filter W1[f] (C, FH, FW) is drawn as an FH × FW image of its first channel (a grayscale input
has only that one); a feature map is the first layer's output ReLU(x ∗ W1[f] + b1[f]) for one
image x (C, H, W), an out_h × out_w image per filter.
"""

import numpy as np
from matplotlib.figure import Figure

from ..errors import NnscratchError
from ..functions import relu
from .lang import class_label, localized
from .model import grid_shape, image_tiles

#: filters shown at most (SimpleConvNet has 30, DeepConvNet's first layer 16)
MAX_FILTERS = 32


def first_conv_filters(net):
    """W1 (FN, C, FH, FW): the first convolution's filters, or a clear error for a dense net."""
    w1 = np.asarray(net.params.get("W1"))
    if w1.ndim != 4:
        raise NnscratchError(
            f"{type(net).__name__} has no convolution: its W1 has shape "
            f"{w1.shape}, not (FN, C, FH, FW); plot first-layer weights of a "
            "dense network with `nnscratch plot weights`"
        )
    return w1


def _filter_rows(fig, rows_of_filters, labels, cols):
    """One block of the grid per entry of ``rows_of_filters`` (each (FN, FH, FW)), its label on
    the left; every filter on its own block's symmetric grayscale ±max|w|."""
    n = len(rows_of_filters[0])
    per_block, cols = grid_shape(n, cols)
    axes = fig.subplots(per_block * len(rows_of_filters), cols, squeeze=False)
    for b, (filters, label) in enumerate(zip(rows_of_filters, labels)):
        vmax = float(np.max(np.abs(filters))) or 1.0
        for j in range(per_block * cols):
            ax = axes[b * per_block + j // cols, j % cols]
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= n:
                ax.set_axis_off()
                continue
            # the book's colouring: white for the largest weight, black for the smallest
            ax.imshow(filters[j], cmap="gray", vmin=-vmax, vmax=vmax)
            if j % cols == 0:
                ax.set_ylabel(label if j == 0 else "", fontsize=10)
    return axes


@localized
def conv_filters(after, before=None, max_filters=MAX_FILTERS, cols=16, *, s):
    """The first-layer filters W1 (FN, C, FH, FW) as FH × FW images (the first channel), white for
    large weights and black for small (negative) ones; with ``before`` (the same network's
    initial W1) the random start above the learned filters, as the book's figure 7-24 shows."""
    n = min(len(after), max_filters)
    blocks = (
        [np.asarray(after)[:n, 0]]
        if before is None
        else [np.asarray(before)[:n, 0], np.asarray(after)[:n, 0]]
    )
    labels = (
        [s["filters.learned"]] if before is None else [s["filters.initial"], s["filters.learned"]]
    )
    rows, cols = grid_shape(n, cols)
    fig = Figure(figsize=(0.75 * cols + 1.0, 0.8 * rows * len(blocks) + 0.9), layout="constrained")
    _filter_rows(fig, blocks, labels, cols)
    fh, fw = blocks[0].shape[1:]
    fig.suptitle(s["filters.title"].format(n=n, total=len(after), fh=fh, fw=fw), fontsize=12)
    fig.supxlabel(s["filters.xlabel"])
    fig.supylabel(s["filters.ylabel"])
    return fig


@localized
def feature_maps(net, image, label=None, max_filters=MAX_FILTERS, cols=8, *, s):
    """What each first-layer filter responds to in ``image`` (C, H, W): the first convolution's
    output after its ReLU, one map per filter (bright where the filter matches), beside the image
    and its class ``label`` (an index or a name: "Shirt").
    The convolution is the network's own first layer (``net.layers[0]``)."""
    first_conv_filters(net)
    x = np.asarray(image, dtype=net.dtype)
    if x.ndim != 3:
        raise NnscratchError(f"feature maps take one image (C, H, W), got shape {x.shape}")
    maps = relu(net.layers[0].forward(x[np.newaxis]))[0]
    n = min(len(maps), max_filters)
    rows, cols = grid_shape(n, cols)
    fig = Figure(figsize=(1.3 * cols + 2.6, 1.35 * rows + 0.9), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[2.2, 1.3 * cols])
    ax = left.subplots()
    ax.imshow(x[0], cmap="gray_r")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(
        s["maps.input"]
        if label is None
        else s["maps.input_class"].format(label=class_label(str(label), s)),
        fontsize=10,
    )
    image_tiles(
        right,
        maps[:n],
        cols,
        lambda j: s["maps.filter"].format(j=j),
        fontsize=8,
        cmap="gray",
        vmin=0,
        vmax=float(maps[:n].max()) or 1.0,
    )
    oh, ow = maps.shape[1:]
    fig.suptitle(s["maps.title"].format(n=n, total=len(maps), oh=oh, ow=ow), fontsize=12)
    fig.supxlabel(s["maps.xlabel"])
    fig.supylabel(s["maps.ylabel"])
    return fig
