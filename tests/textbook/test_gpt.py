"""The small GPT: backprop against chapter 4's numerical gradient (float64, relative error
≤ 1e-6 for every parameter), causality of the whole model, the loss at initialisation (ln V),
KV-cache generation against plain generation token for token, and a little training on a
repeated pattern that greedy generation then continues."""

import math

import numpy as np
import pytest

from nnscratch.datasets.text import get_batch
from nnscratch.errors import NnscratchError
from nnscratch.gpt import GPT, generate, stream
from nnscratch.gradcheck import relative_error
from nnscratch.optim import Adam

V, CONTEXT = 7, 5


def tiny(seed=0, **kw):
    return GPT(V, context=CONTEXT, n_layers=2, n_heads=2, width=8, seed=seed, **kw)


def ids(rng, n=2, t=CONTEXT):
    return rng.integers(0, V, size=(n, t))


def test_shapes_and_parameter_keys():
    net = tiny()
    x = ids(np.random.default_rng(0), n=3, t=4)
    assert net.scores(x).shape == (3, 4, V)
    assert net.params["wte"].shape == (V, 8) and net.params["wpe"].shape == (CONTEXT, 8)
    assert net.params["h1_attn_W_qkv"].shape == (8, 24) and net.params["W_head"].shape == (8, V)
    assert net.config() == {
        "vocab_size": V,
        "context": CONTEXT,
        "n_layers": 2,
        "n_heads": 2,
        "width": 8,
        "dtype": "float64",
        "dropout": 0.0,
    }
    # same seed, same weights
    for key, value in tiny().params.items():
        np.testing.assert_array_equal(value, net.params[key])


def test_gpt2_initialisation():
    net = GPT(50, context=32, n_layers=4, n_heads=4, width=64, seed=1)
    assert np.std(net.params["wte"]) == pytest.approx(0.02, rel=0.05)
    residual = np.concatenate([net.params[f"h{i}_mlp_W2"].ravel() for i in range(4)])
    assert np.std(residual) == pytest.approx(0.02 / math.sqrt(8), rel=0.05)
    assert np.all(net.params["h0_ln1_gamma"] == 1) and np.all(net.params["b_head"] == 0)


@pytest.mark.parametrize(("t", "scale"), [(CONTEXT, 0.0), (CONTEXT, 0.5), (3, 0.5)])
def test_gradient_check(t, scale):
    """Every parameter, at GPT-2's initialisation (scale 0) and with every parameter moved by
    N(0, scale²), so that attention, LayerNorm and GELU are exercised away from their
    near-linear start; t < context leaves wpe's last rows with gradient 0 (checked numerically
    too)."""
    net = tiny(seed=3)
    rng = np.random.default_rng(4)
    for value in net.params.values():
        value += scale * rng.standard_normal(value.shape)
    x, t_ = ids(rng, t=t), ids(rng, t=t)
    loss, grads = net.loss_gradient(x, t_)
    numerical = net.numerical_gradient(x, t_, h=1e-5)
    assert set(grads) == set(net.params) == set(numerical)
    errors = {key: relative_error(grads[key], numerical[key]) for key in net.params}
    assert max(errors.values()) <= 1e-6, errors
    assert np.all(grads["wpe"][t:] == 0)
    assert loss == pytest.approx(net.loss(x, t_))


def test_causal():
    """Changing the last token changes no earlier position's scores (but does change the last)."""
    net = tiny(seed=5)
    for value in net.params.values():
        value += 0.3 * np.random.default_rng(6).standard_normal(value.shape)
    x = ids(np.random.default_rng(7))
    y = x.copy()
    y[:, -1] = (y[:, -1] + 1) % V
    a, b = net.scores(x), net.scores(y)
    np.testing.assert_allclose(a[:, :-1], b[:, :-1], rtol=0, atol=1e-12)
    assert not np.allclose(a[:, -1], b[:, -1])


def test_loss_at_initialisation_is_about_ln_v():
    """GPT-2's small weights: every token nearly equally likely, so the loss is about ln V."""
    net = GPT(65, context=16, n_layers=2, n_heads=4, width=32, seed=0)
    rng = np.random.default_rng(0)
    x, t = rng.integers(0, 65, (8, 16)), rng.integers(0, 65, (8, 16))
    assert float(net.loss(x, t)) == pytest.approx(math.log(65), abs=0.05)


def test_errors():
    net = tiny()
    with pytest.raises(NnscratchError, match="context of 5"):
        net.scores(np.zeros((1, CONTEXT + 1), dtype=int))
    with pytest.raises(NnscratchError, match="0..6"):
        net.scores(np.array([[0, 7]]))
    with pytest.raises(NnscratchError, match="0..6"):
        net.scores(np.array([[-1, 2]]))
    with pytest.raises(NnscratchError, match="divisible by n_heads"):
        GPT(V, width=10, n_heads=4)
    with pytest.raises(NnscratchError, match="temperature"):
        generate(net, [1, 2], 3, temperature=0)
    with pytest.raises(NnscratchError, match="top_k"):
        generate(net, [1, 2], 3, top_k=0)
    with pytest.raises(NnscratchError, match="0..6"):
        generate(net, [1, 9], 3)


def test_forward_step_matches_the_full_forward():
    net = tiny(seed=8)
    for value in net.params.values():
        value += 0.3 * np.random.default_rng(9).standard_normal(value.shape)
    x = ids(np.random.default_rng(10), n=3)
    full = net.scores(x)
    last, cache = net.prefill(x[:, :2])
    np.testing.assert_allclose(last, full[:, 1], rtol=0, atol=1e-12)
    for t in range(2, CONTEXT):
        np.testing.assert_allclose(net.forward_step(x[:, t], cache), full[:, t], atol=1e-12)
    with pytest.raises(NnscratchError, match="cache is full"):
        net.forward_step(x[:, 0], cache)


@pytest.mark.parametrize("top_k", [3, 1])
def test_kv_cache_generates_the_same_tokens(top_k):
    """20 tokens from a 2-token prompt with context 5: the window slides past the cache."""
    net = tiny(seed=11)
    for value in net.params.values():  # peaked enough that sampling is not near-uniform
        value += 0.5 * np.random.default_rng(12).standard_normal(value.shape)
    plain = generate(net, [1, 2], 20, temperature=0.8, top_k=top_k, rng=13, cache=False)
    cached = generate(net, [1, 2], 20, temperature=0.8, top_k=top_k, rng=13, cache=True)
    assert plain.shape == (20,) and plain.dtype.kind == "i"
    np.testing.assert_array_equal(cached, plain)
    assert len(set(plain.tolist())) > 1
    # a prompt longer than the context: both crop it
    long = generate(net, [1, 2, 3, 4, 5, 6, 0], 4, top_k=top_k, rng=1, cache=True)
    np.testing.assert_array_equal(
        long, generate(net, [1, 2, 3, 4, 5, 6, 0], 4, top_k=top_k, rng=1, cache=False)
    )


def test_training_learns_a_repeated_pattern():
    data = np.tile([0, 1, 2, 3], 50)
    net = GPT(V, context=8, n_layers=2, n_heads=2, width=16, seed=0)
    optimizer = Adam(lr=0.01)
    rng = np.random.default_rng(0)
    first = None
    for _ in range(60):
        x, t = get_batch(data, 8, 8, rng)
        loss, grads = net.loss_gradient(x, t)
        first = loss if first is None else first
        optimizer.update(net.params, grads)
    assert first == pytest.approx(math.log(V), abs=0.1)
    assert loss < 0.1 * math.log(V)
    out = generate(net, [1, 2], 12, top_k=1, rng=0)
    np.testing.assert_array_equal(out, np.tile([3, 0, 1, 2], 3))


def test_an_excluded_token_is_never_drawn():
    net = GPT(7, context=8, n_layers=1, n_heads=1, width=4, seed=0)
    net.params["b_head"][5] = 50.0  # token 5 is all but certain
    assert list(stream(net, [1], 5, rng=0)) == [5] * 5
    drawn = list(stream(net, [1], 30, rng=0, exclude=[5]))
    assert 5 not in drawn and len(drawn) == 30


def test_dropout_is_gpt2s_and_passes_the_gradient_check_with_its_masks_held():
    plain, dropped = tiny(seed=3), tiny(seed=3, dropout=0.3)
    for key, value in plain.params.items():  # the masks' generator is drawn after the weights
        np.testing.assert_array_equal(dropped.params[key], value)
    x = ids(np.random.default_rng(1))
    with dropped.evaluating():  # evaluation: the identity
        np.testing.assert_array_equal(dropped.scores(x), plain.scores(x))
    assert not np.allclose(dropped.scores(x), plain.scores(x))  # training: dropped out
    rng = np.random.default_rng(2)
    layers = [dropped.layers[1], *(d for b in dropped.blocks for d in (b.drop_attn, b.drop_mlp))]
    for layer in layers:  # the random function held still: a mask of each one's shape
        layer.fixed_mask = rng.random((2, CONTEXT, 8)) >= 0.3
    t_ = ids(rng)
    _, grads = dropped.loss_gradient(x, t_)
    numerical = dropped.numerical_gradient(x, t_, h=1e-5)
    errors = {key: relative_error(grads[key], numerical[key]) for key in dropped.params}
    assert max(errors.values()) <= 1e-6, errors
    assert not np.allclose(grads["W_head"], plain.loss_gradient(x, t_)[1]["W_head"])
