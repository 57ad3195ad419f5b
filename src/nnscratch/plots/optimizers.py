"""Figures of ``nnscratch compare-optimizers``: the optimizers' paths on a 2-D function, and their
training-loss curves on a dataset."""

import numpy as np
from matplotlib.figure import Figure

from .training import moving_mean


def optimizer_paths(paths, f, title="f(x, y) = x²/20 + y²", xlim=(-10, 10), ylim=(-5, 5)):
    """One panel per optimizer: the contour lines of ``f`` and the path the optimizer took.

    ``paths``: {label: (steps + 1, 2) array of visited points}; ``f(x, y)`` works on grids.
    """
    n = len(paths)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(4.6 * cols, 3.4 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    xs, ys = np.meshgrid(np.linspace(*xlim, 300), np.linspace(*ylim, 200))
    zs = f(xs, ys)
    levels = np.geomspace(max(zs.min(), 1e-3), zs.max(), 12)
    for ax, (label, path) in zip(axes, paths.items()):
        ax.contour(xs, ys, zs, levels=levels, colors="0.75", linewidths=0.8)
        ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", ms=3, lw=1.2)
        ax.plot(0, 0, "+", color="k", ms=10)
        ax.set(xlim=xlim, ylim=ylim, title=label, xlabel="x", ylabel="y")
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(
        f"{title}: {len(next(iter(paths.values()))) - 1} steps from "
        f"({next(iter(paths.values()))[0, 0]:g}, {next(iter(paths.values()))[0, 1]:g})"
    )
    return fig


def optimizer_losses(losses, title="Training loss per iteration"):
    """Training loss (a moving mean over iterations) of each optimizer on one axes, log scale.

    ``losses``: {label: sequence of per-iteration losses}.
    """
    fig = Figure(figsize=(7.5, 4.6), layout="constrained")
    ax = fig.subplots()
    for label, loss in losses.items():
        k = max(min(len(loss) // 40, 25), 1)
        ax.plot(*moving_mean(loss, k), lw=1.6, label=label)
    ax.set(
        yscale="log",
        xlabel="iteration",
        ylabel="training loss (cross-entropy, moving mean)",
        title=title,
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return fig
