"""Variable, Function and backward(): derivatives worked out by hand, the graph's bookkeeping
(a node used twice, topological order, freed gradients, no recursion) and higher-order
derivatives (Newton's method)."""

import gc
import weakref

import numpy as np
import pytest

from nnscratch.autograd import Function, Variable, no_grad
from nnscratch.autograd import functions as F
from nnscratch.autograd.core import graph_functions


def test_a_polynomial_and_its_derivative_by_hand():
    x = Variable(np.array(3.0))
    y = x * x + 2 * x - 1 / x  # y' = 2x + 2 + 1/x² = 8 + 1/9
    y.backward()
    assert y.data == pytest.approx(9 + 6 - 1 / 3)
    assert x.grad.data == pytest.approx(8 + 1 / 9)


def test_a_variable_used_twice_gets_both_gradients():
    x = Variable(np.array(3.0))
    (x * x).backward()
    assert x.grad.data == 6.0  # 2x
    x.cleargrad()
    (x + x).backward()
    assert x.grad.data == 2.0


def test_gradients_accumulate_until_cleared():
    """backward is not idempotent, as in PyTorch: a second call adds its gradient."""
    x = Variable(np.array(2.0))
    y = x**3
    y.backward(retain_grad=True)
    y.grad = None  # start the output again from 1
    y.backward()
    assert x.grad.data == 2 * 12.0
    x.cleargrad()
    (x**3).backward()
    assert x.grad.data == 12.0


def test_the_diamond_needs_the_topological_order():
    """a = x², y = a² + a³: a's gradient is complete (from both terms) before it goes to x;
    visited in the wrong order, x would get a partial sum. dy/dx = (2a + 3a²)·2x."""
    x = Variable(np.array(1.5))
    a = x**2
    y = a**2 + a**3
    y.backward()
    a_ = 1.5**2
    assert x.grad.data == pytest.approx((2 * a_ + 3 * a_**2) * 2 * 1.5)


def test_intermediate_gradients_are_freed_unless_kept():
    x = Variable(np.array(2.0))
    a = F.exp(x)
    y = a * a
    y.backward()
    assert a.grad is None and y.grad is None and x.grad is not None
    x.cleargrad()
    y = F.exp(x) * F.exp(x)
    kept = y.creator.inputs[0]
    y.backward(retain_grad=True)
    assert kept.grad.data == pytest.approx(np.exp(2.0))  # ∂(a·b)/∂a = b = e²


def test_no_grad_records_nothing():
    x = Variable(np.array(2.0))
    with no_grad():
        y = x * x
    assert y.creator is None
    y = x * x
    assert isinstance(y.creator, Function)


def test_the_graph_does_not_keep_its_outputs_alive():
    x = Variable(np.ones(3))
    y = F.tanh(x)
    f = y.creator
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None and f.outputs[0]() is None


def test_a_chain_of_ten_thousand_steps_backpropagates():
    x = Variable(np.array(0.5))
    y = x
    for _ in range(10_000):
        y = F.sin(y) * 0.5 + y * 0.5
    y.backward()
    # the same chain rule by hand, step by step: d/dy (sin(y)/2 + y/2) = cos(y)/2 + 1/2
    value, slope = 0.5, 1.0
    for _ in range(10_000):
        slope *= np.cos(value) / 2 + 0.5
        value = np.sin(value) / 2 + value / 2
    assert y.data == pytest.approx(value) and x.grad.data == pytest.approx(slope)
    # each step four functions: Sin, Mul, Mul, Add (the constants make none)
    assert sum(1 for _ in graph_functions(y)) == 40_000


def test_second_derivative_with_create_graph():
    x = Variable(np.array(2.0))
    y = x**4 - 2 * x**2
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.data == 4 * 8 - 4 * 2  # 4x³ − 4x
    x.cleargrad()
    gx.backward()
    assert x.grad.data == 12 * 4 - 4  # 12x² − 4


def test_newtons_method_reaches_the_minimum_in_a_handful_of_steps():
    """x ← x − f'(x) / f''(x) on f = x⁴ − 2x², from 2.0: the minimum at 1.0."""
    x = Variable(np.array(2.0))
    steps = 0
    while abs(x.data - 1.0) >= 1e-10 and steps < 20:
        y = x**4 - 2 * x**2
        x.cleargrad()
        y.backward(create_graph=True)
        gx = x.grad
        x.cleargrad()
        gx.backward()
        x.data = x.data - gx.data / x.grad.data
        steps += 1
    assert abs(x.data - 1.0) < 1e-10 and steps <= 7, steps


def test_higher_derivatives_of_tanh_by_hand():
    """tanh' = 1 − t², tanh'' = −2t(1 − t²), tanh''' = −2(1 − t²)(1 − 3t²), t = tanh x."""
    x = Variable(np.linspace(-2, 2, 5))
    y = F.tanh(x)
    derivatives = []
    for _ in range(3):
        x.cleargrad()
        y.backward(create_graph=True)
        y = x.grad
        derivatives.append(y.data)
    t = np.tanh(x.data)
    np.testing.assert_allclose(derivatives[0], 1 - t**2, rtol=1e-12)
    np.testing.assert_allclose(derivatives[1], -2 * t * (1 - t**2), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(derivatives[2], -2 * (1 - t**2) * (1 - 3 * t**2), rtol=1e-12)


def test_numpy_arrays_on_the_left_give_variables():
    x = Variable(np.array([1.0, 2.0]))
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, Variable)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


def test_a_variable_of_a_variable_is_an_error():
    with pytest.raises(TypeError, match="already a Variable"):
        Variable(Variable(np.zeros(2)))
