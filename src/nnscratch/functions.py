"""The math of chapters 3-4: activations, softmax, the loss functions and weight decay.

Textbook code: every body is its formula in plain NumPy. Shapes: a batch is ``(N, C)``; a single
sample ``(C,)`` is accepted wherever the textbook accepts it. Labels ``t`` are index labels
``(N,)`` or ``(N, 1)`` (ints in ``0..C-1``) or one-hot ``(N, C)``; for a single sample an int or a
one-hot ``(C,)``. No function here changes its arguments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import NnscratchError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import ArrayLike, DTypeLike, NDArray

#: ε added inside log in :func:`cross_entropy_error`, so that log(0) never happens.
CROSS_ENTROPY_EPS = 1e-7


def as_float(x: ArrayLike) -> NDArray[np.floating]:
    """``x`` as an array; ints and bools become float64 (float32/float64 pass through unchanged)."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def sigmoid(x: ArrayLike) -> NDArray[np.floating]:
    """Logistic sigmoid σ(x) = 1 / (1 + exp(-x)), elementwise, any shape.

    Written as σ(x) = ½ (1 + tanh(x / 2)), the same function: ``exp(-x)`` overflows (with a
    RuntimeWarning) for x < -709, while tanh saturates cleanly. Keeps x's float dtype.
    """
    x = as_float(x)
    return 0.5 * (1 + np.tanh(0.5 * x))


def relu(x: ArrayLike) -> np.ndarray:
    """Rectified linear unit max(0, x), elementwise, any shape."""
    return np.maximum(x, 0)


def tanh(x: ArrayLike) -> NDArray[np.floating]:
    """Hyperbolic tangent (e^x - e^-x) / (e^x + e^-x), elementwise, any shape."""
    return np.tanh(x)


def log_softmax(x: ArrayLike) -> NDArray[np.floating]:
    """log softmax(x) along the last axis: x_k - max(x) - log Σ_j exp(x_j - max(x)).

    ``x`` is ``(C,)`` or ``(N, C)``; each row is normalised on its own. Subtracting the row
    maximum changes nothing mathematically and keeps exp from overflowing.
    """
    x = as_float(x)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax(x: ArrayLike) -> NDArray[np.floating]:
    """softmax(x)_k = exp(x_k) / Σ_j exp(x_j) along the last axis, row by row; rows sum to 1.

    ``x`` is ``(C,)`` or ``(N, C)``; returns the same shape. The row maximum is subtracted first
    (the same fraction, and exp never overflows).
    """
    x = as_float(x)
    exp = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return exp / np.sum(exp, axis=-1, keepdims=True)


def to_index_labels(t: ArrayLike) -> NDArray[np.intp]:
    """Return labels as an int array ``(N,)``.

    Accepts index labels ``(N,)`` or ``(N, 1)`` and one-hot ``(N, C)`` (each row: its argmax).
    """
    t = np.asarray(t)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim == 2:
        return np.argmax(t, axis=1)
    return t.astype(np.intp, copy=False)


def check_label_range(t: NDArray[np.integer], n_classes: int) -> NDArray[np.integer]:
    """Index labels ``t`` (N,), refused unless each is a class 0..n_classes-1 (a label -1 would
    silently pick the last class)."""
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        raise NnscratchError(
            f"labels must be class indices 0..{n_classes - 1}, got values from "
            f"{t.min()} to {t.max()}"
        )
    return t


def negative_log_likelihood(log_y: NDArray[np.floating], t: ArrayLike) -> np.floating:
    """E = -(1/N) Σ_n Σ_k t_nk log y_nk: the mean over the batch of -log y[true class].

    ``log_y`` is ``(N, C)`` or ``(C,)``. One-hot (or soft) targets use -Σ_k t_k log y_k; index
    labels pick log y[n, t_n] directly; both give the same number for one-hot labels.
    """
    if log_y.ndim == 1:
        log_y, t = log_y[np.newaxis, :], np.asarray(t)[np.newaxis, ...]
    t = np.asarray(t)
    n = log_y.shape[0]
    if t.shape == log_y.shape:
        return -np.sum(t * log_y) / n
    t = check_label_range(to_index_labels(t), log_y.shape[1])
    return -np.sum(log_y[np.arange(n), t]) / n


def cross_entropy_error(y: ArrayLike, t: ArrayLike) -> np.floating:
    """Cross-entropy E = -(1/N) Σ_n Σ_k t_nk log(y_nk + ε), ε = 1e-7.

    ``y`` holds probabilities, ``(N, C)`` or one sample ``(C,)``; ``t`` is one-hot of the same shape
    or index labels ``(N,)`` / ``(N, 1)`` / an int. With index labels the sum over k keeps only the
    true class: E = -(1/N) Σ_n log(y[n, t_n] + ε). ε keeps log(0) = -inf away when a predicted
    probability is exactly 0.
    """
    return negative_log_likelihood(np.log(as_float(y) + CROSS_ENTROPY_EPS), t)


def softmax_cross_entropy(x: ArrayLike, t: ArrayLike) -> np.floating:
    """Cross-entropy of softmax(x) against labels t, from the scores x directly:
    E = -(1/N) Σ_n log softmax(x_n)[t_n].

    ``x`` is ``(N, C)`` or ``(C,)``; ``t`` as in :func:`cross_entropy_error`. The log-softmax form
    needs no ε: it is exact and never takes log(0). This is the loss whose derivative
    (softmax(x) - t) / N the SoftmaxWithLoss layer uses.
    """
    return negative_log_likelihood(log_softmax(x), t)


def mean_squared_error(y: ArrayLike, t: ArrayLike) -> np.floating:
    """Mean squared error E = (1/N) Σ_n Σ_k (y_nk - t_nk)², as the notebook writes it.

    ``y`` is ``(N, C)`` or ``(C,)``; ``t`` is one-hot of the same shape or index labels.
    For one sample (N = 1) this is Σ_k (y_k - t_k)². The book's ``0.5 * np.sum((y - t)**2)`` has a
    factor ½ (so that the derivative is simply y - t) and no mean over the batch: it is this value
    times N/2.
    """
    y = as_float(y)
    t = np.asarray(t)
    if t.shape != y.shape:
        t = one_hot(to_index_labels(t), y.shape[-1], dtype=y.dtype)
    n = y.shape[0] if y.ndim == 2 else 1
    return np.sum((y - t) ** 2) / n


def weight_decay(
    weights: Iterable[NDArray[np.floating]], weight_decay_lambda: float
) -> float | np.floating:
    """L2 weight decay ½ λ Σ_l ‖W_l‖² = ½ λ Σ_l Σ_ij W_l[i, j]², the term added to the loss.

    ``weights``: the weight matrices W_l (any shapes; biases are left out by the caller);
    ``weight_decay_lambda`` λ ≥ 0. Its gradient with respect to W_l is λ W_l.
    """
    return 0.5 * weight_decay_lambda * sum(np.sum(w**2) for w in weights)


def one_hot(t: ArrayLike, n_classes: int, dtype: DTypeLike = np.float64) -> np.ndarray:
    """One-hot encode index labels: ``(N,)`` ints in 0..C-1 → ``(N, C)`` 0s and 1s of ``dtype``."""
    t = np.asarray(t, dtype=np.intp).reshape(-1) if np.ndim(t) else np.asarray([t], dtype=np.intp)
    out = np.zeros((t.shape[0], n_classes), dtype=dtype)
    out[np.arange(t.shape[0]), t] = 1.0
    return out


def accuracy(y: ArrayLike, t: ArrayLike) -> float:
    """Fraction of rows whose largest score is the true class: (1/N) Σ_n [argmax y_n = t_n].

    ``y`` is scores or probabilities ``(N, C)``; ``t`` index or one-hot labels; a language
    model's ``(N, T, C)`` with ``t`` (N, T) counts every position. Accuracy is a step
    function of the weights (its derivative is 0 almost everywhere), which is why it cannot be
    the loss we descend.
    """
    y = np.asarray(y)
    t = np.asarray(t)
    if y.ndim == 1:  # one sample: its label is an int or a one-hot (C,)
        y, t = y[np.newaxis, :], t[np.newaxis, ...]
    if y.ndim == 3:  # a language model's scores (N, T, C), every position a sample
        y, t = y.reshape(-1, y.shape[-1]), t.reshape(-1)
    t = to_index_labels(t)
    return float(np.mean(np.argmax(y, axis=1) == t))
