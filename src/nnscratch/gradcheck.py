"""Gradient check: backpropagation against the numerical gradient, parameter by parameter."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .nets import LayerNet


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    """Largest difference relative to the gradient's scale: max|a - b| / max(max|a|, max|b|).

    Scaling by the largest entry rather than entry by entry keeps near-zero entries (whose own
    relative error is meaningless) from dominating. 0 when both are all zero.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    return 0.0 if scale == 0 else float(np.max(np.abs(a - b)) / scale)


def gradient_check(
    net: LayerNet, x: ArrayLike, t: ArrayLike, h: float = 1e-4, zero_tol: float = 1e-9
) -> dict[str, float]:
    """Relative error between ``net.gradient`` (backprop) and ``net.numerical_gradient`` for each
    parameter: a dict {key: error}. Run it in float64; below 1e-7 the backward pass is right.

    A parameter whose two gradients are both within ``zero_tol`` of 0 everywhere reports 0: its
    true gradient is 0 (a bias just before BatchNorm, whose batch mean is subtracted), and the
    numerical method only measures that up to its round-off, about 1e-16·|L|/h — rounding noise
    against rounding noise is no relative error.
    """
    numerical = net.numerical_gradient(x, t, h)
    backprop = net.gradient(x, t)
    errors = {}
    for key in net.params:
        a, b = np.abs(backprop[key]), np.abs(numerical[key])
        both_zero = np.max(a, initial=0.0) < zero_tol and np.max(b, initial=0.0) < zero_tol
        errors[key] = 0.0 if both_zero else relative_error(backprop[key], numerical[key])
    return errors
