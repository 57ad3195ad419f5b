"""`nnscratch train --model cnn | deep-cnn` and what reads their model files: evaluate, predict,
plot filters / feature-maps / confusion / mistakes; Ctrl-C and --resume to the same end; options
a convolutional network does not take."""

import json
import signal
import subprocess

import numpy as np
import pytest
from matplotlib.image import imread
from PIL import Image

from nnscratch.cli import main
from nnscratch.convnets import DeepConvNet, SimpleConvNet
from nnscratch.datasets import load_dataset
from nnscratch.io import load_model
from nnscratch.run.build import seeds as run_seeds
from tests.helpers import COMMAND, one_line_error, start, trained_cnn, wait_for_line

#: DeepConvNet on digits (8×8): about 0.5 s an epoch, long enough to be stopped in the middle
DEEP = [
    "train",
    "--model",
    "deep-cnn",
    "--dataset",
    "digits",
    "--batch-size",
    "16",
    "--epochs",
    "6",
    "--seed",
    "4",
]


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    return trained_cnn(tmp_path_factory.mktemp("cnn"), epochs=8)


@pytest.mark.slow
def test_cnn_trains_on_images_and_saves_a_simple_conv_net(cnn):
    net = load_model(cnn / "model.npz")
    assert isinstance(net, SimpleConvNet) and net.input_dim == (1, 8, 8)
    assert net.params["W1"].shape == (30, 1, 5, 5) and net.dtype == np.float32
    config = json.loads((cnn / "history.json").read_text())["config"]
    assert (
        config["model"],
        config["hidden_size"],
        config["optimizer"],
        config["lr"],
        config["lr_schedule"],
    ) == ("cnn", 100, "adam", 0.003, "cosine")  # the README's recipe
    data = load_dataset("digits", flatten=False)
    assert net.accuracy(data.x_test, data.t_test) > 0.8  # 10 classes: chance is 0.1


def test_evaluate_reads_the_conv_model_with_image_data(cnn, capsys):
    assert main(["evaluate", str(cnn / "model.npz")]) == 0
    out = capsys.readouterr().out
    data = load_dataset("digits", flatten=False)
    acc = load_model(cnn / "model.npz").accuracy(data.x_test, data.t_test)
    assert "SimpleConvNet on digits (test, 360 images from scikit-learn (bundled))" in out
    assert f"accuracy {acc:.4f}" in out


def test_predict_gives_a_conv_model_the_picture_as_an_image(cnn, tmp_path, capsys):
    data = load_dataset("digits", flatten=False, normalize=False)
    digit = data.x_test[0, 0] / 16.0  # digits' pixels are 0..16 of ink
    picture = tmp_path / "digit.png"
    Image.fromarray(np.uint8(255 * (1 - digit))).resize((64, 64), Image.NEAREST).save(picture)
    assert main(["predict", str(cnn / "model.npz"), str(picture)]) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"{picture}: ") and "top-3" in line


@pytest.mark.slow
def test_filters_and_feature_maps_are_drawn(cnn, tmp_path, capsys):
    for name in ("filters", "feature-maps", "confusion", "mistakes"):
        out = tmp_path / f"{name}.png"
        assert main(["plot", name, "--model", str(cnn / "model.npz"), "--out", str(out)]) == 0
        assert imread(out).shape[0] > 200, name
    assert (
        main(
            ["plot", "weights", "--model", str(cnn / "model.npz"), "--out", str(tmp_path / "w.png")]
        )
        == 2
    )
    assert "plot filters" in one_line_error(capsys)
    assert main(["plot", "filters", "--out", str(tmp_path / "f.png")]) == 2
    assert "--model" in one_line_error(capsys)
    assert (
        main(
            [
                "plot",
                "feature-maps",
                "--model",
                str(cnn / "model.npz"),
                "--index",
                "360",
                "--out",
                str(tmp_path / "f.png"),
            ]
        )
        == 2
    )
    assert "give 0 to 359" in one_line_error(capsys)


def test_the_initial_filters_are_the_runs_own_start(cnn):
    """The filters figure's "initial" row: the network `train` built, before any step."""
    from nnscratch.cli.plot_model import initial_filters
    from nnscratch.io import read_model

    model = read_model(cnn / "model.npz")
    start_net = SimpleConvNet((1, 8, 8), output_size=10, seed=run_seeds(0)[0], dtype=np.float32)
    assert np.array_equal(initial_filters(model), start_net.params["W1"])
    assert not np.array_equal(initial_filters(model), model.net.params["W1"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--model", "cnn", "--batchnorm"],
            "batchnorm is not an option of --model cnn: it applies to --model mlp",
        ),
        (["--model", "cnn", "--dropout", "0.3"], "applies to --model mlp or deep-cnn"),
        (["--model", "deep-cnn", "--weight-init", "0.1"], "applies to --model mlp or cnn"),
        (["--model", "cnn", "--activation", "tanh"], "the book's network with ReLU"),
        (
            ["--model", "cnn", "--weight-init", "he"],
            "as a standard deviation such as the book's 0.01",
        ),
        (["--model", "deep-cnn", "--hidden", "50,50"], "has one hidden layer"),
        (["--model", "two-layer", "--dropout", "0.2"], "applies to --model mlp or deep-cnn"),
    ],
)
def test_options_a_model_does_not_take_are_one_line(argv, message, capsys):
    assert main(["train", "--quiet", "--dataset", "digits", *argv]) == 2
    assert message in one_line_error(capsys)


@pytest.mark.slow
def test_deep_cnn_ctrl_c_and_resume_end_as_a_run_never_stopped(tmp_path):
    whole = tmp_path / "whole"
    assert main(DEEP + ["--quiet", "--out", str(whole)]) == 0
    out = tmp_path / "run"
    proc = start(DEEP + ["--out", str(out)])
    wait_for_line(proc, "epoch 1/")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert not (out / "model.npz").exists()
    resumed = subprocess.run(
        COMMAND + ["train", "--resume", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    a, b = (json.loads((d / "history.json").read_text()) for d in (out, whole))
    for key in ("train_loss", "train_acc", "test_acc"):
        assert a[key] == b[key], key
    net, reference = load_model(out / "model.npz"), load_model(whole / "model.npz")
    assert isinstance(net, DeepConvNet) and net.dropout == 0.5
    for key in reference.params:
        assert np.array_equal(net.params[key], reference.params[key]), key


@pytest.mark.slow
def test_plot_all_of_a_conv_model_draws_the_figures_it_has(cnn, tmp_path):
    from nnscratch.cli.plot import AUTOGRAD, CHAPTER4

    out = tmp_path / "figs"
    assert main(["plot", "all", "--model", str(cnn / "model.npz"), "--out", str(out)]) == 0
    expected = {*CHAPTER4, *AUTOGRAD, "confusion", "mistakes", "filters", "feature-maps"}
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.png" for n in expected)
