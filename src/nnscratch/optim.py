"""Gradient descent on a plain function, and the optimizers that update a network's parameters.

Textbook code: each ``update`` is its formula (the engine's in-place, cache-blocked versions,
tested equal, are in ``nnscratch.engine.optim``).

Every optimizer has ``update(params, grads)``: it changes the arrays of the ``params`` dict in place
(its name says so, and the layers and the network hold those arrays) from the same-keyed
``grads`` dict, which it never writes into. Optimizers with memory (velocities, squared gradient
sums, moments, the step count) keep it in ``state`` ({"v": {"W1": array, ...}}) and expose it as a
flat dict of arrays with ``state_dict()`` ({"t": 0-d array, "v/W1": array, ...}), taken back by
``load_state_dict(state)``, so that a run can be saved and resumed. Learning-rate schedules
(``StepLR``, ``CosineLR``) give the rate of each epoch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .errors import NnscratchError
from .numgrad import numerical_gradient
from .validation import DECAY_RATE, POSITIVE, POSITIVE_INT, Interval, default_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from numpy.typing import ArrayLike, NDArray


def gradient_descent(
    f: Callable[[NDArray[np.floating]], float | np.floating],
    init_x: ArrayLike,
    lr: float = 0.01,
    step_num: int = 100,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
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


def check_hyperparameter(
    cls: Callable[..., object], name: str, value: object, interval: Interval
) -> float:
    """``value`` of ``cls``'s argument ``name`` checked against ``interval``; a bad one's error
    suggests the class's default."""
    return interval.check(value, name, hint=f"use e.g. {default_of(cls, name)}")


class Optimizer:
    """What every optimizer shares: the learning rate, the step count ``t``, and ``state``: one
    dict of arrays per name in ``slots`` (e.g. ("v",)), made as zeros of each parameter's shape on
    first use (:meth:`slot`), saved and restored by ``state_dict`` / ``load_state_dict``."""

    slots: tuple[str, ...] = ()

    def __init__(self, lr: float) -> None:
        self.lr = check_hyperparameter(type(self), "lr", lr, POSITIVE)
        self.t = 0
        self.state: dict[str, dict[str, np.ndarray]] = {slot: {} for slot in self.slots}

    def slot(self, name: str, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The arrays ``state[name]``, one per parameter, zeros of its shape until first set."""
        arrays = self.state[name]
        for key, param in params.items():
            if key not in arrays:
                arrays[key] = np.zeros_like(param)
        return arrays

    def update(  # pragma: no cover - every optimizer overrides it
        self, params: dict[str, NDArray[np.floating]], grads: Mapping[str, NDArray[np.floating]]
    ) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the optimizer's memory: {"t": 0-d int array, "slot/key": array, ...}."""
        state = {"t": np.array(self.t)}
        for slot, arrays in self.state.items():
            for key, value in arrays.items():
                state[f"{slot}/{key}"] = value.copy()
        return state

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore what ``state_dict`` returned (the same optimizer class, the same parameters)."""
        if not self.slots and set(state) - {"t"}:
            raise NnscratchError(
                f"{type(self).__name__} has no state, got {sorted(state)}: was "
                "it saved by another optimizer?"
            )
        self.t = int(state.get("t", 0))
        self.state = {slot: {} for slot in self.slots}
        for name, value in state.items():
            if name == "t":
                continue
            slot, _, key = name.partition("/")
            if slot not in self.state:
                raise NnscratchError(
                    f"optimizer state {name!r} does not belong to "
                    f"{type(self).__name__}: was it saved by another optimizer?"
                )
            self.state[slot][key] = np.array(value, copy=True)
        if self.t and any(not arrays for arrays in self.state.values()):
            raise NnscratchError(
                f"the state {sorted(state)} holds {self.t} steps but none of "
                f"{type(self).__name__}'s {', '.join(self.slots)}: was it saved "
                "by another optimizer?"
            )


class SGD(Optimizer):
    """Stochastic gradient descent: W ← W - lr · g for every parameter, g = ∂L/∂W (default lr 0.1,
    the rate of the book's chapter-4 training script)."""

    def __init__(self, lr: float = 0.1) -> None:
        super().__init__(lr)

    def update(
        self, params: dict[str, NDArray[np.floating]], grads: Mapping[str, NDArray[np.floating]]
    ) -> None:
        self.t += 1
        for key in params:
            params[key] -= self.lr * grads[key]


class Momentum(Optimizer):
    """Momentum SGD: v ← α v - lr · g, W ← W + v (α = ``momentum`` in [0, 1), v starts at 0)."""

    slots = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr)
        self.momentum = check_hyperparameter(type(self), "momentum", momentum, DECAY_RATE)

    def update(
        self, params: dict[str, NDArray[np.floating]], grads: Mapping[str, NDArray[np.floating]]
    ) -> None:
        self.t += 1
        v = self.slot("v", params)
        for key in params:
            v[key] = self.momentum * v[key] - self.lr * grads[key]
            params[key] += v[key]


class Nesterov(Momentum):
    """Nesterov's accelerated gradient (Sutskever et al. 2013, in the form PyTorch uses):
    v ← α v - lr · g, W ← W + α v - lr · g — the step looks ahead along the new velocity.

    (The book's ``Nesterov`` adds α² v - (1 + α) lr · g with the new v, which is not this method:
    its velocity term is scaled by α once too often.)
    """

    def update(
        self, params: dict[str, NDArray[np.floating]], grads: Mapping[str, NDArray[np.floating]]
    ) -> None:
        self.t += 1
        v = self.slot("v", params)
        for key in params:
            v[key] = self.momentum * v[key] - self.lr * grads[key]
            params[key] += self.momentum * v[key] - self.lr * grads[key]


class AdaGrad(Optimizer):
    """AdaGrad: h ← h + g², W ← W - lr · g / (√h + ε); each weight's rate shrinks with its
    history of gradients (ε = 1e-7 as in the book keeps the first step finite)."""

    slots = ("h",)

    def __init__(self, lr: float = 0.01, eps: float = 1e-7) -> None:
        super().__init__(lr)
        self.eps = check_hyperparameter(type(self), "eps", eps, POSITIVE)

    def update(
        self, params: dict[str, NDArray[np.floating]], grads: Mapping[str, NDArray[np.floating]]
    ) -> None:
        self.t += 1
        h = self.slot("h", params)
        for key in params:
            h[key] = h[key] + grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(h[key]) + self.eps)


class RMSprop(Optimizer):
    """RMSprop: h ← ρ h + (1 - ρ) g², W ← W - lr · g / (√h + ε); AdaGrad with a forgetting
    average, so the rate does not decay to 0 (ρ = ``decay_rate`` in [0, 1))."""

    slots = ("h",)

    def __init__(self, lr: float = 0.001, decay_rate: float = 0.99, eps: float = 1e-7) -> None:
        super().__init__(lr)
        self.decay_rate = check_hyperparameter(type(self), "decay_rate", decay_rate, DECAY_RATE)
        self.eps = check_hyperparameter(type(self), "eps", eps, POSITIVE)

    def update(
        self, params: dict[str, NDArray[np.floating]], grads: Mapping[str, NDArray[np.floating]]
    ) -> None:
        self.t += 1
        h = self.slot("h", params)
        for key in params:
            h[key] = self.decay_rate * h[key] + (1 - self.decay_rate) * grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(h[key]) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction, at step t = 1, 2, ...:
    m ← β1 m + (1 - β1) g, v ← β2 v + (1 - β2) g², m̂ = m / (1 - β1ᵗ), v̂ = v / (1 - β2ᵗ),
    W ← W - lr · m̂ / (√v̂ + ε). Without the correction the first steps would be far too small,
    since m and v start at 0 (β1, β2 in [0, 1))."""

    slots = ("m", "v")

    def __init__(
        self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(lr)
        self.beta1 = check_hyperparameter(type(self), "beta1", beta1, DECAY_RATE)
        self.beta2 = check_hyperparameter(type(self), "beta2", beta2, DECAY_RATE)
        self.eps = check_hyperparameter(type(self), "eps", eps, POSITIVE)

    def update(
        self, params: dict[str, NDArray[np.floating]], grads: Mapping[str, NDArray[np.floating]]
    ) -> None:
        self.t += 1
        m, v = self.slot("m", params), self.slot("v", params)
        for key in params:
            g = grads[key]
            m[key] = self.beta1 * m[key] + (1 - self.beta1) * g
            v[key] = self.beta2 * v[key] + (1 - self.beta2) * g**2
            m_hat = m[key] / (1 - self.beta1**self.t)
            v_hat = v[key] / (1 - self.beta2**self.t)
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay. Each step first
    shrinks every weight matrix, W ← W - lr · λ · W, then takes Adam's step on the gradient
    alone. (An L2 penalty ½λ‖W‖² in the loss would go through Adam's m̂ / √v̂, which divides
    the decay by the gradient's scale: weights with large gradients would hardly decay.)

    λ = ``decay`` (PyTorch's ``weight_decay``) acts on the matrices (2-D and more: the weights,
    the embeddings), not on biases and LayerNorm's γ and β, as GPT-2 and nanoGPT train."""

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        decay: float = 0.01,
    ) -> None:
        super().__init__(lr, beta1, beta2, eps)
        self.decay = check_hyperparameter(type(self), "decay", decay, Interval(0))

    def update(
        self, params: dict[str, NDArray[np.floating]], grads: Mapping[str, NDArray[np.floating]]
    ) -> None:
        for param in params.values():
            if param.ndim >= 2:
                param *= 1 - self.lr * self.decay
        super().update(params, grads)


#: name → class: the optimizers by the names the options use.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}


def global_norm(grads: Mapping[str, NDArray[np.floating]]) -> float:
    """‖g‖ = √(Σ_k ‖g_k‖²): the length of all the gradients together, as one vector."""
    return math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values()))


def clip_by_global_norm(
    grads: Mapping[str, NDArray[np.floating]], max_norm: float
) -> dict[str, NDArray[np.floating]]:
    """The gradients scaled by min(1, max_norm / ‖g‖) (:func:`global_norm`): a step of a rare huge
    gradient (an RNN's exploding one, a transformer's early spikes) is cut to length
    ``max_norm`` in the same direction; every other step is unchanged. New arrays: ``grads`` is
    never written into."""
    norm = global_norm(grads)
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {key: g * g.dtype.type(scale) for key, g in grads.items()}


class StepLR:
    """Step decay: lr(epoch) = base_lr · γ^⌊epoch / step_size⌋ (epoch counted from 0)."""

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size: int = POSITIVE_INT.check(
            step_size, "step_size", hint="the number of epochs between two decays"
        )
        self.gamma: float = Interval(0, 1, low_open=True).check(
            gamma, "step decay factor γ", hint="0.5 halves the rate at every step"
        )

    def __call__(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineLR:
    """Cosine annealing over ``total`` epochs (Loshchilov & Hutter 2017):
    lr(epoch) = min_lr + ½ (base_lr - min_lr)(1 + cos(π · min(epoch, total) / total)), epoch from
    0; after ``total`` epochs the rate stays at min_lr."""

    def __init__(self, total: int, min_lr: float = 0.0) -> None:
        self.total: int = POSITIVE_INT.check(
            total,
            "the cosine schedule's length (total)",
            hint="give the number of epochs to anneal over",
        )
        self.min_lr: float = Interval(0).check(min_lr, "min_lr", hint="the rate at the end, e.g. 0")

    def __call__(self, base_lr: float, epoch: int) -> float:
        progress = min(epoch, self.total) / self.total
        return self.min_lr + 0.5 * (base_lr - self.min_lr) * (1 + math.cos(math.pi * progress))


class WarmupCosineLR(CosineLR):
    """Linear warm-up, then cosine decay (GPT-2's, nanoGPT's schedule), in epochs that may be
    fractions: lr(e) = base_lr · e / warmup for e < warmup, then CosineLR over the rest,
    lr(e) = min_lr + ½ (base_lr - min_lr)(1 + cos(π (e - warmup) / (total - warmup))).
    The first steps of Adam on a transformer are the least reliable (v̂ from a handful of
    gradients): a small rate while the averages fill up keeps them from wrecking the start.

    ``per_step``: the trainer sets the rate before every step (at the epoch the step ends),
    not once per epoch."""

    per_step = True

    def __init__(self, total: float, warmup: float, min_lr: float = 0.0) -> None:
        self.warmup: float = Interval(0, low_open=True).check(
            warmup, "warmup", hint="a fraction of the run, e.g. 0.05 of its epochs"
        )
        if not Interval(warmup, low_open=True).contains(total):
            raise NnscratchError(
                f"the schedule's length {total!r} must be longer than its warm-up {warmup!r}"
            )
        self.total: float = total  # type: ignore[assignment]  # epochs, maybe a fraction
        self.min_lr = Interval(0).check(min_lr, "min_lr", hint="the rate at the end, e.g. 0")

    def __call__(self, base_lr: float, epoch: float) -> float:
        if epoch < self.warmup:
            return base_lr * epoch / self.warmup
        progress = min(epoch - self.warmup, self.total - self.warmup) / (self.total - self.warmup)
        return self.min_lr + 0.5 * (base_lr - self.min_lr) * (1 + math.cos(math.pi * progress))


def optimizer_path(
    optimizer: Optimizer,
    grad_f: Callable[[NDArray[np.floating]], NDArray[np.floating]],
    init_x: ArrayLike,
    step_num: int = 30,
) -> NDArray[np.float64]:
    """Follow ``optimizer`` on a plain function from ``init_x``: ``step_num`` updates with the
    gradient ``grad_f(x)``; returns the path ``(step_num + 1, *x.shape)``, the start included.
    ``init_x`` is copied (float64) and never modified."""
    params: dict[str, NDArray[np.floating]] = {"x": np.array(init_x, dtype=np.float64)}
    path = [params["x"].copy()]
    for _ in range(step_num):
        optimizer.update(params, {"x": grad_f(params["x"])})
        path.append(params["x"].copy())
    return np.array(path)
