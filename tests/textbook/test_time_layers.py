"""The sequence layers: every backward against the numerical gradient (float64, relative error
≤ 1e-6), forward values worked out independently (attention by a plain loop), causality, and no
layer writing into the arrays it is given or keeps."""

import math

import numpy as np
import pytest

from nnscratch.errors import NnscratchError
from nnscratch.functions import softmax_cross_entropy
from nnscratch.gradcheck import relative_error
from nnscratch.numgrad import numerical_gradient
from nnscratch.time_layers import (
    GELU,
    CausalSelfAttention,
    Embedding,
    LayerNorm,
    TimeAffine,
    TimeSoftmaxWithLoss,
    TransformerBlock,
)
from tests.textbook.test_layers import _check_layer

TOL = 1e-6
N, T, C, HEADS = 2, 4, 8, 2


def attention_params(rng, c=C, prefix=""):
    return {
        prefix + "W_qkv": rng.standard_normal((c, 3 * c)) / np.sqrt(c),
        prefix + "b_qkv": 0.1 * rng.standard_normal(3 * c),
        prefix + "W_out": rng.standard_normal((c, c)) / np.sqrt(c),
        prefix + "b_out": 0.1 * rng.standard_normal(c),
    }


def block_params(rng, c=C, prefix="h0_"):
    params = attention_params(rng, c, prefix + "attn_")
    for ln in ("ln1", "ln2"):
        params[f"{prefix}{ln}_gamma"] = 1.0 + 0.1 * rng.standard_normal(c)
        params[f"{prefix}{ln}_beta"] = 0.1 * rng.standard_normal(c)
    params[prefix + "mlp_W1"] = rng.standard_normal((c, 4 * c)) / np.sqrt(c)
    params[prefix + "mlp_b1"] = 0.1 * rng.standard_normal(4 * c)
    params[prefix + "mlp_W2"] = rng.standard_normal((4 * c, c)) / np.sqrt(4 * c)
    params[prefix + "mlp_b2"] = 0.1 * rng.standard_normal(c)
    return params


def kept_arrays(layer):
    """Copies of every array a layer (and its parts) holds after forward."""
    kept = {}
    for name, value in vars(layer).items():
        if isinstance(value, np.ndarray):
            kept[name] = value.copy()
        elif hasattr(value, "forward"):
            kept.update({f"{name}.{k}": v for k, v in kept_arrays(value).items()})
    return kept


def check_backward_writes_nothing(layer, x, params=None):
    """backward leaves dout, x, the parameters and everything forward kept as they were."""
    x_before = x.copy()
    params_before = {k: v.copy() for k, v in (params or {}).items()}
    out = layer.forward(x)
    kept = kept_arrays(layer)
    dout = np.random.default_rng(99).standard_normal(out.shape)
    dout_before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(dout, dout_before)
    np.testing.assert_array_equal(x, x_before)
    for key, value in params_before.items():
        np.testing.assert_array_equal(params[key], value)
    after = kept_arrays(layer)
    for name, value in kept.items():
        if name in after and not name.split(".")[-1].startswith("d"):  # gradients are rewritten
            np.testing.assert_array_equal(after[name], value, err_msg=name)


# --- Embedding ---


def test_embedding_picks_rows_and_accumulates_repeated_ids():
    W = np.arange(12.0).reshape(4, 3)
    params = {"W": W}
    layer = Embedding(params, "W")
    ids = np.array([[0, 2, 2], [3, 0, 2]])
    out = layer.forward(ids)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out[0, 1], [6.0, 7.0, 8.0])
    np.testing.assert_array_equal(out[1, 1], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(layer.forward(np.array([1, 3])), [[3.0, 4.0, 5.0], W[3]])
    layer.forward(ids)
    dout = np.ones((2, 3, 3))
    assert layer.backward(dout) is None
    # id 2 occurs three times, 0 twice, 3 once, 1 never
    np.testing.assert_array_equal(layer.param_grads()["W"][:, 0], [2.0, 0.0, 3.0, 1.0])
    np.testing.assert_array_equal(dout, np.ones((2, 3, 3)))


def test_embedding_gradient():
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((5, C))}
    layer = Embedding(params, "W")
    ids = rng.integers(0, 5, (N, T))
    G = rng.standard_normal((N, T, C))
    layer.forward(ids)
    layer.backward(G)
    numeric = numerical_gradient(lambda _: float(np.sum(layer.forward(ids) * G)), params["W"], 1e-5)
    assert relative_error(layer.param_grads()["W"], numeric) <= TOL


@pytest.mark.parametrize("ids", [np.array([0, 5]), np.array([-1, 0]), np.array([0.0, 1.0])])
def test_embedding_refuses_bad_ids(ids):
    with pytest.raises(NnscratchError, match="embedding ids"):
        Embedding({"W": np.zeros((5, 2))}, "W").forward(ids)


# --- TimeAffine ---


def test_time_affine_is_affine_at_every_position():
    rng = np.random.default_rng(1)
    params = {"W": rng.standard_normal((C, 5)), "b": rng.standard_normal(5)}
    layer = TimeAffine(params, "W", "b")
    x = rng.standard_normal((N, T, C))
    out = layer.forward(x)
    assert out.shape == (N, T, 5)
    for n in range(N):
        for t in range(T):
            np.testing.assert_allclose(out[n, t], x[n, t] @ params["W"] + params["b"])
    assert _check_layer(layer, x, rng, params) <= TOL
    check_backward_writes_nothing(layer, x, params)


# --- TimeSoftmaxWithLoss ---


def test_time_softmax_with_loss_by_hand():
    # one sequence of two positions: scores (0, ln 3) with target 1 → -ln(3/4); uniform scores
    # over two classes → ln 2; the mean of the two
    layer = TimeSoftmaxWithLoss()
    x = np.array([[[0.0, np.log(3.0)], [0.0, 0.0]]])
    loss = layer.forward(x, np.array([[1, 0]]))
    assert loss == pytest.approx((-np.log(0.75) + np.log(2.0)) / 2, rel=1e-15)
    np.testing.assert_allclose(layer.backward(), [[[0.125, -0.125], [-0.25, 0.25]]], rtol=1e-15)


def test_time_softmax_with_loss_is_the_mean_over_positions_and_its_gradient():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((N, T, 6))
    t = rng.integers(0, 6, (N, T))
    layer = TimeSoftmaxWithLoss()
    loss = layer.forward(x, t)
    assert loss == pytest.approx(softmax_cross_entropy(x.reshape(-1, 6), t.reshape(-1)), rel=1e-14)
    dx = layer.backward(1.0)
    assert dx.shape == x.shape
    assert relative_error(dx, numerical_gradient(lambda _: layer.forward(x, t), x, 1e-5)) <= TOL


def test_time_softmax_with_loss_leaves_out_the_ignore_label():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, T, 6))
    t = rng.integers(0, 6, (N, T))
    t[0, 2:] = -1  # padding after the end of the first sequence
    layer = TimeSoftmaxWithLoss()
    loss = layer.forward(x, t)
    kept = t != -1
    assert loss == pytest.approx(softmax_cross_entropy(x[kept], t[kept]), rel=1e-14)
    dx = layer.backward(1.0)
    np.testing.assert_array_equal(dx[0, 2:], 0.0)
    assert relative_error(dx, numerical_gradient(lambda _: layer.forward(x, t), x, 1e-5)) <= TOL
    with pytest.raises(NnscratchError, match="labels must be class indices"):
        TimeSoftmaxWithLoss(ignore_label=None).forward(x, t)
    with pytest.raises(NnscratchError, match="every target is the ignore label"):
        layer.forward(x, np.full((N, T), -1))


# --- LayerNorm ---


def test_layer_norm_normalises_each_position():
    rng = np.random.default_rng(4)
    params = {"g": np.ones(C), "b": np.zeros(C)}
    x = 3.0 + 5.0 * rng.standard_normal((N, T, C))
    out = LayerNorm(params, "g", "b", eps=1e-12).forward(x)
    np.testing.assert_allclose(out.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=-1), 1.0, rtol=1e-10)
    params = {"g": np.array([2.0, 2.0]), "b": np.array([1.0, 0.0])}
    # by hand: (1, 3) → μ = 2, σ = 1 → x̂ = (-1, 1) → 2 x̂ + (1, 0) = (-1, 2)
    np.testing.assert_allclose(
        LayerNorm(params, "g", "b", eps=1e-12).forward(np.array([[1.0, 3.0]])), [[-1.0, 2.0]]
    )


def test_layer_norm_gradient():
    rng = np.random.default_rng(5)
    params = {"g": 1.0 + 0.1 * rng.standard_normal(C), "b": rng.standard_normal(C)}
    layer = LayerNorm(params, "g", "b")
    x = rng.standard_normal((N, T, C))
    assert _check_layer(layer, x, rng, params) <= TOL
    check_backward_writes_nothing(layer, x, params)


def test_layer_norm_refuses_a_bad_eps():
    with pytest.raises(NnscratchError, match="LayerNorm eps"):
        LayerNorm({}, "g", "b", eps=0.0)


# --- GELU ---


def test_gelu_values():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    out = GELU().forward(x)
    c = math.sqrt(2 / math.pi)
    expected = [0.5 * v * (1 + math.tanh(c * (v + 0.044715 * v**3))) for v in x]
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    assert out[2] == 0.0
    # within 1e-3 of the exact GELU x·Φ(x)
    exact = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x]
    np.testing.assert_allclose(out, exact, atol=1e-3)


def test_gelu_gradient():
    rng = np.random.default_rng(6)
    layer = GELU()
    x = 2.0 * rng.standard_normal((N, T, C))
    assert _check_layer(layer, x, rng) <= TOL
    check_backward_writes_nothing(layer, x)


# --- CausalSelfAttention ---


def attention_by_loop(x, params, n_heads):
    """The same attention, one sequence, one head, one position at a time."""
    n_seq, n_pos, c = x.shape
    d = c // n_heads
    Wq, Wk, Wv = (params["W_qkv"][:, i * c : (i + 1) * c] for i in range(3))
    bq, bk, bv = (params["b_qkv"][i * c : (i + 1) * c] for i in range(3))
    out = np.zeros_like(x)
    for n in range(n_seq):
        y = np.zeros((n_pos, c))
        for h in range(n_heads):
            f = slice(h * d, (h + 1) * d)
            for i in range(n_pos):
                q = x[n, i] @ Wq[:, f] + bq[f]
                scores = [
                    float(q @ (x[n, j] @ Wk[:, f] + bk[f])) / math.sqrt(d) for j in range(i + 1)
                ]
                top = max(scores)
                weights = [math.exp(s - top) for s in scores]
                total = sum(weights)
                for j in range(i + 1):
                    y[i, f] += weights[j] / total * (x[n, j] @ Wv[:, f] + bv[f])
        out[n] = y @ params["W_out"] + params["b_out"]
    return out


@pytest.mark.parametrize("n_heads", [1, 2])
def test_attention_against_a_plain_loop(n_heads):
    rng = np.random.default_rng(7)
    params = attention_params(rng)
    x = rng.standard_normal((N, T, C))
    out = CausalSelfAttention(params, "", n_heads).forward(x)
    np.testing.assert_allclose(out, attention_by_loop(x, params, n_heads), rtol=1e-12, atol=1e-12)


def test_attention_weights_are_causal_rows_that_sum_to_one():
    rng = np.random.default_rng(8)
    layer = CausalSelfAttention(attention_params(rng), "", HEADS)
    layer.forward(rng.standard_normal((N, 5, C)))
    A = layer.attention
    assert A.shape == (N, HEADS, 5, 5)
    np.testing.assert_allclose(A.sum(axis=-1), 1.0, rtol=1e-14)
    above = np.triu(np.ones((5, 5), dtype=bool), k=1)
    np.testing.assert_array_equal(A[..., above], 0.0)
    assert np.all(A[..., ~above] > 0)
    np.testing.assert_array_equal(A[..., 0, 0], 1.0)  # the first position sees only itself


@pytest.mark.parametrize("kind", ["attention", "block"])
def test_a_later_position_changes_no_earlier_output(kind):
    rng = np.random.default_rng(9)
    if kind == "attention":
        layer = CausalSelfAttention(attention_params(rng), "", HEADS)
    else:
        layer = TransformerBlock(block_params(rng), "h0_", HEADS)
    x = rng.standard_normal((N, 5, C))
    out = layer.forward(x)
    for t in range(5):
        x2 = x.copy()
        x2[:, t] += rng.standard_normal((N, C))
        out2 = layer.forward(x2)
        np.testing.assert_array_equal(out2[:, :t], out[:, :t])
        assert not np.allclose(out2[:, t], out[:, t])


@pytest.mark.parametrize(("n_heads", "n_pos"), [(1, 3), (2, 4), (2, 5)])
def test_attention_gradient(n_heads, n_pos):
    rng = np.random.default_rng(10 + n_pos)
    params = attention_params(rng)
    layer = CausalSelfAttention(params, "", n_heads)
    x = rng.standard_normal((N, n_pos, C))
    assert _check_layer(layer, x, rng, params) <= TOL
    check_backward_writes_nothing(layer, x, params)


def test_attention_refuses_features_that_do_not_split_into_heads():
    rng = np.random.default_rng(11)
    with pytest.raises(NnscratchError, match="do not split into 3 heads"):
        CausalSelfAttention(attention_params(rng), "", 3).forward(rng.standard_normal((N, T, C)))
    with pytest.raises(NnscratchError, match="n_heads"):
        CausalSelfAttention({}, "", 0)


# --- TransformerBlock ---


def test_transformer_block_forward_is_its_parts():
    rng = np.random.default_rng(12)
    params = block_params(rng)
    x = rng.standard_normal((N, T, C))
    out = TransformerBlock(params, "h0_", HEADS).forward(x)
    h = x + CausalSelfAttention(params, "h0_attn_", HEADS).forward(
        LayerNorm(params, "h0_ln1_gamma", "h0_ln1_beta").forward(x)
    )
    z = LayerNorm(params, "h0_ln2_gamma", "h0_ln2_beta").forward(h) @ params["h0_mlp_W1"]
    z = GELU().forward(z + params["h0_mlp_b1"])
    np.testing.assert_allclose(out, h + z @ params["h0_mlp_W2"] + params["h0_mlp_b2"], rtol=1e-13)


def test_transformer_block_gradient():
    rng = np.random.default_rng(13)
    params = block_params(rng)
    layer = TransformerBlock(params, "h0_", HEADS)
    x = rng.standard_normal((N, T, C))
    assert _check_layer(layer, x, rng, params) <= TOL
    assert set(layer.param_grads()) == set(params)
    check_backward_writes_nothing(layer, x, params)


def test_float32_stays_float32():
    rng = np.random.default_rng(14)
    params = {k: v.astype(np.float32) for k, v in block_params(rng).items()}
    layer = TransformerBlock(params, "h0_", HEADS)
    x = rng.standard_normal((N, T, C)).astype(np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.param_grads().values())
