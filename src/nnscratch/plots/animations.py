"""Animations of learning, for slides and notebooks: each function returns a matplotlib
``FuncAnimation`` built on a ``Figure`` (no pyplot); ``save_animation`` writes it as a GIF or MP4.

Training animations record first, then draw: ``record_training`` runs the library's own loop
(``Trainer.run``) and keeps a snapshot every ``every`` iterations; the animation only replays
them, so what is shown is exactly what the network computed.
"""

import contextlib

import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..errors import NnscratchError
from ..optim import gradient_descent
from ..validation import check_positive_int
from .boundary import (
    check_two_inputs,
    class_grid,
    draw_points,
    draw_regions,
    grid_axes,
    region_image,
)
from .chapter4 import function_2
from .frames import DEFAULT_FPS, DEFAULT_FRAMES, check_frames
from .lang import localized, monospace_font
from .model import grid_shape, image_shape_of
from .training import moving_mean

#: figure size (inches) and resolution of every animation: small enough for a GIF of a few MB
FIGSIZE, DPI = (6.0, 4.8), 80
#: the descent animation's learning rates: (lr, what it shows)
DESCENT_RATES = ((0.02, "too small"), (0.1, "good"), (0.9, "zigzags"), (1.02, "too large"))


def _animation(fig, update, frames, fps):
    # lay the figure out once, on the first frame: redoing it every frame doubles the rendering
    update(0)
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    return FuncAnimation(
        fig, update, frames=frames, interval=1000 / fps, blit=False, cache_frame_data=False
    )


def _corner(ax, at=(0.02, 0.97), ha="left", va="top"):
    """A text box at ``at`` (axes fraction), by default the upper-left corner of ``ax``: where
    the iteration and the loss go."""
    # the monospace font by name, as now set: "monospace" would be looked up when drawn
    return ax.text(
        *at,
        "",
        transform=ax.transAxes,
        va=va,
        ha=ha,
        fontsize=10,
        family=monospace_font(),
        bbox={"boxstyle": "round", "fc": "w", "alpha": 0.85},
    )


def record_training(trainer, frames, every, snapshot):
    """Train with ``trainer.run`` until ``frames - 1`` snapshots after the first: returns a list
    of ``frames`` tuples ``(iteration, L, snapshot(net))``, the first before any step, then one
    every ``every`` iterations; L is the loss on the whole training set (evaluation mode)."""
    frames, every = check_frames(frames), check_positive_int(every, "every")
    net = trainer.net

    def shot():
        with getattr(net, "evaluating", contextlib.nullcontext)():
            loss = float(net.loss(trainer.x_train, trainer.t_train))
        return trainer.iteration, loss, snapshot(net)

    shots = [shot()]
    while len(shots) < frames:
        trainer.run(every)  # the trainer's own loop: batches, steps, epochs' ends
        shots.append(shot())
    return shots


def record_boundary(trainer, g0, g1, frames=DEFAULT_FRAMES, every=10):
    """``record_training`` of ``trainer``'s 2-input network whose snapshot is ``class_grid`` on
    the grid ``g0 × g1``: ``[(iteration, L, (classes, confidence)), ...]``."""
    check_two_inputs(trainer.net)
    return record_training(trainer, frames, every, lambda n: class_grid(n, g0, g1))


@localized
def boundary(
    trainer, frames=DEFAULT_FRAMES, every=10, fps=DEFAULT_FPS, resolution=100, title=None, *, s
):
    """The decision regions of ``trainer``'s network (2 inputs) while it learns its training
    set by the trainer's steps, one frame every ``every`` iterations, the iteration and the
    training loss in the corner, the training and test points drawn; the network is trained in
    place."""
    net, x, t = trainer.net, trainer.x_train, trainer.t_train
    x_test, t_test = trainer.x_test, trainer.t_test
    points = x if x_test is None else np.concatenate([x, x_test])
    g0, g1 = grid_axes(points, resolution)
    shots = record_boundary(trainer, g0, g1, frames, every)
    k = int(np.max(t)) + 1
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    ax = fig.subplots()
    image = draw_regions(ax, g0, g1, *shots[0][2], k)
    draw_points(ax, x, t, x_test, t_test, names=(s["boundary.train"], s["boundary.test"]))
    ax.set(
        xlabel="$x_0$",
        ylabel="$x_1$",
        title=title
        or s["anim.boundary_title"].format(widths="-".join(map(str, _widths(net))), k=k),
    )
    corner = _corner(ax)

    def update(i):
        iteration, loss, (classes, confidence) = shots[i]
        image.set_data(region_image(classes, confidence, k))
        corner.set_text(s["anim.corner_loss"].format(iteration=iteration, loss=loss))
        return image, corner

    return _animation(fig, update, len(shots), fps)


def _widths(net):
    """Layer widths D, H1, ..., C of a dense net, from its weight matrices W1, W2, ..."""
    ws = [np.shape(net.params[f"W{i}"]) for i in range(1, 100) if f"W{i}" in net.params]
    return [ws[0][0], *(w[1] for w in ws)]


@localized
def descent(
    f=function_2,
    init_x=(-3.0, 4.0),
    rates=DESCENT_RATES,
    frames=DEFAULT_FRAMES,
    fps=DEFAULT_FPS,
    lim=6.0,
    *,
    s,
):
    """Paths of ``gradient_descent`` on f(x0, x1) from ``init_x``, one panel per learning rate of
    ``rates`` ((lr, label), ...), growing one step a frame (frame i shows steps 0..i)."""
    frames = check_frames(frames)
    paths = [
        gradient_descent(f, np.asarray(init_x, dtype=float), lr=lr, step_num=frames - 1)[1]
        for lr, _ in rates
    ]
    rows, cols = grid_shape(len(rates), 2)
    fig = Figure(figsize=(3.2 * cols, 3.2 * rows + 0.5), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    g = np.linspace(-lim, lim, 100)
    g0, g1 = np.meshgrid(g, g)
    lines, titles = [], []
    rates = [(lr, s.get(f"descent.{name}", name)) for lr, name in rates]  # the defaults' names
    for ax in axes[len(rates) :]:
        ax.set_axis_off()
    for ax, (lr, name) in zip(axes, rates):
        ax.contour(g0, g1, f(np.stack([g0, g1])), levels=10, colors="0.82", linewidths=0.8)
        ax.plot([0], [0], "*", ms=11, color="k", zorder=3)
        ax.plot(*init_x, "s", ms=7, color="C1", zorder=3)
        lines.append(ax.plot([], [], "o-", ms=2.5, lw=1.2, color="C0")[0])
        titles.append(ax.set_title(s["anim.rate"].format(lr=lr, name=name), fontsize=10))
        ax.set(xlabel="$x_0$", ylabel="$x_1$", aspect="equal", xlim=(-lim, lim), ylim=(-lim, lim))
    heading = fig.suptitle("")

    def update(i):
        for line, title, path, (lr, name) in zip(lines, titles, paths, rates):
            line.set_data(path[: i + 1, 0], path[: i + 1, 1])
            title.set_text(s["descent.panel"].format(lr=lr, name=name, f=f(path[i])))
        heading.set_text(s["anim.descent_heading"].format(i=i))
        return (*lines, *titles, heading)

    return _animation(fig, update, frames, fps)


def record_weights(trainer, frames=DEFAULT_FRAMES, every=5):
    """``record_training`` of ``trainer`` whose snapshot is a copy of W1 ``(D, H)``."""
    return record_training(trainer, frames, every, lambda n: np.array(n.params["W1"]))


@localized
def weights(
    trainer,
    image_shape=None,
    frames=DEFAULT_FRAMES,
    every=5,
    fps=DEFAULT_FPS,
    max_units=16,
    cols=4,
    *,
    s,
):
    """The first layer's weights, column W1[:, j] as an image per hidden unit j (as
    ``model.first_layer_weights`` draws them), while ``trainer``'s network learns; each frame on
    its own symmetric colour scale ±max|W1| so the patterns show from the first step."""
    shots = record_weights(trainer, frames, every)
    shape = image_shape_of(shots[0][2].shape[0], image_shape)
    n = min(shots[0][2].shape[1], max_units)
    rows, cols = grid_shape(n, cols)
    fig = Figure(
        figsize=(FIGSIZE[0], FIGSIZE[0] * rows / cols + 0.6), dpi=DPI, layout="constrained"
    )
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    images = []
    for j, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if j < n:
            images.append(ax.imshow(np.zeros(shape), cmap="RdBu_r"))
            ax.set_xlabel(s["weights.unit"].format(j=j), fontsize=8, labelpad=1)
        else:
            ax.set_axis_off()
    heading = fig.suptitle("")

    def update(i):
        iteration, loss, w1 = shots[i]
        vmax = float(np.max(np.abs(w1[:, :n]))) or 1.0
        for j, im in enumerate(images):
            im.set_data(w1[:, j].reshape(shape))
            im.set_clim(-vmax, vmax)
        heading.set_text(
            s["anim.weights_heading"].format(vmax=vmax, iteration=iteration, loss=loss)
        )
        return (*images, heading)

    return _animation(fig, update, len(shots), fps)


@localized
def curves(history, frames=DEFAULT_FRAMES, fps=DEFAULT_FPS, *, s):
    """A run's loss per iteration (left) and train/test accuracy per epoch (right), drawn as
    training goes: frame i shows the first ⌈i·n/(frames−1)⌉ of the n iterations and the epochs
    finished by then (epoch e ends at iteration e·n/E)."""
    frames = check_frames(frames)
    loss = np.asarray(history.get("train_loss", []), dtype=float)
    train_acc = np.asarray(history.get("train_acc", []), dtype=float)
    test_acc = np.asarray(history.get("test_acc", [np.nan] * len(train_acc)), dtype=float)
    if loss.size == 0 or train_acc.size == 0:
        raise NnscratchError(
            "the history has no iterations or no epochs to draw: train at least one epoch"
        )
    shown = np.ceil(np.linspace(0, loss.size, frames)).astype(int)
    epoch_end = np.arange(1, train_acc.size + 1) * loss.size / train_acc.size
    k = max(loss.size // 50, 5)
    mean_at, mean = moving_mean(loss, k)
    fig = Figure(figsize=(8.0, 3.6), dpi=DPI, layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    raw = ax_loss.plot([], [], lw=0.8, alpha=0.5, label=s["curves.per_iteration"])[0]
    smooth = ax_loss.plot([], [], lw=2, label=s["curves.moving_mean"].format(k=k))[0]
    finite = loss[np.isfinite(loss)]
    ax_loss.set(
        xlabel=s["curves.iteration"],
        ylabel=s["curves.loss"],
        title=s["curves.loss_title"],
        xlim=(0, loss.size),
        ylim=(0, 1.05 * float(np.max(finite, initial=1.0))),
    )
    ax_loss.legend(loc="upper right", fontsize=9)
    epochs = np.arange(1, train_acc.size + 1)
    acc_train = ax_acc.plot([], [], "o-", ms=3, label=s["curves.train"])[0]
    acc_test = ax_acc.plot([], [], "s--", ms=3, label=s["curves.test"])[0]
    ax_acc.set(
        xlabel=s["curves.epoch"],
        ylabel=s["curves.accuracy"],
        title=s["curves.acc_title"],
        xlim=(0.5, train_acc.size + 0.5),
        ylim=(0, 1.02),
    )
    ax_acc.legend(loc="lower right", fontsize=9)
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    ax_acc.xaxis.set_major_locator(MaxNLocator(integer=True))
    corner = _corner(ax_acc, (0.97, 0.45), ha="right", va="center")  # below the curves' plateau

    def update(i):
        m, e = shown[i], int(np.sum(epoch_end <= shown[i] + 1e-9))
        raw.set_data(np.arange(1, m + 1), loss[:m])
        smooth.set_data(mean_at[mean_at <= m], mean[mean_at <= m])
        acc_train.set_data(epochs[:e], train_acc[:e])
        acc_test.set_data(epochs[:e], test_acc[:e])
        corner.set_text(
            s["anim.corner_epoch"].format(iteration=m, epoch=e)
            + (
                s["anim.corner_test"].format(acc=test_acc[e - 1])
                if e and np.isfinite(test_acc[e - 1])
                else ""
            )
        )
        return raw, smooth, acc_train, acc_test, corner

    return _animation(fig, update, frames, fps)
