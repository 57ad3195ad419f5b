"""Chapter 7's layers against an independent computation: im2col, Convolution and Pooling forward
against explicit loops over every output position, every backward against the numerical gradient
(float64, relative error < 1e-7), col2im as im2col's adjoint, and clear errors for shapes that do
not fit."""

import numpy as np
import pytest

from nnscratch.conv import Convolution, Flatten, Pooling, col2im, conv_output_size, im2col
from nnscratch.errors import NnscratchError
from nnscratch.gradcheck import relative_error
from nnscratch.numgrad import numerical_gradient

TOL = 1e-7

#: (N, C, H, W, FN, FH, FW, stride, pad): several channels, non-square images and filters,
#: stride 1 and 2, pad 0, 1 and 2, and sizes where (H + 2·pad − FH) is not a multiple of the stride
CONV_CASES = [
    (2, 3, 7, 9, 4, 3, 2, 1, 0),
    (2, 2, 8, 6, 3, 3, 3, 2, 1),
    (1, 1, 5, 5, 2, 5, 5, 1, 0),
    (3, 2, 9, 7, 2, 2, 4, 2, 0),
    (2, 3, 6, 7, 2, 3, 3, 3, 2),
    (2, 1, 4, 5, 3, 1, 1, 1, 1),
]


def each_window(x, FH, FW, stride, pad, fill=0.0):
    """(y, x, window) for every output position by explicit loops: window is
    x_pad[:, :, stride·y : stride·y + FH, stride·x : stride·x + FW] (N, C, FH, FW)."""
    H, W = x.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=fill)
    for y in range((H + 2 * pad - FH) // stride + 1):
        for x_ in range((W + 2 * pad - FW) // stride + 1):
            yield y, x_, xp[:, :, stride * y : stride * y + FH, stride * x_ : stride * x_ + FW]


def direct_convolution(x, W, b, stride, pad):
    """out[n, f, y, x] = Σ_{c,i,j} W[f, c, i, j] · x_pad[n, c, stride·y + i, stride·x + j] + b[f],
    one output position and one filter at a time."""
    positions = list(each_window(x, *W.shape[2:], stride, pad))
    out = np.zeros((len(x), len(W), positions[-1][0] + 1, positions[-1][1] + 1))
    for y, x_, window in positions:
        for f in range(len(W)):
            out[:, f, y, x_] = np.sum(window * W[f], axis=(1, 2, 3)) + b[f]
    return out


def direct_pooling(x, ph, pw, stride, pad, mode):
    """Max (padding −∞) or average (padding 0, counted) of each window, position by position."""
    positions = list(each_window(x, ph, pw, stride, pad, -np.inf if mode == "max" else 0.0))
    out = np.zeros((*x.shape[:2], positions[-1][0] + 1, positions[-1][1] + 1))
    for y, x_, window in positions:
        out[:, :, y, x_] = window.max(axis=(2, 3)) if mode == "max" else window.mean(axis=(2, 3))
    return out


def check_layer(layer, x, rng, params=None, h=1e-5):
    """Backprop of L = Σ out · G (∂L/∂out = G) against central differences of L for x and every
    parameter; checks too that backward writes into neither G nor what forward was given."""
    G = rng.standard_normal(layer.forward(x.copy()).shape)

    def loss(_):
        return float(np.sum(layer.forward(x) * G))

    layer.forward(x)
    G_before, x_before = G.copy(), x.copy()
    dx = layer.backward(G)
    assert np.array_equal(G, G_before) and np.array_equal(x, x_before), "backward wrote"
    assert dx.shape == x.shape
    errors = {"x": relative_error(dx, numerical_gradient(loss, x, h))}
    if params is not None:
        analytic = layer.param_grads()
        for key, value in params.items():
            errors[key] = relative_error(analytic[key], numerical_gradient(loss, value, h))
    return errors


def distinct(rng, shape):
    """Values with no two within 2e-3 of each other, so that no max-pooling window is near a
    tie that the numerical gradient's ±h would cross."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) / size * 4 - 2) + rng.uniform(0, 1e-4, shape)


# --- im2col and col2im ----------------------------------------------------------------------


@pytest.mark.parametrize("case", CONV_CASES)
def test_im2col_rows_are_the_windows(case):
    N, C, H, W, _, FH, FW, stride, pad = case
    x = np.random.default_rng(0).standard_normal((N, C, H, W))
    col = im2col(x, FH, FW, stride, pad)
    positions = list(each_window(x, FH, FW, stride, pad))
    assert col.shape == (N * len(positions), C * FH * FW)
    rows = col.reshape(N, len(positions), C * FH * FW)  # rows in (n, y, x) order
    for p, (_, _, window) in enumerate(positions):
        np.testing.assert_array_equal(rows[:, p], window.reshape(N, -1))  # (c, i, j) order


def test_im2col_by_hand():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(
        im2col(x, 2, 2), [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    )
    # pad 1, stride 2: windows at the corners of the 5×5 padded image
    np.testing.assert_array_equal(
        im2col(x, 2, 2, stride=2, pad=1), [[0, 0, 0, 0], [0, 0, 1, 2], [0, 3, 0, 6], [4, 5, 7, 8]]
    )


@pytest.mark.parametrize("case", CONV_CASES)
def test_col2im_is_the_adjoint_of_im2col(case):
    N, C, H, W, _, FH, FW, stride, pad = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, C, H, W))
    col = im2col(x, FH, FW, stride, pad)
    y = rng.standard_normal(col.shape)
    back = col2im(y, x.shape, FH, FW, stride, pad)
    assert back.shape == x.shape
    # ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩
    np.testing.assert_allclose(np.sum(col * y), np.sum(x * back), rtol=1e-12)


def test_col2im_sums_overlapping_windows():
    # 3×3 image, 2×2 windows, stride 1: the centre pixel is in all four windows
    ones = np.ones((4, 4))
    np.testing.assert_array_equal(
        col2im(ones, (1, 1, 3, 3), 2, 2)[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_and_col2im_keep_the_dtype(dtype):
    x = np.ones((2, 3, 5, 5), dtype)
    col = im2col(x, 3, 3, pad=1)
    assert col.dtype == dtype and col2im(col, x.shape, 3, 3, pad=1).dtype == dtype


# --- Convolution ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CONV_CASES)
def test_convolution_forward_against_loops(case):
    N, C, H, W, FN, FH, FW, stride, pad = case
    rng = np.random.default_rng(2)
    params = {"W": rng.standard_normal((FN, C, FH, FW)), "b": rng.standard_normal(FN)}
    x = rng.standard_normal((N, C, H, W))
    out = Convolution(params, "W", "b", stride, pad).forward(x)
    np.testing.assert_allclose(
        out, direct_convolution(x, params["W"], params["b"], stride, pad), rtol=1e-12, atol=1e-12
    )


def test_convolution_forward_by_hand():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    params = {"W": np.array([[[[1.0, 0.0], [0.0, -1.0]]]]), "b": np.array([0.5])}
    # x[y, x] − x[y + 1, x + 1] = −5 everywhere, + 0.5
    np.testing.assert_array_equal(
        Convolution(params, "W", "b").forward(x), np.full((1, 1, 3, 3), -4.5)
    )


@pytest.mark.parametrize("case", CONV_CASES)
def test_convolution_backward_against_numerical_gradient(case):
    N, C, H, W, FN, FH, FW, stride, pad = case
    rng = np.random.default_rng(3)
    params = {"W": rng.standard_normal((FN, C, FH, FW)), "b": rng.standard_normal(FN)}
    layer = Convolution(params, "W", "b", stride, pad)
    errors = check_layer(layer, rng.standard_normal((N, C, H, W)), rng, params)
    assert max(errors.values()) < TOL, errors


def test_convolution_reads_its_parameters_at_every_call():
    params = {"W": np.ones((1, 1, 2, 2)), "b": np.zeros(1)}
    layer = Convolution(params, "W", "b")
    x = np.ones((1, 1, 2, 2))
    assert layer.forward(x).item() == 4.0
    params["W"] = np.full((1, 1, 2, 2), 2.0)
    assert layer.forward(x).item() == 8.0


def test_convolution_works_in_float32():
    rng = np.random.default_rng(5)
    params = {
        "W": rng.standard_normal((3, 2, 3, 3)).astype(np.float32),
        "b": np.zeros(3, np.float32),
    }
    layer = Convolution(params, "W", "b", pad=1)
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32
    dx = layer.backward(np.ones_like(out))
    assert dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.param_grads().values())
    np.testing.assert_allclose(
        out,
        direct_convolution(
            x.astype(np.float64),
            params["W"].astype(np.float64),
            params["b"].astype(np.float64),
            1,
            1,
        ),
        rtol=1e-5,
        atol=1e-5,
    )


def test_any_memory_layout_gives_the_same_result():
    rng = np.random.default_rng(6)
    params = {"W": rng.standard_normal((2, 3, 3, 3)), "b": rng.standard_normal(2)}
    layer = Convolution(params, "W", "b", pad=1)
    x = rng.standard_normal((2, 3, 5, 5))
    x_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    out = layer.forward(x)
    np.testing.assert_array_equal(layer.forward(x_last), out)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    np.testing.assert_array_equal(layer.backward(np.ascontiguousarray(dout)), dx)
    np.testing.assert_array_equal(layer.backward(dout[:, :, ::-1][:, :, ::-1]), dx)


# --- Pooling --------------------------------------------------------------------------------

#: (N, C, H, W, pool_h, pool_w, stride, pad): square and not, overlapping and not, padded
POOL_CASES = [
    (2, 3, 6, 8, 2, 2, 2, 0),
    (2, 2, 7, 5, 2, 2, 2, 0),
    (1, 3, 6, 7, 3, 3, 2, 1),
    (2, 2, 5, 6, 2, 3, 1, 0),
    (2, 1, 6, 6, 3, 2, 3, 1),
    (1, 2, 4, 4, 2, 2, 1, 1),
    # windows one pixel wide or high: the engine's separable max skips that pass
    (2, 3, 6, 7, 1, 2, 1, 0),
    (2, 2, 6, 5, 3, 1, 2, 0),
    (1, 2, 5, 5, 1, 1, 1, 0),
]


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("case", POOL_CASES)
def test_pooling_forward_against_loops(case, mode):
    N, C, H, W, ph, pw, stride, pad = case
    x = np.random.default_rng(7).standard_normal((N, C, H, W))
    out = Pooling(ph, pw, stride, pad, mode).forward(x)
    np.testing.assert_allclose(out, direct_pooling(x, ph, pw, stride, pad, mode), rtol=1e-14)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("case", POOL_CASES)
def test_pooling_backward_against_numerical_gradient(case, mode):
    N, C, H, W, ph, pw, stride, pad = case
    rng = np.random.default_rng(8)
    errors = check_layer(Pooling(ph, pw, stride, pad, mode), distinct(rng, (N, C, H, W)), rng)
    assert errors["x"] < TOL, errors


def test_pooling_by_hand():
    x = np.array(
        [
            [
                [
                    [1.0, 2.0, 5.0, 0.0],
                    [3.0, 4.0, 1.0, 1.0],
                    [0.0, 0.0, 2.0, 2.0],
                    [0.0, -1.0, 2.0, 9.0],
                ]
            ]
        ]
    )
    pool = Pooling(2, 2)
    np.testing.assert_array_equal(pool.forward(x), [[[[4.0, 5.0], [0.0, 9.0]]]])
    # the maximum gets dout; on a tie (the 0s, the 2s) the first one in the window
    np.testing.assert_array_equal(
        pool.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]])),
        [[[[0, 0, 2, 0], [0, 1, 0, 0], [3, 0, 0, 0], [0, 0, 0, 4]]]],
    )
    average = Pooling(2, 2, mode="average")
    np.testing.assert_array_equal(average.forward(x), [[[[2.5, 1.75], [-0.25, 3.75]]]])
    np.testing.assert_array_equal(
        average.backward(np.array([[[[4.0, 8.0], [0.0, 4.0]]]])),
        [[[[1, 1, 2, 2], [1, 1, 2, 2], [0, 0, 1, 1], [0, 0, 1, 1]]]],
    )


def test_max_pooling_ties_go_to_the_first_maximum_in_row_major_order():
    # two maxima at (0, 1) and (1, 0): the first in the book's (i, j) order is (0, 1) — a pass
    # along the height first would pick (1, 0); three wide, the first of three equal ones
    x = np.array([[[[1.0, 5.0], [5.0, 0.0]]]])
    pool = Pooling(2, 2)
    pool.forward(x)
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 1, 1))), [[[[0, 1], [0, 0]]]])
    x = np.array([[[[0.0, 2.0, 2.0], [2.0, 1.0, 2.0], [2.0, 2.0, 2.0]]]])
    pool = Pooling(3, 3)
    pool.forward(x)
    np.testing.assert_array_equal(
        pool.backward(np.full((1, 1, 1, 1), 7.0))[0, 0], [[0, 7, 0], [0, 0, 0], [0, 0, 0]]
    )


def test_pooling_stride_defaults_to_the_window_height():
    assert Pooling(3, 3).stride == 3 and Pooling(2, 3).stride == 2


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pooling_works_in_float32(mode):
    x = np.random.default_rng(9).standard_normal((2, 3, 6, 6)).astype(np.float32)
    pool = Pooling(2, 2, mode=mode)
    out = pool.forward(x)
    assert out.dtype == np.float32 and pool.backward(np.ones_like(out)).dtype == np.float32


# --- Flatten --------------------------------------------------------------------------------


def test_flatten_is_the_books_order_and_backward_reshapes():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    x_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    layer = Flatten()
    for given in (x, x_last):  # the order is (c, h, w) whatever the memory layout
        np.testing.assert_array_equal(layer.forward(given), np.arange(24.0).reshape(2, 12))
        np.testing.assert_array_equal(layer.backward(np.arange(24.0).reshape(2, 12)), x)


# --- errors ---------------------------------------------------------------------------------


def _conv(FN=2, C=1, FH=3, FW=3, **kwargs):
    return Convolution({"W": np.zeros((FN, C, FH, FW)), "b": np.zeros(FN)}, "W", "b", **kwargs)


@pytest.mark.parametrize(
    "shape, match",
    [
        (
            (3, 8, 8),
            r"Convolution W takes images of shape \(N, C, H, W\), got an array of shape "
            r"\(3, 8, 8\): one image \(C, H, W\) is x\[np.newaxis\]",
        ),
        ((4, 64), r"got an array of shape \(4, 64\): rows of flattened pixels .* flatten=False"),
        ((1, 2, 3, 4, 5), r"got an array of shape \(1, 2, 3, 4, 5\)"),
    ],
)
def test_wrong_rank_is_a_clear_error(shape, match):
    with pytest.raises(NnscratchError, match=match):
        _conv().forward(np.zeros(shape))
    with pytest.raises(NnscratchError, match="Pooling takes images of shape"):
        Pooling(2, 2).forward(np.zeros(shape))
    with pytest.raises(NnscratchError, match="im2col takes images of shape"):
        im2col(np.zeros(shape), 2, 2)


def test_a_window_larger_than_the_image_is_a_clear_error():
    with pytest.raises(
        NnscratchError,
        match=r"Convolution W: an image height of 3 with padding "
        r"0 is 3, smaller than the window's 5",
    ):
        _conv(FH=5, FW=2).forward(np.zeros((1, 1, 3, 8)))
    with pytest.raises(
        NnscratchError,
        match=r"Convolution W: an image width of 2 with padding "
        r"1 is 4, smaller than the window's 5",
    ):
        _conv(FH=1, FW=5, pad=1).forward(np.zeros((1, 1, 3, 2)))
    with pytest.raises(NnscratchError, match="Pooling: an image height of 1"):
        Pooling(2, 2).forward(np.zeros((1, 1, 1, 4)))
    with pytest.raises(NnscratchError, match="im2col: an image width of 2"):
        im2col(np.zeros((1, 1, 4, 2)), 3, 3)


def test_floor_leaves_out_the_rows_no_window_reaches():
    # (7 − 2) // 2 + 1 = 3: the last row and column are in no window, as in the book and PyTorch
    assert conv_output_size(7, 2, stride=2) == 3
    x = np.random.default_rng(10).standard_normal((1, 1, 7, 7))
    pool = Pooling(2, 2)
    assert pool.forward(x).shape == (1, 1, 3, 3)
    dx = pool.backward(np.ones((1, 1, 3, 3)))
    assert not dx[0, 0, 6].any() and not dx[0, 0, :, 6].any()


def test_channels_that_do_not_match_the_filters_are_a_clear_error():
    with pytest.raises(
        NnscratchError,
        match=r"Convolution W has filters of 3 channel\(s\) but "
        r"the images \(2, 1, 8, 8\) have 1",
    ):
        _conv(C=3).forward(np.zeros((2, 1, 8, 8)))


def test_col2im_refuses_a_column_matrix_of_the_wrong_shape():
    with pytest.raises(
        NnscratchError,
        match=r"col2im: col has shape \(4, 4\) but images "
        r"\(1, 1, 3, 3\) .* give \(9, 9\)",
    ):
        col2im(np.zeros((4, 4)), (1, 1, 3, 3), 3, 3, pad=1)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: _conv(stride=0), "Convolution stride must be a positive integer, got 0"),
        (lambda: _conv(pad=-1), "Convolution pad must be an integer ≥ 0, got -1"),
        (lambda: _conv(pad=1.5), "Convolution pad must be an integer ≥ 0, got 1.5"),
        (lambda: Pooling(0, 2), "Pooling pool_h must be a positive integer, got 0"),
        (lambda: Pooling(2, 2, stride=True), "Pooling stride must be a positive integer, got True"),
        (lambda: Pooling(2, 2, pad=2), "Pooling pad 2 must be smaller than the window 2×2"),
        (lambda: Pooling(2, 2, mode="min"), "pooling mode must be one of max, average, got 'min'"),
        (
            lambda: im2col(np.zeros((1, 1, 4, 4)), 2, 2, stride=0),
            "im2col stride must be a positive integer, got 0",
        ),
        (lambda: im2col(np.zeros((1, 1, 4, 4)), 2.0, 2), "im2col FH must be a positive integer"),
        (
            lambda: col2im(np.zeros((9, 4)), (1, 1, 4, 4), 2, 2, pad=-1),
            "col2im pad must be an integer ≥ 0, got -1",
        ),
        (
            lambda: col2im(np.zeros((9, 4)), (4, 4), 2, 2),
            r"col2im: x_shape must be the images' "
            r"\(N, C, H, W\), got \(4, 4\)",
        ),
    ],
)
def test_bad_layer_arguments_are_clear_errors(make, match):
    with pytest.raises(NnscratchError, match=match):
        make()
