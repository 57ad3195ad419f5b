"""The engine: the textbook's layers and optimizers computed fast, behind the same interfaces.

The textbook (``nnscratch.layers``, ``conv``, ``optim``, ...) writes every forward, backward and
update as its formula. The engine subclasses each of those classes and overrides only how it
computes — in place, in cache-sized blocks, in memory layouts that suit the products — keeping
the same parameters, state and results (tests prove them equal, layer by layer and for whole
training runs); what a layer keeps from its forward for its backward may differ (switch
engines between steps, not between a forward and its backward). :func:`use` puts a network
and an optimizer on either engine, in place:

- ``"fast"`` (the default of ``nnscratch train``, the playground and the search): the engine's
  classes; the network's first layer skips the data's gradient, which nothing uses; max pooling
  comes before its ReLU (the two commute: the same numbers, ReLU on a quarter of the values);
  the numerical gradient is the fast one (``engine.numgrad``) and a run's BLAS threads follow the
  size of its products (``engine.blas``);
- ``"book"``: the textbook's own classes, in the book's order — slower, the same run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import conv as book_conv
from .. import layers as book_layers
from .. import optim as book_optim
from .. import time_layers as book_time_layers
from ..validation import check_choice
from . import conv as fast_conv
from . import layers as fast_layers
from . import optim as fast_optim
from . import pooling as fast_pooling
from . import time_layers as fast_time_layers

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..layers import Layer
    from ..nets import LayerNet
    from ..optim import Optimizer

ENGINES = ("fast", "book")

#: textbook class → the engine's subclass that computes it fast
FAST: dict[type, type] = {
    book_layers.Affine: fast_layers.Affine,
    book_layers.Sigmoid: fast_layers.Sigmoid,
    book_layers.Relu: fast_layers.Relu,
    book_layers.SoftmaxWithLoss: fast_layers.SoftmaxWithLoss,
    book_layers.BatchNorm: fast_layers.BatchNorm,
    book_conv.Convolution: fast_conv.Convolution,
    book_conv.Pooling: fast_pooling.Pooling,
    book_conv.Flatten: fast_conv.Flatten,
    book_optim.SGD: fast_optim.SGD,
    book_optim.Momentum: fast_optim.Momentum,
    book_optim.Nesterov: fast_optim.Nesterov,
    book_optim.AdaGrad: fast_optim.AdaGrad,
    book_optim.RMSprop: fast_optim.RMSprop,
    book_optim.Adam: fast_optim.Adam,
    book_optim.AdamW: fast_optim.AdamW,
    book_time_layers.TimeAffine: fast_time_layers.TimeAffine,
    book_time_layers.TimeSoftmaxWithLoss: fast_time_layers.TimeSoftmaxWithLoss,
    book_time_layers.LayerNorm: fast_time_layers.LayerNorm,
    book_time_layers.GELU: fast_time_layers.GELU,
    book_time_layers.CausalSelfAttention: fast_time_layers.CausalSelfAttention,
}
#: the engine's class → the textbook class it computes
BOOK: dict[type, type] = {fast: book for book, fast in FAST.items()}


def engine_of(net: LayerNet) -> str:
    """ "fast" when any of ``net``'s layers is the engine's, else "book"."""
    return "fast" if any(type(layer) in BOOK for layer in _layers(net)) else "book"


def use(engine: str, net: LayerNet | None = None, optimizer: Optimizer | None = None) -> str:
    """Put ``net`` (its layers) and ``optimizer`` on ``engine`` ("fast" or "book"), in place: each
    layer and the optimizer stay the same objects with the same parameters and state, their class
    becomes the engine's subclass (or, for "book", the textbook class back again); layers and
    optimizers of other classes are left as they are. For "fast", each max pooling after a ReLU
    comes first (in ``net.layers``, the same list) and the first layer's backward returns None
    (nothing uses the data's gradient); ``use("book", net)`` gives the book's network back.
    Returns ``engine``."""
    check_choice(engine, ENGINES, "engine")
    table = FAST if engine == "fast" else BOOK
    if net is not None:
        for layer in _layers(net):
            layer.__class__ = table.get(type(layer), type(layer))
            layer.__dict__.pop("input_gradient", None)  # the class's own again (True)
        order = _pool_order(net.layers, engine)
        if order != list(net.layers):
            net.layers[:] = order  # the same list: whoever holds it sees the new order
        first = net.layers[0] if net.layers else None
        if engine == "fast" and type(first) in (fast_layers.Affine, fast_conv.Convolution):
            first.input_gradient = False  # type: ignore[union-attr]
    if optimizer is not None:
        optimizer.__class__ = table.get(type(optimizer), type(optimizer))
    return engine


def _layers(net: LayerNet) -> list[Layer]:
    """The network's layers, the last one included, each followed by its parts: the attributes
    of a layer that are layers the engine knows (a TransformerBlock's LayerNorms, attention,
    affine maps and GELU)."""
    last = getattr(net, "last_layer", None)
    found: list[Layer] = []
    for layer in [*getattr(net, "layers", ()), *([last] if last is not None else [])]:
        parts = [
            p for p in getattr(layer, "__dict__", {}).values() if type(p) in FAST or type(p) in BOOK
        ]
        found += [layer, *parts]
    return found


def _pool_order(layer_list: Sequence[Layer], engine: str) -> list[Layer]:
    """The layers with each ReLU → max pooling pair as max pooling → ReLU ("fast"), or each max
    pooling → ReLU pair back in the book's order ("book"). max_k max(a_k, 0) = max(max_k a_k, 0),
    and the gradients go to the same inputs (the first maximum, or none where all are ≤ 0)."""
    out = list(layer_list)
    # exact classes: a subclass of ReLU (a leaky one) need not commute with max pooling
    first, second = (
        (fast_layers.Relu, fast_pooling.Pooling)
        if engine == "fast"
        else (book_conv.Pooling, book_layers.Relu)
    )
    i = 0
    while i < len(out) - 1:
        a, b = out[i], out[i + 1]
        if type(a) is first and type(b) is second and _is_max(a, b):
            out[i], out[i + 1] = b, a
            i += 2
        else:
            i += 1
    return out


def _is_max(a: Layer, b: Layer) -> bool:
    pool = a if isinstance(a, book_conv.Pooling) else b
    # _pool_order asks only of a pair whose other layer is the Pooling
    return pool.mode == "max"  # type: ignore[union-attr]
