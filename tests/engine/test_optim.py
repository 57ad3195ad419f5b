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


@pytest.mark.parametrize("name", ["momentum", "nesterov", "rmsprop", "adam"])
def test_moving_averages_of_a_vanished_gradient_leave_the_subnormal_floats(name):
    # a gradient that is 0 from the second step on (a dead unit's): the textbook's average decays
    # geometrically into float32's subnormal numbers, the engine's becomes 0 there; the parameter
    # moves the same (the difference is below 1.2e-38)
    tiny = np.finfo(np.float32).tiny
    cls = book.OPTIMIZERS[name]
    params = {k: {"W": np.ones((4, 3), np.float32)} for k in ("book", "fast")}
    textbook, engine = cls(lr=0.01), FAST[cls](lr=0.01)
    # ρ = 0.99 decays slower than β1 = α = 0.9: 1e-8 · 0.99ᵏ is subnormal after about 6,900 steps
    for step in range(8000 if name == "rmsprop" else 2000):
        grad = np.full((4, 3), 1e-3 if step == 0 else 0.0, np.float32)
        textbook.update(params["book"], {"W": grad})
        engine.update(params["fast"], {"W": grad})
    slot = textbook.slots[0]
    book_state, fast_state = textbook.state[slot]["W"], engine.state[slot]["W"]
    assert np.all((np.abs(book_state) < tiny) & (book_state != 0))  # subnormal in the textbook
    assert not np.any(fast_state) and fast_state.dtype == np.float32  # 0 in the engine
    np.testing.assert_array_equal(params["fast"]["W"], params["book"]["W"])


@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_moving_average_rounds_as_the_textbooks_expression(squared, dtype):
    """ρ·v + (1 − ρ)·g (and ρ·v + (1 − ρ)·g², Adam's v and RMSprop's h) in place, the same bits as
    the textbook's expression."""
    rng = np.random.default_rng(3)
    g = rng.normal(size=1000).astype(dtype)
    v = (g**2 if squared else g) * rng.random(1000).astype(dtype)  # its terms of one size
    rate = 0.9
    expected = rate * v + (1 - rate) * (g**2 if squared else g)
    got = optim.moving_average(v.copy(), rate, g, np.empty_like(g), squared=squared)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-14), (np.float32, 1e-6)])
def test_clipping_in_place_is_the_textbooks(dtype, tol):
    from nnscratch.engine.optim import clip_by_global_norm as fast_clip
    from nnscratch.optim import clip_by_global_norm

    rng = np.random.default_rng(0)
    grads = {"W": rng.standard_normal((30, 20)).astype(dtype), "b": rng.standard_normal(20)}
    grads["b"] = grads["b"].astype(dtype)
    expected = clip_by_global_norm(grads, 1.0)
    arrays = dict(grads)
    clipped = fast_clip(grads, 1.0)
    for key in grads:
        assert clipped[key] is arrays[key]  # in place
        np.testing.assert_allclose(clipped[key], expected[key], rtol=tol)
    long = {"W": np.array([[0.3]], dtype)}
    assert fast_clip(long, 1.0)["W"][0, 0] == dtype(0.3)  # shorter than the bound: unchanged
