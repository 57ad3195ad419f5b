"""Figures in Chinese: the string tables, the CJK font, the English fallback without one."""

import io
import string
import warnings

import numpy as np
import pytest
from matplotlib import font_manager

from nnscratch import plots
from nnscratch.cli import main
from nnscratch.cli.args import LANGS
from nnscratch.errors import NnscratchError
from nnscratch.plots import conv, lang
from nnscratch.plots.strings import EN, STRINGS, ZH_CN

HAS_CJK = lang.cjk_font() is not None
needs_cjk = pytest.mark.skipif(not HAS_CJK, reason="no CJK font (apt-get install fonts-noto-cjk)")


def fields(template):
    return sorted(name for _, name, _, _ in string.Formatter().parse(template) if name)


def test_tables_have_the_same_keys_and_fields():
    assert set(EN) == set(ZH_CN)
    for key in EN:
        assert fields(EN[key]) == fields(ZH_CN[key]), key
    assert LANGS == tuple(STRINGS) == lang.LANGS


def _cjk(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _texts(fig):
    out = [t.get_text() for t in fig.texts]
    for ax in fig.get_axes():
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
    for sub in fig.subfigs:
        out += _texts(sub)
    return out


@pytest.fixture(scope="module")
def figures():
    """Every localized figure, as a function of the language."""
    from nnscratch.cli.plot import quick_model
    from nnscratch.convnets import SimpleConvNet
    from nnscratch.datasets import load_dataset

    net, data = quick_model(epochs=2)
    cnn = SimpleConvNet(input_dim=(1, 8, 8), seed=0)
    images = load_dataset("digits", flatten=False).x_test
    history = {
        "train_loss": list(np.linspace(2, 0.1, 40)),
        "train_acc": [0.5, 0.8],
        "test_acc": [0.4, 0.7],
    }
    x2 = np.random.default_rng(0).standard_normal((30, 2))
    from nnscratch.nets import TwoLayerNet
    from nnscratch.run.trainer import Trainer

    net2 = TwoLayerNet(2, 5, 2, seed=0)
    from nnscratch.experiments import chapter6
    from nnscratch.plots import animations, experiments

    hist = chapter6.activation_distributions(n_layers=2, nodes=10, samples=50)
    init = chapter6.init_comparison(iterations=30, hidden=(10,), data=data)
    bn = chapter6.batchnorm_comparison(scales=2, train_size=100, epochs=2, hidden=(10,), data=data)
    over = chapter6.overfit_comparison(train_size=100, epochs=2, hidden=(10,), data=data)

    def frame(make):  # an animation's last frame, drawn
        def draw(lang):
            anim = make(lang)
            anim._func(len(anim._save_seq) - 1 if anim._save_seq else 2)
            return anim._fig

        return draw

    from nnscratch.plots.search import search_figure

    trials = [
        {
            "index": i,
            "params": {"lr": 10.0**-i, "weight_decay": 1e-6},
            "seed": i,
            "train_acc": [0.2, 0.5],
            "val_acc": [0.1, 0.4 - i / 10],
            "val_loss": [2, 1],
            "final_val_acc": 0.4 - i / 10,
            "diverged": None,
            "seconds": 0.1,
        }
        for i in range(3)
    ]
    return {
        "search": lambda lang: search_figure(trials[::-1], lang=lang),
        "anim-descent": frame(lambda lang: animations.descent(frames=3, lang=lang)),
        "anim-curves": frame(lambda lang: animations.curves(history, frames=3, lang=lang)),
        "anim-boundary": frame(
            lambda lang: animations.boundary(
                Trainer(TwoLayerNet(2, 5, 2, seed=0), x2, (x2[:, 0] > 0).astype(int), batch_size=8),
                frames=3,
                every=1,
                resolution=10,
                lang=lang,
            )
        ),
        "anim-weights": frame(
            lambda lang: animations.weights(
                Trainer(
                    TwoLayerNet(64, 4, 10, seed=0),
                    data.x_train[:64],
                    data.t_train[:64],
                    batch_size=32,
                ),
                (8, 8),
                frames=3,
                every=1,
                lang=lang,
            )
        ),
        "exp-relu": lambda lang: experiments.activation_histograms(hist, "relu", lang=lang),
        "exp-init": lambda lang: experiments.init_loss_curves(init, lang=lang),
        "exp-batchnorm": lambda lang: experiments.batchnorm_grid(bn, lang=lang),
        "exp-overfit": lambda lang: experiments.overfit_curves(over, lang=lang),
        "loss": lambda lang: plots.cross_entropy_loss(lang=lang),
        "differences": lambda lang: plots.difference_tangents(lang=lang),
        "diff-error": lambda lang: plots.difference_error(lang=lang),
        "gradient": lambda lang: plots.gradient_field(n=5, lang=lang),
        "saddle": lambda lang: plots.saddle_surface(lang=lang),
        "descent": lambda lang: plots.descent_paths(lang=lang),
        "graph-shopping": lambda lang: plots.shopping_graph(lang=lang),
        "graph-tanh": lambda lang: plots.tanh_graph(lang=lang),
        "graph-loss": lambda lang: plots.loss_graph(lang=lang),
        "derivatives": lambda lang: plots.tanh_derivatives(lang=lang),
        "curves": lambda lang: plots.training_curves(history, lang=lang),
        "weights": lambda lang: plots.first_layer_weights(net, (8, 8), max_units=4, lang=lang),
        "confusion": lambda lang: plots.confusion_heatmap(net, data.x_test, data.t_test, lang=lang),
        "mistakes": lambda lang: plots.most_confident_mistakes(
            net, data.x_test, data.t_test, (8, 8), k=2, lang=lang
        ),
        "boundary": lambda lang: plots.decision_regions(
            net2, x2, (x2[:, 0] > 0).astype(int), resolution=20, lang=lang
        ),
        "filters": lambda lang: conv.conv_filters(
            cnn.params["W1"], cnn.params["W1"], max_filters=4, lang=lang
        ),
        "feature-maps": lambda lang: conv.feature_maps(cnn, images[0], 3, max_filters=4, lang=lang),
    }


@pytest.mark.slow
@needs_cjk
@pytest.mark.filterwarnings("ignore:Animation was deleted")  # a frame drawn, never saved
@pytest.mark.parametrize(
    "name",
    [
        "loss",
        "differences",
        "diff-error",
        "gradient",
        "saddle",
        "descent",
        "graph-shopping",
        "graph-tanh",
        "graph-loss",
        "derivatives",
        "curves",
        "weights",
        "confusion",
        "mistakes",
        "boundary",
        "filters",
        "feature-maps",
        "anim-descent",
        "anim-curves",
        "anim-boundary",
        "anim-weights",
        "exp-relu",
        "exp-init",
        "exp-batchnorm",
        "exp-overfit",
        "search",
    ],
)
def test_every_figure_renders_in_chinese_without_missing_glyphs(figures, name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = figures[name]("zh-CN")
        fig.savefig(io.BytesIO(), format="png")
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing
    assert not [w for w in caught if issubclass(w.category, lang.FontWarning)]
    texts = _texts(fig)
    assert any(_cjk(t) for t in texts), texts
    english = _texts(figures[name]("en"))
    assert not any(_cjk(t) for t in english)


def test_without_a_cjk_font_english_and_one_warning(monkeypatch):
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda: [])  # none on the system either
    monkeypatch.setattr(lang, "_warned", False)
    monkeypatch.setattr(lang, "_refreshed", False)
    assert lang.cjk_font() is None
    with pytest.warns(lang.FontWarning, match="fonts-noto-cjk"):
        fig = plots.cross_entropy_loss(lang="zh-CN")
    assert fig.get_axes()[0].get_xlabel() == EN["loss.xlabel"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once a process: the second figure says nothing
        plots.saddle_surface(lang="zh-CN")
    assert lang.resolve_lang("zh-CN", font_list=[]) == ("en", None)


@needs_cjk
def test_a_cjk_font_installed_after_the_cache_was_built_is_found(monkeypatch, tmp_path):
    # matplotlib's cache as it was before `apt-get install fonts-noto-cjk`: no CJK font in it
    fonts = font_manager.fontManager.ttflist
    cjk_files = {f.fname for f in fonts if lang.cjk_font([f]) is not None}
    stale = [f for f in fonts if f.fname not in cjk_files]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    monkeypatch.setattr(lang, "_warned", False)
    monkeypatch.setattr(lang, "_refreshed", False)
    monkeypatch.setattr(lang, "font_cache_path", lambda: tmp_path / "fontlist.json")
    assert lang.cjk_font() is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FontWarning
        fig = plots.cross_entropy_loss(lang="zh-CN")
    assert fig.get_axes()[0].get_xlabel() == ZH_CN["loss.xlabel"]
    assert lang.cjk_font() is not None
    # the cache is written anew: the next process finds the font without a scan
    assert lang.cjk_font() in (tmp_path / "fontlist.json").read_text(encoding="utf-8")


def test_font_found_through_the_font_manager():
    fake = [font_manager.FontEntry(name="Some Font"), font_manager.FontEntry(name="SimHei")]
    assert lang.cjk_font(fake) == "SimHei"
    assert lang.cjk_font(fake[:1]) is None


def test_unknown_language_is_a_clear_error(capsys):
    with pytest.raises(NnscratchError, match="lang must be one of en, zh-CN, got 'fr'"):
        plots.cross_entropy_loss(lang="fr")
    with pytest.raises(SystemExit):
        main(["plot", "loss", "--lang", "fr"])
    assert "invalid choice" in capsys.readouterr().err


@needs_cjk
def test_cli_plot_lang(tmp_path, capsys):
    out = tmp_path / "loss.png"
    assert main(["plot", "loss", "--lang", "zh-CN", "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
