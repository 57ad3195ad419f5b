"""Layers made of the graph's functions, as DeZero writes them: a ``Layer`` holds its own
``Parameter``s (its attributes) and its sub-layers, and ``layer(x)`` is its forward pass — no
backward to write, the graph gives it. ``Linear`` is the book's Affine; ``MLP`` stacks them.

The parameters of a layer, by name ("l0.W", "l0.b", ...): :meth:`Layer.named_params`; their
arrays and gradients as the dicts the book's optimizers update (``opt.update(model.arrays(),
model.grads())``, in place, so the Parameters see the step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import functions as F
from .core import Parameter, Variable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from numpy.typing import ArrayLike, NDArray


class Layer:
    """A function with parameters: every Parameter or Layer set as an attribute belongs to it."""

    def __call__(self, x: Variable | ArrayLike) -> Variable:
        return self.forward(x)

    def forward(self, x: Variable | ArrayLike) -> Variable:
        raise NotImplementedError

    def named_params(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(name, Parameter) of this layer and its sub-layers, in the order they were set."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
            elif isinstance(value, Layer):
                yield from value.named_params(f"{prefix}{name}.")
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, Layer):
                        yield from item.named_params(f"{prefix}{name}{i}.")

    def params(self) -> Iterator[Parameter]:
        return (p for _, p in self.named_params())

    def cleargrads(self) -> None:
        """Forget every parameter's gradient (before the next ``loss.backward()``)."""
        for p in self.params():
            p.cleargrad()

    def arrays(self) -> dict[str, NDArray[Any]]:
        """{name: the parameter's array} — the ``params`` an optimizer updates in place."""
        return {name: p.data for name, p in self.named_params()}

    def grads(self) -> dict[str, NDArray[Any]]:
        """{name: ∂L/∂parameter} after ``loss.backward()`` (zeros where none reached it)."""
        return {
            name: np.zeros_like(p.data) if p.grad is None else p.grad.data
            for name, p in self.named_params()
        }


class Linear(Layer):
    """y = x W + b: x (N, in_size), W (in_size, out_size) ~ N(0, 1/in_size) (Xavier), b zeros."""

    def __init__(
        self,
        in_size: int,
        out_size: int,
        seed: int | np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        rng = np.random.default_rng(seed)
        std = np.sqrt(1.0 / in_size)
        self.W = Parameter((std * rng.standard_normal((in_size, out_size))).astype(dtype), "W")
        self.b = Parameter(np.zeros(out_size, dtype=dtype), "b")

    def forward(self, x: Variable | ArrayLike) -> Variable:
        return F.linear(x, self.W, self.b)


class MLP(Layer):
    """Linear → activation → … → Linear, for ``sizes`` (in, hidden..., out): a fully connected
    network whose backward is the graph's."""

    def __init__(
        self,
        sizes: list[int] | tuple[int, ...],
        activation: Callable[[Variable], Variable] = F.sigmoid,
        seed: int | None = None,
    ) -> None:
        rng = np.random.default_rng(seed)
        self.activation = activation
        self.l = [Linear(a, b, rng) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]

    def forward(self, x: Variable | ArrayLike) -> Variable:
        h: Variable | ArrayLike = x
        for layer in self.l[:-1]:
            h = self.activation(layer(h))
        return self.l[-1](h)
