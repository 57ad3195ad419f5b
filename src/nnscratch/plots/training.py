"""Figures of a training run, drawn from its history; the moving mean that smooths loss curves."""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..validation import check_positive_int
from .lang import localized


def moving_mean(values, window):
    """The mean of every ``window`` consecutive values, m_i = (1/k) Σ_{j=i-k+1..i} x_j for
    i = k..N (counted from 1, k = ``window``): returns ``(i, m)``, both (N - k + 1,), empty when
    k > N. Plotted at i, the mean of the last k iterations."""
    window = check_positive_int(window, "window")
    values = np.asarray(values, dtype=float)
    if window > values.size:
        return np.arange(0), np.zeros(0)
    return (
        np.arange(window, values.size + 1),
        np.convolve(values, np.ones(window) / window, mode="valid"),
    )


@localized
def training_curves(history, *, s):
    """Loss per iteration (left) and train/test accuracy per epoch (right) of a run's history."""
    fig = Figure(figsize=(11, 4.2))
    ax_loss, ax_acc = fig.subplots(1, 2)
    loss = np.asarray(history["train_loss"], dtype=float)
    ax_loss.plot(
        np.arange(1, loss.size + 1), loss, lw=0.8, alpha=0.5, label=s["curves.per_iteration"]
    )
    if loss.size >= 20:
        k = max(loss.size // 50, 5)
        ax_loss.plot(*moving_mean(loss, k), lw=2, label=s["curves.moving_mean"].format(k=k))
    ax_loss.set(xlabel=s["curves.iteration"], ylabel=s["curves.loss"], title=s["curves.loss_title"])
    ax_loss.legend()
    epochs = np.arange(1, len(history["train_acc"]) + 1)
    ax_acc.plot(
        epochs, history["train_acc"], "o-", label=_last(s, "curves.train", history["train_acc"])
    )
    if not np.all(np.isnan(np.asarray(history["test_acc"], dtype=float))):
        ax_acc.plot(
            epochs, history["test_acc"], "s--", label=_last(s, "curves.test", history["test_acc"])
        )
    ax_acc.set(
        xlabel=s["curves.epoch"],
        ylabel=s["curves.accuracy"],
        title=s["curves.acc_title"],
        ylim=(0, 1.02),
    )
    ax_acc.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_acc.legend(loc="lower right")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    return fig


def _last(s, key, values):
    return s["curves.last"].format(name=s[key], value=values[-1]) if len(values) else s[key]
