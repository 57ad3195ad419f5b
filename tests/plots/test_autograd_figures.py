"""The figures of chapter 5's first half and of autograd: what they draw is what the library
computes, and `nnscratch plot graph` writes the three graphs with no graphviz anywhere."""

import numpy as np
import pytest
from PIL import Image

from nnscratch.autograd import functions as F
from nnscratch.cli import main
from nnscratch.plots.autograd import derivatives, tanh_derivatives


def test_the_derivatives_are_the_closed_forms_and_the_last_is_a_graph():
    x = np.linspace(-2, 2, 9)
    values, last = derivatives(F.tanh, x, 3)
    t = np.tanh(x)
    np.testing.assert_allclose(values[1], 1 - t**2, rtol=1e-12)
    np.testing.assert_allclose(values[2], -2 * t * (1 - t**2), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(values[3], -2 * (1 - t**2) * (1 - 3 * t**2), rtol=1e-12)
    assert last.creator is not None  # the third derivative still has its graph


def test_the_figure_draws_those_curves():
    fig = tanh_derivatives(3)
    lines = [line for line in fig.axes[0].lines if len(line.get_xdata()) > 2]
    x = lines[0].get_xdata()
    values, _ = derivatives(F.tanh, x, 3)
    assert len(lines) == 4
    for line, y in zip(lines, values, strict=True):
        np.testing.assert_allclose(line.get_ydata(), y)


@pytest.mark.slow
def test_plot_graph_writes_the_three_graphs_without_graphviz(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot`, nothing else either
    assert main(["plot", "graph", "--out", str(tmp_path / "out")]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["graph-loss.png", "graph-shopping.png", "graph-tanh.png"]
    for name in written:
        with Image.open(tmp_path / "out" / name) as image:
            assert image.width > 600 and image.height > 200
    out = tmp_path / "shopping.svg"
    assert main(["plot", "graph-shopping", "--lang", "zh-CN", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<?xml")


def test_one_file_for_the_three_graphs_is_refused(tmp_path, capsys):
    assert main(["plot", "graph", "--out", str(tmp_path / "one.png")]) == 2
    assert "'graph' draws 3 figures: pass a folder" in capsys.readouterr().err
