"""`nnscratch plot attention|samples|lm-curves` and `nnscratch animate gpt`: the figures of a
saved GPT and of runs' history.json files, the quick models of 唐诗三百首 (slow), and one-line
errors for bad input."""

import json

import numpy as np
import pytest
from PIL import Image

from nnscratch.cli import main
from nnscratch.cli import plot as plot_cli
from nnscratch.datasets.text import CharTokenizer
from nnscratch.gpt import GPT
from nnscratch.io import save_model
from nnscratch.nets import TwoLayerNet
from nnscratch.plots import language
from tests.helpers import one_line_error

POEM = "床前明月光，疑是地上霜。\n舉頭望明月，低頭思故鄉。\n\n"


@pytest.fixture
def gpt_file(tmp_path):
    tok = CharTokenizer(POEM)
    net = GPT(tok.vocab_size, context=16, n_layers=2, n_heads=2, width=8, seed=0)
    return save_model(tmp_path / "gpt.npz", net, {"tokenizer": tok.to_config()})


@pytest.fixture
def spy(monkeypatch):
    """The arguments each language figure was called with, by function name."""
    calls = {}
    for name in ("attention_heads", "samples_over_training", "loss_curves", "gpt_training"):
        real = getattr(language, name)

        def wrapper(*args, _real=real, _name=name, **kwargs):
            calls[_name] = (args, kwargs)
            return _real(*args, **kwargs)

        monkeypatch.setattr(language, name, wrapper)
    return calls


def _size(path):
    with Image.open(path) as image:
        return image.size


def test_attention_of_a_saved_gpt(tmp_path, gpt_file, spy, capsys):
    out = tmp_path / "attn.png"
    args = ["plot", "attention", "--model", str(gpt_file), "--prompt", "明月光", "--out", str(out)]
    assert main(args) == 0
    net, tokenizer, prompt = spy["attention_heads"][0]
    assert isinstance(net, GPT) and tokenizer == CharTokenizer(POEM) and prompt == "明月光"
    width, height = _size(out)
    assert width > 600 and height > 400
    one = tmp_path / "layer1.png"
    assert main([*args[:-2], "--layer", "1", "--out", str(one)]) == 0
    assert spy["attention_heads"][1]["layer"] == 1
    assert _size(one)[1] < height  # one row of heads instead of two
    assert f"wrote {out}" in capsys.readouterr().out


def _run(folder, model, losses, val=None):
    folder.mkdir()
    history = {"config": {"model": model, "vocab_size": 2558}, "train_loss": losses}
    if val is not None:
        history["val_loss"] = val
    (folder / "history.json").write_text(json.dumps(history), encoding="utf-8")
    return folder


def test_lm_curves_of_two_runs(tmp_path, spy):
    rnn = _run(tmp_path / "rnn", "rnnlm", list(np.linspace(7, 5, 60)), [6.0, 5.5])
    gpt = _run(tmp_path / "gpt", "gpt", list(np.linspace(7, 4, 60)), [5.5, 4.5])
    out = tmp_path / "curves.png"
    assert main(["plot", "lm-curves", "--runs", str(rnn), str(gpt), "--out", str(out)]) == 0
    (histories,), kwargs = spy["loss_curves"]
    assert list(histories) == ["rnnlm", "gpt"]
    assert histories["gpt"]["val_loss"] == [5.5, 4.5]
    assert kwargs["vocab_size"] == 2558
    assert _size(out)[0] > 600
    # the same model twice: labelled by folder
    again = _run(tmp_path / "gpt-2", "gpt", [5.0, 4.0])
    assert main(["plot", "lm-curves", "--runs", str(gpt), str(again), "--out", str(out)]) == 0
    assert list(spy["loss_curves"][0][0]) == ["gpt", "gpt-2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["attention", "--model", "missing.npz"], "does not exist"),
        (["attention", "--model", "mlp.npz"], "not a language model"),
        (["attention", "--model", "bare.npz"], "has no tokenizer"),
        (["attention", "--model", "gpt.npz", "--prompt", "床" * 17], "at most 16"),
        (["attention", "--model", "gpt.npz", "--layer", "2"], "no layer 2"),
        (["attention", "--model", "gpt.npz", "--iterations", "5"], "not both"),
        (["attention", "--prompt", "床" * 33], "at most 32"),
        (["lm-curves", "--runs", "nowhere"], "no history file"),
        (["lm-curves", "--runs", "notlm"], "lacks train_loss"),
        (["lm-curves", "--model", "gpt.npz"], "takes no --model"),
        (["loss", "--prompt", "床前"], "--prompt is for the attention and samples figures only"),
        (["samples", "--runs", "a"], "--runs is for the lm-curves figure only"),
        (["samples", "--layer", "0"], "--layer is for the attention figure only"),
    ],
)
def test_bad_input_is_one_line(tmp_path, gpt_file, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    save_model("mlp.npz", TwoLayerNet(4, 3, 2, seed=0))
    save_model("bare.npz", GPT(5, context=4, n_layers=1, n_heads=1, width=4, seed=0))
    (tmp_path / "notlm").mkdir()
    (tmp_path / "notlm" / "history.json").write_text('{"train_acc": [0.5]}')
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["plot", *args, "--out", "x.png"]) == 2
    assert message in one_line_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_bad_iterations_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["plot", "samples", "--iterations", "0,a"])
    assert exc.value.code == 2
    assert "0,100,500,2000" in capsys.readouterr().err


def test_animate_prompt_is_for_gpt_only(tmp_path, capsys):
    assert main(["animate", "descent", "--prompt", "床", "--out", str(tmp_path / "a.gif")]) == 2
    assert "--prompt is for the gpt animation only" in one_line_error(capsys)


@pytest.mark.slow
def test_quick_samples_attention_and_curves_on_tang300(tmp_path, spy):
    out = tmp_path / "samples.png"
    assert (
        main(["plot", "samples", "--iterations", "0,3", "--out", str(out), "--lang", "zh-CN"]) == 0
    )
    assert main(["plot", "samples", "--iterations", "0,3", "--out", str(out)]) == 0
    (samples,), kwargs = spy["samples_over_training"]
    assert [i for i, *_ in samples] == [0, 3] and kwargs["prompt"] == "床前"
    assert all(text.startswith("床前") for _, text, *_ in samples)
    assert _size(out)[1] > 300
    out = tmp_path / "attention.png"
    assert main(["plot", "attention", "--iterations", "2", "--layer", "0", "--out", str(out)]) == 0
    assert spy["attention_heads"][0][2] == plot_cli.ATTENTION_PROMPT
    out = tmp_path / "curves.png"
    assert main(["plot", "lm-curves", "--iterations", "3", "--out", str(out)]) == 0
    (histories,), kwargs = spy["loss_curves"]
    assert list(histories) == ["RNNLM", "GPT"] and kwargs["vocab_size"] > 2000
    assert all(len(h["train_loss"]) == 3 for h in histories.values())


@pytest.mark.slow
def test_animate_gpt(tmp_path, monkeypatch, spy, capsys):
    from nnscratch.cli import animate

    monkeypatch.setitem(animate.ITERATIONS, "gpt", 4)
    out = tmp_path / "gpt.gif"
    assert main(["animate", "gpt", "--frames", "3", "--out", str(out), "--lang", "zh-CN"]) == 0
    with Image.open(out) as image:
        assert image.format == "GIF" and image.n_frames == 3
    assert spy["gpt_training"][1]["iterations"] == 4
    assert "(3 frames" in capsys.readouterr().out
