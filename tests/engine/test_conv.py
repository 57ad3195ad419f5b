"""The engine's convolution and pooling on their own paths: [col, 1] built and multiplied in
bands, the first layer's backward without ∂L/∂x, memory layouts, and the textbook's tie rule kept
by the separable max. (That they compute the textbook's numbers: ``test_equal``.)"""

import numpy as np
import pytest

from nnscratch.engine import conv
from nnscratch.engine.conv import PIXEL_MAJOR, Convolution, in_order, memory_order
from nnscratch.engine.pooling import Pooling
from tests.textbook.test_conv import CONV_CASES, TOL, check_layer, direct_convolution


def test_the_first_layers_backward_gives_the_same_gradients_and_no_dx():
    rng = np.random.default_rng(4)
    params = {"W": rng.standard_normal((3, 2, 3, 3)), "b": rng.standard_normal(3)}
    layer = Convolution(params, "W", "b", stride=1, pad=1)
    x = rng.standard_normal((2, 2, 5, 6))
    dout = rng.standard_normal(layer.forward(x).shape)
    assert layer.backward(dout) is not None
    full = {k: v.copy() for k, v in layer.param_grads().items()}
    layer.input_gradient = False
    assert layer.backward(dout) is None
    for key, value in layer.param_grads().items():
        np.testing.assert_array_equal(value, full[key])


@pytest.mark.parametrize("case", CONV_CASES)
def test_convolution_in_bands_of_one_output_row(case, monkeypatch):
    # nothing kept, bands of 1 byte: every band is one output row, built again in backward — the
    # path of large batches and images (DeepConvNet's), against the loops and the numerical gradient
    monkeypatch.setattr(conv, "COL_KEPT_BYTES", 0)
    monkeypatch.setattr(conv, "BAND_BYTES", 1)
    N, C, H, W, FN, FH, FW, stride, pad = case
    rng = np.random.default_rng(11)
    params = {"W": rng.standard_normal((FN, C, FH, FW)), "b": rng.standard_normal(FN)}
    layer = Convolution(params, "W", "b", stride, pad)
    x = rng.standard_normal((N, C, H, W))
    np.testing.assert_allclose(
        layer.forward(x),
        direct_convolution(x, params["W"], params["b"], stride, pad),
        rtol=1e-12,
        atol=1e-12,
    )
    assert layer.col_t is None or layer.output_shape(x.shape)[2] == 1  # nothing kept but x_pad
    errors = check_layer(layer, x, rng, params)
    assert max(errors.values()) < TOL, errors


def test_bands_give_the_gradients_of_one_band(monkeypatch):
    rng = np.random.default_rng(12)
    params = {"W": rng.standard_normal((3, 2, 3, 3)), "b": rng.standard_normal(3)}
    x = rng.standard_normal((2, 2, 7, 6))
    results = []
    for kept in (10**9, 0):  # [col, 1] whole and kept; in bands of one output row
        monkeypatch.setattr(conv, "COL_KEPT_BYTES", kept)
        monkeypatch.setattr(conv, "BAND_BYTES", 1)
        layer = Convolution(params, "W", "b", stride=1, pad=1)
        out = layer.forward(x)
        dx = layer.backward(np.cos(out))
        results.append((out, dx, layer.dW, layer.db))
    for one, banded in zip(*results):
        np.testing.assert_allclose(banded, one, rtol=1e-13, atol=1e-13)


def test_memory_order_and_in_order():
    x = np.arange(48.0).reshape(2, 2, 3, 4)
    assert memory_order(x) == (0, 1, 2, 3) and memory_order(x[:, :, ::2]) is None
    pixel_major = in_order(x, PIXEL_MAJOR)
    np.testing.assert_array_equal(pixel_major, x)
    assert pixel_major.transpose(PIXEL_MAJOR).flags.c_contiguous
    assert memory_order(pixel_major) == PIXEL_MAJOR
    assert in_order(pixel_major, PIXEL_MAJOR) is pixel_major


def test_the_convolution_hands_on_pixel_major_memory():
    rng = np.random.default_rng(5)
    params = {"W": rng.standard_normal((4, 2, 3, 3)), "b": rng.standard_normal(4)}
    out = Convolution(params, "W", "b", pad=1).forward(rng.standard_normal((3, 2, 5, 5)))
    assert memory_order(out) == PIXEL_MAJOR


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pooling_gives_the_same_for_any_memory_layout(mode):
    x = np.random.default_rng(13).standard_normal((2, 3, 6, 5))
    pool = Pooling(2, 2, mode=mode)
    out = pool.forward(x)
    dout = np.sin(out)
    dx = pool.backward(dout)
    for layout in ((0, 1, 2, 3), PIXEL_MAJOR, (0, 2, 3, 1)):
        np.testing.assert_array_equal(pool.forward(in_order(x, layout)), out)
        np.testing.assert_array_equal(pool.backward(in_order(dout, layout)), dx)


def test_the_separable_max_keeps_the_first_maximum_in_row_major_order():
    # two maxima at (0, 1) and (1, 0): a pass along the height first would pick (1, 0)
    x = np.array([[[[1.0, 5.0], [5.0, 0.0]]]])
    pool = Pooling(2, 2)
    pool.forward(x)
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 1, 1))), [[[[0, 1], [0, 0]]]])
