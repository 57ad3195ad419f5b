"""Convolutional networks of chapters 7 and 8: the book's SimpleConvNet and DeepConvNet.

Textbook code. They are LayerNets like the fully connected ones (``nets``): a ``params`` dict (W1,
b1, ...), layers that read it, SoftmaxWithLoss on top; the same loss, accuracy, gradients,
train/eval modes, float32/float64 and saving. What differs is the input: images x (N, C, H, W) of
the shape ``input_dim`` (C, H, W), the data loaders' ``flatten=False``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .conv import Convolution, Flatten, Pooling, conv_output_size
from .errors import NnscratchError
from .layers import Affine, Dropout, Relu, SoftmaxWithLoss
from .nets import LayerNet, init_std, normal_weights
from .validation import (
    PROBABILITY,
    check_float_dtype,
    check_nonnegative_int,
    check_number,
    check_positive_int,
    default_of,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import DTypeLike

#: images per forward pass in ``predict`` and ``accuracy``: a convolution holds the column matrix
#: of its whole batch (DeepConvNet's second layer: 144 values per pixel, 0.9 MB per 28×28 image
#: in float64), so 4096 images at once would take gigabytes
CONV_EVAL_BATCH = 256

#: the book's max pooling after a convolution: 2×2 windows, stride 2
POOL = 2


def _check_input_dim(input_dim: Sequence[int]) -> tuple[int, ...]:
    """(C, H, W) as a tuple of three positive ints."""
    if not (isinstance(input_dim, (tuple, list)) and len(input_dim) == 3):
        raise NnscratchError(
            f"input_dim must be the image shape (C, H, W), e.g. (1, 28, 28), got {input_dim!r}"
        )
    return tuple(check_positive_int(size, "every size of input_dim") for size in input_dim)


class ConvNet(LayerNet):
    """What both convolutional networks add to LayerNet: the image shape ``input_dim`` (C, H, W)
    the data is checked against, and evaluation in smaller chunks (:data:`CONV_EVAL_BATCH`)."""

    input_dim: tuple[int, ...]
    input_dim = None  # type: ignore[assignment]  # None until __init__ sets it
    eval_batch = CONV_EVAL_BATCH

    def __init__(
        self, input_dim: Sequence[int], hidden_size: int, output_size: int, dtype: DTypeLike
    ) -> None:
        """The arguments both networks take, checked; empty params, buffers and layers."""
        self.input_dim = _check_input_dim(input_dim)
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.output_size = check_positive_int(output_size, "output_size")
        self.dtype = check_float_dtype(dtype)
        self.params, self.buffers, self.layers = {}, {}, []

    def config(self) -> dict[str, Any]:
        """The constructor's arguments (seed aside), JSON-able: enough to rebuild the network."""
        return {
            "input_dim": list(self.input_dim),
            "hidden_size": self.hidden_size,
            "output_size": self.output_size,
            "dtype": self.dtype.name,
        }

    @classmethod
    def _plan(  # pragma: no cover - every subclass overrides it
        cls, config: Mapping[str, Any]
    ) -> list[tuple[int, int, int, int, bool]]:
        """The convolution blocks of a network of arguments ``config`` (missing ones: the
        defaults), checked: (filter_num, filter_size, pad, stride, pool) for each."""
        raise NotImplementedError

    @classmethod
    def array_sides(cls, config: Mapping[str, Any]) -> list[int]:
        """The sizes a network of arguments ``config`` (``config()``'s, missing ones: the
        defaults) gives the sides of its parameter arrays, computed without building it: the
        input channels C, every number of filters and filter size, the hidden and output sizes,
        and the height and width of the maps Flatten hands to the first Affine layer (input_dim's
        H and W after every convolution and pooling), whose product its weights' rows are. None
        can be larger than the largest parameter (``io`` checks a file with them before building
        its network); H and W themselves can. Arguments that are wrong raise NnscratchError."""
        default = {key: default_of(cls, key) for key in ("input_dim", "hidden_size", "output_size")}
        config = {**default, **config}
        C, H, W = _check_input_dim(config["input_dim"])
        plan = cls._plan(config)
        for _, filter_size, pad, stride, pool in plan:
            H, W = (conv_output_size(side, filter_size, stride, pad) for side in (H, W))
            if pool:
                H, W = (conv_output_size(side, POOL, POOL, layer="Pooling") for side in (H, W))
        return [
            C,
            *(block[0] for block in plan),
            *(block[1] for block in plan),
            check_positive_int(config["hidden_size"], "hidden_size"),
            check_positive_int(config["output_size"], "output_size"),
            H,
            W,
        ]

    def _conv_block(
        self,
        i: int,
        shape: Sequence[int],
        filter_num: int,
        filter_size: int,
        pad: int,
        stride: int,
        std: float | Literal["he"],
        rng: np.random.Generator,
        pool: bool = False,
    ) -> tuple[int, ...]:
        """Convolution W{i}, b{i} (weights N(0, std²), std a number or "he"), then ReLU — with
        ``pool``, then the book's 2×2 max pooling (stride 2) — on images of ``shape`` (C, H, W);
        returns the shape of the block's output."""
        C = shape[0]
        if std == "he":  # √(2 / fan_in), fan_in = C·FH·FW: the book's pre_node_nums
            std = init_std("he", C * filter_size * filter_size)
        self.params[f"W{i}"] = normal_weights(
            rng, std, (filter_num, C, filter_size, filter_size), self.dtype
        )
        self.params[f"b{i}"] = np.zeros(filter_num, self.dtype)
        convolution = Convolution(self.params, f"W{i}", f"b{i}", stride, pad)
        self.layers += [convolution, Relu()]
        shape = convolution.output_shape((1, *shape))
        if pool:
            pooling = Pooling(POOL, POOL, POOL)
            self.layers.append(pooling)
            shape = pooling.output_shape(shape)
        return shape[1:]

    def _affine(
        self, i: int, fan_in: int, fan_out: int, std: float, rng: np.random.Generator
    ) -> None:
        """Affine W{i} (fan_in, fan_out) with weights N(0, std²), b{i} zeros."""
        self.params[f"W{i}"] = normal_weights(rng, std, (fan_in, fan_out), self.dtype)
        self.params[f"b{i}"] = np.zeros(fan_out, self.dtype)
        self.layers.append(Affine(self.params, f"W{i}", f"b{i}"))


class SimpleConvNet(ConvNet):
    """The book's chapter-7 network:
    x → Convolution(W1, b1) → ReLU → max-pool 2×2 → Affine(W2, b2) → ReLU → Affine(W3, b3)
    → softmax.

    Shapes, for input_dim (C, H, W) and conv_param filter_num FN, filter_size FS, pad P, stride S:
    W1 (FN, C, FS, FS), b1 (FN,); the convolution gives FN maps of out_h × out_w
    (out_h = (H + 2P − FS) // S + 1), pooling halves them; W2 (FN·(out_h//2)·(out_w//2),
    hidden_size), W3 (hidden_size, output_size). Weights N(0, weight_init_std²), biases 0, drawn
    from ``np.random.default_rng(seed)``. ``dtype`` float64 or float32 (the same weights rounded).
    ``conv_param`` keys missing from the dict given keep the default's values.
    """

    # conv_param's default dict is never changed (it is copied): safe as a default
    def __init__(
        self,
        input_dim: Sequence[int] = (1, 28, 28),
        conv_param: Mapping[str, int] = {  # noqa: B006
            "filter_num": 30,
            "filter_size": 5,
            "pad": 0,
            "stride": 1,
        },
        hidden_size: int = 100,
        output_size: int = 10,
        weight_init_std: float = 0.01,
        seed: int | np.random.SeedSequence | np.random.Generator | None = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        super().__init__(input_dim, hidden_size, output_size, dtype)
        self.conv_param = self._conv_param(conv_param)
        self.weight_init_std = check_number(
            weight_init_std,
            "weight_init_std",
            0,
            hint=f"the book's {default_of(SimpleConvNet, 'weight_init_std')}",
        )
        rng = np.random.default_rng(seed)
        std = self.weight_init_std
        ((filter_num, filter_size, pad, stride, pool),) = self._plan(self.config())
        shape = self._conv_block(
            1, self.input_dim, filter_num, filter_size, pad, stride, std, rng, pool
        )
        self.layers.append(Flatten())
        self._affine(2, int(np.prod(shape)), self.hidden_size, std, rng)
        self.layers.append(Relu())
        self._affine(3, self.hidden_size, self.output_size, std, rng)
        self.last_layer = SoftmaxWithLoss()
        self.train()

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "conv_param": dict(self.conv_param),
            "weight_init_std": self.weight_init_std,
        }

    @staticmethod
    def _conv_param(conv_param: Mapping[str, Any]) -> dict[str, int]:
        """conv_param checked, the default's values for the keys it lacks."""
        defaults = default_of(SimpleConvNet, "conv_param")
        if not isinstance(conv_param, dict) or set(conv_param) - set(defaults):
            raise NnscratchError(
                f"conv_param must be a dict with keys among "
                f"{', '.join(defaults)}, got {conv_param!r}"
            )
        conv_param = {**defaults, **conv_param}
        return {
            "filter_num": check_positive_int(conv_param["filter_num"], "conv_param filter_num"),
            "filter_size": check_positive_int(conv_param["filter_size"], "conv_param filter_size"),
            "pad": check_nonnegative_int(conv_param["pad"], "conv_param pad"),
            "stride": check_positive_int(conv_param["stride"], "conv_param stride"),
        }

    @classmethod
    def _plan(cls, config: Mapping[str, Any]) -> list[tuple[int, int, int, int, bool]]:
        """One block: the convolution of ``conv_param``, then the book's max pooling."""
        p = cls._conv_param(config.get("conv_param", default_of(cls, "conv_param")))
        return [(p["filter_num"], p["filter_size"], p["pad"], p["stride"], True)]


class DeepConvNet(ConvNet):
    """The book's chapter-8 network, He-initialised::

        x → [Conv 3×3 → ReLU → Conv 3×3 → ReLU → max-pool 2×2] × 3
          → Affine(W7) → ReLU → Dropout → Affine(W8) → Dropout → softmax

    The six convolutions have ``filter_nums`` filters (the book's 16, 16, 32, 32, 64, 64), stride 1
    and padding 1 — the fourth padding 2, as in the book, so that 28×28 images shrink
    28 → 14 → 16 → 8 → 4 and W7 is (64·4·4, hidden_size). Parameters W1..W8, b1..b8; weights
    N(0, 2 / fan_in) with fan_in = C·3·3 for a convolution (the book's pre_node_nums) and the
    number of inputs for an Affine layer; biases 0. ``dropout``: the ratio p of both Dropout
    layers (0 makes them the identity); their masks come from a stream of their own, drawn from
    ``seed`` after the weights. ``dtype`` float64 or float32.
    """

    #: (pad of each convolution): the book's conv_param_1..6
    PADS = (1, 1, 1, 2, 1, 1)
    FILTER_SIZE = 3

    def __init__(
        self,
        input_dim: Sequence[int] = (1, 28, 28),
        filter_nums: Sequence[int] = (16, 16, 32, 32, 64, 64),
        hidden_size: int = 50,
        output_size: int = 10,
        dropout: float = 0.5,
        seed: int | np.random.SeedSequence | np.random.Generator | None = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        super().__init__(input_dim, hidden_size, output_size, dtype)
        self.filter_nums = self._filter_nums(filter_nums)
        self.dropout = PROBABILITY.check(
            dropout, "dropout", hint="the fraction of units dropped, e.g. the book's 0.5"
        )
        rng = np.random.default_rng(seed)
        shape = self.input_dim
        for i, (filter_num, size, pad, stride, pool) in enumerate(self._plan(self.config()), 1):
            shape = self._conv_block(i, shape, filter_num, size, pad, stride, "he", rng, pool)
        self.layers.append(Flatten())
        fan_in = int(np.prod(shape))
        self._affine(7, fan_in, self.hidden_size, init_std("he", fan_in), rng)
        # no generator yet: theirs is drawn below, after every weight
        dropouts = [
            Dropout(self.dropout, rng=None),  # type: ignore[arg-type]
            Dropout(self.dropout, rng=None),  # type: ignore[arg-type]
        ]
        self.layers += [Relu(), dropouts[0]]
        self._affine(8, self.hidden_size, self.output_size, init_std("he", self.hidden_size), rng)
        self.layers.append(dropouts[1])
        # the masks from a stream of their own, drawn after every weight (as MultiLayerNet's)
        dropout_rng = np.random.default_rng(rng.integers(2**63))
        for layer in dropouts:
            layer.rng = dropout_rng
        self.last_layer = SoftmaxWithLoss()
        self.train()

    def config(self) -> dict[str, Any]:
        return {**super().config(), "filter_nums": list(self.filter_nums), "dropout": self.dropout}

    @classmethod
    def _filter_nums(cls, filter_nums: Sequence[int]) -> tuple[int, ...]:
        """The six numbers of filters, checked."""
        if not (isinstance(filter_nums, (tuple, list)) and len(filter_nums) == len(cls.PADS)):
            raise NnscratchError(
                f"filter_nums must be the six convolutions' numbers of filters, "
                f"e.g. the book's {default_of(DeepConvNet, 'filter_nums')}, got "
                f"{filter_nums!r}"
            )
        return tuple(check_positive_int(n, "every filter number") for n in filter_nums)

    @classmethod
    def _plan(cls, config: Mapping[str, Any]) -> list[tuple[int, int, int, int, bool]]:
        """Six 3×3 convolutions of stride 1 and padding PADS, a pooling after every second."""
        filter_nums = cls._filter_nums(config.get("filter_nums", default_of(cls, "filter_nums")))
        return [
            (n, cls.FILTER_SIZE, pad, 1, i % 2 == 1)
            for i, (n, pad) in enumerate(zip(filter_nums, cls.PADS))
        ]


def conv_array_sides(architecture: Any) -> list[int] | None:
    """For an architecture ``{"class": name, "kwargs": config}`` (a file's, unchecked) of a
    convolutional network: its :meth:`ConvNet.array_sides` ([] when its arguments are wrong:
    building the network says which); None for any other class."""
    name = architecture.get("class") if isinstance(architecture, dict) else None
    cls = {"SimpleConvNet": SimpleConvNet, "DeepConvNet": DeepConvNet}.get(str(name))
    kwargs = architecture.get("kwargs") if cls is not None else None
    if not isinstance(kwargs, dict) or not isinstance(name, str):
        return None
    try:
        # kwargs is a dict only when cls is one of the two classes
        return cls.array_sides(kwargs)  # type: ignore[union-attr]
    except NnscratchError:
        return []
