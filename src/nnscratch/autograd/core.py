"""Define-by-run automatic differentiation: a ``Variable`` remembers the ``Function`` that made it,
each Function remembers its inputs, and ``y.backward()`` walks that graph backwards applying the
chain rule, one local derivative at a time — what chapter 5 does by hand, layer by layer.

Textbook code, after the book's third volume (DeZero). The graph is built while computing
(define-by-run): ``y = x * x + 1`` makes a Mul and an Add node. ``y.backward()`` visits the
functions in topological order — a function only after every function that used its outputs —
by a priority queue on ``generation`` (how many functions lie between a variable and the
inputs), never by recursion, so a chain of 10,000 operations is fine. A variable used twice
receives the sum of both gradients (∂(x·x)/∂x = x + x). Gradients accumulate in ``grad`` from one
``backward`` to the next, as in PyTorch: call ``cleargrad()`` between two.

``backward(create_graph=True)`` computes the gradients with Variables too, so the gradient is a
graph itself and can be differentiated again (the second derivative, Newton's method).
"""

from __future__ import annotations

import contextlib
import heapq
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from numpy.typing import ArrayLike, NDArray


class Config:
    """Whether functions record the graph (off in ``no_grad()``: evaluation, or the update
    step, needs no backward)."""

    enable_backprop = True


@contextlib.contextmanager
def using_config(name: str, value: object) -> Iterator[None]:
    """``with using_config("enable_backprop", False):`` the setting inside, restored after."""
    old = getattr(Config, name)
    setattr(Config, name, value)
    try:
        yield
    finally:
        setattr(Config, name, old)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """``with no_grad():`` compute without recording the graph (no memory kept for backward)."""
    return using_config("enable_backprop", False)


def as_array(x: ArrayLike) -> NDArray[Any]:
    """``x`` as an ndarray (a NumPy scalar such as ``np.float64(2.0)`` becomes a 0-d array)."""
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def as_variable(x: Variable | ArrayLike) -> Variable:
    """``x`` as a Variable: a Variable as it is, anything else wrapped (a constant)."""
    return x if isinstance(x, Variable) else Variable(as_array(x))


class Variable:
    """A node of the graph holding a value: ``data`` (an ndarray), ``grad`` (∂y/∂self after
    ``y.backward()``, a Variable, or None), ``name`` (shown in drawings), ``creator`` (the
    Function that made it; None for an input) and ``generation`` (creator's + 1)."""

    # ndarray ⊕ Variable calls the Variable's operator, not NumPy's elementwise loop
    __array_priority__ = 200

    def __init__(self, data: ArrayLike, name: str | None = None) -> None:
        if isinstance(data, Variable):
            raise TypeError("Variable(data): data is already a Variable; use it as it is")
        self.data: NDArray[Any] = as_array(data)
        self.name = name
        self.grad: Variable | None = None
        self.creator: Function | None = None
        self.generation = 0

    # --- what an array has ------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = str(self.data).replace("\n", "\n" + " " * 9)
        return f"variable({body})"

    # --- the graph --------------------------------------------------------------------------
    def set_creator(self, func: Function) -> None:
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self) -> None:
        """Forget the gradient (the next ``backward`` starts from nothing, not from this)."""
        self.grad = None

    def backward(self, retain_grad: bool = False, create_graph: bool = False) -> None:
        """∂self/∂v for every variable v the graph of self depends on, into ``v.grad``
        (accumulated: added to a gradient already there).

        ``self.grad`` starts at 1 (ones of self's shape). Functions are visited newest
        generation first, so each one's output gradients are complete — the sum over every use
        — before it passes them on. ``retain_grad``: keep the gradients of intermediate
        variables too (by default only the inputs' are kept, the rest freed as soon as used).
        ``create_graph``: compute the gradients with Variables, recording their graph, so that
        ``x.grad.backward()`` gives a second derivative."""
        if self.grad is None:
            self.grad = Variable(np.ones_like(self.data))
        funcs: list[tuple[int, int, Function]] = []
        seen: set[int] = set()

        def add_func(f: Function) -> None:
            if id(f) not in seen:
                seen.add(id(f))
                # a min-heap: the newest generation (largest) first; id() breaks ties
                heapq.heappush(funcs, (-f.generation, id(f), f))

        if self.creator is not None:
            add_func(self.creator)
        while funcs:
            f = heapq.heappop(funcs)[2]
            gys = [output().grad for output in f.outputs]  # type: ignore[union-attr]
            with using_config("enable_backprop", create_graph):
                gxs = f.backward(*gys)
                if not isinstance(gxs, tuple):
                    gxs = (gxs,)
                for x, gx in zip(f.inputs, gxs, strict=True):
                    if gx is None:  # an input with no gradient (labels, a mask)
                        continue
                    # x.grad + gx, never +=: the old gradient may be another variable's too
                    x.grad = gx if x.grad is None else x.grad + gx
                    if x.creator is not None:
                        add_func(x.creator)
            if not retain_grad:
                for output in f.outputs:
                    y = output()
                    if y is not None:
                        y.grad = None

    # --- shape ------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Variable:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return reshape(self, shape)

    def transpose(self, *axes: Any) -> Variable:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return transpose(self, axes or None)

    @property
    def T(self) -> Variable:
        return self.transpose()

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Variable:
        return sum(self, axis, keepdims)

    # --- operators: + - * / ** @, negation, indexing ------------------------------------------
    def __add__(self, other: Any) -> Variable:
        return Add()(self, other)

    def __radd__(self, other: Any) -> Variable:
        return Add()(other, self)

    def __sub__(self, other: Any) -> Variable:
        return Sub()(self, other)

    def __rsub__(self, other: Any) -> Variable:
        return Sub()(other, self)

    def __mul__(self, other: Any) -> Variable:
        return Mul()(self, other)

    def __rmul__(self, other: Any) -> Variable:
        return Mul()(other, self)

    def __truediv__(self, other: Any) -> Variable:
        return Div()(self, other)

    def __rtruediv__(self, other: Any) -> Variable:
        return Div()(other, self)

    def __neg__(self) -> Variable:
        return Neg()(self)

    def __pow__(self, c: float) -> Variable:
        return Pow(c)(self)

    def __matmul__(self, other: Any) -> Variable:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Variable:
        return matmul(other, self)

    def __getitem__(self, index: Any) -> Variable:
        return get_item(self, index)


class Parameter(Variable):
    """A Variable that a model learns (its weights): layers collect these, optimizers step them."""


class Function:
    """An operation of the graph. ``f(*inputs)`` computes ``forward`` on the inputs' arrays and,
    while the graph is recorded, remembers ``inputs`` and (weakly: the graph must not keep its
    outputs alive) ``outputs``. Subclasses write ``forward(*xs)`` on ndarrays and
    ``backward(*gys)`` on Variables: the gradient with respect to each input, given the
    gradient with respect to each output (the chain rule's local step)."""

    inputs: list[Variable]
    outputs: list[weakref.ref[Variable]]
    generation: int = 0
    # each subclass's own signature: forward(x0, x1, ...) -> ndarray(s), backward(gy, ...)
    forward: Callable[..., Any]
    backward: Callable[..., Any]

    def __call__(self, *inputs: Any) -> Any:
        # a Python number takes the Variables' float type: 1 − y of a float32 y stays float32
        dtype = next(
            (x.dtype for x in inputs if isinstance(x, Variable) and x.dtype.kind == "f"), None
        )
        variables = [
            Variable(np.asarray(x, dtype=dtype))
            if dtype is not None and isinstance(x, (int, float)) and not isinstance(x, bool)
            else as_variable(x)
            for x in inputs
        ]
        ys = self.forward(*[x.data for x in variables])
        if not isinstance(ys, tuple):
            ys = (ys,)
        outputs = [Variable(as_array(y)) for y in ys]
        if Config.enable_backprop:
            self.generation = max(x.generation for x in variables)
            for output in outputs:
                output.set_creator(self)
            self.inputs = variables
            self.outputs = [weakref.ref(output) for output in outputs]
        return outputs if len(outputs) > 1 else outputs[0]

    def output(self, i: int = 0) -> Variable:
        """Output ``i`` (alive while its gradient is computed: backward holds it)."""
        y = self.outputs[i]()
        assert y is not None, "an output of the graph was freed before its backward"
        return y

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# --- the arithmetic operators: their gradients are summed back to each input's shape ------------


def _unbroadcast(gx: Variable, shape: tuple[int, ...]) -> Variable:
    """``gx`` summed to ``shape`` where the forward broadcast an input of that shape."""
    return gx if gx.shape == shape else sum_to(gx, shape)


class Add(Function):
    """y = x0 + x1 (broadcast); ∂y/∂x0 = ∂y/∂x1 = 1: the gradient goes to both unchanged."""

    def forward(self, x0: NDArray[Any], x1: NDArray[Any]) -> NDArray[Any]:
        return x0 + x1

    def backward(self, gy: Variable) -> tuple[Variable, Variable]:
        x0, x1 = self.inputs
        return _unbroadcast(gy, x0.shape), _unbroadcast(gy, x1.shape)


class Sub(Function):
    """y = x0 − x1; ∂y/∂x0 = 1, ∂y/∂x1 = −1."""

    def forward(self, x0: NDArray[Any], x1: NDArray[Any]) -> NDArray[Any]:
        return x0 - x1

    def backward(self, gy: Variable) -> tuple[Variable, Variable]:
        x0, x1 = self.inputs
        return _unbroadcast(gy, x0.shape), _unbroadcast(-gy, x1.shape)


class Mul(Function):
    """y = x0 · x1 (elementwise); ∂y/∂x0 = x1, ∂y/∂x1 = x0: the book's MulLayer, swapped."""

    def forward(self, x0: NDArray[Any], x1: NDArray[Any]) -> NDArray[Any]:
        return x0 * x1

    def backward(self, gy: Variable) -> tuple[Variable, Variable]:
        x0, x1 = self.inputs
        return _unbroadcast(gy * x1, x0.shape), _unbroadcast(gy * x0, x1.shape)


class Div(Function):
    """y = x0 / x1; ∂y/∂x0 = 1 / x1, ∂y/∂x1 = −x0 / x1²."""

    def forward(self, x0: NDArray[Any], x1: NDArray[Any]) -> NDArray[Any]:
        return x0 / x1

    def backward(self, gy: Variable) -> tuple[Variable, Variable]:
        x0, x1 = self.inputs
        return _unbroadcast(gy / x1, x0.shape), _unbroadcast(gy * (-x0 / x1**2), x1.shape)


class Neg(Function):
    """y = −x; ∂y/∂x = −1."""

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return -x

    def backward(self, gy: Variable) -> Variable:
        return -gy


class Pow(Function):
    """y = x^c for a constant c; ∂y/∂x = c·x^(c−1)."""

    def __init__(self, c: float) -> None:
        self.c = c

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return x**self.c

    def backward(self, gy: Variable) -> Variable:
        (x,) = self.inputs
        return gy * (self.c * x ** (self.c - 1))


# --- shapes and the matrix product: what a Variable's methods and the operators' gradients
# need, so they live with it ----------------------------------------------------------


class Reshape(Function):
    """y = x with another shape; ∂L/∂x = ∂L/∂y reshaped back."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return x.reshape(self.shape)

    def backward(self, gy: Variable) -> Variable:
        return reshape(gy, self.inputs[0].shape)


class Transpose(Function):
    """y = x with its axes permuted (reversed when ``axes`` is None); backward: the inverse
    permutation."""

    def __init__(self, axes: tuple[int, ...] | None = None) -> None:
        self.axes = axes

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return x.transpose(self.axes)

    def backward(self, gy: Variable) -> Variable:
        if self.axes is None:
            return transpose(gy)
        return transpose(gy, tuple(np.argsort([a % gy.ndim for a in self.axes])))


class Sum(Function):
    """y = Σ x over ``axis`` (all by default); ∂L/∂x = ∂L/∂y broadcast back over the summed
    axes: every x contributed once."""

    def __init__(self, axis: int | tuple[int, ...] | None, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy: Variable) -> Variable:
        shape = self.inputs[0].shape
        if not self.keepdims and self.axis is not None:  # put the summed axes back, as size 1
            axes = np.atleast_1d(self.axis).tolist()  # an int, a NumPy int or a tuple
            kept = list(gy.shape)
            for a in sorted(a % len(shape) for a in axes):
                kept.insert(a, 1)
            gy = reshape(gy, tuple(kept))
        return broadcast_to(gy, shape)


class BroadcastTo(Function):
    """y = x repeated to ``shape`` (NumPy's broadcasting); ∂L/∂x = ∂L/∂y summed back
    (``sum_to``): each x was used once per copy."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return np.broadcast_to(x, self.shape)

    def backward(self, gy: Variable) -> Variable:
        return sum_to(gy, self.inputs[0].shape)


class SumTo(Function):
    """y = x summed down to ``shape`` (the inverse of broadcasting: leading axes summed away,
    axes of size 1 summed with keepdims); ∂L/∂x = ∂L/∂y broadcast back."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, size in enumerate(self.shape) if size == 1 and x.shape[lead + i] != 1
        )
        y = x.sum(axis=axes, keepdims=True)
        return y.reshape(self.shape)

    def backward(self, gy: Variable) -> Variable:
        return broadcast_to(gy, self.inputs[0].shape)


class GetItem(Function):
    """y = x[index] (NumPy indexing); ∂L/∂x: zeros with ∂L/∂y added at the indexed places (an
    index met twice gets both: ``np.add.at``)."""

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        return x[self.index]

    def backward(self, gy: Variable) -> Variable:
        x = self.inputs[0]
        return GetItemGrad(self.index, x.shape)(gy)


class GetItemGrad(Function):
    """The gradient of ``x[index]``: gy scattered into zeros of x's shape; its own gradient is
    gy's indexing again."""

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index, self.shape = index, shape

    def forward(self, gy: NDArray[Any]) -> NDArray[Any]:
        gx = np.zeros(self.shape, dtype=gy.dtype)
        np.add.at(gx, self.index, gy)
        return gx

    def backward(self, ggx: Variable) -> Variable:
        return get_item(ggx, self.index)


def reshape(x: Variable | ArrayLike, shape: tuple[int, ...]) -> Variable:
    x = as_variable(x)
    return x if x.shape == tuple(shape) else Reshape(tuple(shape))(x)


def transpose(x: Variable | ArrayLike, axes: tuple[int, ...] | None = None) -> Variable:
    return Transpose(axes)(x)


def sum(  # noqa: A001 - the book's and NumPy's name
    x: Variable | ArrayLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Variable:
    return Sum(axis, keepdims)(x)


def broadcast_to(x: Variable | ArrayLike, shape: tuple[int, ...]) -> Variable:
    x = as_variable(x)
    return x if x.shape == tuple(shape) else BroadcastTo(tuple(shape))(x)


def sum_to(x: Variable | ArrayLike, shape: tuple[int, ...]) -> Variable:
    x = as_variable(x)
    return x if x.shape == tuple(shape) else SumTo(tuple(shape))(x)


def get_item(x: Variable | ArrayLike, index: Any) -> Variable:
    return GetItem(index)(x)


class MatMul(Function):
    """y = x W (matrix product, 2-D); ∂L/∂x = ∂L/∂y Wᵀ, ∂L/∂W = xᵀ ∂L/∂y."""

    def forward(self, x: NDArray[Any], W: NDArray[Any]) -> NDArray[Any]:
        return x @ W

    def backward(self, gy: Variable) -> tuple[Variable, Variable]:
        x, W = self.inputs
        return matmul(gy, W.T), matmul(x.T, gy)


def matmul(x: Variable | ArrayLike, W: Variable | ArrayLike) -> Variable:
    return MatMul()(x, W)


def graph_functions(y: Variable) -> Iterator[Function]:
    """Every function of ``y``'s graph, each once, without recursion (for drawings and tests)."""
    stack = [y.creator] if y.creator is not None else []
    seen = {id(f) for f in stack}
    while stack:
        f = stack.pop()
        yield f
        for x in f.inputs:
            if x.creator is not None and id(x.creator) not in seen:
                seen.add(id(x.creator))
                stack.append(x.creator)
