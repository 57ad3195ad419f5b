"""Figures. Built on matplotlib's object API (``Figure``), which needs no display and no pyplot."""

import io as _io

import numpy as np
from matplotlib.figure import Figure

from .io import atomic_write_bytes


def save_figure(fig, path, fmt=None):
    """Render ``fig`` and write it to ``path`` atomically; the format follows the suffix."""
    buf = _io.BytesIO()
    fig.savefig(buf, format=fmt or str(path).rsplit(".", 1)[-1], dpi=150, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())


def training_curves(history):
    """Loss per iteration (left) and train/test accuracy per epoch (right) of a run's history."""
    fig = Figure(figsize=(11, 4.2))
    ax_loss, ax_acc = fig.subplots(1, 2)
    loss = np.asarray(history["train_loss"], dtype=float)
    ax_loss.plot(np.arange(1, loss.size + 1), loss, lw=0.8, alpha=0.5, label="per iteration")
    if loss.size >= 20:
        k = max(loss.size // 50, 5)
        smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
        ax_loss.plot(np.arange(k, loss.size + 1), smooth, lw=2, label=f"mean of {k}")
    ax_loss.set(xlabel="iteration", ylabel="training loss (cross-entropy)",
                title="Loss on each mini-batch")
    ax_loss.legend()
    epochs = np.arange(1, len(history["train_acc"]) + 1)
    ax_acc.plot(epochs, history["train_acc"], "o-", label="train")
    if not np.all(np.isnan(np.asarray(history["test_acc"], dtype=float))):
        ax_acc.plot(epochs, history["test_acc"], "s--", label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy after each epoch")
    ax_acc.legend(loc="lower right")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    return fig
