"""Checks at the API boundary: bad input stops here with one :class:`NnscratchError` whose message
says what is wrong and what to change, before it can turn into a shape error deep in a layer or a
silently wrong result.

Each check returns the (possibly converted) value it accepted, so a caller writes ``x =
check_inputs(x, n_features=...)``. Conventions (the README's Architecture section): x is float (N,
D) for dense networks, (N, C, H, W) images for convolutional ones; labels are int indices (N,) — (N,
1) and one-hot (N, C) are accepted too.
"""

from __future__ import annotations

import inspect
import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import NnscratchError

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence
    from typing import TypeGuard

    from numpy.typing import ArrayLike, DTypeLike, NDArray


def check_inputs(
    x: ArrayLike, n_features: int | Sequence[int] | None = None, name: str = "x"
) -> np.ndarray:
    """x as a numeric (N, D) array (a single sample (D,) becomes (1, D)), every value finite.

    ``n_features``: what the model takes (:func:`input_size`): the D of a dense network — a
    different D is an error — or the image shape (C, H, W) of a convolutional one, which makes x
    images (N, C, H, W) (a single image (C, H, W) becomes (1, C, H, W)).
    """
    image_shape = tuple(n_features) if isinstance(n_features, (tuple, list)) else None
    try:
        x = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise NnscratchError(
            f"{name} is not a rectangular array ({exc}): give an (N, D) array of numbers"
        ) from None
    if x.dtype.kind not in "biuf":
        raise NnscratchError(
            f"{name} has dtype {x.dtype}: give numbers (a float array of shape "
            f"{'(N, D)' if image_shape is None else '(N, C, H, W)'})"
        )
    single = x.ndim == 1 if image_shape is None else x.shape == image_shape
    if single:  # one sample: a batch of one
        x = x[np.newaxis]
    if image_shape is not None and x.ndim != 4:
        sizes = ", ".join(map(str, image_shape))
        raise NnscratchError(
            f"{name} has shape {x.shape} but the model is convolutional: it "
            f"takes images (N, {sizes}) (load the data with flatten=False, or "
            f"x.reshape(len(x), {sizes}))"
        )
    if image_shape is None and x.ndim != 2:
        raise NnscratchError(
            f"{name} has shape {x.shape}: give an (N, D) array, one sample per "
            "row (flatten images with x.reshape(len(x), -1), or load them with "
            "flatten=True)"
        )
    if len(x) == 0:
        raise NnscratchError(f"{name} is empty: give at least one sample")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        bad = ~np.isfinite(x)
        rows = np.flatnonzero(bad.reshape(len(x), -1).any(axis=1))
        kinds = " and ".join(k for k, m in (("NaN", np.isnan(x)), ("inf", np.isinf(x))) if m.any())
        raise NnscratchError(
            f"{name} holds {kinds} in {len(rows)} of {len(x)} samples (first: "
            f"row {rows[0]}): remove or impute those values before training"
        )
    if image_shape is not None and x.shape[1:] != image_shape:
        raise NnscratchError(
            f"{name} holds images of shape {x.shape[1:]} but the model takes "
            f"{image_shape} (C, H, W): use data of the kind the model was "
            f"trained on (or a model built with input_dim={x.shape[1:]})"
        )
    if image_shape is None and n_features is not None and x.shape[1] != n_features:
        raise NnscratchError(
            f"{name} has {x.shape[1]} features per sample but the model takes "
            f"{n_features}: use data of the kind the model was trained on "
            f"(or a model built with input_size={x.shape[1]})"
        )
    return x


def check_labels(
    t: ArrayLike, n_samples: int | None = None, n_classes: int | None = None, name: str = "t"
) -> NDArray[np.integer]:
    """Labels as an int array (N,): index labels (N,) or (N, 1), or one-hot (N, C).

    Index labels must be whole numbers in 0..n_classes-1 (floats such as 3.0 are accepted and
    converted; 2.5 is an error); ``n_samples`` is the number of inputs they belong to.
    """
    t = np.asarray(t)
    if t.dtype.kind not in "biuf":
        raise NnscratchError(
            f"{name} has dtype {t.dtype}: labels must be integer class indices "
            "0..C-1 (or one-hot rows)"
        )
    if n_samples is not None and (t.ndim == 0 or len(t) != n_samples):
        got = "a single value" if t.ndim == 0 else f"{len(t)} labels"
        raise NnscratchError(
            f"x has {n_samples} samples but {name} has {got}: give exactly one "
            "label per sample (x[i] ↔ t[i])"
        )
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim == 2:
        if n_classes is not None and t.shape[1] != n_classes:
            raise NnscratchError(
                f"{name} is one-hot with {t.shape[1]} columns but the model "
                f"has {n_classes} classes: use {n_classes} columns"
            )
        if not (np.isin(t, (0, 1)).all() and (t.sum(axis=1) == 1).all()):
            raise NnscratchError(
                f"{name} has shape {t.shape} but its rows are not one-hot "
                "(one 1, the rest 0): give index labels (N,) or one-hot rows"
            )
        return np.argmax(t, axis=1)
    if t.ndim != 1:
        raise NnscratchError(
            f"{name} has shape {t.shape}: give index labels (N,) or one-hot (N, C)"
        )
    if t.dtype.kind == "f":
        if not np.isfinite(t).all() or not (t == np.round(t)).all():
            bad = t[~(np.isfinite(t) & (t == np.round(t)))][0].item()
            raise NnscratchError(
                f"{name} holds {bad!r}, which is not a whole number: labels are "
                "class indices 0, 1, 2, ... (use t.astype(int) only if the "
                "values are really classes)"
            )
    if len(t) and t.min() < 0:
        raise NnscratchError(
            f"{name} holds the label {t.min().item()!r}: labels must be class "
            f"indices from 0 to {'C-1' if n_classes is None else n_classes - 1}"
        )
    if n_classes is not None and len(t) and t.max() >= n_classes:
        raise NnscratchError(
            f"{name} holds the label {t.max().item()!r} but the model has "
            f"{n_classes} classes (0..{n_classes - 1}): build the model with "
            f"output_size={int(t.max()) + 1} or fix the labels"
        )
    return t.astype(np.int64)


def check_token_windows(
    x: ArrayLike,
    t: ArrayLike,
    vocab_size: int,
    context: int | None = None,
    names: tuple[str, str] = ("x", "t"),
) -> tuple[NDArray[np.integer], NDArray[np.integer]]:
    """A language model's data: x (N, T) token ids and t (N, T) the next token at every
    position, both integers in 0..vocab_size-1, T ≤ ``context`` (a GPT's longest window)."""
    arrays = []
    for name, a in zip(names, (x, t), strict=True):
        a = np.asarray(a)
        if a.dtype.kind not in "iu" or a.ndim != 2 or not a.size:
            raise NnscratchError(
                f"{name} has {a.dtype} values of shape {a.shape}: a language model takes "
                "windows of token ids, an int array (N, T) (datasets.text.windows)"
            )
        if a.min() < 0 or a.max() >= vocab_size:
            raise NnscratchError(
                f"{name} holds the token id {int(a.min() if a.min() < 0 else a.max())} but the "
                f"model reads {vocab_size} tokens (0..{vocab_size - 1}): encode the text with "
                "the model's own tokenizer"
            )
        arrays.append(a)
    x, t = arrays
    if x.shape != t.shape:
        raise NnscratchError(
            f"{names[0]} has shape {x.shape} but {names[1]} {t.shape}: give one target per "
            "input token (the next token)"
        )
    if context is not None and x.shape[1] > context:
        raise NnscratchError(
            f"{names[0]} holds windows of {x.shape[1]} tokens but the model reads at most "
            f"{context}: cut the text into windows of ≤ {context} (or build the model with "
            f"context={x.shape[1]})"
        )
    return x, t


def check_dataset(
    x: ArrayLike,
    t: ArrayLike,
    n_features: int | Sequence[int] | None = None,
    n_classes: int | None = None,
    names: tuple[str, str] = ("x", "t"),
) -> tuple[np.ndarray, NDArray[np.integer]]:
    """Both checks above, and that x and t have the same length: returns (x, t)."""
    x = check_inputs(x, n_features, names[0])
    t = check_labels(t, len(x), n_classes, names[1])
    return x, t


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _hint(hint: str | Callable[[], str] | None) -> str:
    text = hint() if callable(hint) else hint  # a callable: worked out only for the message
    return f": {text}" if text else ""


def _bound(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Interval:
    """The values a number may take: from ``low`` to ``high`` (None: unbounded), each end closed
    unless ``low_open`` / ``high_open``; ``integer``: whole numbers only (ints, not bools).

    :meth:`check` is the one way a bad number is reported, wherever it came from (a class's
    argument, the command line, the playground, a search space): "NAME must be DESCRIPTION, got
    VALUE: HINT"."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    # float: a real number as typing spells it (typeshed's numbers.Real is of little use)
    def contains(self, value: object) -> TypeGuard[float]:
        """Whether ``value`` (a real number, not a bool) lies in the interval."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.integer and not _is_int(value):
            return False
        if not math.isfinite(value):
            return False
        # numbers.Real declares no __gt__/__ge__ in typeshed (every real number has them)
        if self.low is not None and not (
            value > self.low if self.low_open else value >= self.low  # type: ignore[operator]
        ):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def describe(self) -> str:
        """What the interval allows, in words: "a number in [0, 1)", "a positive integer"."""
        if self.integer:
            if self.high is None and self.low in (0, 1) and not self.low_open:
                return "a positive integer" if self.low == 1 else "an integer ≥ 0"
            if self.high is not None and self.low is not None:
                return f"an integer from {_bound(self.low)} to {_bound(self.high)}"
        # an unbounded end is open: (-∞, 1], [0, ∞)
        return (
            f"a number in {'(' if self.low_open or self.low is None else '['}"
            f"{'-∞' if self.low is None else _bound(self.low)}, "
            f"{'∞' if self.high is None else _bound(self.high)}"
            f"{')' if self.high_open or self.high is None else ']'}"
        )

    # Any: an int for an ``integer`` interval, else a float (the instance decides, not a type)
    def check(
        self, value: object, name: str, *, hint: str | Callable[[], str] | None = None
    ) -> Any:
        """``value`` as an int (``integer``) or a float, else an :class:`NnscratchError` naming
        ``name``, the value and the interval; ``hint``: what to give instead (or a function that
        says it, called only for the message)."""
        if not self.contains(value):
            raise NnscratchError(f"{name} must be {self.describe()}, got {value!r}{_hint(hint)}")
        return int(value) if self.integer else float(value)


#: the intervals that several classes, options and front ends share
POSITIVE_INT = Interval(1, integer=True)
NONNEGATIVE_INT = Interval(0, integer=True)
#: > 0: a learning rate, an ε in a denominator √h + ε (0 wherever every gradient so far was 0)
POSITIVE = Interval(0, low_open=True)
NONNEGATIVE = Interval(0)
#: a decay rate (momentum, ρ, β) in [0, 1): at 1 the average would never forget its start
DECAY_RATE = Interval(0, 1, high_open=True)
#: a fraction of units dropped or of samples held out, in [0, 1)
PROBABILITY = Interval(0, 1, high_open=True)


def check_positive_int(value: object, name: str, *, hint: str | None = None) -> int:
    """``value`` as an int ≥ 1 (not a bool); ``hint``: what to give instead, for the error."""
    return POSITIVE_INT.check(value, name, hint=hint)


def check_nonnegative_int(value: object, name: str, *, hint: str | None = None) -> int:
    """``value`` as an int ≥ 0 (not a bool), e.g. a padding; ``hint``: what to give instead."""
    return NONNEGATIVE_INT.check(value, name, hint=hint)


def default_of(cls: Callable[..., object], name: str) -> Any:
    """The default of argument ``name`` in ``cls``'s signature, the one place it is written: for
    a hint that suggests it, or a caller that mirrors it (the CLI's options)."""
    return inspect.signature(cls).parameters[name].default


def check_number(
    value: object,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    hint: str | None = None,
) -> float:
    """``value`` as a float: a real number (not a bool), finite, in the interval from ``low`` to
    ``high`` (None: unbounded), each end closed unless ``low_open`` / ``high_open``; ``hint``:
    what to give instead, for the error."""
    return Interval(low, high, low_open, high_open).check(value, name, hint=hint)


def check_names(value: object, choices: Collection[str], name: str) -> list[str]:
    """``value`` (a list, or text "a,b") as a list of distinct names of ``choices``, at least
    one; else an error that lists them."""
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
    if (
        not isinstance(names, (list, tuple))
        or not names
        or not all(isinstance(v, str) and v in choices for v in names)
        or len(set(names)) != len(names)
    ):
        raise NnscratchError(
            f"{name} must be some of {', '.join(choices)}, each once, separated by commas, "
            f"got {value!r}"
        )
    return list(names)


def check_choice(value: object, choices: Collection[str], name: str) -> str:
    """``value`` if it is one of ``choices`` (e.g. ``GRADIENT_METHODS``), else an error naming
    them."""
    if not isinstance(value, str) or value not in choices:
        raise NnscratchError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def check_float_dtype(dtype: DTypeLike) -> np.dtype:
    """``np.dtype`` of ``dtype`` if it is float32 or float64 (what networks compute in), else a
    clear error. float64 where exactness is the point (gradient checks), float32 for speed."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        pass
    if dtype not in (np.float32, np.float64):
        raise NnscratchError(
            f"dtype must be float32 or float64, got {dtype!r}: float64 for "
            "gradient checks, float32 for fast training"
        )
    # np.dtype() converted it: what it could not convert is refused above
    return dtype  # type: ignore[return-value]


def check_batch_size(batch_size: int, n_samples: int) -> int:
    """A batch size from 1 to the number of training samples N."""
    if not (_is_int(batch_size) and 0 < batch_size <= n_samples):
        hint = (
            f"use at most {n_samples}"
            if _is_int(batch_size) and batch_size > n_samples
            else "use e.g. 32 or 100"
        )
        raise NnscratchError(
            f"batch_size must be an integer from 1 to {n_samples} (the number "
            f"of training samples), got {batch_size!r}: {hint}"
        )
    return int(batch_size)


def parse_hidden(text: str, name: str = "--hidden") -> tuple[int, ...]:
    """``"256,128"`` → (256, 128): the hidden layer sizes, each a positive integer; ``name`` is
    what the user typed them into (the CLI's ``--hidden``, the playground's "hidden layers")."""
    example = f"{name} 256,128" if name.startswith("--") else "256,128"
    if not isinstance(text, str):
        raise NnscratchError(f"{name} must be text such as '256,128', got {text!r}")
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(p == "" for p in parts):
        raise NnscratchError(
            f"{name} {text!r} has an empty size: give sizes separated by "
            f"commas, e.g. {example} (or one size for one layer)"
        )
    sizes = []
    for p in parts:
        if not (p.isascii() and p.isdigit()) or int(p) == 0:
            raise NnscratchError(
                f"{name} {text!r}: {p!r} is not a positive integer; give "
                f"layer sizes such as {example}"
            )
        sizes.append(int(p))
    return tuple(sizes)


def input_size(net: Any) -> int | tuple[int, ...]:
    """What ``net`` takes: the number of features D (rows of its first weight matrix), or for a
    convolutional network the image shape (C, H, W), its ``input_dim``."""
    if getattr(net, "input_dim", None) is not None:
        return tuple(net.input_dim)
    if getattr(net, "features", None):  # a Features layer first: it takes the points (x1, x2)
        return int(net.input_size)
    for layer in getattr(net, "layers", ()):
        key = getattr(layer, "weight_key", None)
        if key is not None:
            return int(net.params[key].shape[0])
    return int(net.params["W1"].shape[0])


def output_size(net: Any) -> int:
    """The number of classes ``net`` predicts: columns of its last weight matrix."""
    for layer in reversed(getattr(net, "layers", ())):
        key = getattr(layer, "weight_key", None)
        if key is not None:
            return int(net.params[key].shape[1])
    raise NnscratchError(f"cannot tell how many classes a {type(net).__name__} predicts")
