"""Gradient check: backpropagation against the numerical gradient, parameter by parameter."""

import numpy as np


def relative_error(a, b):
    """Largest difference relative to the gradient's scale: max|a - b| / max(max|a|, max|b|).

    Scaling by the largest entry rather than entry by entry keeps near-zero entries (whose own
    relative error is meaningless) from dominating. 0 when both are all zero.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    return 0.0 if scale == 0 else float(np.max(np.abs(a - b)) / scale)


def gradient_check(net, x, t, h=1e-4):
    """Relative error between ``net.gradient`` (backprop) and ``net.numerical_gradient`` for each
    parameter: a dict {key: error}. Run it in float64; below 1e-7 the backward pass is right."""
    numerical = net.numerical_gradient(x, t, h)
    backprop = net.gradient(x, t)
    return {key: relative_error(backprop[key], numerical[key]) for key in net.params}
