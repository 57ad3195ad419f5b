"""How well a trained network classifies: confusion matrix and per-class accuracy."""

import numpy as np


def confusion_matrix(t, y, n_classes):
    """C[i, j] = number of samples of true class i predicted as class j; shape (C, C).

    ``t`` and ``y`` are int class indices (N,). The diagonal holds the correct predictions, so
    accuracy = trace(C) / N.
    """
    t = np.asarray(t, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    return np.bincount(t * n_classes + y, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes)


def per_class_accuracy(matrix):
    """C[i, i] / Σ_j C[i, j] for every class i (the recall of each class); NaN for a class with
    no samples."""
    matrix = np.asarray(matrix)
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)
