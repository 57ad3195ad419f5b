"""The decision regions of a 2-input network: the class ``net.predict`` gives every point of a grid
over the plane, drawn one colour per class, paler where the network is less sure, with the
training points (circles) and test points (triangles) on top.

``class_grid`` computes the picture's numbers, so that a test (or the playground) can compare any
pixel with ``net.predict``; ``draw_regions`` and ``draw_points`` draw them on an axes, for the
figure here and for the frames of ``animations.boundary``.
"""

import numpy as np
from matplotlib import colors
from matplotlib.figure import Figure

from ..errors import NnscratchError
from ..functions import accuracy
from ..validation import check_positive_int, input_size
from .lang import localized

#: one colour per class (matplotlib's tab10), up to the toy sets' 10 classes
CLASS_COLORS = [f"C{k}" for k in range(10)]
#: the region colour's strength at the lowest and the highest top probability
REGION_ALPHA = (0.15, 0.6)


def check_two_inputs(net):
    """``net``, or an error when it does not take 2 inputs (a point of the plane)."""
    if np.ndim(getattr(net, "params", {}).get("W1")) != 2:
        raise NnscratchError(
            f"{type(net).__name__} has no dense first layer W1 (D, H): decision "
            "regions need a dense network such as MultiLayerNet"
        )
    d = input_size(net)
    if d != 2:
        raise NnscratchError(
            f"decision regions are drawn for networks of 2 inputs (a point in the "
            f"plane); this one takes {d}: train it on a 2-D set such as spiral"
        )
    return net


def grid_axes(x, resolution=150, margin=0.25):
    """Two ``(resolution,)`` coordinate vectors spanning the points ``x`` ``(N, 2)``, widened by
    ``margin`` times each coordinate's range on every side."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise NnscratchError(f"points must be an (N, 2) array of 2-D points, got shape {x.shape}")
    n = check_positive_int(resolution, "resolution")
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-9)
    return tuple(np.linspace(lo[i] - pad[i], hi[i] + pad[i], n) for i in range(2))


def class_grid(net, g0, g1):
    """The prediction of ``net`` on the grid ``g0 × g1``: ``(classes, confidence)``, both
    ``(len(g1), len(g0))`` (row i is x1 = g1[i], column j is x0 = g0[j], as ``imshow`` draws),
    ``classes[i, j] = argmax_k y_k`` and ``confidence[i, j] = max_k y_k`` of
    ``y = net.predict([g0[j], g1[i]])``."""
    check_two_inputs(net)
    x0, x1 = np.meshgrid(g0, g1)
    points = np.stack([x0.ravel(), x1.ravel()], axis=1)
    dtype = np.asarray(net.params["W1"]).dtype
    y = np.asarray(net.predict(points.astype(dtype, copy=False)))
    classes = np.argmax(y, axis=1)
    confidence = y[np.arange(len(y)), classes]
    return classes.reshape(x0.shape), confidence.reshape(x0.shape)


def region_image(classes, confidence, n_classes):
    """An RGB image ``(*classes.shape, 3)``: each class's colour blended into white, stronger as
    the top probability rises from 1/K (a guess) to 1 (certain)."""
    rgb = np.array([colors.to_rgb(c) for c in CLASS_COLORS])[classes]
    chance = 1.0 / max(n_classes, 2)
    sure = np.clip((confidence - chance) / (1.0 - chance), 0.0, 1.0)
    alpha = (REGION_ALPHA[0] + (REGION_ALPHA[1] - REGION_ALPHA[0]) * sure)[..., None]
    return 1.0 - alpha * (1.0 - rgb)


def draw_regions(ax, g0, g1, classes, confidence, n_classes):
    """Draw the regions on ``ax`` as one image; returns it (``set_data`` redraws a frame)."""
    return ax.imshow(
        region_image(classes, confidence, n_classes),
        origin="lower",
        extent=(g0[0], g0[-1], g1[0], g1[-1]),
        aspect="auto",
        interpolation="nearest",
    )


def draw_points(ax, x, t, x_test=None, t_test=None, names=("train", "test")):
    """The training points as circles and the test points as triangles, in their class's colour;
    a legend saying which marker is which (``names``: what the legend calls them)."""
    for i, (name, xs, ts, marker, size) in enumerate(
        ((names[0], x, t, "o", 22), (names[1], x_test, t_test, "^", 30))
    ):
        if xs is None:
            continue
        xs, ts = np.asarray(xs), np.asarray(ts)
        ax.scatter(
            xs[:, 0],
            xs[:, 1],
            c=[CLASS_COLORS[k] for k in ts],
            marker=marker,
            s=size,
            edgecolors="k" if i == 0 else "w",
            linewidths=0.6,
            label=f"{name} ({len(ts)})",
        )
    legend = ax.legend(loc="upper right", fontsize=9, framealpha=0.85)
    for handle in legend.legend_handles:  # the legend tells markers apart, not classes
        handle.set_facecolor("0.5")


@localized
def decision_regions(
    net, x, t, x_test=None, t_test=None, resolution=150, n_classes=None, title=None, *, s
):
    """A Figure of the class regions of the 2-input ``net`` over the points ``x`` ``(N, 2)``
    with labels ``t`` ``(N,)`` (and the test points), titled with the accuracies."""
    check_two_inputs(net)
    g0, g1 = grid_axes(x if x_test is None else np.concatenate([x, x_test]), resolution)
    classes, confidence = class_grid(net, g0, g1)
    k = n_classes or int(max(np.max(t), classes.max())) + 1
    fig = Figure(figsize=(6.4, 5.6), layout="constrained")
    ax = fig.subplots()
    draw_regions(ax, g0, g1, classes, confidence, k)
    draw_points(ax, x, t, x_test, t_test, names=(s["boundary.train"], s["boundary.test"]))
    scores = s["boundary.accuracy"].format(
        name=s["boundary.train"], acc=accuracy(net.predict(x), t)
    )
    if x_test is not None:
        scores += s["boundary.and"] + s["boundary.accuracy"].format(
            name=s["boundary.test"], acc=accuracy(net.predict(x_test), t_test)
        )
    ax.set_title(s["boundary.full"].format(title=title or s["boundary.title"], scores=scores))
    ax.set(xlabel="$x_0$", ylabel="$x_1$")
    return fig
