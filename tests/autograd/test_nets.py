"""The same numbers two ways: the book's networks with hand-written backward passes and the same
networks differentiated by the graph (``nnscratch.autograd.nets``) give the same loss, the same
gradients (float64, within 1e-10 of the gradients' scale) and the same training history."""

import numpy as np
import pytest

from nnscratch import convnets, nets
from nnscratch.autograd import nets as autograd_nets
from nnscratch.datasets import load_dataset
from nnscratch.errors import NnscratchError
from nnscratch.optim import Adam
from nnscratch.run.trainer import Trainer

NETWORKS = {
    "TwoLayerNet": (
        {"input_size": 12, "hidden_size": 7, "output_size": 4, "weight_init_std": 0.5},
        (12,),
    ),
    "MultiLayerNet": (
        {
            "input_size": 12,
            "hidden_sizes": [9, 8],
            "output_size": 4,
            "activation": "tanh",
            "weight_decay_lambda": 0.1,
            "use_batchnorm": True,
            "dropout": 0.3,
        },
        (12,),
    ),
    "SimpleConvNet": (
        {
            "input_dim": (2, 9, 9),
            "conv_param": {"filter_num": 4, "filter_size": 3, "pad": 1},
            "hidden_size": 6,
            "output_size": 4,
            "weight_init_std": 0.3,
        },
        (2, 9, 9),
    ),
}


def pair(name, seed=3):
    kwargs, _ = NETWORKS[name]
    book_cls = getattr(nets, name, None) or getattr(convnets, name)
    return book_cls(**kwargs, seed=seed), getattr(autograd_nets, name)(**kwargs, seed=seed)


def scaled_difference(a, b):
    """max |a − b| over every parameter, over the largest |gradient| of the network: a bias
    before batch norm has a gradient of round-off only, whose own relative error means nothing."""
    scale = max(np.abs(g).max() for g in b.values())
    return max(np.abs(a[key] - b[key]).max() for key in b) / scale


@pytest.mark.parametrize("name", list(NETWORKS))
def test_loss_and_gradients_equal_the_hand_written_ones(name):
    book, auto = pair(name)
    _, shape = NETWORKS[name]
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((6, *shape)), rng.integers(0, 4, 6)
    for _ in range(3):  # dropout masks and running statistics move on alike
        loss_book, grads_book = book.loss_gradient(x, t)
        loss_auto, grads_auto = auto.loss_gradient(x, t)
        assert loss_auto == pytest.approx(loss_book, rel=1e-12)
        assert grads_auto.keys() == grads_book.keys()
        assert scaled_difference(grads_auto, grads_book) <= 1e-10
        for key in book.buffers:
            np.testing.assert_allclose(auto.buffers[key], book.buffers[key], rtol=1e-12)
    np.testing.assert_allclose(auto.predict(x), book.predict(x), rtol=1e-12)


def test_the_autograd_network_checks_against_the_numerical_gradient():
    _, auto = pair("MultiLayerNet")
    auto.dropout = 0.0  # a gradient check needs one function, not a new mask each pass
    for layer in auto.layers:
        if hasattr(layer, "ratio"):
            layer.ratio = 0.0
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((5, 12)), rng.integers(0, 4, 5)
    _, grads = auto.loss_gradient(x, t)
    numeric = auto.numerical_gradient(x, t, h=1e-5)
    assert scaled_difference(grads, numeric) < 1e-6


@pytest.mark.parametrize("engine", ["book", "fast"])
def test_training_either_gives_the_same_history(engine):
    data = load_dataset("digits")
    histories = []
    for module in (nets, autograd_nets):
        net = module.MultiLayerNet(
            64, [32, 16], 10, use_batchnorm=True, dropout=0.1, weight_decay_lambda=1e-4, seed=0
        )
        trainer = Trainer(
            net,
            data.x_train,
            data.t_train,
            data.x_test,
            data.t_test,
            epochs=2,
            batch_size=32,
            optimizer=Adam(1e-3),
            seed=1,
            engine=engine,
        )
        histories.append(trainer.train())
    book, auto = histories
    assert len(auto["train_loss"]) == len(book["train_loss"]) > 50
    np.testing.assert_allclose(auto["train_loss"], book["train_loss"], rtol=1e-10)
    assert auto["train_acc"] == book["train_acc"] and auto["test_acc"] == book["test_acc"]


def test_a_layer_without_a_function_is_named():
    net = autograd_nets.MultiLayerNet(2, [3], 2, features=["x1", "x1^2"], seed=0)
    with pytest.raises(NnscratchError, match="autograd has no function for a Features layer"):
        net.loss_gradient(np.zeros((2, 2)), [0, 1])
