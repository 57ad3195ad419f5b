"""Numerical differentiation (chapter 4): derivatives from differences of function values.

These are the reference implementations: slow, simple, and the yardstick that backpropagation is
checked against.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .validation import check_choice

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike, NDArray

_METHODS = ("central", "forward")


def numerical_diff(
    f: Callable[[float], float], x: float, h: float = 1e-4, method: str = "central"
) -> float:
    """Derivative of a scalar function f at x by a finite difference.

    - ``"central"``: (f(x + h) - f(x - h)) / 2h, error O(h²);
    - ``"forward"``: (f(x + h) - f(x)) / h, error O(h).

    h = 1e-4 is the book's choice: small enough for the truncation error, large enough that the
    round-off error of f (about 1e-16 · |f| / h) stays negligible.
    """
    check_choice(method, _METHODS, "method")
    if method == "central":
        return (f(x + h) - f(x - h)) / (2 * h)
    return (f(x + h) - f(x)) / h  # forward


def numerical_gradient(
    f: Callable[[NDArray[np.floating]], float | np.floating], x: ArrayLike, h: float = 1e-4
) -> NDArray[np.floating]:
    """Gradient ∂f/∂x of a scalar function f of an array x, of any shape, by central differences:
    grad[i] = (f(x + h·e_i) - f(x - h·e_i)) / 2h for every element i.

    f is called with the array itself, each element perturbed in place in turn and put back
    exactly afterwards — also when f raises. That is what lets ``lambda W: net.loss(x, t)`` (which
    ignores its argument) see the perturbed weights, as in the book.

    Integer (or bool) input cannot hold x ± h: ``x[i] = 3 + 1e-4`` would silently store 3. Such
    input is therefore copied to float64 first; f then sees the copy and the caller's array is
    untouched. Returns an array of x's shape and float dtype.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        tmp_val = x[idx]
        try:
            x[idx] = tmp_val + h
            fxh1 = f(x)
            x[idx] = tmp_val - h
            fxh2 = f(x)
        finally:
            x[idx] = tmp_val
        grad[idx] = (fxh1 - fxh2) / (2 * h)
    return grad
