"""The engine's sequence layers compute the textbook's numbers: forward, backward and the
parameters' gradients of each layer, a whole GPT's loss and gradients, its training and its
generation, in float64 to a relative difference of at most 1e-12 and in float32 close."""

import copy

import numpy as np
import pytest

from nnscratch import engine, time_layers
from nnscratch.engine import FAST, compiled
from nnscratch.engine import time_layers as fast_time_layers
from nnscratch.gpt import GPT, generate
from nnscratch.optim import AdamW, clip_by_global_norm
from tests.engine.test_equal import same

# every test twice: the engine on NumPy's kernels and on the compiled ones (tests/engine/conftest)
pytestmark = pytest.mark.usefixtures("kernels")
RNG = np.random.default_rng(0)
TOL = 1e-12
F32 = {"rtol": 2e-5, "atol": 1e-6}


def pair(layer):
    """The textbook ``layer`` and an engine copy of it (the same attributes, the engine's class:
    what ``engine.use`` does in place)."""
    fast = copy.copy(layer)
    fast.__class__ = FAST[type(layer)]
    return layer, fast


def run(layer, x, dout):
    out = layer.forward(x.copy())
    dx = layer.backward(dout.copy())
    grads = layer.param_grads() if hasattr(layer, "param_grads") else {}
    return out, dx, {key: np.array(g) for key, g in grads.items()}


def check(book, fast, x, tol=TOL, float32=False):
    out_b = book.forward(x.copy())
    dout = np.random.default_rng(1).standard_normal(out_b.shape).astype(out_b.dtype)
    results = [run(layer, x, dout) for layer in (book, fast)]
    (out_b, dx_b, g_b), (out_f, dx_f, g_f) = results
    assert out_f.dtype == out_b.dtype and dx_f.dtype == dx_b.dtype
    assert g_f.keys() == g_b.keys()
    pairs = [(out_f, out_b), (dx_f, dx_b), *((g_f[k], g_b[k]) for k in g_b)]
    for a, b in pairs:
        if float32 and compiled.loaded() is not None:
            # the compiled kernels' exp (libm's) and sums (row after row) round otherwise than
            # NumPy's: close to the array's scale, ~100 float32 ulps, not value by value where
            # a gradient entry is a cancellation (against float64 both err by ~5e-7 of it)
            assert np.max(np.abs(a - b)) <= F32["rtol"] * np.max(np.abs(b))
        elif float32:
            np.testing.assert_allclose(a, b, **F32)
        else:
            same(a, b, tol)


def layers_of(dtype, C=16, H=4):
    """One of each sequence layer the engine computes, over params of ``dtype``."""
    params = {
        "W": RNG.standard_normal((C, 3 * C)).astype(dtype),
        "b": RNG.standard_normal(3 * C).astype(dtype),
        "gamma": (1 + 0.1 * RNG.standard_normal(C)).astype(dtype),
        "beta": (0.1 * RNG.standard_normal(C)).astype(dtype),
        "a_W_qkv": (0.3 * RNG.standard_normal((C, 3 * C))).astype(dtype),
        "a_b_qkv": (0.1 * RNG.standard_normal(3 * C)).astype(dtype),
        "a_W_out": (0.3 * RNG.standard_normal((C, C))).astype(dtype),
        "a_b_out": (0.1 * RNG.standard_normal(C)).astype(dtype),
    }
    return {
        "TimeAffine": time_layers.TimeAffine(params, "W", "b"),
        "LayerNorm": time_layers.LayerNorm(params, "gamma", "beta"),
        "GELU": time_layers.GELU(),
        "CausalSelfAttention": time_layers.CausalSelfAttention(params, "a_", H),
    }


LAYERS = ["TimeAffine", "LayerNorm", "GELU", "CausalSelfAttention"]


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("T", [1, 2, 7])
def test_each_layer_equals_the_textbook_in_float64(name, T):
    x = 2 * RNG.standard_normal((3, T, 16))
    check(*pair(layers_of(np.float64)[name]), x)


@pytest.mark.parametrize("name", LAYERS)
def test_each_layer_is_close_to_the_textbook_in_float32_and_keeps_float32(name):
    x = (2 * RNG.standard_normal((3, 9, 16))).astype(np.float32)
    book, fast = pair(layers_of(np.float32)[name])
    check(book, fast, x, float32=True)
    assert fast.forward(x).dtype == np.float32


def test_layer_norm_and_gelu_take_any_leading_axes():
    params = {"g": RNG.standard_normal(5), "b": RNG.standard_normal(5)}
    for layer in (time_layers.LayerNorm(params, "g", "b"), time_layers.GELU()):
        for shape in [(4, 5), (2, 3, 5), (5,)]:
            check(*pair(layer), RNG.standard_normal(shape))


def test_gelu_forward_and_backward_at_large_and_tiny_inputs():
    x = np.array([-40.0, -6.0, -1e-8, 0.0, 1e-300, 3.0, 40.0]).reshape(1, 7, 1)
    check(*pair(time_layers.GELU()), x)


def test_attention_keeps_what_the_textbook_keeps():
    book, fast = pair(layers_of(np.float64)["CausalSelfAttention"])
    x = RNG.standard_normal((2, 5, 16))
    book.forward(x)
    fast.forward(x)
    for name in ("q", "k", "v", "attention", "y"):
        same(getattr(fast, name), getattr(book, name))
    assert np.all(np.triu(fast.attention[0, 0], k=1) == 0)  # no weight on a later position
    np.testing.assert_allclose(fast.attention.sum(axis=-1), 1.0, rtol=1e-12)


def test_attention_refuses_a_width_its_heads_do_not_split():
    layer = pair(layers_of(np.float64)["CausalSelfAttention"])[1]
    layer.n_heads = 3
    with pytest.raises(Exception, match="do not split into 3 heads"):
        layer.forward(RNG.standard_normal((1, 2, 16)))


@pytest.mark.parametrize("ignore_label", [None, -1])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_time_softmax_with_loss_equals_the_textbook(ignore_label, dtype):
    x = (3 * RNG.standard_normal((3, 5, 11))).astype(dtype)
    t = RNG.integers(0, 11, (3, 5))
    if ignore_label is not None:
        t[0, 3:] = ignore_label
    book, fast = pair(time_layers.TimeSoftmaxWithLoss(ignore_label))
    loss_b, loss_f = book.forward(x, t), fast.forward(x, t)
    dx_b, dx_f = book.backward(0.5), fast.backward(0.5)
    assert np.asarray(loss_f).dtype == np.asarray(loss_b).dtype == dtype
    assert dx_f.dtype == dx_b.dtype and dx_f.shape == x.shape
    if dtype == np.float64:
        same(loss_f, loss_b)
        same(dx_f, dx_b)
    else:
        np.testing.assert_allclose(loss_f, loss_b, rtol=1e-6)
        np.testing.assert_allclose(dx_f, dx_b, **F32)
    assert fast.count == book.count


def test_time_softmax_with_loss_over_several_blocks_of_rows(monkeypatch):
    monkeypatch.setattr(fast_time_layers, "SOFTMAX_BLOCK_VALUES", 30)  # 2 rows of 13 a block
    x, t = RNG.standard_normal((4, 5, 13)), RNG.integers(0, 13, (4, 5))
    book, fast = pair(time_layers.TimeSoftmaxWithLoss(None))
    same(fast.forward(x, t), book.forward(x, t))
    same(fast.backward(), book.backward())


def test_time_softmax_with_loss_errors_as_the_textbook():
    fast = pair(time_layers.TimeSoftmaxWithLoss())[1]
    x = RNG.standard_normal((2, 3, 4))
    with pytest.raises(Exception, match="every target is the ignore label"):
        fast.forward(x, -np.ones((2, 3), dtype=int))
    with pytest.raises(Exception, match="do not match scores"):
        fast.forward(x, np.zeros((2, 2), dtype=int))
    with pytest.raises(Exception, match="labels must be class indices"):
        fast.forward(x, np.full((2, 3), 4))


def gpt_pair(dtype, **config):
    config = {"vocab_size": 23, "context": 8, "n_layers": 2, "n_heads": 2, "width": 16} | config
    book = GPT(**config, seed=0, dtype=dtype)
    fast = copy.deepcopy(book)
    engine.use("fast", fast)
    return book, fast


def test_use_puts_every_part_of_a_gpt_on_the_engine_and_back():
    book, fast = gpt_pair(np.float64)
    parts = [fast.ln_f, fast.head, fast.last_layer]
    parts += [
        vars(block)[n]
        for block in fast.blocks
        for n in ("ln1", "attn", "ln2", "fc1", "gelu", "fc2")
    ]
    assert all(type(part) in FAST.values() for part in parts)
    assert engine.engine_of(fast) == "fast" and engine.engine_of(book) == "book"
    engine.use("book", fast)
    assert all(type(part) in FAST for part in parts)
    assert engine.engine_of(fast) == "book"


@pytest.mark.parametrize("T", [8, 3])
def test_a_gpt_on_the_engine_has_the_textbooks_loss_and_gradients(T):
    book, fast = gpt_pair(np.float64)
    x, t = RNG.integers(0, 23, (3, T)), RNG.integers(0, 23, (3, T))
    loss_b, grads_b = book.loss_gradient(x, t)
    loss_f, grads_f = fast.loss_gradient(x, t)
    same(loss_f, loss_b)
    assert grads_f.keys() == grads_b.keys()
    for key in grads_b:
        same(grads_f[key], grads_b[key])
    same(fast.evaluation_loss(x, t), book.evaluation_loss(x, t))


def test_a_float32_gpt_on_the_engine_is_close_to_the_textbooks():
    book, fast = gpt_pair(np.float32)
    x, t = RNG.integers(0, 23, (4, 8)), RNG.integers(0, 23, (4, 8))
    loss_b, grads_b = book.loss_gradient(x, t)
    loss_f, grads_f = fast.loss_gradient(x, t)
    assert np.asarray(loss_f).dtype == np.float32
    np.testing.assert_allclose(loss_f, loss_b, rtol=1e-6)
    for key in grads_b:
        assert grads_f[key].dtype == np.float32
        scale = np.max(np.abs(grads_b[key]))
        np.testing.assert_allclose(grads_f[key], grads_b[key], rtol=1e-4, atol=1e-5 * scale)


def test_training_a_gpt_on_the_engine_follows_the_textbook():
    book, fast = gpt_pair(np.float64)
    opt_b, opt_f = AdamW(lr=1e-2, beta2=0.99, decay=0.1), AdamW(lr=1e-2, beta2=0.99, decay=0.1)
    engine.use("fast", optimizer=opt_f)
    rng = np.random.default_rng(3)
    for _ in range(5):
        x, t = rng.integers(0, 23, (4, 8)), rng.integers(0, 23, (4, 8))
        for net, opt in ((book, opt_b), (fast, opt_f)):
            _, grads = net.loss_gradient(x, t)
            opt.update(net.params, clip_by_global_norm(grads, 1.0))
    for key in book.params:
        same(fast.params[key], book.params[key], tol=1e-10)


def test_generation_on_the_engine_gives_the_textbooks_tokens():
    book, fast = gpt_pair(np.float64)
    prompt = [1, 2, 3]
    for cache in (True, False):
        a = generate(book, prompt, 12, temperature=0.8, rng=5, cache=cache)
        b = generate(fast, prompt, 12, temperature=0.8, rng=5, cache=cache)
        np.testing.assert_array_equal(a, b)
