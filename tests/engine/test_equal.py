"""The engine computes the textbook's numbers: every layer, optimizer and network forward, backward
and update, in float64, to a relative difference of at most 1e-12 (the largest difference over
the largest value, ``gradcheck.relative_error``), and whole training runs of the notebook's
network, the default recipe and SimpleConvNet to the same history — on NumPy's kernels and on the
compiled ones alike."""

import copy

import numpy as np
import pytest

from nnscratch import conv, engine, layers, optim
from nnscratch.convnets import DeepConvNet, SimpleConvNet
from nnscratch.engine import FAST
from nnscratch.gradcheck import relative_error
from nnscratch.nets import MultiLayerNet, TwoLayerNet
from nnscratch.run.build import build
from tests.textbook.test_conv import CONV_CASES, POOL_CASES

TOL = 1e-12
RNG = np.random.default_rng(0)
# every test twice: the engine on NumPy's kernels and on the compiled ones (tests/engine/conftest)
pytestmark = pytest.mark.usefixtures("kernels")


def same(a, b, tol=TOL, zero=1e-14):
    """a and b within ``tol`` of each other relative to their scale (and of the same shape);
    values that are both rounding noise around 0 (the gradient of a bias just before BatchNorm,
    exactly 0 in exact arithmetic) are compared only as such."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    if max(np.max(np.abs(a), initial=0), np.max(np.abs(b), initial=0)) < zero:
        return
    assert relative_error(a, b) <= tol, relative_error(a, b)


def pair(layer):
    """The textbook ``layer`` and an engine copy of it (the same attributes, the engine's class)."""
    fast = copy.copy(layer)
    fast.__class__ = FAST[type(layer)]
    return layer, fast


def forward_backward(layer, x, dout_seed=1):
    out = layer.forward(x)
    dout = np.random.default_rng(dout_seed).standard_normal(np.shape(out))
    return out, layer.backward(dout)


def check_pair(book, fast, x):
    """forward and backward of both layers on ``x`` (and a random ∂L/∂out), and their
    parameters' gradients, equal."""
    out_b, dx_b = forward_backward(book, x.copy())
    out_f, dx_f = forward_backward(fast, x.copy())
    same(out_f, out_b)
    same(dx_f, dx_b)
    if hasattr(book, "param_grads"):
        for key, grad in book.param_grads().items():
            same(fast.param_grads()[key], grad)


def test_every_textbook_layer_and_optimizer_has_an_engine_class_that_subclasses_it():
    for book, fast in FAST.items():
        assert issubclass(fast, book) and fast.__name__ == book.__name__
        assert fast.__module__.startswith("nnscratch.engine.")


# --- layers ----------------------------------------------------------------------------------


def test_affine():
    params = {"W": RNG.standard_normal((7, 5)), "b": RNG.standard_normal(5)}
    check_pair(*pair(layers.Affine(params, "W", "b")), RNG.standard_normal((9, 7)))


@pytest.mark.parametrize("cls", [layers.Sigmoid, layers.Relu])
def test_activations(cls):
    x = RNG.standard_normal((9, 6)) * 3
    x[0, :3] = 0.0  # ReLU's kink: the gradient there is 0 in both
    check_pair(*pair(cls()), x)


@pytest.mark.parametrize("labels", ["index", "column", "one-hot", "one sample", "one-hot sample"])
def test_softmax_with_loss(labels):
    x = RNG.standard_normal((8, 5)) * 4
    t = RNG.integers(0, 5, 8)
    if labels == "column":
        t = t[:, None]
    elif labels == "one-hot":
        t = np.eye(5)[t]
    elif labels == "one sample":
        x, t = x[0], t[0]
    elif labels == "one-hot sample":
        x, t = x[0], np.eye(5)[t[0]]
    book, fast = pair(layers.SoftmaxWithLoss())
    same(fast.forward(x, t), book.forward(x, t))
    same(fast.backward(0.7), book.backward(0.7))


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(training):
    params = {"g": RNG.uniform(0.5, 2, 6), "b": RNG.standard_normal(6)}
    buffers_b = {"m": RNG.standard_normal(6), "v": RNG.uniform(0.5, 2, 6)}
    buffers_f = {k: v.copy() for k, v in buffers_b.items()}
    book = layers.BatchNorm(params, "g", "b", buffers_b, "m", "v")
    fast = FAST[layers.BatchNorm](params, "g", "b", buffers_f, "m", "v")
    book.training = fast.training = training
    check_pair(book, fast, RNG.standard_normal((10, 6)) * 3 + 1)
    for key in buffers_b:
        same(buffers_f[key], buffers_b[key])


@pytest.mark.parametrize("case", CONV_CASES)
def test_convolution(case):
    N, C, H, W, FN, FH, FW, stride, pad = case
    params = {"W": RNG.standard_normal((FN, C, FH, FW)), "b": RNG.standard_normal(FN)}
    check_pair(
        *pair(conv.Convolution(params, "W", "b", stride, pad)), RNG.standard_normal((N, C, H, W))
    )


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("case", POOL_CASES)
def test_pooling(case, mode):
    N, C, H, W, ph, pw, stride, pad = case
    x = RNG.standard_normal((N, C, H, W))
    x[0, 0] = 1.0  # ties: both give the window's first maximum the gradient
    check_pair(*pair(conv.Pooling(ph, pw, stride, pad, mode)), x)


def test_flatten():
    check_pair(*pair(conv.Flatten()), RNG.standard_normal((3, 2, 4, 5)))


# --- optimizers ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_optimizers(name):
    """Six updates of parameters of several shapes, one larger than the engine's block (so it is
    updated block by block); the parameters and the saved state equal."""
    shapes = {"W1": (300, 200), "b1": (200,), "W2": (200, 3)}
    params_b = {k: RNG.standard_normal(s) for k, s in shapes.items()}
    params_f = {k: v.copy() for k, v in params_b.items()}
    cls = optim.OPTIMIZERS[name]
    book, fast = cls(lr=0.05), FAST[cls](lr=0.05)
    for _ in range(6):
        grads = {k: RNG.standard_normal(s) for k, s in shapes.items()}
        before = {k: g.copy() for k, g in grads.items()}
        book.update(params_b, grads)
        fast.update(params_f, grads)
        assert all(np.array_equal(grads[k], before[k]) for k in grads)  # grads never written
    for key in shapes:
        same(params_f[key], params_b[key])
    state_b, state_f = book.state_dict(), fast.state_dict()
    assert state_b.keys() == state_f.keys()
    for key in state_b:
        same(state_f[key], state_b[key])


# --- networks --------------------------------------------------------------------------------

NETWORKS = {
    "two-layer": (lambda: TwoLayerNet(12, 7, 4, weight_init_std=0.5, seed=3), (12,)),
    "mlp": (
        lambda: MultiLayerNet(
            12,
            [9, 8],
            4,
            activation="tanh",
            weight_decay_lambda=0.1,
            use_batchnorm=True,
            dropout=0.3,
            seed=3,
        ),
        (12,),
    ),
    "cnn": (
        lambda: SimpleConvNet(
            (2, 9, 9),
            {"filter_num": 4, "filter_size": 3, "pad": 1},
            hidden_size=6,
            output_size=4,
            weight_init_std=0.3,
            seed=3,
        ),
        (2, 9, 9),
    ),
    "deep-cnn": (
        lambda: DeepConvNet((1, 12, 12), (2, 2, 3, 3, 4, 4), hidden_size=5, output_size=4, seed=3),
        (1, 12, 12),
    ),
}


@pytest.mark.parametrize("name", list(NETWORKS))
def test_networks_loss_gradient_and_predictions(name):
    make, shape = NETWORKS[name]
    book, fast = make(), make()
    assert engine.use("fast", fast) == "fast" and engine.engine_of(fast) == "fast"
    assert engine.engine_of(book) == "book"
    x, t = RNG.standard_normal((6, *shape)), RNG.integers(0, 4, 6)
    for _ in range(2):  # twice: the dropout masks and BatchNorm's running statistics move on
        loss_b, grads_b = book.loss_gradient(x, t)
        loss_f, grads_f = fast.loss_gradient(x, t)
        same(loss_f, loss_b)
        assert grads_f.keys() == grads_b.keys() == book.params.keys()
        for key in grads_b:
            same(grads_f[key], grads_b[key])
    for key in book.buffers:
        same(fast.buffers[key], book.buffers[key])
    same(fast.predict(x), book.predict(x))


def test_use_moves_a_network_both_ways_in_place_and_keeps_its_parameters():
    net = DeepConvNet((1, 12, 12), (2, 2, 3, 3, 4, 4), hidden_size=5, output_size=4, seed=1)
    book_order = [type(layer) for layer in net.layers]
    ids, params, held = [id(layer) for layer in net.layers], net.params, net.layers
    engine.use("fast", net)
    assert sorted(map(id, net.layers)) == sorted(ids) and net.params is params
    fast_order = [type(layer).__name__ for layer in net.layers]
    # ReLU after each max pooling instead of before, the same layers
    assert fast_order[:3] == ["Convolution", "Relu", "Convolution"]
    assert fast_order[3:5] == ["Pooling", "Relu"]
    assert net.layers[0].input_gradient is False
    engine.use("fast", net)  # again: nothing changes
    assert [type(layer).__name__ for layer in net.layers] == fast_order
    engine.use("book", net)
    assert [type(layer) for layer in net.layers] == book_order
    assert net.layers is held  # the same list, reordered in place
    # the book's first layer gives the data's gradient again
    x, t = RNG.normal(size=(2, 1, 12, 12)), np.array([0, 3])
    net.loss(x, t)
    dout = net.last_layer.backward()
    for layer in reversed(net.layers):
        dout = layer.backward(dout)
    assert dout.shape == x.shape
    # a layer put first: the former first layer gives its input's gradient on the fast engine
    net.layers.insert(0, layers.Relu())
    engine.use("fast", net)
    assert net.layers[1].input_gradient is True and "input_gradient" not in vars(net.layers[0])


def test_a_relu_of_another_class_keeps_its_place_before_max_pooling():
    class Leaky(layers.Relu):  # max pooling of a leaky ReLU's output is another computation
        pass

    conv_param = {"filter_num": 2, "filter_size": 3, "pad": 0, "stride": 1}
    net = SimpleConvNet((1, 8, 8), conv_param, hidden_size=4, output_size=3)
    relu_at = next(i for i, layer in enumerate(net.layers) if type(layer) is layers.Relu)
    net.layers[relu_at] = Leaky()
    engine.use("fast", net)
    assert type(net.layers[relu_at]) is Leaky
    assert type(net.layers[relu_at + 1]).__name__ == "Pooling"


def test_use_refuses_an_unknown_engine_and_leaves_other_classes_alone():
    class Custom(layers.Relu):
        pass

    net = TwoLayerNet(3, 2, 2, seed=0)
    net.layers[1] = Custom()
    engine.use("fast", net)
    assert (
        type(net.layers[1]) is Custom
        and type(net.layers[0]).__module__ == "nnscratch.engine.layers"
    )
    with pytest.raises(ValueError, match="engine must be one of fast, book, got 'turbo'"):
        engine.use("turbo", net)


# --- whole runs ------------------------------------------------------------------------------

RUNS = {
    # the notebook's network: TwoLayerNet, sigmoid, SGD at the notebook's rate
    "notebook": {"model": "two-layer", "hidden": (50,), "epochs": 3},
    # the default recipe: MultiLayerNet, BatchNorm, Adam, cosine schedule
    "recipe": {"model": "mlp", "epochs": 3},
    # SimpleConvNet on the digits as 8×8 images
    "cnn": {"model": "cnn", "hidden": (20,), "epochs": 4, "dtype": "float64"},
}


@pytest.mark.parametrize("name", list(RUNS))
def test_whole_runs_give_the_same_history(name):
    histories = {}
    for engine_name in ("book", "fast"):
        run = build({**RUNS[name], "engine": engine_name, "dataset": "digits"})
        assert run.trainer.engine == engine.engine_of(run.net) == engine_name
        histories[engine_name] = run.trainer.train()
    book, fast = histories["book"], histories["fast"]
    assert len(book["train_loss"]) == len(fast["train_loss"]) > 10
    np.testing.assert_allclose(fast["train_loss"], book["train_loss"], rtol=1e-9)
    assert fast["train_acc"] == book["train_acc"] and fast["test_acc"] == book["test_acc"]
    assert np.mean(book["train_loss"][-10:]) < 0.9 * np.mean(book["train_loss"][:10])  # learned
