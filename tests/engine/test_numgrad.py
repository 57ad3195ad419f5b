"""The fast numerical gradient against the naive loop (the reference), in float64."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nnscratch.engine.numgrad import fast_numerical_gradient
from nnscratch.errors import NnscratchError
from nnscratch.functions import one_hot
from nnscratch.gradcheck import relative_error
from nnscratch.layers import Affine, Relu, Sigmoid, SoftmaxWithLoss, Tanh
from nnscratch.nets import LayerNet, MultiLayerNet, TwoLayerNet

TOL = 1e-9  # relative to each parameter's gradient scale (gradcheck.relative_error)


def sparse_batch(rng, n, d, zero_fraction=0.4):
    """Inputs with many exact zeros, one input column zero for the whole batch, repeated values."""
    x = rng.integers(0, 6, size=(n, d)) / 5.0  # few distinct values, as pixels have
    x[rng.random((n, d)) < zero_fraction] = 0.0
    x[:, 1] = 0.0
    return x


def assert_same_as_naive(net, x, t, h=1e-4):
    naive = net.numerical_gradient(x, t, h)
    fast = fast_numerical_gradient(net, x, t, h)
    assert fast.keys() == naive.keys()
    for key in naive:
        assert fast[key].shape == naive[key].shape
        assert np.max(np.abs(naive[key])) > 1e-3, "gradient too small to compare meaningfully"
        assert relative_error(fast[key], naive[key]) < TOL, key
    return naive, fast


class DeepNet(LayerNet):
    """Affine → act → ... → Affine from layers.py, built by hand; optional L2 decay (LayerNet's)."""

    def __init__(self, sizes, activations, seed=0, std=1.0, weight_decay_lambda=0.0):
        rng = np.random.default_rng(seed)
        self.params, self.buffers, self.layers = {}, {}, []
        for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = std * rng.standard_normal((d_in, d_out))
            self.params[f"b{i}"] = 0.1 * rng.standard_normal(d_out)
            self.layers.append(Affine(self.params, f"W{i}", f"b{i}"))
            if i < len(sizes) - 1:
                self.layers.append(activations[i - 1]())
        self.last_layer = SoftmaxWithLoss()
        self.weight_decay_lambda = weight_decay_lambda


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("batch", [1, 7, 20])
def test_two_layer_net_matches_naive_loop(activation, batch):
    rng = np.random.default_rng(batch)
    net = TwoLayerNet(9, 6, 4, weight_init_std=1.0, seed=3, activation=activation)
    net.params["b1"] += 0.3 * rng.standard_normal(6)
    x = sparse_batch(rng, batch, 9)
    t = rng.integers(0, 4, batch)
    assert_same_as_naive(net, x, t)


def test_dense_gaussian_inputs_and_one_hot_labels():
    rng = np.random.default_rng(0)
    net = TwoLayerNet(5, 8, 3, weight_init_std=1.0, seed=1, activation="tanh")
    x = rng.standard_normal((12, 5))
    t = one_hot(rng.integers(0, 3, 12), 3)
    assert_same_as_naive(net, x, t)


def test_zero_input_gives_exactly_zero_like_the_naive_loop():
    rng = np.random.default_rng(5)
    net = TwoLayerNet(9, 6, 4, weight_init_std=1.0, seed=0)
    x = sparse_batch(rng, 10, 9)
    t = rng.integers(0, 4, 10)
    naive, fast = assert_same_as_naive(net, x, t)
    assert np.all(naive["W1"][1] == 0.0)  # input 1 is 0 for the whole batch: L+ = L- bit for bit
    assert np.all(fast["W1"][1] == 0.0)
    assert np.all(fast["W1"][0] != 0.0)  # and a live input is not skipped


@pytest.mark.parametrize("activations", [(Relu, Tanh), (Sigmoid, Relu, Tanh)])
def test_deeper_chain_matches_naive_loop(activations):
    rng = np.random.default_rng(len(activations))
    sizes = [6] + [5] * len(activations) + [3]
    net = DeepNet(sizes, activations, seed=2)
    x = sparse_batch(rng, 8, 6, zero_fraction=0.3)
    t = rng.integers(0, 3, 8)
    assert_same_as_naive(net, x, t)


def test_weight_decay_is_part_of_the_difference():
    rng = np.random.default_rng(7)
    net = DeepNet([6, 5, 3], (Sigmoid,), seed=4, weight_decay_lambda=0.3)
    x = sparse_batch(rng, 8, 6)
    t = rng.integers(0, 3, 8)
    naive, fast = assert_same_as_naive(net, x, t)
    # the decay term alone contributes λ·W: without it the W gradients would differ by that much
    plain = fast_numerical_gradient(DeepNet([6, 5, 3], (Sigmoid,), seed=4), x, t)
    assert np.allclose(fast["W1"] - plain["W1"], 0.3 * net.params["W1"], rtol=1e-6, atol=1e-9)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 6),
    d=st.integers(1, 5),
    hidden=st.integers(1, 5),
    classes=st.integers(2, 4),
    activation=st.sampled_from(["sigmoid", "relu", "tanh"]),
)
# a gradient of 8e-4 where the naive loop itself is 1.06e-12 off (the fast engine: 1.4e-15,
# both against the same differences in long double)
@example(seed=2181, n=1, d=1, hidden=1, classes=2, activation="sigmoid")
@example(seed=68, n=1, d=3, hidden=3, classes=2, activation="relu")
def test_random_small_nets_match_naive_loop(seed, n, d, hidden, classes, activation):
    rng = np.random.default_rng(seed)
    net = TwoLayerNet(d, hidden, classes, weight_init_std=1.0, seed=seed, activation=activation)
    x = rng.standard_normal((n, d))
    t = rng.integers(0, classes, n)
    naive = net.numerical_gradient(x, t)
    fast = fast_numerical_gradient(net, x, t)
    # the naive loop subtracts two losses, each -(s_t - log Σ_c e^s_c) rounded to about ε times
    # the largest score |s| (or |L|): its own round-off is about that / h per entry (seed 68, 1
    # sample, 3-3-2 ReLU: L 1e-4, |s| 6.8, the naive loop 7.8e-13 off, the fast 8e-16, both
    # against the same differences in long double)
    scale = max(abs(float(net.loss(x, t))), float(np.max(np.abs(net.scores(x)))))
    roundoff = 2 * np.finfo(np.float64).eps * scale / 1e-4
    for key in naive:  # elementwise against the scale; an all-zero gradient must be zero here too
        tolerance = TOL * np.max(np.abs(naive[key])) + roundoff
        assert np.max(np.abs(fast[key] - naive[key])) <= tolerance, key


def test_parameters_untouched_and_dtype_kept():
    rng = np.random.default_rng(0)
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0, seed=0)
    before = {k: v.copy() for k, v in net.params.items()}
    x, t = rng.standard_normal((5, 4)), rng.integers(0, 2, 5)
    fast_numerical_gradient(net, x, t)
    for key in before:
        assert np.array_equal(net.params[key], before[key])
    net.params.update({k: v.astype(np.float32) for k, v in net.params.items()})
    grads = fast_numerical_gradient(net, x, t)
    assert all(grads[k].dtype == np.float32 for k in grads)


def test_single_sample_as_a_vector():
    rng = np.random.default_rng(2)
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0, seed=1)
    x, t = rng.standard_normal(4), np.array([1])
    fast = fast_numerical_gradient(net, x, t)
    naive = net.numerical_gradient(x[np.newaxis], t)
    for key in naive:
        assert relative_error(fast[key], naive[key]) < TOL


class Doubler:
    """A layer the engine does not know."""

    def forward(self, x):
        return 2 * x


def test_unknown_layer_is_refused():
    net = TwoLayerNet(4, 3, 2, seed=0)
    net.layers.insert(1, Doubler())
    with pytest.raises(NnscratchError, match="Doubler.*not supported"):
        fast_numerical_gradient(net, np.ones((2, 4)), np.array([0, 1]))


def test_unknown_loss_term_is_refused():
    class Penalised(TwoLayerNet):
        def loss(self, x, t):
            return super().loss(x, t) + np.sum(self.params["b1"] ** 2) + 1.0

    net = Penalised(4, 3, 2, seed=0)
    with pytest.raises(NnscratchError, match="terms it does not know"):
        fast_numerical_gradient(net, np.ones((2, 4)), np.array([0, 1]))


def test_bad_step_is_refused():
    net = TwoLayerNet(4, 3, 2, seed=0)
    with pytest.raises(NnscratchError, match="step h must be positive"):
        fast_numerical_gradient(net, np.ones((2, 4)), np.array([0, 1]), h=0.0)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_multilayer_net_matches_naive_loop(activation):
    rng = np.random.default_rng(11)
    net = MultiLayerNet(
        6, [5, 4], 3, activation=activation, weight_init=1.0, weight_decay_lambda=0.1, seed=5
    )
    x = sparse_batch(rng, 8, 6)
    t = rng.integers(0, 3, 8)
    assert_same_as_naive(net, x, t)


@pytest.mark.parametrize("options", [{"dropout": 0.5}, {"use_batchnorm": True}])
def test_dropout_and_batchnorm_are_refused(options):
    net = MultiLayerNet(4, [3], 2, seed=0, **options)
    with pytest.raises(NnscratchError, match="not supported"):
        fast_numerical_gradient(net, np.ones((2, 4)), np.array([0, 1]))


def test_same_gradient_whatever_the_number_of_threads(monkeypatch):
    from nnscratch.engine import numgrad as numgrad_fast

    rng = np.random.default_rng(12)
    net = TwoLayerNet(30, 200, 4, weight_init_std=0.5, seed=2)  # wide: many chunks to share
    x, t = sparse_batch(rng, 40, 30), rng.integers(0, 4, 40)
    monkeypatch.setattr(numgrad_fast, "THREADS", 1)
    one = fast_numerical_gradient(net, x, t)
    for threads in (3, 2):  # a different THREADS makes a new pool of that size, recorded by us
        monkeypatch.setattr(numgrad_fast, "THREADS", threads)
        many = fast_numerical_gradient(net, x, t)
        assert numgrad_fast._POOL_THREADS == threads
        for key in one:
            assert relative_error(many[key], one[key]) < 1e-13, (threads, key)
