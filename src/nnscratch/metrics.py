"""How well a trained network classifies: confusion matrix and per-class accuracy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import NnscratchError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


def confusion_matrix(t: ArrayLike, y: ArrayLike, n_classes: int) -> NDArray[np.intp]:
    """C[i, j] = number of samples of true class i predicted as class j; shape (C, C).

    ``t`` and ``y`` are int class indices (N,) in 0..n_classes-1. The diagonal holds the correct
    predictions, so accuracy = trace(C) / N.
    """
    t = np.asarray(t, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    for name, labels in (("true", t), ("predicted", y)):
        if labels.size and not 0 <= labels.min() <= labels.max() < n_classes:
            raise NnscratchError(
                f"{name} classes run from {labels.min()} to {labels.max()}: "
                f"they must be class indices 0..{n_classes - 1}"
            )
    # each (t_n, y_n) pair counted at the flat position t_n · C + y_n
    return np.bincount(t * n_classes + y, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def per_class_accuracy(matrix: ArrayLike) -> NDArray[np.floating]:
    """C[i, i] / Σ_j C[i, j] for every class i (the recall of each class); NaN for a class with
    no samples."""
    matrix = np.asarray(matrix)
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)
