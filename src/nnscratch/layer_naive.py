"""The simplest layers (section 5.4): a multiplication node and an addition node, and the book's
shopping examples that backpropagate through them by hand.

Each layer is one node of a computational graph. ``forward(x, y)`` computes the node's output;
``backward(dout)`` takes ∂L/∂out, the derivative flowing in from the right, and returns
``(dx, dy)``, the derivatives passed on to the left: the chain rule, one node at a time.

The shopping examples (figures 5-16 and 5-17): 2 apples at 100 each, (3 oranges at 150 each,)
tax 1.1. Backward from ∂price/∂price = 1 gives how much the price moves with each input: one
more yen per apple costs 2.2 yen more in all, one more apple 110 yen more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .plots.graph import Graph

__all__ = ["AddLayer", "MulLayer", "ShoppingResult", "buy_apple", "buy_apple_orange"]


class MulLayer:
    """Multiplication node: out = x·y.

    Backward swaps the inputs: ∂L/∂x = dout·y, ∂L/∂y = dout·x (so forward keeps x and y).
    Works on numbers and on NumPy arrays of one shape alike (elementwise).
    """

    def __init__(self) -> None:
        self.x: Any = None
        self.y: Any = None

    def forward(self, x: Any, y: Any) -> Any:
        self.x = x
        self.y = y
        return x * y

    def backward(self, dout: Any) -> tuple[Any, Any]:
        dx = dout * self.y  # the inputs swapped
        dy = dout * self.x
        return dx, dy


class AddLayer:
    """Addition node: out = x + y.

    Backward passes dout on unchanged to both inputs: ∂L/∂x = ∂L/∂y = dout·1 (nothing to keep).
    """

    def forward(self, x: Any, y: Any) -> Any:
        return x + y

    def backward(self, dout: Any) -> tuple[Any, Any]:
        dx = dout * 1
        dy = dout * 1
        return dx, dy


#: one node of a shopping graph: (node id, the op's symbol, its inputs' names, its output's name)
Step = tuple[str, str, tuple[str, ...], str]


@dataclass(frozen=True)
class ShoppingResult:
    """What a shopping example computed.

    - ``price``: the forward result (what is paid);
    - ``grads``: ∂price/∂input for each input, by the book's names (``apple``, ``apple_num``,
      ``orange``, ``orange_num``, ``tax``: the book's ``dapple``, ``dapple_num``, ...);
    - ``values``: every quantity's forward value by name, inputs, intermediate results
      (``apple_price``, ``orange_price``, ``all_price``) and ``price``;
    - ``inner_grads``: ∂price/∂ each intermediate result, and ∂price/∂price = 1;
    - ``steps``: the graph's nodes in forward order, as :meth:`graph` draws them.
    """

    price: float
    grads: dict[str, float]
    values: dict[str, float] = field(repr=False)
    inner_grads: dict[str, float] = field(repr=False)
    steps: tuple[Step, ...] = field(repr=False)

    def graph(self) -> Graph:
        """The computational graph as figures 5-16/5-17 draw it: the inputs as variable nodes,
        one node per operation (×, +), the price as the last node; above each edge the value
        flowing forward, below it the derivative ∂price/∂(that value) flowing back. Numbers are
        written with ``:g`` (2.2000000000000006 reads 2.2). Draw it with
        ``nnscratch.plots.graph_figure(result.graph(), lang=...)``."""
        from .plots.graph import Edge, Graph, Node

        produced = {out: node_id for node_id, _, _, out in self.steps}
        consumed = {name for _, _, inputs, _ in self.steps for name in inputs}
        grads = {**self.grads, **self.inner_grads}
        graph = Graph()
        inputs_first = [n for _, _, inputs, _ in self.steps for n in inputs if n not in produced]
        for name in dict.fromkeys(inputs_first):  # the inputs first, in the order they are used
            graph.nodes.append(Node(name, name, "variable"))
        for node_id, symbol, inputs, out in self.steps:
            graph.nodes.append(Node(node_id, symbol, "function"))
            for name in inputs:
                # an intermediate result is the edge from the node that made it
                source = produced.get(name, name)
                graph.edges.append(
                    Edge(source, node_id, f"{self.values[name]:g}", f"{grads[name]:g}")
                )
            if out not in consumed:  # the final result: a node of its own
                graph.nodes.append(Node(out, out, "variable"))
                graph.edges.append(Edge(node_id, out, f"{self.values[out]:g}", f"{grads[out]:g}"))
        return graph


def buy_apple(apple: float = 100, apple_num: float = 2, tax: float = 1.1) -> ShoppingResult:
    """Figure 5-16: price = apple · apple_num · tax = 100 · 2 · 1.1 = 220.

    Backward from dprice = 1: ∂price/∂apple = apple_num · tax = 2.2, ∂price/∂apple_num =
    apple · tax = 110, ∂price/∂tax = apple · apple_num = 200.
    """
    mul_apple_layer = MulLayer()
    mul_tax_layer = MulLayer()

    # forward
    apple_price = mul_apple_layer.forward(apple, apple_num)
    price = mul_tax_layer.forward(apple_price, tax)

    # backward: the layers in reverse order
    dprice = 1
    dapple_price, dtax = mul_tax_layer.backward(dprice)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)

    return ShoppingResult(
        price=price,
        grads={"apple": dapple, "apple_num": dapple_num, "tax": dtax},
        values={
            "apple": apple,
            "apple_num": apple_num,
            "tax": tax,
            "apple_price": apple_price,
            "price": price,
        },
        inner_grads={"apple_price": dapple_price, "price": dprice},
        steps=(
            ("mul_apple", "×", ("apple", "apple_num"), "apple_price"),
            ("mul_tax", "×", ("apple_price", "tax"), "price"),
        ),
    )


def buy_apple_orange(
    apple: float = 100,
    apple_num: float = 2,
    orange: float = 150,
    orange_num: float = 3,
    tax: float = 1.1,
) -> ShoppingResult:
    """Figure 5-17: price = (apple · apple_num + orange · orange_num) · tax
    = (200 + 450) · 1.1 = 715.

    Backward from dprice = 1: the tax node sends 1.1 to the sum and 650 to tax; the sum passes
    1.1 on to both products; they give ∂price/∂apple = 2.2, ∂/∂apple_num = 110, ∂/∂orange = 3.3,
    ∂/∂orange_num = 165.
    """
    mul_apple_layer = MulLayer()
    mul_orange_layer = MulLayer()
    add_apple_orange_layer = AddLayer()
    mul_tax_layer = MulLayer()

    # forward
    apple_price = mul_apple_layer.forward(apple, apple_num)
    orange_price = mul_orange_layer.forward(orange, orange_num)
    all_price = add_apple_orange_layer.forward(apple_price, orange_price)
    price = mul_tax_layer.forward(all_price, tax)

    # backward: the layers in reverse order
    dprice = 1
    dall_price, dtax = mul_tax_layer.backward(dprice)
    dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)
    dorange, dorange_num = mul_orange_layer.backward(dorange_price)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)

    return ShoppingResult(
        price=price,
        grads={
            "apple": dapple,
            "apple_num": dapple_num,
            "orange": dorange,
            "orange_num": dorange_num,
            "tax": dtax,
        },
        values={
            "apple": apple,
            "apple_num": apple_num,
            "orange": orange,
            "orange_num": orange_num,
            "tax": tax,
            "apple_price": apple_price,
            "orange_price": orange_price,
            "all_price": all_price,
            "price": price,
        },
        inner_grads={
            "apple_price": dapple_price,
            "orange_price": dorange_price,
            "all_price": dall_price,
            "price": dprice,
        },
        steps=(
            ("mul_apple", "×", ("apple", "apple_num"), "apple_price"),
            ("mul_orange", "×", ("orange", "orange_num"), "orange_price"),
            ("add_apple_orange", "+", ("apple_price", "orange_price"), "all_price"),
            ("mul_tax", "×", ("all_price", "tax"), "price"),
        ),
    )
