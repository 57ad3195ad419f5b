"""Gradient descent on a plain function, and the optimizers that update a network's parameters.

Every optimizer has ``update(params, grads)``: it changes the arrays of the ``params`` dict in place
(its name says so) from the same-keyed ``grads`` dict.
"""

import numpy as np

from .errors import NnscratchError
from .numgrad import numerical_gradient


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    """Minimise f by x ← x - lr · ∇f(x), repeated ``step_num`` times, ∇f by numerical_gradient.

    ``init_x`` is never modified (an integer start such as ``np.array([-3, 4])`` is copied to
    float64, so it gives the same result as ``[-3.0, 4.0]``). Returns ``(x, path)``: the final x
    and the array ``(step_num + 1, *x.shape)`` of every point visited, the start included.
    """
    x = np.array(init_x, dtype=np.float64)
    path = [x.copy()]
    for _ in range(step_num):
        x -= lr * numerical_gradient(f, x)
        path.append(x.copy())
    return x, np.array(path)


class SGD:
    """Stochastic gradient descent: W ← W - lr · ∂L/∂W for every parameter."""

    def __init__(self, lr=0.01):
        if not lr > 0:
            raise NnscratchError(f"learning rate must be > 0, got {lr}: try 0.1 for SGD")
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]
