"""Every figure renders to a real, non-blank image with labelled axes; the CLI writes them all."""

import json

import numpy as np
import pytest
from matplotlib.image import imread

from nnscratch import plots
from nnscratch.cli import main
from nnscratch.cli.plot import (
    AUTOGRAD,
    BOUNDARY,
    CHAPTER4,
    CONV,
    GRAPHS,
    MODEL,
    NAMES,
    make_figures,
    quick_model,
)
from nnscratch.errors import NnscratchError
from nnscratch.plots.training import moving_mean
from tests.helpers import trained_cnn

HISTORY = {
    "train_loss": list(np.linspace(2.3, 0.3, 60)),
    "train_acc": [0.5, 0.8, 0.9],
    "test_acc": [0.45, 0.75, 0.88],
    "epoch_seconds": [0.1, 0.1, 0.1],
}


@pytest.fixture(scope="module")
def history_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "history.json"
    path.write_text(json.dumps(HISTORY))
    return path


@pytest.fixture(scope="module")
def conv_model(tmp_path_factory):
    """A SimpleConvNet's model file, from a short `nnscratch train --model cnn` on digits."""
    return trained_cnn(tmp_path_factory.mktemp("cnn"), epochs=2) / "model.npz"


@pytest.fixture(scope="module")
def figures(history_file, conv_model):
    """Every figure: a saved conv net's (filters, feature maps), the others without a model."""
    return {
        **dict(make_figures([n for n in NAMES if n not in CONV], history_file, seed=0, epochs=5)),
        **dict(make_figures(list(CONV), model_file=conv_model)),
    }


def _labels_of(fig):
    """(name, xlabel, ylabel, zlabel or None) of every visible data axes; colorbars excluded.
    Image grids may label the figure once (supxlabel / supylabel) instead of every cell."""
    out = []
    for ax in fig.axes:
        shown = ax.axison or ax.name == "3d"  # 3-D axes keep axison False and draw their own
        if not ax.get_visible() or not shown or ax.get_label() == "<colorbar>":
            continue
        x = ax.get_xlabel() or fig.get_supxlabel()
        y = ax.get_ylabel() or fig.get_supylabel()
        z = ax.get_zlabel() if ax.name == "3d" else None
        out.append((ax.get_title(), x, y, z))
    return out


@pytest.mark.slow
def test_every_figure_is_drawn(figures):
    assert set(figures) == set(NAMES)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NAMES))
def test_figure_is_a_labelled_nonblank_image(figures, name, tmp_path):
    fig = figures[name]
    labels = _labels_of(fig)
    # a computational graph is a diagram: nodes and arrows, no axes to label
    assert labels or name in GRAPHS, f"{name}: no visible axes"
    for title, x, y, z in labels:
        assert x.strip() and y.strip(), f"{name}: axes {title!r} lacks an x or y label"
        assert z is None or z.strip(), f"{name}: 3-D axes {title!r} lacks a z label"
    path = tmp_path / f"{name}.png"
    plots.save_figure(fig, path)
    img = imread(path)
    assert img.ndim == 3 and img.shape[2] in (3, 4)
    # readable at slide size: at 150 dpi at least 900 px wide and 500 px high
    assert img.shape[1] >= 900 and img.shape[0] >= 500, img.shape
    gray = img[..., :3].mean(axis=2)
    assert gray.var() > 1e-3, f"{name}: image is (nearly) blank, pixel variance {gray.var():.2e}"
    # and not a solid block of ink either: mostly background, some drawing
    assert 0.02 < np.mean(gray < 0.9) < 0.9


def test_blank_figure_fails_the_variance_check(tmp_path):
    """The variance threshold above can fail: an empty figure falls below it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5))
    fig.subplots().set_axis_off()
    plots.save_figure(fig, tmp_path / "blank.png")
    gray = imread(tmp_path / "blank.png")[..., :3].mean(axis=2)
    assert gray.var() <= 1e-3


def test_svg_output(tmp_path):
    plots.save_figure(plots.cross_entropy_loss(), tmp_path / "loss.svg")
    text = (tmp_path / "loss.svg").read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text


class _FixedNet:
    """A 'network' with known answers: predict returns the rows it was built with."""

    def __init__(self, y):
        self.y = np.asarray(y, dtype=float)
        self.params = {"W1": np.zeros((4, 2))}

    def predict(self, x):
        return self.y[: len(x)]


def test_most_confident_mistakes_order_and_titles():
    y = [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]]
    t = np.array([0, 0, 0, 1])  # wrong: sample 1 (0.8), 2 (0.6), 3 (0.7)
    fig = plots.most_confident_mistakes(_FixedNet(y), np.zeros((4, 4)), t, k=3, cols=3)
    titles = [ax.get_title() for ax in fig.axes if ax.axison and ax.get_title()]
    assert titles == ["predicted 1 (80%)", "predicted 0 (70%)", "predicted 1 (60%)"]


def test_confusion_heatmap_writes_the_counts_of_each_cell():
    y = [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3], [0.1, 0.9]]
    t = np.array([0, 0, 0, 1, 1])  # true 0 → predicted 0, 1, 1; true 1 → predicted 0, 1
    fig = plots.confusion_heatmap(_FixedNet(y), np.zeros((5, 4)), t)
    cells = {
        (round(text.get_position()[1]), round(text.get_position()[0])): text.get_text()
        for text in fig.axes[0].texts
    }
    assert cells == {(0, 0): "1", (0, 1): "2", (1, 0): "1", (1, 1): "1"}
    assert "accuracy 0.400" in fig.axes[0].get_title()
    assert not hasattr(plots, "confusion_matrix")  # the counts are metrics.confusion_matrix


def test_moving_mean_by_hand():
    steps, means = moving_mean([1, 2, 3, 4, 6], 2)
    np.testing.assert_array_equal(steps, [2, 3, 4, 5])
    np.testing.assert_allclose(means, [1.5, 2.5, 3.5, 5.0])
    steps, means = moving_mean([1, 2, 3, 4, 6], 3)  # (1+2+3)/3, (2+3+4)/3, (3+4+6)/3
    np.testing.assert_array_equal(steps, [3, 4, 5])
    np.testing.assert_allclose(means, [2.0, 3.0, 13 / 3])
    np.testing.assert_array_equal(moving_mean([5.0, 7.0], 1)[1], [5.0, 7.0])
    assert moving_mean([1.0, 2.0], 3)[0].size == 0  # a window longer than the curve: nothing
    with pytest.raises(NnscratchError, match="window must be a positive integer"):
        moving_mean([1.0], 0)


def test_weights_need_a_known_image_shape():
    net = _FixedNet([[1, 0]])
    net.params["W1"] = np.zeros((10, 3))
    with pytest.raises(NnscratchError, match="image_shape"):
        plots.first_layer_weights(net)
    plots.first_layer_weights(net, image_shape=(2, 5))


def test_quick_model_learns():
    net, data = quick_model(seed=0, epochs=10)
    assert net.accuracy(data.x_test, data.t_test) > 0.85


@pytest.mark.slow
def test_cli_plot_all_writes_every_figure_without_a_run(tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["plot", "all", "--out", str(out), "--epochs", "2"]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(f"{n}.png" for n in {**CHAPTER4, **AUTOGRAD, **MODEL, **BOUNDARY})
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_cli_plot_curves_and_svg(tmp_path, history_file):
    assert (
        main(
            [
                "plot",
                "curves",
                "--history",
                str(history_file),
                "--out",
                str(tmp_path),
                "--format",
                "svg",
            ]
        )
        == 0
    )
    assert (tmp_path / "curves.svg").read_text().count("<svg") == 1


def test_cli_curves_without_history_is_a_one_line_error(tmp_path, capsys):
    assert main(["plot", "curves", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--history" in err


@pytest.mark.parametrize(
    "content, message",
    [(None, "no history file"), ("not json", "cannot read"), ('{"train_loss": []}', "lacks")],
)
def test_cli_bad_history_is_a_one_line_error(tmp_path, capsys, content, message):
    path = tmp_path / "history.json"
    if content is not None:
        path.write_text(content)
    assert main(["plot", "curves", "--history", str(path), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "curves.png").exists()


def test_cli_out_that_is_a_file_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "taken").write_text("keep me")
    assert main(["plot", "loss", "--out", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a folder" in err
    assert (tmp_path / "taken").read_text() == "keep me"


def test_cli_unknown_figure_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["plot", "nope"])
    assert exc.value.code == 2
