"""MultiLayerNet: backprop against the numerical gradient over every activation × weight decay ×
batch norm (× dropout with a fixed mask), weight decay by hand, initialisation, modes."""

import itertools

import numpy as np
import pytest

from nnscratch.errors import NnscratchError
from nnscratch.gradcheck import gradient_check
from nnscratch.layers import Dropout, Relu
from nnscratch.nets import MultiLayerNet, TwoLayerNet

H = 1e-5  # float64 central differences; see the ReLU margin below


def _pre_activation_margin(net, x):
    """Smallest |input| of any ReLU layer on x in the current mode (the kink is at 0)."""
    margin = np.inf
    for layer in net.layers:
        if isinstance(layer, Relu):
            margin = min(margin, float(np.min(np.abs(x))))
        x = layer.forward(x)
    return margin


def _fix_dropout_masks(net, x):
    """Draw each Dropout layer's mask once, then hold it: the loss becomes a fixed function."""
    h = x
    for layer in net.layers:
        if isinstance(layer, Dropout):
            layer.fixed_mask = layer.rng.random(h.shape) >= layer.ratio
        h = layer.forward(h)


@pytest.mark.parametrize(
    "activation,weight_decay,batchnorm,dropout",
    list(itertools.product(["sigmoid", "tanh", "relu"], [0.0, 0.1], [False, True], [0.0, 0.3])),
)
def test_gradient_check(activation, weight_decay, batchnorm, dropout):
    # ReLU's kink: central differences are exact only where no pre-activation is within a few h of
    # 0, so the data seed is the first whose ReLU inputs all keep |a| > 10·h (checked, not assumed).
    for seed in range(50):
        net = MultiLayerNet(
            5,
            [6, 4],
            3,
            activation=activation,
            weight_decay_lambda=weight_decay,
            dropout=dropout,
            use_batchnorm=batchnorm,
            seed=seed,
        )
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((7, 5))
        t = rng.integers(0, 3, 7)
        if batchnorm:  # non-trivial γ, β so that their gradients are checked away from 1, 0
            for key in net.params:
                if key.startswith(("gamma", "beta")):
                    net.params[key] += 0.3 * rng.standard_normal(net.params[key].shape)
        _fix_dropout_masks(net, x)
        if activation != "relu" or _pre_activation_margin(net, x) > 10 * H:
            break
    else:
        pytest.fail("no seed with every ReLU input away from the kink")
    errors = gradient_check(net, x, t, h=H)
    assert set(errors) == set(net.params)
    if batchnorm:
        # A bias just before BatchNorm shifts every sample alike, and BatchNorm subtracts the batch
        # mean: its true gradient is exactly 0, and both sides must be 0 up to rounding (a relative
        # error of rounding noise against rounding noise means nothing).
        hidden_biases = [f"b{i}" for i in (1, 2)]
        backprop, numerical = net.gradient(x, t), net.numerical_gradient(x, t, H)
        for key in hidden_biases:
            assert np.max(np.abs(backprop[key])) < 1e-12
            assert np.max(np.abs(numerical[key])) < 1e-9
            del errors[key]
    assert max(errors.values()) < 1e-7, errors


def test_twolayernet_gradient_check_each_activation():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6))
    t = rng.integers(0, 3, 4)
    for activation in ("sigmoid", "tanh"):
        net = TwoLayerNet(6, 5, 3, weight_init_std=0.5, seed=1, activation=activation)
        assert max(gradient_check(net, x, t).values()) < 1e-7


def test_weight_decay_adds_half_lambda_sum_of_squared_weights():
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    plain = MultiLayerNet(4, [5], 3, seed=2)
    decayed = MultiLayerNet(4, [5], 3, weight_decay_lambda=0.2, seed=2)
    penalty = 0.5 * 0.2 * (np.sum(plain.params["W1"] ** 2) + np.sum(plain.params["W2"] ** 2))
    assert decayed.loss(x, t) == pytest.approx(plain.loss(x, t) + penalty, rel=1e-14)
    g_plain, g_decayed = plain.gradient(x, t), decayed.gradient(x, t)
    np.testing.assert_allclose(g_decayed["W1"], g_plain["W1"] + 0.2 * plain.params["W1"])
    np.testing.assert_array_equal(g_decayed["b1"], g_plain["b1"])  # biases are not decayed


@pytest.mark.parametrize(
    "weight_init,expected_std",
    [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(1 / 400)), (0.01, 0.01)],
)
def test_weight_init_std(weight_init, expected_std):
    net = MultiLayerNet(400, [300], 10, weight_init=weight_init, seed=0)
    # 120,000 draws: the sample std is within 1% of the true one
    assert net.params["W1"].std() == pytest.approx(expected_std, rel=0.01)
    np.testing.assert_array_equal(net.params["b1"], 0.0)


def test_parameter_and_buffer_shapes():
    net = MultiLayerNet(8, [6, 4], 3, use_batchnorm=True, seed=0)
    shapes = {key: value.shape for key, value in net.params.items()}
    assert shapes == {
        "W1": (8, 6),
        "b1": (6,),
        "W2": (6, 4),
        "b2": (4,),
        "W3": (4, 3),
        "b3": (3,),
        "gamma1": (6,),
        "beta1": (6,),
        "gamma2": (4,),
        "beta2": (4,),
    }
    assert sorted(net.buffers) == ["running_mean1", "running_mean2", "running_var1", "running_var2"]


def test_accuracy_and_predict_run_in_eval_mode_and_restore_the_mode():
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((50, 8)), rng.integers(0, 3, 50)
    net = MultiLayerNet(8, [20], 3, dropout=0.5, use_batchnorm=True, seed=1)
    net.loss(x, t)  # one training forward: running stats move
    buffers = {k: v.copy() for k, v in net.buffers.items()}
    p1, p2 = net.predict(x), net.predict(x)
    np.testing.assert_array_equal(p1, p2)  # no dropout noise, no batch statistics
    net.accuracy(x, t)
    assert net.training
    for key, value in net.buffers.items():  # evaluation does not move the running statistics
        np.testing.assert_array_equal(value, buffers[key])
    with net.evaluating():
        assert not net.training
        assert all(not layer.training for layer in net.layers if hasattr(layer, "training"))
    assert net.training
    assert net.loss(x, t) != net.loss(x, t)  # training mode: a new dropout mask each time


def test_numerical_gradient_leaves_running_statistics_alone():
    rng = np.random.default_rng(4)
    x, t = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)
    net = MultiLayerNet(3, [4], 2, use_batchnorm=True, seed=0)
    before = {k: v.copy() for k, v in net.buffers.items()}
    net.numerical_gradient(x, t)
    for key in before:
        np.testing.assert_array_equal(net.buffers[key], before[key])


def test_dropout_changes_no_weight_draw():
    a = MultiLayerNet(5, [4], 2, seed=7)
    b = MultiLayerNet(5, [4], 2, dropout=0.5, seed=7)
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(activation="softplus"),
        dict(weight_init="glorot"),
        dict(weight_init=-1.0),
        dict(dropout=1.0),
        dict(weight_decay_lambda=-0.1),
        dict(hidden_sizes=[4, 0]),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs):
    args = dict(input_size=3, hidden_sizes=[4], output_size=2)
    args.update(kwargs)
    with pytest.raises(NnscratchError):
        MultiLayerNet(**args)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(weight_decay_lambda=-0.1),
            r"^weight decay λ must be a number in \[0, ∞\), got -0\.1",
        ),
        (dict(weight_decay_lambda=True), r"^weight decay λ must be a number in \[0, ∞\), got True"),
        (dict(weight_decay_lambda=float("inf")), r"^weight decay λ must be a number in \[0, ∞\)"),
        (dict(dropout=1.0), r"^dropout must be a number in \[0, 1\), got 1\.0: the fraction"),
        (dict(dropout=True), r"^dropout must be a number in \[0, 1\), got True"),
        (dict(hidden_sizes=[4, True]), r"^every hidden size must be a positive integer, got True"),
        (dict(input_size=0), r"^input_size must be a positive integer, got 0"),
        (
            dict(activation="softplus"),
            r"^activation must be one of sigmoid, relu, tanh, got 'softplus'",
        ),
        (dict(weight_init="glorot"), r"^weight_init must be one of he, xavier, got 'glorot'$"),
        (dict(weight_init=0.0), r"^weight init must be a number in \(0, ∞\), got 0\.0: 'he', "),
        (dict(dtype=np.float16), r"^dtype must be float32 or float64"),
    ],
)
def test_bad_arguments_name_what_is_wrong(kwargs, message):
    args = dict(input_size=3, hidden_sizes=[4], output_size=2)
    args.update(kwargs)
    with pytest.raises(NnscratchError, match=message):
        MultiLayerNet(**args)


def test_two_layer_net_initial_std_is_checked():
    with pytest.raises(
        NnscratchError,
        match=r"^weight_init_std must be a number in \[0, ∞\), "
        r"got -1",
    ):
        TwoLayerNet(3, 4, 2, weight_init_std=-1)
    zero = TwoLayerNet(3, 4, 2, weight_init_std=0)  # all-zero weights: the book's symmetry demo
    assert not zero.params["W1"].any() and zero.weight_init_std == 0.0
