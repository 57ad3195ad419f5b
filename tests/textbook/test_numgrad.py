"""Numerical differentiation: known derivatives, error orders, and the integer-array bug."""

import numpy as np
import pytest

from nnscratch.errors import NnscratchError
from nnscratch.numgrad import numerical_diff, numerical_gradient
from nnscratch.optim import gradient_descent


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def test_numerical_diff_book_values():
    # d/dx (0.01 x² + 0.1 x) = 0.02 x + 0.1: 0.2 at 5, 0.3 at 10
    assert numerical_diff(function_1, 5.0) == pytest.approx(0.2, abs=1e-9)
    assert numerical_diff(function_1, 10.0) == pytest.approx(0.3, abs=1e-9)


def test_central_difference_error_shrinks_as_h_squared():
    # f = exp, f'(1) = e; central error ≈ h² f'''/6, so h → h/10 divides it by ~100
    x, true = 1.0, np.e
    e1 = abs(numerical_diff(np.exp, x, h=1e-2) - true)
    e2 = abs(numerical_diff(np.exp, x, h=1e-3) - true)
    assert e1 == pytest.approx(1e-4 * np.e / 6, rel=1e-3)
    assert e1 / e2 == pytest.approx(100, rel=0.01)


def test_forward_difference_error_shrinks_as_h():
    # forward error ≈ h f''/2: h → h/10 divides it by ~10
    x, true = 1.0, np.e
    e1 = abs(numerical_diff(np.exp, x, h=1e-2, method="forward") - true)
    e2 = abs(numerical_diff(np.exp, x, h=1e-3, method="forward") - true)
    assert e1 == pytest.approx(1e-2 * np.e / 2, rel=0.01)
    assert e1 / e2 == pytest.approx(10, rel=0.01)


def test_unknown_method_is_a_clear_error():
    with pytest.raises(NnscratchError, match="^method must be one of central, forward, got 'b"):
        numerical_diff(np.exp, 1.0, method="backward")


def test_gradient_of_function_2():
    np.testing.assert_allclose(
        numerical_gradient(function_2, np.array([3.0, 4.0])), [6.0, 8.0], atol=1e-7
    )
    np.testing.assert_allclose(
        numerical_gradient(function_2, np.array([0.0, 2.0])), [0.0, 4.0], atol=1e-7
    )
    np.testing.assert_allclose(
        numerical_gradient(function_2, np.array([3.0, 0.0])), [6.0, 0.0], atol=1e-7
    )


def test_gradient_of_an_integer_array_is_right_and_leaves_it_alone():
    x = np.array([3, 4])
    grad = numerical_gradient(function_2, x)
    np.testing.assert_allclose(grad, [6.0, 8.0], atol=1e-7)
    assert x.dtype.kind == "i" and x.tolist() == [3, 4]


def test_gradient_of_a_2d_array():
    # f(W) = Σ W² · c_ij → ∂f/∂W_ij = 2 c_ij W_ij
    c = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    grad = numerical_gradient(lambda w_: np.sum(c * w_**2), w)
    np.testing.assert_allclose(grad, 2 * c * w, atol=1e-6)


def test_perturbation_is_seen_through_a_closure_and_restored_exactly():
    w = np.array([[0.1, 0.2], [0.3, 0.4]])
    before = w.copy()
    # like `lambda W: net.loss(x, t)`: the function ignores its argument and reads w
    grad = numerical_gradient(lambda _: np.sum(w**3), w)
    # central difference of w³ is exactly ((w+h)³ - (w-h)³) / 2h = 3w² + h²
    np.testing.assert_allclose(grad, 3 * before**2 + 1e-8, rtol=1e-9)
    np.testing.assert_array_equal(w, before)


def test_array_is_restored_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])
    calls = []

    def f(arr):
        calls.append(arr.copy())
        if len(calls) == 3:
            raise RuntimeError("boom")
        return arr.sum()

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    assert x.tolist() == [1.0, 2.0, 3.0]
    assert calls[2][1] == pytest.approx(2.0 + 1e-4)  # it did perturb the second element


def test_gradient_descent_reaches_the_origin():
    x, path = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=0.1, step_num=100)
    assert np.linalg.norm(x) < 1e-8
    # for x² + y², each exact step multiplies x by (1 - 2·lr) = 0.8
    np.testing.assert_allclose(path[1], [-3.0 * 0.8, 4.0 * 0.8], rtol=1e-8)
    assert path.shape == (101, 2)
    np.testing.assert_array_equal(path[-1], x)


def test_gradient_descent_integer_start_equals_float_start_and_is_not_modified():
    start = np.array([-3, 4])
    x_int, path_int = gradient_descent(function_2, start, lr=0.1, step_num=100)
    x_float, path_float = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=0.1, step_num=100)
    np.testing.assert_array_equal(x_int, x_float)
    np.testing.assert_array_equal(path_int, path_float)
    assert start.tolist() == [-3, 4]


def test_gradient_descent_learning_rate_too_large_and_too_small():
    # lr = 10 diverges (factor 1 - 20 = -19 per step); lr = 1e-10 barely moves
    x_big, _ = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=10.0, step_num=100)
    x_small, _ = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=1e-10, step_num=100)
    assert np.linalg.norm(x_big) > 1e10
    np.testing.assert_allclose(x_small, [-3.0, 4.0], rtol=1e-7)
