"""The figures of a convolutional network: what they draw is the filters and the feature maps,
checked against an independent correlation (scipy) — not just that a picture appears."""

import numpy as np
import pytest
from scipy.signal import correlate2d

from nnscratch.convnets import SimpleConvNet
from nnscratch.errors import NnscratchError
from nnscratch.nets import MultiLayerNet
from nnscratch.plots import conv


def _images(fig):
    """The arrays of every image drawn, in the order of the figure's axes (subfigures too)."""
    axes = list(fig.axes) + [ax for sub in fig.subfigs for ax in sub.axes]
    return [np.asarray(im.get_array()) for ax in axes for im in ax.get_images()]


@pytest.fixture
def net():
    net = SimpleConvNet(
        (1, 9, 7),
        {"filter_num": 5, "filter_size": 3},
        hidden_size=4,
        output_size=3,
        weight_init_std=0.5,
        seed=1,
    )
    net.params["b1"][:] = np.array([0.1, -0.2, 0.0, 0.3, -0.1])
    return net


def test_feature_maps_are_relu_of_the_correlation_of_image_and_filter(net):
    image = np.random.default_rng(0).random((1, 9, 7))
    drawn = _images(conv.feature_maps(net, image))
    assert np.array_equal(drawn[0], image[0])  # the input beside the maps
    w, b = net.params["W1"], net.params["b1"]
    for f in range(5):
        expected = np.maximum(correlate2d(image[0], w[f, 0], mode="valid") + b[f], 0)
        assert drawn[1 + f].shape == (7, 5)
        assert np.allclose(drawn[1 + f], expected, atol=1e-12), f


def test_filters_are_drawn_initial_above_learned(net):
    before = net.params["W1"].copy()
    after = before + 1.0
    drawn = _images(conv.conv_filters(after, before))
    assert len(drawn) == 10
    for f in range(5):
        assert np.array_equal(drawn[f], before[f, 0])
        assert np.array_equal(drawn[5 + f], after[f, 0])
    assert len(_images(conv.conv_filters(after))) == 5


def test_a_dense_network_has_no_filters_to_draw():
    with pytest.raises(NnscratchError, match=r"no convolution.*plot weights"):
        conv.first_conv_filters(MultiLayerNet(4, [3], 2, seed=0))


def test_feature_maps_take_one_image(net):
    with pytest.raises(NnscratchError, match=r"one image \(C, H, W\)"):
        conv.feature_maps(net, np.zeros((2, 1, 9, 7)))
