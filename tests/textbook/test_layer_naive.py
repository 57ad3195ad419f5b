"""Section 5.4: the multiplication and addition nodes against central differences, the book's
shopping numbers (worked out by hand below), and their computational graphs."""

import numpy as np
import pytest

from nnscratch.gradcheck import relative_error
from nnscratch.layer_naive import AddLayer, MulLayer, buy_apple, buy_apple_orange
from nnscratch.numgrad import numerical_gradient


@pytest.mark.parametrize("layer_class", [MulLayer, AddLayer])
def test_backward_matches_central_differences(layer_class):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 3, 4))
    G = rng.standard_normal((3, 4))  # L = Σ out · G, so ∂L/∂out = G
    layer = layer_class()

    def loss(_):
        return float(np.sum(layer.forward(x, y) * G))

    layer.forward(x, y)
    dx, dy = layer.backward(G)
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-7
    assert relative_error(dy, numerical_gradient(loss, y)) < 1e-7


def test_mul_layer_keeps_its_inputs_and_swaps_them_backward():
    layer = MulLayer()
    assert layer.forward(3.0, 5.0) == 15.0
    assert (layer.x, layer.y) == (3.0, 5.0)
    assert layer.backward(2.0) == (10.0, 6.0)  # (dout·y, dout·x)


def test_add_layer_passes_dout_to_both():
    layer = AddLayer()
    assert layer.forward(3.0, 5.0) == 8.0
    assert layer.backward(2.0) == (2.0, 2.0)


def test_buy_apple_the_books_numbers():
    # price = 100·2·1.1 = 220; ∂/∂apple = 2·1.1, ∂/∂apple_num = 100·1.1, ∂/∂tax = 100·2
    r = buy_apple()
    assert r.price == pytest.approx(220)
    assert r.grads == pytest.approx({"apple": 2.2, "apple_num": 110, "tax": 200})
    assert r.values["apple_price"] == pytest.approx(200)
    assert r.inner_grads == pytest.approx({"apple_price": 1.1, "price": 1})


def test_buy_apple_orange_the_books_numbers():
    # price = (100·2 + 150·3)·1.1 = 650·1.1 = 715; the sum gets 1.1 back and passes it on:
    # ∂/∂apple = 1.1·2, ∂/∂apple_num = 1.1·100, ∂/∂orange = 1.1·3, ∂/∂orange_num = 1.1·150,
    # ∂/∂tax = 650
    r = buy_apple_orange()
    assert r.price == pytest.approx(715)
    assert r.grads == pytest.approx(
        {"apple": 2.2, "apple_num": 110, "orange": 3.3, "orange_num": 165, "tax": 650}
    )
    assert r.inner_grads == pytest.approx(
        {"apple_price": 1.1, "orange_price": 1.1, "all_price": 1.1, "price": 1}
    )


def test_other_prices():
    # 3 apples at 50, no tax: 150; ∂/∂apple = 3, ∂/∂apple_num = 50, ∂/∂tax = 150
    r = buy_apple(apple=50, apple_num=3, tax=1.0)
    assert r.price == pytest.approx(150)
    assert r.grads == pytest.approx({"apple": 3, "apple_num": 50, "tax": 150})
    # (10·1 + 20·2)·2 = 100; ∂/∂orange = 2·2, ∂/∂orange_num = 20·2, ∂/∂tax = 50
    r = buy_apple_orange(apple=10, apple_num=1, orange=20, orange_num=2, tax=2.0)
    assert r.price == pytest.approx(100)
    assert r.grads == pytest.approx(
        {"apple": 2, "apple_num": 20, "orange": 4, "orange_num": 40, "tax": 50}
    )


def test_gradients_against_central_differences():
    inputs = {"apple": 100.0, "apple_num": 2.0, "orange": 150.0, "orange_num": 3.0, "tax": 1.1}
    grads = buy_apple_orange(**inputs).grads
    h = 1e-4
    for name in inputs:
        up = buy_apple_orange(**{**inputs, name: inputs[name] + h}).price
        down = buy_apple_orange(**{**inputs, name: inputs[name] - h}).price
        assert grads[name] == pytest.approx((up - down) / (2 * h), rel=1e-6), name


def _edges(graph):
    return {(e.source, e.target): (e.above, e.below) for e in graph.edges}


def test_buy_apple_graph():
    g = buy_apple().graph()
    kinds = {n.id: (n.label, n.kind) for n in g.nodes}
    assert kinds == {
        "apple": ("apple", "variable"),
        "apple_num": ("apple_num", "variable"),
        "tax": ("tax", "variable"),
        "mul_apple": ("×", "function"),
        "mul_tax": ("×", "function"),
        "price": ("price", "variable"),
    }
    # figure 5-16: forward values above, ∂price/∂(value) below, printed as the book does
    assert _edges(g) == {
        ("apple", "mul_apple"): ("100", "2.2"),
        ("apple_num", "mul_apple"): ("2", "110"),
        ("mul_apple", "mul_tax"): ("200", "1.1"),
        ("tax", "mul_tax"): ("1.1", "200"),
        ("mul_tax", "price"): ("220", "1"),
    }
    assert len(g.edges) == 5


def test_buy_apple_orange_graph():
    g = buy_apple_orange().graph()
    functions = {n.id: n.label for n in g.nodes if n.kind == "function"}
    assert functions == {
        "mul_apple": "×",
        "mul_orange": "×",
        "add_apple_orange": "+",
        "mul_tax": "×",
    }
    variables = [n.id for n in g.nodes if n.kind == "variable"]
    assert sorted(variables) == sorted(
        ["apple", "apple_num", "orange", "orange_num", "tax", "price"]
    )
    # figure 5-17
    assert _edges(g) == {
        ("apple", "mul_apple"): ("100", "2.2"),
        ("apple_num", "mul_apple"): ("2", "110"),
        ("orange", "mul_orange"): ("150", "3.3"),
        ("orange_num", "mul_orange"): ("3", "165"),
        ("mul_apple", "add_apple_orange"): ("200", "1.1"),
        ("mul_orange", "add_apple_orange"): ("450", "1.1"),
        ("add_apple_orange", "mul_tax"): ("650", "1.1"),
        ("tax", "mul_tax"): ("1.1", "650"),
        ("mul_tax", "price"): ("715", "1"),
    }
    assert len(g.edges) == 9
