"""The engine's optimizers block by block (that they compute the textbook's updates:
``test_equal``)."""

import numpy as np
import pytest

from nnscratch import optim as book
from nnscratch.engine import FAST, optim


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_an_update_block_by_block_is_the_update_of_the_whole_array(name, monkeypatch):
    # the formulas are elementwise: rows updated in blocks (here 7 values, so 2 rows of 3 with a
    # ragged last block, and a Fortran-ordered W) give the numbers of one pass over everything
    rng = np.random.default_rng(1)
    start = {
        "W": np.asfortranarray(rng.standard_normal((11, 3))),
        "b": rng.standard_normal(20),
        "c": rng.standard_normal((2, 2, 2)).astype(np.float32),
    }
    grads = [
        {k: rng.standard_normal(v.shape).astype(v.dtype) for k, v in start.items()}
        for _ in range(3)
    ]
    results = []
    for block in (10**6, 7):
        monkeypatch.setattr(optim, "UPDATE_BLOCK", block)
        params, optimizer = (
            {k: v.copy(order="K") for k, v in start.items()},
            FAST[book.OPTIMIZERS[name]](),
        )
        for g in grads:
            optimizer.update(params, g)
        results.append(params)
    for key in start:
        np.testing.assert_array_equal(results[1][key], results[0][key])
        assert results[1][key].dtype == start[key].dtype
    assert not np.array_equal(results[1]["W"], start["W"])
