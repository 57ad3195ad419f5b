"""Gradient descent on a plain function, and the optimizers that update a network's parameters.

Every optimizer has ``update(params, grads)``: it changes the arrays of the ``params`` dict in place
(its name says so) from the same-keyed ``grads`` dict. The updates are written as the formulas
read, but computed in place: each intermediate (``lr · g``, ``√h + ε``, ...) goes into a work
array kept from step to step instead of a new array at every step (the same operations in the
same order, so the same numbers); ``grads`` is never written into. A large parameter is updated
block by block (:data:`UPDATE_BLOCK` values, a few rows at a time): each formula is still one
pass over the block, but the block and its intermediates stay in the CPU's cache from one pass
to the next, where a whole weight matrix and its moments would come back from memory at every
pass (Adam on a SimpleConvNet's 434,000 float32 parameters: 1.9 → 1.45 ms). Optimizers with
memory (velocities, squared gradient sums, moments, the step count) expose it as a flat dict of
arrays with ``state_dict()`` and take it back with ``load_state_dict(state)``, so that a run can
be saved and resumed. Learning-rate schedules (``StepLR``, ``CosineLR``) give the rate of each
epoch.
"""

import math

import numpy as np

from .errors import NnscratchError
from .numgrad import numerical_gradient
from .validation import (check_choice, check_learning_rate, check_number, check_positive_int,
                         default_of)


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


#: values per block of an update: 32768 float32 values are 128 KB, so that a block of a
#: parameter, its gradient, its state and two work arrays (under 1 MB) stay in the CPU's cache
UPDATE_BLOCK = 1 << 15


def _row_blocks(param):
    """Slices of consecutive rows of ``param`` (along its first axis) of about
    :data:`UPDATE_BLOCK` values each, covering it; ``...`` (all of it) for a 0-d or small one."""
    if param.ndim == 0 or param.size <= UPDATE_BLOCK:
        return [...]
    rows = max(1, UPDATE_BLOCK * len(param) // param.size)
    return [slice(start, start + rows) for start in range(0, len(param), rows)]


def _work_arrays(store, param, grad, count):
    """``count`` work arrays of ``param``'s shape for the intermediates of an update, in the dtype
    ``param`` and ``grad`` combine to: views of flat buffers ``store[dtype]`` kept from call to
    call (grown when a larger block comes)."""
    # np.result_type only when the dtypes differ: the usual case goes without its cost
    dtype = param.dtype if grad.dtype == param.dtype else np.result_type(param, grad)
    buffers = store.get(dtype)
    if buffers is None or len(buffers) < count or buffers[0].size < param.size:
        size = max(param.size, buffers[0].size if buffers else 0)
        buffers = store[dtype] = [np.empty(size, dtype) for _ in range(max(count, 2))]
    return [buffer[:param.size].reshape(param.shape) for buffer in buffers[:count]]


def _check_decay(cls, name, value):
    """A decay rate (momentum, ρ, β) in [0, 1): at 1 the average would never forget its start.
    A bad one's error suggests ``cls``'s default."""
    return check_number(value, name, 0, 1, high_open=True,
                        hint=f"use e.g. {default_of(cls, name)}")


def _check_eps(cls, value):
    """ε > 0 in a denominator √h + ε, which is 0 wherever every gradient so far was 0."""
    return check_number(value, "eps", 0, low_open=True,
                        hint=f"use e.g. {default_of(cls, 'eps')}")


class SGD:
    """Stochastic gradient descent: W ← W - lr · g for every parameter, g = ∂L/∂W (default lr:
    the notebook's 0.1)."""

    def __init__(self, lr=0.1):
        self.lr = check_optimizer_lr(type(self), lr)
        self._work = {}  # the buffers lr · g is written into (not state: nothing to save)

    def update(self, params, grads):
        for key in params:
            param, grad = params[key], grads[key]
            for rows in _row_blocks(param):
                block, (lr_g,) = param[rows], _work_arrays(self._work, param[rows], grad, 1)
                # W ← W − lr·g, with lr·g in the work array
                block -= np.multiply(grad[rows], self.lr, out=lr_g)

    def state_dict(self):
        """SGD has no memory: an empty dict (the same interface as the other optimizers)."""
        return {}

    def load_state_dict(self, state):
        if state:
            raise NnscratchError(f"SGD has no state, got {sorted(state)}: was it saved by "
                                 "another optimizer?")


class Optimizer:
    """What the optimizers with memory share: the learning rate, per-parameter state arrays made
    on first use (zeros of the parameter's shape), and ``state_dict`` / ``load_state_dict``.

    ``_slots`` names the per-parameter arrays (e.g. ``("v",)``); the state dict holds them as
    ``"v/W1"``, ``"v/b1"``, ... plus ``"t"`` (the number of updates made) as a 0-d array.
    A subclass writes its formulas in ``_update_block(param, grad, *slots)``, which gets the
    same rows of the parameter, its gradient and each slot's array (see :data:`UPDATE_BLOCK`).
    """

    _slots = ()

    def __init__(self, lr):
        self.lr = check_optimizer_lr(type(self), lr)
        self.t = 0
        self.state = {slot: {} for slot in self._slots}
        self._work = {}  # work buffers for intermediates, reused between steps (not state)

    def _slot(self, slot, key, like):
        if key not in self.state[slot]:
            self.state[slot][key] = np.zeros_like(like)
        return self.state[slot][key]

    def _work_arrays(self, param, grad, count=1):
        """``count`` work arrays (of ``param``'s shape) for the intermediates of an update."""
        return _work_arrays(self._work, param, grad, count)

    def update(self, params, grads):
        self.t += 1
        for key in params:
            param, grad = params[key], grads[key]
            slots = [self._slot(slot, key, param) for slot in self._slots]
            for rows in _row_blocks(param):
                self._update_block(param[rows], grad[rows], *(a[rows] for a in slots))

    def _update_block(self, param, grad, *slots):  # pragma: no cover - subclasses override it
        raise NotImplementedError

    def state_dict(self):
        """Copies of the optimizer's memory: {"t": 0-d int array, "slot/key": array, ...}."""
        state = {"t": np.array(self.t)}
        for slot, arrays in self.state.items():
            for key, value in arrays.items():
                state[f"{slot}/{key}"] = value.copy()
        return state

    def load_state_dict(self, state):
        """Restore what ``state_dict`` returned (the same optimizer class, the same parameters)."""
        self.t = int(state["t"])
        self.state = {slot: {} for slot in self._slots}
        for name, value in state.items():
            if name == "t":
                continue
            slot, _, key = name.partition("/")
            if slot not in self.state:
                raise NnscratchError(f"optimizer state {name!r} does not belong to "
                                     f"{type(self).__name__}: was it saved by another optimizer?")
            self.state[slot][key] = np.array(value, copy=True)


class Momentum(Optimizer):
    """Momentum SGD: v ← α v - lr · g, W ← W + v (α = ``momentum`` in [0, 1), v starts at 0)."""

    _slots = ("v",)

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__(lr)
        self.momentum = _check_decay(Momentum, "momentum", momentum)

    def _update_block(self, param, grad, v):
        (lr_g,) = self._work_arrays(param, grad)
        # v ← α·v − lr·g, then W ← W + v
        param += self._velocity(v, grad, lr_g)

    def _velocity(self, v, grad, lr_g):
        """v ← α·v − lr·g, in place (lr·g left in the work array ``lr_g``)."""
        v *= self.momentum
        v -= np.multiply(grad, self.lr, out=lr_g)
        return v


class Nesterov(Momentum):
    """Nesterov's accelerated gradient (Sutskever et al. 2013, in the form PyTorch uses):
    v ← α v - lr · g, W ← W + α v - lr · g — the step looks ahead along the new velocity.

    (The book's ``Nesterov`` adds α² v - (1 + α) lr · g with the new v, which is not this method:
    its velocity term is scaled by α once too often.)
    """

    def _update_block(self, param, grad, v):
        lr_g, step = self._work_arrays(param, grad, 2)
        # v ← α·v − lr·g, then W ← W + (α·v − lr·g)
        v = self._velocity(v, grad, lr_g)
        np.multiply(v, self.momentum, out=step)
        step -= lr_g
        param += step


class AdaGrad(Optimizer):
    """AdaGrad: h ← h + g², W ← W - lr · g / (√h + ε); each weight's rate shrinks with its
    history of gradients (ε = 1e-7 as in the book keeps the first step finite)."""

    _slots = ("h",)

    def __init__(self, lr=0.01, eps=1e-7):
        super().__init__(lr)
        self.eps = _check_eps(type(self), eps)

    def _update_block(self, param, grad, h):
        work, denom = self._work_arrays(param, grad, 2)
        # h ← h + g²
        h += np.multiply(grad, grad, out=work)
        # W ← W − lr·g / (√h + ε)
        param -= _scaled_step(self.lr, grad, h, self.eps, work, denom)


class RMSprop(Optimizer):
    """RMSprop: h ← ρ h + (1 - ρ) g², W ← W - lr · g / (√h + ε); AdaGrad with a forgetting
    average, so the rate does not decay to 0 (ρ = ``decay_rate`` in [0, 1))."""

    _slots = ("h",)

    def __init__(self, lr=0.001, decay_rate=0.99, eps=1e-7):
        super().__init__(lr)
        self.decay_rate = _check_decay(RMSprop, "decay_rate", decay_rate)
        self.eps = _check_eps(type(self), eps)

    def _update_block(self, param, grad, h):
        work, denom = self._work_arrays(param, grad, 2)
        # h ← ρ·h + (1 − ρ)·g²
        _moving_average(h, self.decay_rate, grad, work, squared=True)
        # W ← W − lr·g / (√h + ε)
        param -= _scaled_step(self.lr, grad, h, self.eps, work, denom)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction, at step t = 1, 2, ...:
    m ← β1 m + (1 - β1) g, v ← β2 v + (1 - β2) g², m̂ = m / (1 - β1ᵗ), v̂ = v / (1 - β2ᵗ),
    W ← W - lr · m̂ / (√v̂ + ε). Without the correction the first steps would be far too small,
    since m and v start at 0 (β1, β2 in [0, 1))."""

    _slots = ("m", "v")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = _check_decay(Adam, "beta1", beta1)
        self.beta2 = _check_decay(Adam, "beta2", beta2)
        self.eps = _check_eps(Adam, eps)

    def _update_block(self, param, grad, m, v):
        work, denom = self._work_arrays(param, grad, 2)
        # m ← β1·m + (1 − β1)·g
        _moving_average(m, self.beta1, grad, work)
        # v ← β2·v + (1 − β2)·g²
        _moving_average(v, self.beta2, grad, work, squared=True)
        # m̂ = m / (1 − β1ᵗ)
        m_hat = np.divide(m, 1 - self.beta1 ** self.t, out=work)
        # W ← W − lr·m̂ / (√v̂ + ε), v̂ = v / (1 − β2ᵗ)
        param -= _scaled_step(self.lr, m_hat, v, self.eps, work, denom, 1 - self.beta2 ** self.t)


def _moving_average(average, rate, g, work, squared=False):
    """average ← rate·average + (1 − rate)·g, in place (``squared``: + (1 − rate)·g², computed as
    ((1 − rate)·g)·g); ``work`` holds the new term."""
    average *= rate
    np.multiply(g, 1 - rate, out=work)
    if squared:
        work *= g
    average += work
    return average


def _scaled_step(lr, g, h, eps, out, denom, h_scale=None):
    """out ← lr·g / (√(h / h_scale) + ε) (without ``h_scale``: √h), computed in ``out`` and
    ``denom``, the denominator first (``g`` may be ``out`` itself)."""
    if h_scale is None:
        np.sqrt(h, out=denom)
    else:
        np.sqrt(np.divide(h, h_scale, out=denom), out=denom)
    denom += eps
    np.multiply(g, lr, out=out)
    out /= denom
    return out


#: name → class, for the command line.
OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adagrad": AdaGrad,
              "rmsprop": RMSprop, "adam": Adam}


def _optimizer_class(name):
    return OPTIMIZERS[check_choice(name, OPTIMIZERS, "optimizer")]


def check_optimizer_lr(cls, lr):
    """``lr`` checked for optimizer class ``cls``; a bad one's error suggests the class default."""
    return check_learning_rate(lr, suggestion=f"{default_of(cls, 'lr')} for {cls.__name__}")


def default_lr(name):
    """The default learning rate of the optimizer called ``name``: its class's signature, the
    one place it is written (the CLI, compare-optimizers and NNClassifier read it here)."""
    return default_of(_optimizer_class(name), "lr")


def make_optimizer(name, lr=None, **options):
    """The optimizer called ``name`` (see ``OPTIMIZERS``) with rate ``lr`` (its default if None)."""
    return _optimizer_class(name)(lr=default_lr(name) if lr is None else lr, **options)


class StepLR:
    """Step decay: lr(epoch) = base_lr · γ^⌊epoch / step_size⌋ (epoch counted from 0)."""

    def __init__(self, step_size, gamma=0.1):
        self.step_size = check_positive_int(step_size, "step_size",
                                            hint="the number of epochs between two decays")
        self.gamma = check_number(gamma, "step decay factor γ", 0, 1, low_open=True,
                                  hint="0.5 halves the rate at every step")

    def __call__(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineLR:
    """Cosine annealing over ``total`` epochs (Loshchilov & Hutter 2017):
    lr(epoch) = min_lr + ½ (base_lr - min_lr)(1 + cos(π · epoch / total)), epoch from 0."""

    def __init__(self, total, min_lr=0.0):
        self.total = check_positive_int(total, "the cosine schedule's length (total)",
                                        hint="give the number of epochs to anneal over")
        self.min_lr = check_number(min_lr, "min_lr", 0, hint="the rate at the end, e.g. 0")

    def __call__(self, base_lr, epoch):
        progress = min(epoch, self.total) / self.total
        return self.min_lr + 0.5 * (base_lr - self.min_lr) * (1 + math.cos(math.pi * progress))


def optimizer_path(optimizer, grad_f, init_x, step_num=30):
    """Follow ``optimizer`` on a plain function from ``init_x``: ``step_num`` updates with the
    gradient ``grad_f(x)``; returns the path ``(step_num + 1, *x.shape)``, the start included.
    ``init_x`` is copied (float64) and never modified."""
    params = {"x": np.array(init_x, dtype=np.float64)}
    path = [params["x"].copy()]
    for _ in range(step_num):
        optimizer.update(params, {"x": grad_f(params["x"])})
        path.append(params["x"].copy())
    return np.array(path)
