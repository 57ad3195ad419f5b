"""The engine's functions: the flat label positions and the likelihood picked by them (that the
engine's softmax, log-softmax and sigmoid are the textbook's: ``test_equal`` and below)."""

import numpy as np
import pytest

from nnscratch import functions
from nnscratch.engine.functions import (
    label_positions,
    log_softmax,
    negative_log_likelihood_at,
    sigmoid,
)
from nnscratch.errors import NnscratchError


def test_label_positions_are_the_flat_indices_of_the_true_classes():
    t = np.array([3, 0, 9, 9, 1])
    positions = label_positions(t, 10)
    # an independent route to the same flat indices: NumPy's own (row, column) → flat mapping
    assert positions.tolist() == np.ravel_multi_index((np.arange(5), t), (5, 10)).tolist()
    assert label_positions(t[:, np.newaxis], 10).tolist() == positions.tolist()  # (N, 1) labels


@pytest.mark.parametrize("bad", [10, -1])
def test_label_positions_refuse_labels_outside_the_classes(bad):
    # a flat index past a row's end would silently read the next row: it must be an error
    with pytest.raises(NnscratchError, match=r"labels must be class indices 0\.\.9"):
        label_positions(np.array([0, bad, 2]), 10)


def test_negative_log_likelihood_at_equals_picking_row_by_row():
    rng = np.random.default_rng(5)
    log_y = log_softmax(rng.standard_normal((7, 4)))
    t = rng.integers(0, 4, 7)
    by_rows = -sum(log_y[n, t[n]] for n in range(7)) / 7  # the definition, one row at a time
    assert negative_log_likelihood_at(log_y, label_positions(t, 4)) == pytest.approx(
        by_rows, rel=1e-15
    )
    assert functions.negative_log_likelihood(log_y, t) == pytest.approx(
        negative_log_likelihood_at(log_y, label_positions(t, 4)), rel=1e-15
    )


@pytest.mark.parametrize("shape", [(7, 3), (5, 64), (4, 65), (300, 10), (6,), (2, 1)])
def test_log_softmax_and_sigmoid_equal_the_textbook(shape):
    x = np.random.default_rng(2).standard_normal(shape) * 20
    np.testing.assert_allclose(log_softmax(x), functions.log_softmax(x), rtol=1e-14, atol=1e-13)
    np.testing.assert_allclose(sigmoid(x), functions.sigmoid(x), rtol=1e-15, atol=0)
    assert log_softmax(x.astype(np.float32)).dtype == np.float32
