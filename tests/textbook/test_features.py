"""TensorFlow Playground's input features (``layers.Features``, ``MultiLayerNet(features=...)``,
the ``features`` option): values worked out by hand, the backward pass against central
differences, and a network with them that learns, is saved, plotted and evaluated as any other."""

import json

import numpy as np
import pytest

from nnscratch import engine
from nnscratch.cli import main
from nnscratch.errors import NnscratchError
from nnscratch.io import load_model, save_model
from nnscratch.layers import FEATURES, Features, check_features
from nnscratch.nets import MultiLayerNet
from nnscratch.run.build import load_data, optimizer, trainer
from nnscratch.run.options import resolve
from nnscratch.validation import input_size
from tests.helpers import one_line_error
from tests.textbook.test_layers import TOL, _check_layer


def test_each_feature_by_hand():
    x = np.array([[0.5, -2.0], [3.0, 0.25]])
    out = Features(list(FEATURES)).forward(x)
    expected = [
        [0.5, -2.0, 0.25, 4.0, -1.0, np.sin(0.5), np.sin(-2.0)],
        [3.0, 0.25, 9.0, 0.0625, 0.75, np.sin(3.0), np.sin(0.25)],
    ]
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    # the chosen ones, in the order chosen
    np.testing.assert_array_equal(Features(["x2^2", "x1"]).forward(x), [[4.0, 0.5], [0.0625, 3.0]])


@pytest.mark.parametrize("names", [list(FEATURES), ["x1x2"], ["sin_x2", "x1^2"]])
def test_backward_against_central_differences(names):
    rng = np.random.default_rng(4)
    assert _check_layer(Features(names), rng.standard_normal((6, 2)), rng) < TOL


@pytest.mark.parametrize("names", [[], ["x3"], ["x1", "x1"], "x1,,x2", 7, [1]])
def test_bad_feature_lists_name_the_features(names):
    with pytest.raises(NnscratchError, match=r"^features must be some of x1, x2, x1\^2"):
        check_features(names)


def test_text_is_a_list_of_features():
    assert check_features("x1, sin_x2") == ["x1", "sin_x2"]


def test_a_network_with_features_takes_the_points_and_checks_its_gradient():
    net = MultiLayerNet(2, [5], 3, activation="tanh", features=list(FEATURES), seed=1)
    assert input_size(net) == 2 and net.params["W1"].shape == (7, 5)
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((8, 2)), rng.integers(0, 3, 8)
    grads, numeric = net.gradient(x, t), net.numerical_gradient(x, t)
    for key in net.params:
        np.testing.assert_allclose(grads[key], numeric[key], rtol=1e-5, atol=1e-8)
    with pytest.raises(NnscratchError, match="made of a 2-D point .* input_size is 64"):
        MultiLayerNet(64, [5], 10, features=["x1"])


def test_squares_let_a_network_without_hidden_layers_draw_a_circle():
    """Circles are not linearly separable in (x1, x2), but they are in (x1², x2²): the same
    linear network (no hidden layer: the table's spec always has one) learns them only with the
    squares."""
    spec = resolve({"dataset": "circles", "epochs": 60, "lr": 0.05, "batchnorm": False})
    data = load_data(spec)
    accuracy = {}
    for features in (None, ["x1^2", "x2^2"]):
        net = MultiLayerNet(2, [], 2, features=features, seed=0)
        trainer(spec, net, optimizer(spec), data, seed=0).train()
        accuracy[str(features)] = net.accuracy(data.x_test, data.t_test)
    assert accuracy["['x1^2', 'x2^2']"] >= 0.95 and accuracy["None"] <= 0.75, accuracy


def test_the_engine_computes_a_network_with_features_as_the_book():
    book = MultiLayerNet(2, [6, 4], 3, features=["x1", "x2", "x1x2", "sin_x1"], seed=2)
    fast = MultiLayerNet(2, [6, 4], 3, features=["x1", "x2", "x1x2", "sin_x1"], seed=2)
    engine.use("fast", fast)
    x, t = np.random.default_rng(1).standard_normal((9, 2)), np.arange(9) % 3
    grads_book, grads_fast = book.gradient(x, t), fast.gradient(x, t)
    for key in book.params:
        np.testing.assert_allclose(grads_fast[key], grads_book[key], rtol=1e-12)


def test_a_model_file_keeps_the_features(tmp_path):
    net = MultiLayerNet(2, [4], 2, features=["x2", "x1^2"], seed=5)
    loaded = load_model(save_model(tmp_path / "m.npz", net))
    assert loaded.features == ["x2", "x1^2"] and isinstance(loaded.layers[0], Features)
    x = np.random.default_rng(2).standard_normal((10, 2))
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


@pytest.mark.slow
def test_train_then_plot_and_evaluate_a_model_with_features(tmp_path, capsys):
    argv = ["train", "--quiet", "--dataset", "circles", "--hidden", "4", "--epochs", "20"]
    # three features: W1 has three rows, the network still takes two inputs
    assert main([*argv, "--features", "x1^2,x2^2,x1x2", "--out", str(tmp_path)]) == 0
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["config"]["features"] == ["x1^2", "x2^2", "x1x2"]
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "model.npz")]) == 0
    assert f"{history['test_acc'][-1]:.4f}" in capsys.readouterr().out
    model, out = str(tmp_path / "model.npz"), tmp_path / "boundary.png"
    assert main(["plot", "boundary", "--model", model, "--out", str(out)]) == 0
    assert out.stat().st_size > 1000


def test_the_command_line_refuses_features_on_images(capsys):
    assert main(["train", "--dataset", "digits", "--features", "x1", "--quiet"]) == 2
    assert one_line_error(capsys).strip() == (
        "nnscratch: error: features is not an option of --dataset digits: it applies to "
        "--model mlp on a 2-D set (moons, circles, spiral, xor, gaussians)"
    )
