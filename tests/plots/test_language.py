"""The language-model figures: the attention maps are the layers' own weights (causal, rows of
probabilities) with the prompt's characters on the axes, the samples figure shows the texts
written, the loss curves the losses given, and the training helpers train."""

import io
import math
import warnings

import numpy as np
import pytest

from nnscratch.datasets.text import CharTokenizer, TextDataset, as_windows
from nnscratch.errors import NnscratchError
from nnscratch.gpt import GPT
from nnscratch.plots import lang as plot_lang
from nnscratch.plots import language
from nnscratch.plots.animations_save import save_animation
from nnscratch.rnnlm import RNNLM
from nnscratch.run.build import build

POEM = "床前明月光，疑是地上霜。\n舉頭望明月，低頭思故鄉。\n\n"
PROMPT = "床前明月光"
needs_cjk = pytest.mark.skipif(plot_lang.cjk_font() is None, reason="no CJK font")


@pytest.fixture
def data():
    tok = CharTokenizer(POEM)
    ids = tok.encode(POEM * 20)
    return TextDataset("poem", "a poem", ids[:400], ids[400:], tok, 1, 1)


@pytest.fixture
def net(data):
    return GPT(data.tokenizer.vocab_size, context=16, n_layers=2, n_heads=3, width=12, seed=0)


#: the poem's runs: a GPT of the net fixture's sizes (an RNNLM), batches of 8 windows of 12
SMALL = {"dataset": "tang300", "context": 12, "batch_size": 8, "lr": 1e-2, "lr_schedule": "none"}
SMALL_GPT = {"model": "gpt", "layers": 2, "heads": 3, "width": 12, "dtype": "float64"}


def poem_run(data, **options):
    """``build``'s run of a language model on the poem (the windows of ``data``)."""
    spec = {**SMALL, **SMALL_GPT, "epochs": 1, "seed": 0, **options}
    return build(spec, as_windows(data, spec["context"]))


def _heat_maps(fig):
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


def _texts(fig):
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
    return out


def test_attention_weights_are_causal_probabilities(net, data):
    ids = data.tokenizer.encode(PROMPT)
    weights = language.attention_weights(net, ids)
    assert weights.shape == (2, 3, 5, 5)
    upper = np.triu(np.ones((5, 5), dtype=bool), k=1)
    assert (weights[..., upper] == 0).all()
    assert (weights[..., ~upper] > 0).all()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)
    assert net.training  # the forward ran in evaluation mode, the mode is restored


def test_every_head_of_every_layer_is_a_heat_map_of_the_prompt(net, data):
    fig = language.attention_heads(net, data.tokenizer, PROMPT)
    maps = _heat_maps(fig)
    assert len(maps) == net.n_layers * net.n_heads
    expected = language.attention_weights(net, data.tokenizer.encode(PROMPT))
    upper = np.triu(np.ones((5, 5), dtype=bool), k=1)
    for k, ax in enumerate(maps):
        layer, head = divmod(k, net.n_heads)
        assert ax.get_title() == f"layer {layer}, head {head}"
        assert [t.get_text() for t in ax.get_xticklabels()] == list(PROMPT)
        assert [t.get_text() for t in ax.get_yticklabels()] == list(PROMPT)
        image = ax.images[0].get_array()
        assert image.mask[upper].all() and not image.mask[~upper].any()  # grey: masked
        np.testing.assert_allclose(image.filled(0.0), expected[layer, head])
        np.testing.assert_allclose(image.filled(0.0).sum(axis=1), 1.0)
    assert PROMPT in fig._suptitle.get_text()


def test_one_layer_has_one_panel_per_head_and_shows_newlines(net, data):
    fig = language.attention_heads(net, data.tokenizer, "光。\n舉", layer=1)
    maps = _heat_maps(fig)
    assert len(maps) == net.n_heads
    assert all(ax.get_title().startswith("layer 1,") for ax in maps)
    assert [t.get_text() for t in maps[0].get_xticklabels()] == ["光", "。", "↵", "舉"]


@pytest.mark.parametrize(
    ("prompt", "layer", "message"),
    [
        ("", None, "non-empty"),
        ("床" * 17, None, "at most 16"),
        (PROMPT, 2, "no layer 2"),
    ],
)
def test_bad_prompts_and_layers_are_errors(net, data, prompt, layer, message):
    with pytest.raises(NnscratchError, match=message):
        language.attention_heads(net, data.tokenizer, prompt, layer=layer)


def test_an_rnnlm_has_no_attention(data):
    rnn = RNNLM(data.tokenizer.vocab_size, 4, 4, seed=0)
    with pytest.raises(NnscratchError, match="RNNLM has no attention"):
        language.attention_weights(rnn, data.tokenizer.encode(PROMPT))


def test_the_samples_figure_shows_each_text_after_its_iteration():
    samples = [
        (0, "床前鄉霜霜", 3.2, float("nan")),
        (100, "床前明月光，\n疑是地上霜。", 1.5, 1.25),
        (2000, "床前" * 30),
    ]
    fig = language.samples_over_training(samples, prompt="床前", width=20)
    texts = _texts(fig)
    assert len(fig.axes) == 3
    assert "床前鄉霜霜" in texts
    assert "床前明月光，\n疑是地上霜。" in texts
    assert "\n".join(["床前" * 10] * 3) in texts  # 60 characters cut at 20
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels[0] == "after 0 iterations\nval loss 3.20"
    assert labels[1] == "after 100 iterations\ntrain loss 1.25\nval loss 1.50"
    assert labels[2] == "after 2000 iterations"
    assert "床前" in fig._suptitle.get_text()
    with pytest.raises(NnscratchError, match="no samples"):
        language.samples_over_training([])


def test_the_loss_curves_draw_the_losses_given():
    gpt = {"train_loss": list(np.linspace(5, 2, 100)), "val_loss": [5.0, 3.0, 2.5]}
    gpt["val_iterations"] = [0, 50, 100]
    rnn = {"train_loss": list(np.linspace(5, 3, 100)), "val_loss": [4.0, 3.5]}  # per epoch
    fig = language.loss_curves({"RNNLM": rnn, "GPT": gpt, "plain": [5, 4, 3]}, vocab_size=100)
    ax = fig.axes[0]
    dashed = {line.get_label(): line for line in ax.lines if line.get_linestyle() == "--"}
    gpt_val = next(line for label, line in dashed.items() if label.startswith("GPT"))
    np.testing.assert_allclose(gpt_val.get_xdata(), [0, 50, 100])
    np.testing.assert_allclose(gpt_val.get_ydata(), [5.0, 3.0, 2.5])
    rnn_val = next(line for label, line in dashed.items() if label.startswith("RNNLM"))
    np.testing.assert_allclose(rnn_val.get_xdata(), [50, 100])  # spread: each epoch's end
    chance = [line for line in ax.lines if line.get_linestyle() == ":"]
    np.testing.assert_allclose(chance[0].get_ydata(), math.log(100))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "GPT validation (last 2.500)" in labels
    assert "plain train (last 3.000)" in labels
    assert any(a is not ax for a in fig.axes) or ax.child_axes  # the perplexity axis
    with pytest.raises(NnscratchError, match="no losses"):
        language.loss_curves({"empty": []})


def test_train_lm_trains_a_gpt_and_an_rnnlm(data):
    seen = []
    run = poem_run(data)
    before = run.trainer.validate()[0]
    history = language.train_lm(run.trainer, 40, callback=lambda i, n, loss: seen.append((i, loss)))
    assert [i for i, _ in seen] == list(range(41)) and seen[0][1] is None
    assert len(history["train_loss"]) == 40
    per_epoch = run.trainer.iter_per_epoch  # the poem's 380 windows / 12, in batches of 8: 4
    assert history["val_iterations"] == list(range(per_epoch, 41, per_epoch))
    assert history["val_loss"][-1] < before - 0.5  # it learns the poem
    rnn = poem_run(data, model="rnnlm", width=8, hidden=(8,), layers=None, heads=None)
    before = rnn.trainer.validate()[0]
    assert language.train_lm(rnn.trainer, 30)["val_loss"][-1] < before


def test_train_and_sample_writes_after_each_iteration(data):
    run = poem_run(data)
    first = language.sample_text(run.net, data.tokenizer, "床前", n_tokens=10, seed=3)
    samples, history = language.train_and_sample(
        run, (30, 0, 10), prompt="床前", n_tokens=10, seed=3
    )
    assert [i for i, *_ in samples] == [0, 10, 30]
    assert len(history["train_loss"]) == 30
    assert samples[0][1] == first  # the untrained model's text, same seed
    assert all(text.startswith("床前") and len(text) == 12 for _, text, *_ in samples)
    assert samples[2][2] < samples[0][2]  # the validation loss went down
    assert math.isnan(samples[0][3])
    np.testing.assert_allclose(samples[2][3], np.mean(history["train_loss"][-20:]))
    with pytest.raises(NnscratchError, match="at least one"):
        language.train_and_sample(run, ())


@pytest.mark.filterwarnings("ignore:Animation was deleted")
def test_the_animation_replays_the_recorded_attention_and_samples(data, tmp_path):
    shots = language.record_gpt_training(
        poem_run(data),
        iterations=4,
        frames=3,
        prompt="床前",
        attend=PROMPT,
        layer=1,
        head=2,
        n_tokens=5,
    )
    assert [shot[0] for shot in shots] == [0, 2, 4]
    assert abs(shots[0][1] - math.log(data.tokenizer.vocab_size)) < 0.5  # untrained: ≈ ln V
    anim = language.gpt_training(
        poem_run(data),
        iterations=4,
        frames=3,
        prompt="床前",
        attend=PROMPT,
        layer=1,
        head=2,
        n_tokens=5,
    )
    anim._func(2)
    fig = anim._fig
    heat = _heat_maps(fig)[0]
    np.testing.assert_allclose(heat.images[0].get_array().filled(0.0), shots[2][3])
    assert heat.get_title() == "layer 1, head 2"
    assert shots[2][2] in [t.get_text() for t in fig.axes[0].texts]
    assert "iteration 4" in fig._suptitle.get_text()
    out = tmp_path / "gpt.gif"
    assert save_animation(anim, out) > 0
    with pytest.raises(NnscratchError, match="no head 3"):
        language.record_gpt_training(poem_run(data), 2, 2, head=3)


@pytest.mark.slow
@needs_cjk
@pytest.mark.filterwarnings("ignore:Animation was deleted")
def test_the_figures_render_in_chinese_without_missing_glyphs(net, data):
    figures = [
        language.attention_heads(net, data.tokenizer, PROMPT, lang="zh-CN"),
        language.samples_over_training([(0, "床前明月光")], prompt="床前", lang="zh-CN"),
        language.loss_curves({"GPT": [3.0, 2.0]}, vocab_size=50, lang="zh-CN"),
        language.attention_heads(net, data.tokenizer, PROMPT, lang="en"),  # CJK in English too
    ]
    for lang in ("zh-CN", "en"):
        anim = language.gpt_training(poem_run(data), iterations=2, frames=2, lang=lang)
        anim._func(1)
        figures.append(anim._fig)
        anim._draw_was_started = True  # a frame drawn by hand, never saved: no warning at exit
    for fig in figures:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.savefig(io.BytesIO(), format="png")
        missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
        assert not missing, missing
    assert _heat_maps(figures[0])[0].get_title() == "第 0 层，第 0 个头"
    assert "个注意力头" in figures[0]._suptitle.get_text()
    assert figures[1].axes[0].get_ylabel() == "0 次迭代之后"
