"""The figures of chapter 4: the loss, numerical differentiation, the gradient and gradient descent.

Every function returns a ``matplotlib.figure.Figure`` (no pyplot, so no display is needed) and draws
numbers computed by the library itself — ``cross_entropy_error``, ``numerical_diff``,
``numerical_gradient``, ``gradient_descent`` — so a figure shows what the code really does.
"""

import numpy as np
from matplotlib.figure import Figure

from ..functions import CROSS_ENTROPY_EPS, cross_entropy_error
from ..numgrad import numerical_diff, numerical_gradient
from ..optim import gradient_descent
from .lang import localized


def function_2(x):
    """The book's 2-D example f(x) = x0² + x1², a bowl with its minimum at 0; x is ``(2,)`` (one
    point) or ``(2, ...)`` (a grid of points)."""
    return x[0] ** 2 + x[1] ** 2


def _style(ax, title=None):
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)


@localized
def cross_entropy_loss(*, s):
    """Cross-entropy of one sample, E = -log(y_t + ε), against y_t, the predicted probability of
    the true class: 0 when the network is sure and right, without bound as y_t → 0.

    Each point is ``cross_entropy_error`` of the two-class prediction (y_t, 1 - y_t) with label 0.
    """
    p = np.linspace(0.001, 1.0, 400)
    loss = np.array([cross_entropy_error(np.array([q, 1.0 - q]), 0) for q in p])
    fig = Figure(figsize=(7, 4.8))
    ax = fig.subplots()
    ax.plot(p, loss, lw=2.5, label=r"$E = -\log(y_t + \varepsilon)$")
    # the book's two examples: the true class "2" predicted with probability 0.6, then 0.1
    for q, where in ((0.6, (0.66, 1.6)), (0.1, (0.2, 3.9))):
        e = cross_entropy_error(np.array([q, 1.0 - q]), 0)
        ax.plot([q], [e], "o", ms=9, color="C3")
        ax.annotate(
            s["loss.example"].format(q=q, e=e),
            (q, e),
            xytext=where,
            fontsize=12,
            arrowprops={"arrowstyle": "->", "color": "0.3"},
        )
    ax.set(xlabel=s["loss.xlabel"], ylabel=s["loss.ylabel"], xlim=(0, 1.02), ylim=(0, 7.2))
    ax.legend(loc="upper right", fontsize=12)
    _style(ax, s["loss.title"].format(eps=f"{CROSS_ENTROPY_EPS:g}"))
    return fig


@localized
def difference_tangents(f=np.sin, x=1.0, h=0.8, dfdx=np.cos, label="sin x", *, s):
    """Forward difference (f(x+h) - f(x)) / h and central difference (f(x+h) - f(x-h)) / 2h at x,
    drawn as secant lines beside the true tangent (slope ``dfdx(x)``), with a large h so the gap is
    visible: the central secant is nearly parallel to the tangent (error O(h²)), the forward one
    is not (error O(h)). Slopes come from ``numerical_diff``.
    """
    fwd = numerical_diff(f, x, h, method="forward")
    cen = numerical_diff(f, x, h, method="central")
    true = dfdx(x)
    xs = np.linspace(x - 2.2 * h, x + 2.2 * h, 300)
    fig = Figure(figsize=(8, 5.5))
    ax = fig.subplots()
    ax.plot(xs, f(xs), color="k", lw=2.5, label=s["diff.function"].format(label=label))
    ax.plot(
        xs, f(x) + true * (xs - x), lw=2, color="C2", label=s["diff.tangent"].format(slope=true)
    )
    ax.plot(
        xs,
        f(x) + fwd * (xs - x),
        "--",
        lw=2,
        color="C3",
        label=s["diff.forward"].format(slope=fwd, error=fwd - true),
    )
    ax.plot(
        xs,
        f(x - h) + cen * (xs - (x - h)),
        "-.",
        lw=2,
        color="C0",
        label=s["diff.central"].format(slope=cen, error=cen - true),
    )
    ax.plot([x, x + h], [f(x), f(x + h)], "o", color="C3", ms=8)
    ax.plot([x - h, x + h], [f(x - h), f(x + h)], "s", color="C0", ms=8, mfc="none", mew=2)
    for at, name in ((x - h, "x − h"), (x, "x"), (x + h, "x + h")):
        ax.annotate(
            name,
            (at, 0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            fontsize=12,
            color="0.3",
        )
        ax.axvline(at, color="0.6", lw=1, ls=":")
    ax.set(xlabel="x", ylabel="f(x)")
    ax.legend(loc="upper left", fontsize=10.5)
    _style(ax, s["diff.title"].format(x=x, h=h))
    return fig


@localized
def difference_error(f=np.exp, x=1.0, dfdx=np.exp, label="eˣ (x = 1)", *, s):
    """The error of the numerical derivative, ``|numerical - true|``, against h on log-log axes,
    for the forward and the central difference. For large h the truncation error dominates: O(h)
    forward, O(h²) central (slopes 1 and 2 on these axes). For tiny h the round-off of f (about
    ε_machine·|f|/h) takes over and the error grows again; the book's h = 1e-4 keeps the central
    difference's error far below both ends (here about 1e-9; its best, about 1e-11, lies near
    h = 1e-5).
    """
    hs = np.logspace(-16, 0, 161)
    true = dfdx(x)
    err = {
        m: np.array([abs(numerical_diff(f, x, h, method=m) - true) for h in hs])
        for m in ("forward", "central")
    }
    fig = Figure(figsize=(8, 5.5))
    ax = fig.subplots()
    floor = np.finfo(float).tiny  # an exact hit (error 0) cannot be drawn on a log axis
    ax.loglog(hs, np.maximum(err["forward"], floor), lw=2, color="C3", label=s["differr.forward"])
    ax.loglog(hs, np.maximum(err["central"], floor), lw=2, color="C0", label=s["differr.central"])
    # reference slopes a decade below the curves' right ends, to compare the orders by eye
    big = hs > 1e-4
    ax.loglog(
        hs[big],
        0.1 * err["forward"][-1] * hs[big],
        ":",
        color="C3",
        lw=2,
        label=s["differr.slope1"],
    )
    ax.loglog(
        hs[big],
        0.1 * err["central"][-1] * hs[big] ** 2,
        ":",
        color="C0",
        lw=2,
        label=s["differr.slope2"],
    )
    ax.loglog(
        hs,
        np.finfo(float).eps * abs(f(x)) / hs,
        "--",
        color="0.5",
        lw=1.2,
        label=s["differr.roundoff"],
    )
    ax.axvline(1e-4, color="C2", lw=1.5, ls="--")
    ax.annotate(
        s["differr.book_h"],
        (1e-4, 1e-14),
        xytext=(-6, 0),
        textcoords="offset points",
        color="C2",
        fontsize=11,
        ha="right",
    )
    ax.set(xlabel=s["differr.xlabel"], ylabel=s["differr.ylabel"], ylim=(1e-15, 1e2))
    ax.legend(loc="upper center", fontsize=10.5, ncol=2)
    _style(ax, s["differr.title"].format(label=label))
    return fig


@localized
def gradient_field(f=function_2, lim=2.0, n=17, *, s):
    """Arrows of -∇f over a grid (the direction gradient descent steps), on contours of f.

    ∇f at each grid point is ``numerical_gradient`` of f at that point, as in the book's figure
    4-9; every arrow points downhill toward the minimum, longer where the slope is steeper.
    """
    g = np.linspace(-lim, lim, n)
    x0, x1 = np.meshgrid(g, g)
    points = np.stack([x0.ravel(), x1.ravel()], axis=1)
    grad = np.array([numerical_gradient(f, p) for p in points])
    fine = np.linspace(-lim * 1.05, lim * 1.05, 200)
    f0, f1 = np.meshgrid(fine, fine)
    fig = Figure(figsize=(7, 6.5))
    ax = fig.subplots()
    cs = ax.contour(
        f0, f1, f(np.stack([f0, f1])), levels=[0.5, 1, 2, 3, 4, 6], colors="0.75", linewidths=1
    )
    ax.clabel(cs, fontsize=9, fmt="f = %g")
    q = ax.quiver(
        points[:, 0],
        points[:, 1],
        -grad[:, 0],
        -grad[:, 1],
        np.hypot(*grad.T),
        cmap="viridis",
        angles="xy",
        pivot="mid",
        width=0.004,
    )
    fig.colorbar(q, ax=ax, shrink=0.8, label=s["field.slope"])
    ax.plot([0], [0], "*", ms=16, color="C3", label=s["field.minimum"])
    ax.set(xlabel="$x_0$", ylabel="$x_1$", aspect="equal")
    ax.legend(loc="upper right")
    _style(ax, s["field.title"])
    return fig


@localized
def saddle_surface(lim=2.0, *, s):
    """The surface z = x² - y²: its gradient (2x, -2y) is 0 at the origin, yet the origin is no
    minimum — along x it is the lowest point, along y the highest. Gradient descent can stall at
    such saddle points."""
    g = np.linspace(-lim, lim, 61)
    x, y = np.meshgrid(g, g)
    z = x**2 - y**2
    fig = Figure(figsize=(9, 7.5))
    # computed_zorder=False: draw in call order, so the curves and the point stay on top
    ax = fig.add_subplot(projection="3d", computed_zorder=False)
    ax.plot_surface(
        x, y, z, cmap="coolwarm", rstride=3, cstride=3, linewidth=0.2, edgecolor="0.4", alpha=0.7
    )
    ax.plot(g, np.zeros_like(g), g**2, color="C2", lw=3, label=s["saddle.along_x"])
    ax.plot(np.zeros_like(g), g, -(g**2), color="C4", lw=3, label=s["saddle.along_y"])
    ax.scatter(
        [0],
        [0],
        [0],
        color="k",
        s=90,
        edgecolor="w",
        depthshade=False,
        zorder=5,
        label=s["saddle.point"],
    )
    ticks = np.arange(-np.floor(lim), np.floor(lim) + 1)
    ax.set(xlabel="x", ylabel="y", zlabel="z", xticks=ticks, yticks=ticks)
    ax.view_init(elev=25, azim=-60)
    ax.legend(loc="upper left", fontsize=10)
    ax.set_title(s["saddle.title"])
    return fig


@localized
def descent_paths(
    f=function_2,
    init_x=(-3.0, 4.0),
    runs=((0.01, 100, "too small"), (0.1, 100, "good"), (1.1, 10, "too large")),
    *,
    s,
):
    """Paths of ``gradient_descent`` from ``init_x`` on contours of f, one panel per learning rate:
    too small (it crawls and stops far from the minimum), good (it arrives), too large (every step
    overshoots and the path spirals out). ``runs`` is a sequence of (lr, step_num, label)."""
    fig = Figure(figsize=(5.2 * len(runs), 5.2))
    axes = np.atleast_1d(fig.subplots(1, len(runs)))
    for ax, (lr, steps, name) in zip(axes, runs):
        x, path = gradient_descent(f, np.asarray(init_x, dtype=float), lr=lr, step_num=steps)
        lim = max(4.5, 1.1 * np.max(np.abs(path)))
        g = np.linspace(-lim, lim, 200)
        g0, g1 = np.meshgrid(g, g)
        ax.contour(g0, g1, f(np.stack([g0, g1])), levels=12, colors="0.8", linewidths=1)
        ax.plot(path[:, 0], path[:, 1], "o-", ms=3.5, lw=1.2, color="C0")
        if steps <= 12:  # few steps: number them, so back-and-forth jumps can be followed
            for i, (a, b) in enumerate(path):
                ax.annotate(
                    str(i),
                    (a, b),
                    xytext=(7, 3),
                    textcoords="offset points",
                    fontsize=10,
                    color="C0",
                )
        ax.plot(
            *path[0],
            "s",
            ms=9,
            color="C1",
            label=s["descent.start"].format(start=tuple(float(v) for v in init_x)),
        )
        ax.plot(*path[-1], "X", ms=11, color="C3", label=s["descent.after"].format(steps=steps))
        ax.plot([0], [0], "*", ms=14, color="k", label=s["descent.minimum"])
        ax.set(xlabel="$x_0$", ylabel="$x_1$", aspect="equal", xlim=(-lim, lim), ylim=(-lim, lim))
        ax.legend(loc="best", fontsize=9)
        name = s.get(f"descent.{name}", name)  # the default runs' names are in the table
        _style(ax, s["descent.panel"].format(lr=lr, name=name, f=f(x)))
    fig.suptitle(s["descent.title"], fontsize=14)
    return fig
