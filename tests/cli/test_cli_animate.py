"""`nnscratch animate NAME --out FILE.gif` and `nnscratch plot boundary`: real GIFs and PNGs of
the asked frames, under 5 MB; bad input is one line, exit 2, and writes nothing."""

import json

import numpy as np
import pytest
from matplotlib.image import imread
from PIL import Image

from nnscratch.cli import main
from nnscratch.datasets import load_dataset
from nnscratch.io import save_model
from nnscratch.nets import MultiLayerNet, TwoLayerNet
from nnscratch.optim import Adam
from nnscratch.plots.frames import DEFAULT_FRAMES
from nnscratch.run.trainer import train
from tests.helpers import one_line_error

MB = 1_000_000


def _gif(path):
    with Image.open(path) as im:
        return im.format, im.n_frames


@pytest.mark.slow
def test_boundary_on_spiral_with_the_defaults(tmp_path, capsys):
    out = tmp_path / "spiral.gif"
    assert main(["animate", "boundary", "--dataset", "spiral", "--out", str(out)]) == 0
    assert _gif(out) == ("GIF", DEFAULT_FRAMES) and DEFAULT_FRAMES >= 30
    assert out.stat().st_size < 5 * MB
    assert capsys.readouterr().out.startswith(f"wrote {out} ({DEFAULT_FRAMES} frames")
    assert [p.name for p in tmp_path.iterdir()] == ["spiral.gif"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "args", [["descent"], ["weights"], ["curves"], ["boundary", "--dataset", "xor"]]
)
def test_each_animation_with_few_frames(tmp_path, args):
    out = tmp_path / "a.gif"
    assert main(["animate", *args, "--frames", "3", "--fps", "4", "--out", str(out)]) == 0
    assert _gif(out) == ("GIF", 3)
    with Image.open(out) as im:
        assert im.info["duration"] == 250  # 4 frames a second


@pytest.mark.slow
def test_curves_of_a_history_file(tmp_path):
    history = {
        "train_loss": list(np.linspace(2, 0.5, 30)),
        "train_acc": [0.6, 0.8, 0.9],
        "test_acc": [0.5, 0.7, 0.85],
    }
    (tmp_path / "history.json").write_text(json.dumps(history))
    out = tmp_path / "c.gif"
    assert (
        main(
            [
                "animate",
                "curves",
                "--history",
                str(tmp_path / "history.json"),
                "--frames",
                "4",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert _gif(out) == ("GIF", 4)


@pytest.mark.parametrize(
    "args, message",
    [
        (["boundary", "--out", "a.png"], ".gif or .mp4"),
        (["descent", "--frames", "1", "--out", "a.gif"], "frames must be an integer from 2 to 120"),
        (
            ["descent", "--frames", "1000", "--out", "a.gif"],
            "frames must be an integer from 2 to 120",
        ),
        (["descent", "--fps", "100", "--out", "a.gif"], "fps"),
        (["boundary", "--dataset", "digits", "--out", "a.gif"], "takes --dataset moons"),
        (["weights", "--dataset", "spiral", "--out", "a.gif"], "takes --dataset digits"),
        (["descent", "--dataset", "spiral", "--out", "a.gif"], "--dataset is for"),
        (["weights", "--history", "h.json", "--out", "a.gif"], "--history is for"),
        (["curves", "--history", "missing.json", "--out", "a.gif"], "no history file"),
        (["descent", "--out", "nope/a.gif"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["animate", *args]) == 2
    assert message in one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_unknown_animation_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["animate", "nope", "--out", "a.gif"])
    assert exc.value.code == 2


@pytest.mark.slow
@pytest.mark.parametrize("name", ["moons", "circles", "spiral", "xor", "gaussians"])
def test_plot_boundary_of_each_2d_set(tmp_path, name):
    out = tmp_path / f"{name}.png"
    assert main(["plot", "boundary", "--dataset", name, "--epochs", "3", "--out", str(out)]) == 0
    img = imread(out)
    assert img.shape[0] > 300 and img.shape[1] > 300 and np.ptp(img[..., :3]) > 0.5
    assert [p.name for p in tmp_path.iterdir()] == [f"{name}.png"]


@pytest.fixture(scope="module")
def moons_model(tmp_path_factory):
    data = load_dataset("moons")
    net = MultiLayerNet(2, [16], 2, activation="tanh", seed=0)
    train(net, data.x_train, data.t_train, epochs=20, batch_size=32, optimizer=Adam(0.02), seed=0)
    path = tmp_path_factory.mktemp("model") / "model.npz"
    save_model(path, net, {"dataset": "moons"})
    return path, net, data


def test_plot_boundary_of_a_saved_model(tmp_path, moons_model, monkeypatch):
    path, net, data = moons_model
    titles = []
    from nnscratch import plots

    real = plots.decision_regions

    def spy(*args, **kwargs):  # the figure the command draws, to read its title
        fig = real(*args, **kwargs)
        titles.append(fig.axes[0].get_title())
        return fig

    monkeypatch.setattr(plots, "decision_regions", spy)
    out = tmp_path / "m.png"
    assert main(["plot", "boundary", "--model", str(path), "--out", str(out)]) == 0
    assert imread(out).shape[0] > 300
    acc = np.mean(np.argmax(net.predict(data.x_train), axis=1) == data.t_train)
    assert titles == [
        f"Decision regions on moons: train accuracy {acc:.3f}, test accuracy "
        f"{np.mean(np.argmax(net.predict(data.x_test), axis=1) == data.t_test):.3f}"
    ]


def test_plot_boundary_of_a_model_of_other_sizes_is_one_line(tmp_path, moons_model, capsys):
    path, _, _ = moons_model
    assert (
        main(
            [
                "plot",
                "boundary",
                "--model",
                str(path),
                "--dataset",
                "spiral",
                "--out",
                str(tmp_path / "a.png"),
            ]
        )
        == 2
    )
    assert "2 outputs but spiral has 3 classes" in one_line_error(capsys)
    digits_model = tmp_path / "digits.npz"
    save_model(digits_model, TwoLayerNet(64, 5, 10, seed=0))
    assert (
        main(["plot", "boundary", "--model", str(digits_model), "--out", str(tmp_path / "a.png")])
        == 2
    )
    assert "2 inputs" in one_line_error(capsys)
    assert main(["plot", "all", "--out", str(tmp_path / "a.png")]) == 2
    assert "pass a folder" in one_line_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.npz"]


@pytest.mark.parametrize(
    "options, word",
    [({"colour": "red"}, "can only be"), ([1], "can only be"), ({"n_samples": -3}, "n_samples")],
)
def test_a_model_files_bad_dataset_options_are_one_line(
    tmp_path, moons_model, options, word, capsys
):
    _, net, _ = moons_model
    path = tmp_path / "odd.npz"
    save_model(path, net, {"dataset": "moons", "dataset_options": options})
    assert main(["plot", "boundary", "--model", str(path), "--out", str(tmp_path / "a.png")]) == 2
    assert word in one_line_error(capsys)
