"""The recurrent layers and the RNN language model: RNN and TimeRNN backward against the
numerical gradient (float64, relative error ≤ 1e-6), TimeRNN's forward against a plain loop of
steps, the stateful state carried across calls while the gradient stops at the block boundary
(truncated BPTT), and RNNLM's gradient check, initial loss and a little training."""

import math

import numpy as np
import pytest

from nnscratch.errors import NnscratchError
from nnscratch.gradcheck import relative_error
from nnscratch.numgrad import numerical_gradient
from nnscratch.optim import Adam
from nnscratch.rnnlm import RNNLM
from nnscratch.time_layers import RNN, TimeRNN
from tests.textbook.test_layers import _check_layer
from tests.textbook.test_time_layers import check_backward_writes_nothing

TOL = 1e-6
N, T, D, H = 2, 4, 3, 5


def rnn_params(rng):
    return {
        "Wx": rng.standard_normal((D, H)) / np.sqrt(D),
        "Wh": rng.standard_normal((H, H)) / np.sqrt(H),
        "b": 0.1 * rng.standard_normal(H),
    }


def rnn_by_loop(xs, params, h):
    """h_t = tanh(h_{t-1}·W_h + x_t·W_x + b), one sequence and one step at a time."""
    hs = np.zeros((xs.shape[0], xs.shape[1], H))
    for n in range(xs.shape[0]):
        h_n = h[n]
        for t in range(xs.shape[1]):
            h_n = np.tanh(h_n @ params["Wh"] + xs[n, t] @ params["Wx"] + params["b"])
            hs[n, t] = h_n
    return hs


# --- RNN, one step ---


def test_rnn_step_by_hand_and_gradient():
    params = {"Wx": np.array([[1.0, 0.0]]), "Wh": np.eye(2), "b": np.array([0.0, 0.5])}
    out = RNN(params, "Wx", "Wh", "b").forward(np.array([[0.5]]), np.array([[0.25, -0.5]]))
    np.testing.assert_allclose(out, [[np.tanh(0.75), np.tanh(0.0)]], rtol=1e-15)

    rng = np.random.default_rng(0)
    params = rnn_params(rng)
    layer = RNN(params, "Wx", "Wh", "b")
    x, h_prev = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    G = rng.standard_normal((N, H))
    G_before, x_before, h_before = G.copy(), x.copy(), h_prev.copy()
    layer.forward(x, h_prev)
    dx, dh_prev = layer.backward(G)
    for a, b in ((G, G_before), (x, x_before), (h_prev, h_before)):
        np.testing.assert_array_equal(a, b)

    def loss(_):
        return float(np.sum(layer.forward(x, h_prev) * G))

    errors = [
        relative_error(dx, numerical_gradient(loss, x, 1e-5)),
        relative_error(dh_prev, numerical_gradient(loss, h_prev, 1e-5)),
    ]
    grads = layer.param_grads()
    errors += [
        relative_error(grads[k], numerical_gradient(loss, v, 1e-5)) for k, v in params.items()
    ]
    assert max(errors) <= TOL, errors


# --- TimeRNN ---


def test_time_rnn_is_a_loop_of_steps():
    rng = np.random.default_rng(1)
    params = rnn_params(rng)
    xs = rng.standard_normal((N, T, D))
    hs = TimeRNN(params, "Wx", "Wh", "b").forward(xs)
    assert hs.shape == (N, T, H)
    np.testing.assert_allclose(hs, rnn_by_loop(xs, params, np.zeros((N, H))), rtol=1e-13)
    # and the same as RNN's steps chained by hand
    h = np.zeros((N, H))
    for t in range(T):
        h = RNN(params, "Wx", "Wh", "b").forward(xs[:, t], h)
        np.testing.assert_array_equal(hs[:, t], h)


@pytest.mark.parametrize("n_steps", [1, 4, 7])
def test_time_rnn_gradient(n_steps):
    """Not stateful: every forward starts from zeros, so L = Σ hs · G is one function of xs and
    the parameters, and BPTT through all the steps is its exact gradient."""
    rng = np.random.default_rng(2 + n_steps)
    params = rnn_params(rng)
    layer = TimeRNN(params, "Wx", "Wh", "b")
    xs = rng.standard_normal((N, n_steps, D))
    assert _check_layer(layer, xs, rng, params) <= TOL
    assert set(layer.param_grads()) == set(params)
    check_backward_writes_nothing(layer, xs, params)


def test_stateful_carries_h_but_not_the_gradient():
    rng = np.random.default_rng(3)
    params = rnn_params(rng)
    xs = rng.standard_normal((N, 4, D))
    whole = TimeRNN(params, "Wx", "Wh", "b").forward(xs)
    layer = TimeRNN(params, "Wx", "Wh", "b", stateful=True)
    first = layer.forward(xs[:, :2])
    h_carried = layer.h.copy()
    second = layer.forward(xs[:, 2:])
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-14)

    # the second block's backward: the gradient of L = Σ second · G with h_{-1} = h_carried a
    # constant (the numerical gradient restores the carried state before each evaluation) ...
    G = rng.standard_normal(second.shape)
    dxs = layer.backward(G)
    assert dxs.shape == (N, 2, D)
    grads = {k: v.copy() for k, v in layer.param_grads().items()}

    def block_loss(_):
        layer.set_state(h_carried)
        return float(np.sum(layer.forward(xs[:, 2:]) * G))

    for key, value in params.items():
        assert relative_error(grads[key], numerical_gradient(block_loss, value, 1e-5)) <= TOL
    assert relative_error(layer.dh, numerical_gradient(block_loss, h_carried, 1e-5)) <= TOL
    # ... which is not the full gradient through all four steps: the first block's steps, whose
    # output h_carried also depends on the parameters, get nothing (truncation)
    full = TimeRNN(params, "Wx", "Wh", "b")
    full.forward(xs)
    dxs_full = full.backward(np.concatenate([np.zeros_like(G), G], axis=1))
    assert np.any(dxs_full[:, :2] != 0)
    np.testing.assert_allclose(dxs_full[:, 2:], dxs, rtol=1e-13)
    assert relative_error(grads["Wh"], full.param_grads()["Wh"]) > 1e-3

    # reset_state starts from zeros again
    layer.reset_state()
    np.testing.assert_array_equal(layer.forward(xs[:, :2]), first)
    with pytest.raises(NnscratchError, match="reset_state"):
        layer.forward(xs[:1, 2:])


# --- RNNLM ---

V, WORDVEC, HIDDEN = 6, 4, 5


def tiny(seed=0):
    return RNNLM(V, wordvec_size=WORDVEC, hidden_size=HIDDEN, seed=seed)


def test_rnnlm_shapes_config_and_seed():
    net = tiny()
    x = np.random.default_rng(0).integers(0, V, (3, 4))
    assert net.scores(x).shape == (3, 4, V)
    assert net.config() == {
        "vocab_size": V,
        "wordvec_size": WORDVEC,
        "hidden_size": HIDDEN,
        "dtype": "float64",
        "stateful": True,
    }
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {
        "W_embed": (V, WORDVEC),
        "W_x": (WORDVEC, HIDDEN),
        "W_h": (HIDDEN, HIDDEN),
        "b_rnn": (HIDDEN,),
        "W_affine": (HIDDEN, V),
        "b_affine": (V,),
    }
    for key, value in tiny().params.items():
        np.testing.assert_array_equal(value, net.params[key])
    with pytest.raises(NnscratchError, match=r"\(N, T\)"):
        net.scores(np.array([0, 1]))


def test_rnnlm_book_initialisation():
    net = RNNLM(50, wordvec_size=100, hidden_size=200, seed=1)
    assert np.std(net.params["W_embed"]) == pytest.approx(0.01, rel=0.05)
    assert np.std(net.params["W_x"]) == pytest.approx(1 / math.sqrt(100), rel=0.05)
    assert np.std(net.params["W_h"]) == pytest.approx(1 / math.sqrt(200), rel=0.05)
    assert np.std(net.params["W_affine"]) == pytest.approx(1 / math.sqrt(200), rel=0.05)
    assert np.all(net.params["b_rnn"] == 0) and np.all(net.params["b_affine"] == 0)


@pytest.mark.parametrize("carried", [False, True])
def test_rnnlm_gradient_check(carried):
    """Every parameter, moved by N(0, 0.5²) so that tanh works away from its linear start.

    The RNN is stateful, so each loss evaluation would start from the state the previous one
    left; RNNLM.numerical_gradient restores the state it found before every evaluation. So the
    difference quotients measure one fixed function: this block's loss with h_{-1} held — zeros
    after reset_state(), or (``carried``) the state a previous block left, so that W_h · h_{-1}
    is exercised too — and backprop, started from the same state, must match it."""
    net = tiny(seed=3)
    rng = np.random.default_rng(4)
    for value in net.params.values():
        value += 0.5 * rng.standard_normal(value.shape)
    x, t = rng.integers(0, V, (2, 5)), rng.integers(0, V, (2, 5))
    net.reset_state()
    if carried:
        net.loss(rng.integers(0, V, (2, 3)), rng.integers(0, V, (2, 3)))
        assert np.all(net.rnn.h != 0)
    state = net.rnn.h
    numerical = net.numerical_gradient(x, t, h=1e-5)
    assert net.rnn.h is state  # restored
    loss, grads = net.loss_gradient(x, t)
    assert set(grads) == set(net.params) == set(numerical)
    errors = {key: relative_error(grads[key], numerical[key]) for key in net.params}
    assert max(errors.values()) <= TOL, errors
    net.rnn.h = state
    assert loss == pytest.approx(float(net.loss(x, t)), rel=1e-14)


def test_rnnlm_initial_loss_is_about_ln_v():
    net = RNNLM(V, wordvec_size=WORDVEC, hidden_size=HIDDEN, seed=0)
    rng = np.random.default_rng(0)
    x, t = rng.integers(0, V, (8, 10)), rng.integers(0, V, (8, 10))
    assert float(net.loss(x, t)) == pytest.approx(math.log(V), abs=0.05)


def test_rnnlm_learns_a_pattern_that_needs_memory():
    """The corpus repeats 0 1 0 2 3: what follows a 0 is 1 or 2, depending on the word before
    it, so only the hidden state can tell. The book's truncated BPTT: N sequences read the corpus
    from N offsets, block after block of T words, the state carried on, the gradient not."""
    corpus = np.tile([0, 1, 0, 2, 3], 80)
    xs, ts = corpus[:-1], corpus[1:]
    batch, time_size = 4, 5
    jump = len(xs) // batch
    offsets = [i * jump for i in range(batch)]
    net = RNNLM(V, wordvec_size=8, hidden_size=16, seed=0)
    optimizer = Adam(lr=0.05)
    losses, position = [], 0
    for _ in range(150):
        x = np.array(
            [[xs[(o + position + j) % len(xs)] for j in range(time_size)] for o in offsets]
        )
        t = np.array(
            [[ts[(o + position + j) % len(xs)] for j in range(time_size)] for o in offsets]
        )
        position += time_size
        loss, grads = net.loss_gradient(x, t)
        optimizer.update(net.params, grads)
        losses.append(float(loss))
    assert losses[0] == pytest.approx(math.log(V), abs=0.1)
    assert np.mean(losses[-10:]) < 0.05 * math.log(V), losses[-10:]
