"""``nnscratch generate``: a language model trained by ``nnscratch train`` writes, character by
character, the same text for the same seed; a model file of another kind is one line."""

import subprocess

import pytest

from nnscratch.cli import main
from nnscratch.datasets.text import CharTokenizer
from nnscratch.io import read_model
from tests.helpers import COMMAND, one_line_error

TINY = ["--dataset", "tang300", "--layers", "1", "--heads", "2", "--width", "16"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpt")
    argv = ["train", "--model", "gpt", *TINY, "--context", "16", "--epochs", "1", "--quiet"]
    assert main([*argv, "--out", str(out)]) == 0
    return out / "model.npz"


def test_the_model_file_carries_its_tokenizer(trained):
    model = read_model(trained)
    tokenizer = CharTokenizer.from_config(model.config["tokenizer"])
    assert tokenizer.vocab_size == model.net.vocab_size == 2558
    assert tokenizer.decode(tokenizer.encode("床前明月光")) == "床前明月光"


def test_the_same_seed_writes_the_same_text(trained, capsys):
    args = ["generate", str(trained), "--prompt", "床前", "--tokens", "30", "--seed", "4"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    assert first.startswith("床前") and len(first) == 2 + 30 + 1  # the prompt, 30, a new line
    assert main([*args[:-1], "5"]) == 0
    assert capsys.readouterr().out != first


def test_top_k_1_is_greedy_whatever_the_seed(trained, capsys):
    texts = set()
    for seed in ("1", "2"):
        args = ["generate", str(trained), "--tokens", "20", "--top-k", "1", "--seed", seed]
        assert main(args) == 0
        texts.add(capsys.readouterr().out)
    assert len(texts) == 1


def test_an_rnnlm_writes_too(tmp_path, capsys):
    argv = ["train", "--model", "rnnlm", "--dataset", "tang300", "--width", "8", "--hidden", "8"]
    assert main([*argv, "--context", "8", "--epochs", "1", "--quiet", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["generate", str(tmp_path / "model.npz"), "--tokens", "12", "--seed", "0"]) == 0
    assert len(capsys.readouterr().out) == 12 + 1


def test_a_classifier_is_not_a_language_model(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--quiet", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["generate", str(tmp_path / "model.npz")]) == 2
    assert one_line_error(capsys).endswith(
        "not a language model: train one with nnscratch train --model gpt --dataset tang300\n"
    )


@pytest.mark.slow
def test_characters_come_as_they_are_drawn(trained):
    proc = subprocess.Popen(
        [*COMMAND, "generate", str(trained), "--prompt", "春", "--tokens", "3000", "--seed", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.read(3).startswith("春")  # the prompt and the first characters...
        assert proc.poll() is None  # ...while it still writes
    finally:
        proc.kill()
        proc.communicate()
