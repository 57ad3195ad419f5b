"""TwoLayerNet: shapes, probabilities, and backprop against the numerical gradient."""

import numpy as np
import pytest

from nnscratch.errors import NnscratchError
from nnscratch.functions import cross_entropy_error, sigmoid, softmax
from nnscratch.gradcheck import gradient_check, relative_error
from nnscratch.nets import TwoLayerNet
from nnscratch.optim import SGD


def test_params_shapes_and_seeded_init():
    net = TwoLayerNet(784, 50, 10, seed=3)
    assert {k: v.shape for k, v in net.params.items()} == {
        "W1": (784, 50),
        "b1": (50,),
        "W2": (50, 10),
        "b2": (10,),
    }
    again = TwoLayerNet(784, 50, 10, seed=3)
    for key in net.params:
        np.testing.assert_array_equal(net.params[key], again.params[key])
    assert not np.array_equal(TwoLayerNet(784, 50, 10, seed=4).params["W1"], net.params["W1"])
    assert net.params["W1"].std() == pytest.approx(0.01, rel=0.05)
    assert not net.params["b1"].any()


def test_predict_is_the_textbook_forward_pass():
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0, seed=0)
    x = np.random.default_rng(1).normal(size=(5, 4))
    p = net.params
    expected = softmax(sigmoid(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"])
    np.testing.assert_allclose(net.predict(x), expected, rtol=1e-14)
    np.testing.assert_allclose(net.predict(x).sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(net.predict(x[0]), expected[0], rtol=1e-14)


def test_loss_is_cross_entropy_of_the_predictions():
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0, seed=0)
    x = np.random.default_rng(1).normal(size=(5, 4))
    t = np.array([0, 1, 1, 0, 1])
    # the net's loss has no ε; the textbook function's ε moves it by about ε / y
    assert net.loss(x, t) == pytest.approx(cross_entropy_error(net.predict(x), t), rel=1e-6)
    one_hot = np.eye(2)[t]
    assert net.loss(x, one_hot) == pytest.approx(net.loss(x, t), rel=1e-15)


def test_accuracy():
    net = TwoLayerNet(4, 3, 2, seed=0)
    x = np.random.default_rng(1).normal(size=(6, 4))
    predicted = net.predict(x).argmax(axis=1)
    assert net.accuracy(x, predicted) == 1.0
    assert net.accuracy(x, 1 - predicted) == 0.0
    assert net.accuracy(x, np.eye(2)[predicted]) == 1.0


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backprop_matches_numerical_gradient(activation, seed):
    rng = np.random.default_rng(100 + seed)
    sizes = [(5, 4, 3), (8, 6, 4), (3, 10, 2)][seed]
    net = TwoLayerNet(*sizes, weight_init_std=1.0, seed=seed, activation=activation)
    n = [4, 7, 1][seed]
    x = rng.normal(size=(n, sizes[0]))
    t = rng.integers(0, sizes[2], size=n)
    if activation == "relu":
        # central differences are only meaningful away from the kink at 0
        pre = x @ net.params["W1"] + net.params["b1"]
        assert np.abs(pre).min() > 1e-3
    errors = gradient_check(net, x, t)
    assert set(errors) == {"W1", "b1", "W2", "b2"}
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_detects_a_wrong_backward():
    net = TwoLayerNet(5, 4, 3, weight_init_std=1.0, seed=0)
    x = np.random.default_rng(0).normal(size=(4, 5))
    t = np.array([0, 1, 2, 1])
    wrong = net.layers[1].__class__.backward
    net.layers[1].backward = lambda dout: 1.01 * wrong(net.layers[1], dout)
    errors = gradient_check(net, x, t)
    assert errors["W1"] > 1e-3 and errors["W2"] < 1e-7


def test_relative_error():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert relative_error([1.0, 4.0], [1.0, 3.0]) == pytest.approx(0.25)


def test_numerical_gradient_training_step_lowers_the_loss():
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5, seed=0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 6))
    t = rng.integers(0, 3, size=10)
    before = net.loss(x, t)
    SGD(lr=0.5).update(net.params, net.numerical_gradient(x, t))
    assert net.loss(x, t) < before


def test_gradient_does_not_mutate_inputs():
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0, seed=0)
    x = np.random.default_rng(1).normal(size=(5, 4))
    t = np.array([0, 1, 1, 0, 1])
    x0, t0 = x.copy(), t.copy()
    net.gradient(x, t)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(t, t0)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "10"])
def test_bad_sizes_are_clear_errors(bad):
    with pytest.raises(NnscratchError, match="hidden_size must be a positive integer"):
        TwoLayerNet(4, bad, 2)


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(NnscratchError, match="sigmoid, relu, tanh"):
        TwoLayerNet(4, 3, 2, activation="swish")


def test_gradient_check_of_a_batchnorm_net_passes_with_its_zero_bias_gradients():
    from nnscratch.nets import MultiLayerNet

    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    net = MultiLayerNet(4, [5, 4], 3, activation="tanh", use_batchnorm=True, seed=0)
    grads = net.gradient(x, t)
    assert np.max(np.abs(grads["b1"])) < 1e-12  # the bias before BatchNorm: exactly 0 in theory
    errors = gradient_check(net, x, t)
    assert errors["b1"] == errors["b2"] == 0.0
    assert max(errors.values()) < 1e-7, errors


def test_single_samples_and_float_labels_give_the_batch_of_one_gradient():
    from nnscratch.nets import MultiLayerNet

    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(3, 4)), np.array([2, 0, 1])
    for net in (
        TwoLayerNet(4, 6, 3, weight_init_std=1.0, seed=0),
        MultiLayerNet(4, [6], 3, use_batchnorm=True, seed=0),
    ):
        batch_of_one = net.gradient(x[:1], t[:1])
        for label in (t[0], np.eye(3)[t[0]]):  # an int, a one-hot (C,)
            single = net.gradient(x[0], label)
            for key in net.params:
                np.testing.assert_array_equal(single[key], batch_of_one[key])
        as_floats = net.gradient(x, t.astype(float))
        for key, value in net.gradient(x, t).items():
            np.testing.assert_array_equal(as_floats[key], value)
    # BatchNorm's running mean is per feature, never one number spread over all of them
    assert len(set(net.buffers["running_mean1"].round(12))) > 1
