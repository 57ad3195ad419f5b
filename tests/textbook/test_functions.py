"""Activation and loss functions against values worked out by hand."""

import warnings

import numpy as np
import pytest

from nnscratch.errors import NnscratchError
from nnscratch.functions import (
    accuracy,
    cross_entropy_error,
    log_softmax,
    mean_squared_error,
    one_hot,
    relu,
    sigmoid,
    softmax,
    softmax_cross_entropy,
    tanh,
    to_index_labels,
    weight_decay,
)

# the book's example: the network is most confident (0.6) in class 2
Y_BOOK = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
T_BOOK = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])


def test_sigmoid_values_and_no_overflow_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sigmoid(np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0]))
    e = np.e
    np.testing.assert_allclose(
        out, [0.0, 1 / (1 + e), 0.5, 1 / (1 + 1 / e), 1.0], rtol=1e-15, atol=0
    )


def test_sigmoid_of_integers_is_float():
    assert sigmoid(np.array([0, 0])).tolist() == [0.5, 0.5]


def test_relu_and_tanh():
    x = np.array([-2.0, -0.0, 0.5, 3.0])
    assert relu(x).tolist() == [0.0, 0.0, 0.5, 3.0]
    np.testing.assert_allclose(
        tanh(np.array([0.0, 1.0])), [0.0, (np.e - 1 / np.e) / (np.e + 1 / np.e)]
    )


def test_softmax_book_example():
    # exp(0.3), exp(2.9), exp(4.0) divided by their sum, by hand
    a = np.array([0.3, 2.9, 4.0])
    expected = np.exp(a) / np.exp(a).sum()
    np.testing.assert_allclose(softmax(a), expected, rtol=1e-14)
    np.testing.assert_allclose(softmax(a), [0.01821127, 0.24519181, 0.73659691], atol=1e-8)


def test_softmax_rows_sum_to_one_and_are_independent():
    rng = np.random.default_rng(0)
    x = rng.normal(scale=5, size=(6, 4))
    y = softmax(x)
    np.testing.assert_allclose(y.sum(axis=1), np.ones(6), rtol=1e-14)
    row_by_row = np.array([softmax(row) for row in x])
    np.testing.assert_allclose(y, row_by_row, rtol=1e-14)
    # adding a (different) constant to each row changes nothing
    shifted = x + rng.normal(scale=100, size=(6, 1))
    np.testing.assert_allclose(softmax(shifted), y, rtol=1e-12)


def test_softmax_large_values_do_not_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = softmax(np.array([[1010.0, 1000.0, 990.0], [-1000.0, 0.0, 1000.0]]))
    assert np.all(np.isfinite(y))
    # row 1: exp(0), exp(-10), exp(-20) over their sum
    e = np.exp([0.0, -10.0, -20.0])
    np.testing.assert_allclose(y[0], e / e.sum(), rtol=1e-14)


def test_log_softmax_is_log_of_softmax():
    x = np.array([[0.3, 2.9, 4.0], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(log_softmax(x), np.log(softmax(x)), rtol=1e-14)
    np.testing.assert_allclose(log_softmax(x)[1], np.log(np.full(3, 1 / 3)), rtol=1e-14)


def test_cross_entropy_book_example():
    assert cross_entropy_error(Y_BOOK, T_BOOK) == pytest.approx(-np.log(0.6 + 1e-7), rel=1e-15)
    assert cross_entropy_error(Y_BOOK, 2) == pytest.approx(-np.log(0.6 + 1e-7), rel=1e-15)
    # the book's second example: most confident in class 7 (0.6), true class 2 has 0.1
    y2 = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    assert cross_entropy_error(y2, T_BOOK) == pytest.approx(2.302584092994546, rel=1e-12)


def test_cross_entropy_of_zero_probability_is_finite():
    # log(0) would be -inf; ε = 1e-7 makes it -log(1e-7)
    assert cross_entropy_error(np.array([1.0, 0.0]), 1) == pytest.approx(-np.log(1e-7))


def test_cross_entropy_one_hot_equals_index_labels_in_every_shape():
    rng = np.random.default_rng(1)
    y = softmax(rng.normal(size=(8, 5)))
    t = rng.integers(0, 5, size=8)
    by_hand = -np.mean(np.log(y[np.arange(8), t] + 1e-7))
    assert cross_entropy_error(y, t) == pytest.approx(by_hand, rel=1e-14)
    assert cross_entropy_error(y, one_hot(t, 5)) == pytest.approx(by_hand, rel=1e-14)
    assert cross_entropy_error(y, t.reshape(-1, 1)) == pytest.approx(by_hand, rel=1e-14)


def test_cross_entropy_is_the_mean_over_the_batch():
    y = np.array([[0.5, 0.5], [0.25, 0.75]])
    t = np.array([0, 1])
    assert cross_entropy_error(y, t) == pytest.approx(
        -(np.log(0.5 + 1e-7) + np.log(0.75 + 1e-7)) / 2
    )


def test_softmax_cross_entropy_equals_cross_entropy_of_softmax_without_eps():
    x = np.array([[0.3, 2.9, 4.0], [2.0, -1.0, 0.5]])
    t = np.array([2, 0])
    expected = -(np.log(softmax(x)[0, 2]) + np.log(softmax(x)[1, 0])) / 2
    assert softmax_cross_entropy(x, t) == pytest.approx(expected, rel=1e-14)
    assert softmax_cross_entropy(x, one_hot(t, 3)) == pytest.approx(expected, rel=1e-14)


def test_mean_squared_error_book_example_and_batch_mean():
    # book: 0.5 * Σ (y - t)² = 0.0975 for this sample; ours has no ½ and means over N = 1
    assert mean_squared_error(Y_BOOK, T_BOOK) == pytest.approx(2 * 0.0975, rel=1e-12)
    assert mean_squared_error(Y_BOOK, 2) == pytest.approx(0.195, rel=1e-12)
    y = np.array([[1.0, 0.0], [0.5, 0.5]])
    t = np.array([[0.0, 1.0], [0.0, 1.0]])
    # sample errors 2 and 0.5 → mean 1.25
    assert mean_squared_error(y, t) == pytest.approx(1.25)
    assert mean_squared_error(y, np.array([1, 1])) == pytest.approx(1.25)


def test_accuracy_with_index_one_hot_and_column_labels():
    y = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    t = np.array([1, 0, 0, 0])
    assert accuracy(y, t) == 0.75
    assert accuracy(y, one_hot(t, 2)) == 0.75
    assert accuracy(y, t.reshape(-1, 1)) == 0.75
    assert accuracy(np.array([0.2, 0.8]), 1) == 1.0


def test_accuracy_has_zero_derivative_almost_everywhere():
    # why accuracy cannot be the loss: nudging a score does not change it
    y = np.array([[0.1, 0.9], [0.8, 0.2]])
    t = np.array([1, 1])
    nudged = y + np.array([[0.0, 0.0], [0.0, 1e-4]])
    assert accuracy(nudged, t) == accuracy(y, t)
    assert cross_entropy_error(nudged, t) < cross_entropy_error(y, t)


def test_one_hot_and_back():
    t = np.array([2, 0, 1])
    oh = one_hot(t, 3)
    assert oh.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    assert to_index_labels(oh).tolist() == [2, 0, 1]
    assert to_index_labels(t.reshape(-1, 1)).tolist() == [2, 0, 1]


def test_functions_do_not_mutate_inputs():
    x = np.array([[1.0, -2.0, 3.0]])
    before = x.copy()
    for f in (sigmoid, relu, tanh, softmax, log_softmax):
        f(x)
    cross_entropy_error(softmax(x), np.array([0]))
    mean_squared_error(x, np.array([0]))
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("bad", [10, -1])
def test_labels_outside_the_classes_are_refused(bad):
    # -1 would silently pick the last class
    with pytest.raises(NnscratchError, match=r"labels must be class indices 0\.\.9"):
        cross_entropy_error(np.full((3, 10), 0.1), np.array([0, bad, 2]))


def test_weight_decay_by_hand():
    w1 = np.array([[1.0, -2.0], [0.0, 3.0]])  # Σ W² = 1 + 4 + 0 + 9 = 14
    w2 = np.array([[0.5], [-1.0]])  # Σ W² = 0.25 + 1 = 1.25
    # ½ · 0.1 · (14 + 1.25) = 0.7625
    assert weight_decay([w1, w2], 0.1) == pytest.approx(0.7625, rel=1e-15)
    assert weight_decay([w1], 2.0) == 14.0
    assert weight_decay([], 0.1) == 0.0
    assert weight_decay([w1.astype(np.float32)], 0.5).dtype == np.float32
