"""The Trainer's options are checked at the boundary, one helper per kind of argument
(``validation.check_positive_int``, ``check_choice``), as EarlyStopping's patience is."""

import numpy as np
import pytest

from nnscratch.errors import NnscratchError
from nnscratch.nets import MultiLayerNet
from nnscratch.run.trainer import Trainer

rng = np.random.default_rng(3)
X, T = rng.normal(size=(60, 6)), rng.integers(0, 3, 60)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(grad="adjoint"), r"^grad must be one of backprop, numerical, got 'adjoint'$"),
        (
            dict(sampling="bootstrap"),
            r"^sampling must be one of shuffle, replacement, got "
            r"'bootstrap'$",
        ),
        (dict(epochs=True), r"^epochs must be a positive integer, got True$"),
        (dict(epochs=0), r"^epochs must be a positive integer, got 0$"),
        (
            dict(early_stopping=True),
            r"^early-stopping patience \(epochs\) must be a positive "
            r"integer, got True$",
        ),
    ],
)
def test_trainer_checks_its_options(options, message):
    with pytest.raises(NnscratchError, match=message):
        Trainer(MultiLayerNet(6, [4], 3), X, T, **{"batch_size": 10, **options})
