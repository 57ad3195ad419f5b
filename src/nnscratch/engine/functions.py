"""The engine's softmax, cross-entropy and sigmoid: the textbook's formulas (``functions``), with
fewer passes and less of NumPy's per-call overhead. Tests prove each equal to the textbook.

- row maxima of short rows reduced over the contiguous transpose (vectorised across rows);
- the true classes picked by one flat index (``label_positions``) instead of a pair of index
  arrays: the same elements, at a fraction of fancy indexing's cost;
- the ufuncs' ``reduce`` called directly (what ``np.max``/``np.sum`` call, without their wrapper);
- in-place steps on arrays of our own.
"""

import numpy as np

from ..functions import as_float, check_label_range, to_index_labels

#: rows at most this long are reduced over their transpose (see :func:`row_max`)
SHORT_ROW = 64


def row_max(x):
    """max_j x_j along the last axis, keepdims: (N, C) → (N, 1), (C,) → (1,).

    Short rows (N, C ≤ 64) are reduced over axis 0 of their contiguous transpose (C, N): NumPy
    reduces a short row element by element, but rows of a (C, N) array against each other
    vectorised; a maximum is exact either way.
    """
    if x.ndim != 2 or x.shape[1] > SHORT_ROW:
        return np.maximum.reduce(x, axis=-1, keepdims=True)
    return np.maximum.reduce(np.ascontiguousarray(x.T), axis=0)[:, np.newaxis]


def log_softmax(x):
    """``functions.log_softmax``: x_k - max x - log Σ_j exp(x_j - max x), the log and the
    subtraction in place on the one new array."""
    x = as_float(x)
    shifted = x - row_max(x)
    log_sum = np.add.reduce(np.exp(shifted), axis=-1, keepdims=True)
    np.log(log_sum, out=log_sum)
    shifted -= log_sum
    return shifted


def sigmoid(x):
    """``functions.sigmoid`` σ(x) = ½ (1 + tanh(x / 2)), step by step on one new array."""
    x = as_float(x)
    out = np.multiply(x, 0.5, out=np.empty_like(x))
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out if out.ndim else out[()]


def label_positions(t, n_classes):
    """Flat positions n·C + t_n of the true classes in a C-contiguous (N, C) array, for index
    labels t (N,) or (N, 1): ``a.ravel().take(label_positions(t, C))`` is ``a[range(N), t]``."""
    t = to_index_labels(t)
    # one max over the labels seen as unsigned: a negative label becomes huge, so this also
    # catches t < 0 (a flat index would otherwise silently pick a neighbouring row's entry)
    if t.size and np.maximum.reduce(t.view(np.uintp)) >= n_classes:
        check_label_range(t, n_classes)  # raises, with the textbook's message
    return np.arange(0, len(t) * n_classes, n_classes) + t


def negative_log_likelihood_at(log_y, positions):
    """E = -(1/N) Σ_n log y[n, t_n] for log_y (N, C) and the labels' :func:`label_positions`."""
    return -np.add.reduce(log_y.ravel().take(positions)) / log_y.shape[0]
