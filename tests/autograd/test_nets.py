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


def test_a_network_with_input_features():
    kwargs = {"features": ["x1", "x2", "sin_x1", "x1x2"], "activation": "tanh", "seed": 2}
    book = nets.MultiLayerNet(2, [5], 3, **kwargs)
    auto = autograd_nets.MultiLayerNet(2, [5], 3, **kwargs)
    x, t = np.random.default_rng(3).standard_normal((7, 2)), np.arange(7) % 3
    (loss_book, grads_book), (loss_auto, grads_auto) = (
        book.loss_gradient(x, t),
        auto.loss_gradient(x, t),
    )
    assert loss_auto == pytest.approx(loss_book, rel=1e-12)
    assert scaled_difference(grads_auto, grads_book) <= 1e-10


def test_passes_between_the_forward_and_its_backward_change_nothing():
    """Batch norm's node keeps what its backward needs: a prediction on other data (another
    batch size) between building the loss and ``backward()`` leaves the gradients as they were."""
    _, auto = pair("MultiLayerNet")
    expected = pair("MultiLayerNet")[1]
    rng = np.random.default_rng(4)
    x, t, other = rng.standard_normal((6, 12)), rng.integers(0, 4, 6), rng.standard_normal((50, 12))
    _, grads_expected = expected.loss_gradient(x, t)
    p = autograd_nets.parameters(auto)
    loss = autograd_nets.loss_variable(auto, x, t, p)
    auto.predict(other)
    loss.backward()
    got = {key: v.grad.data for key, v in p.items()}
    assert scaled_difference(got, grads_expected) <= 1e-12


def test_float32_stays_float32():
    kwargs = {"activation": "tanh", "weight_decay_lambda": 0.1, "dtype": "float32", "seed": 0}
    book = nets.MultiLayerNet(12, [9], 4, **kwargs)
    auto = autograd_nets.MultiLayerNet(12, [9], 4, **kwargs)
    x, t = np.random.default_rng(5).standard_normal((6, 12)), np.arange(6) % 4
    loss, grads = auto.loss_gradient(x, t)
    assert loss.dtype == np.float32 and {g.dtype for g in grads.values()} == {np.dtype("float32")}
    _, grads_book = book.loss_gradient(x, t)
    assert scaled_difference(grads, grads_book) <= 1e-5


def test_a_layer_without_a_function_is_named():
    class Square:
        def forward(self, x):
            return x * x

    net = autograd_nets.MultiLayerNet(2, [3], 2, seed=0)
    net.layers.insert(0, Square())
    with pytest.raises(NnscratchError, match="autograd has no function for a Square layer"):
        net.loss_gradient(np.zeros((2, 2)), [0, 1])
