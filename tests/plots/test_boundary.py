"""Decision regions: the grid's classes are net.predict's, point by point; the figure shows the
points; a network that does not take 2 inputs is a clear error."""

import numpy as np
import pytest
from matplotlib import colors
from sklearn.datasets import make_moons

from nnscratch.errors import NnscratchError
from nnscratch.nets import MultiLayerNet, TwoLayerNet
from nnscratch.optim import Adam
from nnscratch.plots import class_grid, decision_regions, grid_axes
from nnscratch.plots.boundary import CLASS_COLORS, REGION_ALPHA, region_image
from nnscratch.run.trainer import train


def _step_net():
    """A TwoLayerNet whose answer is known by hand: h = sigmoid(10·x0), scores (h, 1 − h), so
    class 0 exactly where x0 > 0, with probability softmax(h, 1 − h)_0 = 1 / (1 + e^(1 − 2h))."""
    net = TwoLayerNet(2, 1, 2, seed=0)
    net.params["W1"][...] = [[10.0], [0.0]]
    net.params["b1"][...] = 0.0
    net.params["W2"][...] = [[1.0, -1.0]]
    net.params["b2"][...] = [0.0, 1.0]
    return net


@pytest.fixture(scope="module")
def moons():
    x, t = make_moons(200, noise=0.1, random_state=0)
    net = MultiLayerNet(2, [16, 16], 2, activation="tanh", weight_init="xavier", seed=0)
    train(net, x[:160], t[:160], epochs=30, batch_size=32, optimizer=Adam(0.01), seed=0)
    return net, x[:160], t[:160], x[160:], t[160:]


def test_grid_classes_and_confidence_match_the_hand_computed_net():
    net = _step_net()
    g0, g1 = np.linspace(-1, 1, 9) + 0.05, np.linspace(-2, 2, 5)  # no column at x0 = 0
    classes, confidence = class_grid(net, g0, g1)
    assert classes.shape == confidence.shape == (5, 9)
    expected = np.where(g0 > 0, 0, 1)
    np.testing.assert_array_equal(classes, np.tile(expected, (5, 1)))
    h = 1 / (1 + np.exp(-10 * g0))
    p0 = 1 / (1 + np.exp(1 - 2 * h))
    np.testing.assert_allclose(confidence, np.tile(np.maximum(p0, 1 - p0), (5, 1)), rtol=1e-12)


def test_grid_classes_equal_predict_at_sampled_points(moons):
    net, x, t, x_test, _ = moons
    g0, g1 = grid_axes(x, resolution=60)
    classes, confidence = class_grid(net, g0, g1)
    rng = np.random.default_rng(1)
    for i, j in rng.integers(0, 60, size=(40, 2)):
        y = net.predict(np.array([[g0[j], g1[i]]]))[0]  # one point at a time, row i ↔ x1
        assert classes[i, j] == np.argmax(y)
        assert confidence[i, j] == pytest.approx(np.max(y), rel=1e-12)
    assert set(np.unique(classes)) == {0, 1}  # both moons get a region


def test_grid_spans_the_points_with_a_margin():
    x = np.array([[0.0, -1.0], [2.0, 3.0]])
    g0, g1 = grid_axes(x, resolution=11, margin=0.5)
    assert (g0[0], g0[-1], g1[0], g1[-1]) == (-1.0, 3.0, -3.0, 5.0)
    assert len(g0) == len(g1) == 11


def test_region_colour_is_the_class_colour_paler_when_unsure():
    classes = np.array([[0, 1], [2, 2]])
    confidence = np.array([[1.0, 1.0], [1 / 3, 2 / 3]])
    img = region_image(classes, confidence, 3)
    for (i, j), alpha in {
        (0, 0): REGION_ALPHA[1],
        (0, 1): REGION_ALPHA[1],
        (1, 0): REGION_ALPHA[0],
        (1, 1): (REGION_ALPHA[0] + REGION_ALPHA[1]) / 2,
    }.items():
        rgb = np.array(colors.to_rgb(CLASS_COLORS[classes[i, j]]))
        np.testing.assert_allclose(img[i, j], alpha * rgb + (1 - alpha) * 1.0)


def test_figure_shows_train_and_test_points_and_the_accuracies(moons):
    net, x, t, x_test, t_test = moons
    fig = decision_regions(net, x, t, x_test, t_test, resolution=40)
    ax = fig.axes[0]
    offsets = [c.get_offsets() for c in ax.collections]
    assert len(offsets) == 2
    np.testing.assert_allclose(offsets[0], x)
    np.testing.assert_allclose(offsets[1], x_test)
    train_acc = np.mean(np.argmax(net.predict(x), axis=1) == t)
    test_acc = np.mean(np.argmax(net.predict(x_test), axis=1) == t_test)
    assert f"train accuracy {train_acc:.3f}" in ax.get_title()
    assert f"test accuracy {test_acc:.3f}" in ax.get_title()
    assert ax.get_xlabel() and ax.get_ylabel()
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["train (160)", "test (40)"]
    image = ax.get_images()[0].get_array()
    assert image.shape == (40, 40, 3) and np.ptp(image) > 0.2  # regions of distinct colours


def test_figure_without_test_points(moons):
    net, x, t, _, _ = moons
    fig = decision_regions(net, x, t, resolution=20)
    assert len(fig.axes[0].collections) == 1 and "test" not in fig.axes[0].get_title()


def test_a_net_of_other_than_2_inputs_is_a_clear_error():
    net = TwoLayerNet(3, 4, 2, seed=0)
    with pytest.raises(NnscratchError, match="2 inputs.*takes 3"):
        decision_regions(net, np.zeros((4, 2)), np.zeros(4, int))
    with pytest.raises(NnscratchError, match="dense first layer"):
        class_grid(object(), np.zeros(3), np.zeros(3))


@pytest.mark.parametrize("x", [np.zeros((5, 3)), np.zeros(4), np.zeros((0, 2))])
def test_points_that_are_not_2d_are_a_clear_error(x):
    with pytest.raises(NnscratchError, match=r"\(N, 2\)"):
        grid_axes(x)
