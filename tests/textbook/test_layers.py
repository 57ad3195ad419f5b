"""Every layer's backward pass against the numerical gradient (float64, relative error < 1e-7),
forward values worked out by hand, and no layer writing into the arrays it is given."""

import numpy as np
import pytest

from nnscratch.functions import mean_squared_error, sigmoid
from nnscratch.gradcheck import relative_error
from nnscratch.layers import (
    Affine,
    BatchNorm,
    Dropout,
    MeanSquaredErrorLoss,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    Tanh,
)
from nnscratch.numgrad import numerical_gradient

TOL = 1e-7


def _check_layer(layer, x, rng, params=None, h=1e-5):
    """Backprop of L = Σ out · G (so ∂L/∂out = G) against central differences of L, for x and for
    every parameter the layer reads; returns the max relative error."""
    G = rng.standard_normal(layer.forward(x.copy()).shape)

    def loss(_):
        return float(np.sum(layer.forward(x) * G))

    layer.forward(x)
    G_before = G.copy()
    dx = layer.backward(G)
    assert np.array_equal(G, G_before), "backward wrote into dout"
    errors = [relative_error(dx, numerical_gradient(loss, x, h))]
    if params is not None:
        analytic = layer.param_grads()
        for key, value in params.items():
            errors.append(relative_error(analytic[key], numerical_gradient(loss, value, h)))
    return max(errors)


def test_affine_forward_by_hand_and_gradient():
    params = {"W": np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), "b": np.array([0.5, -1.0])}
    layer = Affine(params, "W", "b")
    x = np.array([[1.0, 0.0, -1.0]])
    np.testing.assert_array_equal(layer.forward(x), [[1 - 5 + 0.5, 2 - 6 - 1.0]])
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
    assert _check_layer(Affine(params, "W", "b"), rng.standard_normal((5, 4)), rng, params) < TOL


@pytest.mark.parametrize("layer_class", [Sigmoid, Tanh])
def test_smooth_activation_gradient(layer_class):
    rng = np.random.default_rng(1)
    assert _check_layer(layer_class(), rng.standard_normal((4, 6)), rng) < TOL


def test_activation_forward_values():
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(Relu().forward(x), [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(Tanh().forward(x), np.tanh(x))
    np.testing.assert_allclose(Sigmoid().forward(np.array([0.0])), [0.5])


def test_relu_gradient_away_from_the_kink():
    # Central differences are wrong at max(0, x)'s kink when |x| < h; keep every input at least
    # 10·h from 0 (and say so), where ReLU is linear and the difference is exact.
    h = 1e-5
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 7))
    x = np.where(np.abs(x) < 10 * h, 0.5, x)
    assert np.min(np.abs(x)) >= 10 * h
    assert _check_layer(Relu(), x, rng, h=h) < TOL


def test_relu_backward_does_not_write_into_its_input():
    layer = Relu()
    x = np.array([[-1.0, 2.0]])
    out = layer.forward(x)
    dout = np.array([[5.0, 7.0]])
    np.testing.assert_array_equal(layer.backward(dout), [[0.0, 7.0]])
    np.testing.assert_array_equal(dout, [[5.0, 7.0]])
    np.testing.assert_array_equal(x, [[-1.0, 2.0]])
    out[0, 1] = 100.0  # what forward returned is not what it kept
    np.testing.assert_array_equal(layer.backward(dout), [[0.0, 7.0]])


@pytest.mark.parametrize("one_hot_labels", [False, True])
def test_softmax_with_loss_forward_and_gradient(one_hot_labels):
    # by hand: scores (0, ln 3) → softmax (1/4, 3/4); label 1 → L = -ln(3/4)
    layer = SoftmaxWithLoss()
    assert layer.forward(np.array([[0.0, np.log(3.0)]]), np.array([1])) == pytest.approx(
        -np.log(0.75), rel=1e-15
    )
    np.testing.assert_allclose(layer.backward(), [[0.25, -0.25]], rtol=1e-15)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4))
    t = rng.integers(0, 4, 6)
    if one_hot_labels:
        t = np.eye(4)[t]
    layer.forward(x, t)
    dx = layer.backward(1.0)
    assert relative_error(dx, numerical_gradient(lambda _: layer.forward(x, t), x)) < TOL


@pytest.mark.parametrize("one_hot_label", [False, True])
def test_softmax_with_loss_of_a_single_sample(one_hot_label):
    # one sample's scores (C,): by hand, scores (0, ln 3) and label 1 give ∂L/∂x = (1/4, -1/4),
    # the batch of one's gradient, not divided by C
    layer = SoftmaxWithLoss()
    t = np.array([0.0, 1.0]) if one_hot_label else 1
    assert layer.forward(np.array([0.0, np.log(3.0)]), t) == pytest.approx(-np.log(0.75), rel=1e-15)
    np.testing.assert_allclose(layer.backward(), [0.25, -0.25], rtol=1e-15)
    x = np.random.default_rng(4).standard_normal(5)
    t = np.eye(5)[3] if one_hot_label else 3
    layer.forward(x, t)
    dx = layer.backward(1.0)
    assert relative_error(dx, numerical_gradient(lambda _: layer.forward(x, t), x)) < TOL


def test_mean_squared_error_loss_layer():
    layer = MeanSquaredErrorLoss()
    # by hand: y = [[0.5, 0.5]], t = class 0 → (0.5² + 0.5²) / 1 = 0.5; ∂L/∂y = 2 (y - t) / 1
    assert layer.forward(np.array([[0.5, 0.5]]), np.array([0])) == pytest.approx(0.5)
    np.testing.assert_allclose(layer.backward(), [[-1.0, 1.0]])
    rng = np.random.default_rng(4)
    y = rng.random((5, 3))
    t = rng.integers(0, 3, 5)
    assert layer.forward(y, t) == mean_squared_error(y, t)
    layer.forward(y, t)
    dy = layer.backward(1.0)
    assert relative_error(dy, numerical_gradient(lambda _: layer.forward(y, t), y)) < TOL
    # one sample (C,), as mean_squared_error takes it (N = 1): ∂L/∂y = 2 (y - t), of y's shape
    y1 = np.array([0.2, 0.5, 0.3])
    layer.forward(y1, 1)
    np.testing.assert_allclose(layer.backward(), [0.4, -1.0, 0.6], rtol=1e-15)


def test_dropout_is_inverted_and_identity_in_eval():
    layer = Dropout(0.25, np.random.default_rng(5))
    x = np.ones((400, 50))
    out = layer.forward(x)
    kept = out != 0
    np.testing.assert_array_equal(out[kept], 1 / 0.75)  # survivors scaled by 1 / (1 - p)
    assert abs(kept.mean() - 0.75) < 0.01  # 20,000 draws: std of the fraction ≈ 0.003
    np.testing.assert_array_equal(layer.backward(np.full_like(x, 2.0)), np.where(kept, 2 / 0.75, 0))
    layer.training = False
    assert layer.forward(x) is x
    np.testing.assert_array_equal(layer.backward(np.full_like(x, 2.0)), 2.0)


def test_dropout_gradient_with_a_fixed_mask():
    rng = np.random.default_rng(6)
    layer = Dropout(0.5, rng)
    x = rng.standard_normal((4, 5))
    layer.fixed_mask = rng.random(x.shape) >= 0.5
    assert _check_layer(layer, x, rng) < TOL
    np.testing.assert_array_equal(layer.forward(x), x * layer.fixed_mask * 2.0)


def _batchnorm(d, rng, momentum=0.9):
    params = {"gamma": 1 + 0.1 * rng.standard_normal(d), "beta": rng.standard_normal(d)}
    buffers = {"mean": np.zeros(d), "var": np.ones(d)}
    return (
        BatchNorm(params, "gamma", "beta", buffers, "mean", "var", momentum=momentum),
        params,
        buffers,
    )


def test_batchnorm_training_forward_and_running_statistics():
    layer, params, buffers = _batchnorm(2, np.random.default_rng(7))
    params["gamma"][:] = 1.0
    params["beta"][:] = 0.0
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]])
    out = layer.forward(x)
    # by hand: column 0 has mean 3, variance 8/3; column 1 mean 12, variance 8
    np.testing.assert_allclose(out[:, 0], np.array([-2, 0, 2]) / np.sqrt(8 / 3 + 1e-5))
    np.testing.assert_allclose(out[:, 1], np.array([-2, -2, 4]) / np.sqrt(8 + 1e-5))
    np.testing.assert_allclose(buffers["mean"], [0.1 * 3, 0.1 * 12])
    np.testing.assert_allclose(buffers["var"], [0.9 + 0.1 * 8 / 3, 0.9 + 0.1 * 8])
    layer.training = False
    np.testing.assert_allclose(
        layer.forward(x)[:, 0], (x[:, 0] - 0.3) / np.sqrt(0.9 + 0.8 / 3 + 1e-5)
    )
    np.testing.assert_allclose(buffers["mean"], [0.3, 1.2])  # evaluation leaves them alone


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradient(training):
    rng = np.random.default_rng(8)
    layer, params, buffers = _batchnorm(4, rng, momentum=1.0)  # momentum 1: buffers stay fixed
    buffers["mean"][:] = rng.standard_normal(4)
    buffers["var"][:] = rng.random(4) + 0.5
    layer.training = training
    x = 3 * rng.standard_normal((6, 4)) + 1
    assert _check_layer(layer, x, rng, params) < TOL


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: Affine({"W": rng.standard_normal((3, 2)), "b": np.zeros(2)}, "W", "b"),
        lambda rng: Sigmoid(),
        lambda rng: Tanh(),
        lambda rng: Relu(),
        lambda rng: Dropout(0.5, rng),
        lambda rng: _batchnorm(3, rng)[0],
    ],
)
def test_no_layer_writes_into_its_arguments(make):
    rng = np.random.default_rng(9)
    layer = make(rng)
    x = rng.standard_normal((4, 3))
    x_before = x.copy()
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dout_before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)


def test_sigmoid_layer_uses_the_library_function():
    x = np.linspace(-3, 3, 7)
    np.testing.assert_array_equal(Sigmoid().forward(x), sigmoid(x))


@pytest.mark.parametrize("ratio", [1.0, -0.1, True, float("nan"), "0.5"])
def test_dropout_ratio_outside_0_to_1_is_a_clear_error(ratio):
    from nnscratch.errors import NnscratchError

    with pytest.raises(
        NnscratchError,
        match=r"^dropout ratio must be a number in \[0, 1\), got "
        r".*: 0\.5 drops half the units, 0 none$",
    ):
        Dropout(ratio, np.random.default_rng(0))


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(momentum=1.5), r"^BatchNorm momentum must be a number in \[0, 1\]"),
        (dict(momentum=True), r"^BatchNorm momentum must be a number in \[0, 1\]"),
        (dict(eps=0.0), r"^BatchNorm eps must be a number in \(0, ∞\)"),
    ],
)
def test_batchnorm_options_are_checked(options, message):
    from nnscratch.errors import NnscratchError

    params, buffers = {"g": np.ones(2), "b": np.zeros(2)}, {"m": np.zeros(2), "v": np.ones(2)}
    with pytest.raises(NnscratchError, match=message):
        BatchNorm(params, "g", "b", buffers, "m", "v", **options)


def test_what_forward_keeps_starts_as_none_in_each_layer_of_its_own():
    a, b = Affine({"W": np.ones((2, 3)), "b": np.zeros(3)}, "W", "b"), Sigmoid()
    assert a.x is None and a.dW is None and b.out is None
    a.forward(np.ones((1, 2)))
    other = Affine(a.params, "W", "b")
    assert a.x is not None and other.x is None  # the cache is per layer, not shared by the class
