"""metrics: the confusion matrix and per-class accuracy, by hand."""

import numpy as np
import pytest

from nnscratch.errors import NnscratchError
from nnscratch.metrics import confusion_matrix, per_class_accuracy


def test_confusion_matrix_by_hand():
    t = np.array([0, 0, 1, 2, 2, 2])
    pred = np.array([0, 1, 1, 2, 0, 2])
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(confusion_matrix(t, pred, 3), expected)
    # a class nobody has or predicts is a row and a column of zeros
    wider = confusion_matrix(t, pred, 4)
    np.testing.assert_array_equal(wider[:3, :3], expected)
    assert not wider[3].any() and not wider[:, 3].any()


def test_per_class_accuracy_by_hand():
    matrix = np.array([[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(per_class_accuracy(matrix), [0.5, 1.0, 2 / 3, np.nan])


@pytest.mark.parametrize("t, pred", [([0, 3], [0, 1]), ([0, 1], [-1, 1])])
def test_labels_outside_the_classes_are_a_clear_error(t, pred):
    with pytest.raises(NnscratchError, match=r"must be class indices 0\.\.2"):
        confusion_matrix(t, pred, 3)
