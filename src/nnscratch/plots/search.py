"""The figure of a hyperparameter search (``nnscratch search``): the best trials' curves."""

import math

import numpy as np
from matplotlib.figure import Figure

from .lang import localized


@localized
def search_figure(best, columns=5, *, s):
    """The book's figure: for each of the ``best`` trials, in rank order (the book draws the 20
    best by validation accuracy: ``experiments.search.best_trials(trials, 20)``), a small plot of
    validation (solid) and training (dashed) accuracy per epoch, titled with its rank, lr and
    weight decay."""
    rows = max(1, math.ceil(len(best) / columns))
    fig = Figure(figsize=(2.4 * columns, 2.0 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False, subplot_kw={"ylim": (0, 1)}).ravel()
    for rank, (ax, trial) in enumerate(zip(axes, best), 1):
        epochs = np.arange(1, len(trial["val_acc"]) + 1)
        ax.plot(epochs, trial["val_acc"], "-", epochs, trial["train_acc"], "--")
        title = ", ".join(
            f"{short} {trial['params'][name]:.1e}"
            for name, short in (("lr", "lr"), ("weight_decay", "wd"))
            if name in trial["params"]
        )
        ax.set_title(
            f"{rank}: {title or s['search.trial'].format(index=trial['index'])}", fontsize=8
        )
        ax.tick_params(labelsize=6)
    for ax in axes[len(best) :]:
        ax.set_axis_off()
    fig.suptitle(s["search.title"])
    return fig
