"""Chapter 6's experiments: their numbers against what the formulas say they must be."""

import json
import math

import numpy as np
import pytest

from nnscratch.cli import main
from nnscratch.datasets import load_dataset
from nnscratch.errors import NnscratchError
from nnscratch.experiments import chapter6


@pytest.fixture(scope="module")
def distributions():
    return chapter6.activation_distributions(n_layers=5, nodes=100, samples=1000, seed=0)


def test_small_weights_keep_sigmoid_at_one_half(distributions):
    # σ(a) ≈ ½ + a/4 for small a, and a = z·W has std ≤ 0.01·√100·1 = 0.1: all near ½
    for layer in distributions["sigmoid"]["std 0.01"]:
        assert abs(layer["mean"] - 0.5) < 0.01
        assert layer["std"] < 0.05


def test_unit_weights_saturate_tanh_symmetrically(distributions):
    # a ≈ N(0, 100·E[z²]) with E[z²] near 1: |a| > 2.65 (|tanh a| > 0.99) most of the time, and
    # tanh is odd, so as often at −1 as at +1
    for layer in distributions["tanh"]["std 1"][1:]:
        assert layer["saturated"] > 0.6
        low, high = layer["hist"][0], layer["hist"][-1]
        assert abs(low - high) < 0.05 * (low + high)


def test_unit_weights_saturate_sigmoid(distributions):
    # a = z·W with W ~ N(0, 1) over 100 inputs: std ≈ √(100·E[z²]) ≈ 7, so |a| > 4.6 (σ < 0.01
    # or > 0.99) about half the time
    for layer in distributions["sigmoid"]["std 1"][1:]:
        assert layer["saturated"] > 0.3


def test_he_keeps_relu_scale_xavier_halves_its_square(distributions):
    # He: E[a²] = (2/n)·n·E[z²] and E[relu(a)²] = E[a²]/2, so E[z²] is the same at every layer;
    # Xavier has gain 1, so E[z²] halves each layer: rms × 1/√2, four layers: × 0.25
    he = [layer["rms"] for layer in distributions["relu"]["He"]]
    xavier = [layer["rms"] for layer in distributions["relu"]["Xavier"]]
    assert 0.6 < he[-1] / he[0] < 1.6
    assert 0.15 < xavier[-1] / xavier[0] < 0.4
    assert all(b < a for a, b in zip(xavier, xavier[1:]))


def test_small_weights_shrink_tanh_tenfold_per_layer(distributions):
    # tanh(a) ≈ a, a = z·W with W ~ N(0, 0.01²) over 100 inputs: rms × 0.01·√100 = 0.1
    rms = [layer["rms"] for layer in distributions["tanh"]["std 0.01"]]
    for a, b in zip(rms[:3], rms[1:4]):
        assert 0.07 < b / a < 0.13


def test_histograms_count_the_values_in_range(distributions):
    n = 1000 * 100
    for layer in distributions["sigmoid"]["Xavier"] + distributions["tanh"]["He"]:
        assert sum(layer["hist"]) == n  # σ and tanh never leave their ranges
    for layer in distributions["relu"]["He"]:
        # the positive values up to 1: (1 − P(z = 0) − P(z > 1))·n, give or take rounding
        expected = (1 - layer["saturated"] - layer["above_range"]) * n
        assert abs(sum(layer["hist"]) - expected) <= 1


def test_init_comparison_small_weights_start_at_chance_and_stay():
    data = load_dataset("digits")
    result = chapter6.init_comparison(
        iterations=300, hidden=(50, 50), batch_size=64, seed=0, data=data
    )
    assert result["iterations"] == 300
    assert all(len(loss) == 300 for loss in result["loss"].values())
    # std 0.01 through 3 layers: scores ≈ 0, softmax uniform, L = ln 10; and the gradients of
    # the first layers carry factors of 0.01² and smaller: it stays there
    assert np.max(np.abs(np.array(result["loss"]["std 0.01"]) - math.log(10))) < 0.01
    assert np.mean(result["loss"]["He"][-20:]) < math.log(10) - 0.2


def test_batchnorm_comparison_tiny_weights_predict_one_class():
    data = load_dataset("digits")
    result = chapter6.batchnorm_comparison(
        scales=2,
        train_size=200,
        epochs=10,
        hidden=(20, 20),
        batch_size=20,
        lr=0.1,
        seed=0,
        data=data,
    )
    assert result["scales"] == [1.0, 1e-4]
    assert all(len(acc) == 10 for acc in result["with_bn"])
    # weights of std 1e-4 without batch norm: the scores are the same for every image (the
    # signal shrinks 1e-3-fold a layer), so every image gets one class: the accuracy is that
    # class's share of the 200 images
    shares = np.bincount(data.t_train[:200], minlength=10) / 200
    for acc in result["without_bn"][1]:
        assert np.isclose(shares, acc).any()
    # batch norm rescales each layer's input to unit variance, so the same tiny weights learn
    assert result["with_bn"][1][-1] > shares.max() + 0.2
    assert result["without_bn_diverged"] == [False, False]


def test_divergence_is_a_result_not_an_error():
    from nnscratch.nets import MultiLayerNet
    from nnscratch.optim import SGD
    from nnscratch.run.trainer import Trainer

    data = load_dataset("digits")
    # five ReLU layers of weights N(0, 1): the scores grow ~√(100/2)-fold a layer and overflow
    net = MultiLayerNet(64, [100] * 5, 10, weight_init=1.0, seed=0)
    trainer = Trainer(
        net,
        data.x_train[:1000],
        data.t_train[:1000],
        epochs=5,
        batch_size=100,
        optimizer=SGD(0.01),
        seed=0,
    )
    history, diverged = chapter6._train(trainer)
    assert diverged and len(history["train_acc"]) < 5


def test_overfit_weight_decay_shrinks_the_weights():
    data = load_dataset("digits")
    result = chapter6.overfit_comparison(
        train_size=100,
        epochs=15,
        hidden=(30, 30),
        seed=0,
        variants=["plain", "weight decay λ = 0.1"],
        data=data,
    )
    plain, decay = result["variants"]["plain"], result["variants"]["weight decay λ = 0.1"]
    assert result["train_size"] == 100
    assert len(plain["train_acc"]) == len(decay["test_acc"]) == 15
    # the same start and batches; W ← W − lr(∂L/∂W + λW) pulls every step towards 0
    assert decay["weight_norm"] < plain["weight_norm"]
    with pytest.raises(NnscratchError, match="variant"):
        chapter6.overfit_comparison(epochs=1, variants=["plain", "nope"], data=data)
    with pytest.raises(NnscratchError, match="no variant"):
        chapter6.overfit_comparison(epochs=1, variants=[], data=data)


@pytest.mark.slow
def test_cli_experiment_writes_figures_and_json(tmp_path, capsys):
    assert main(["experiment", "activations", "--out", str(tmp_path)]) == 0
    for name in ("activations-sigmoid.png", "activations-tanh.png", "activations-relu.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((tmp_path / "activations.json").read_text())
    assert saved["experiment"] == "activations" and saved["seed"] == 0
    assert set(saved["results"]) == {"sigmoid", "tanh", "relu"}
    out = capsys.readouterr().out
    assert out.startswith("activations on random input in ")  # not "on digits"


def test_cli_experiment_files_by_experiment_and_dataset_outside_the_source_tree(
    tmp_path, monkeypatch, capsys
):
    from matplotlib.figure import Figure

    from nnscratch.cli import experiment

    def quick(name, dataset, seed, lang="en"):  # the experiment's figure, without its training
        return {"dataset": dataset}, {"": Figure()}

    monkeypatch.setattr(experiment, "_run", quick)
    monkeypatch.chdir(tmp_path)
    assert main(["experiment", "overfit"]) == 0
    assert main(["experiment", "overfit", "--dataset", "fashion-mnist"]) == 0
    assert main(["experiment", "overfit", "--seed", "2"]) == 0
    out = tmp_path / "runs" / "experiments"
    assert sorted(p.name for p in out.iterdir()) == [
        "overfit-digits-seed2.json",
        "overfit-digits-seed2.png",
        "overfit-digits.json",
        "overfit-digits.png",
        "overfit-fashion-mnist.json",
        "overfit-fashion-mnist.png",
    ]
    assert json.loads((out / "overfit-digits.json").read_text())["results"] == {"dataset": "digits"}
    assert "replaced" not in capsys.readouterr().out
    assert main(["experiment", "overfit"]) == 0  # the same experiment again: said, not silent
    assert "(replaced the earlier overfit-digits.png, overfit-digits.json)" in (
        capsys.readouterr().out
    )
    assert not (tmp_path / "experiments").exists()


def test_cli_experiment_list_and_errors(capsys):
    assert main(["experiment", "--list"]) == 0
    listed = capsys.readouterr().out
    for name in ("activations", "init", "batchnorm", "overfit", "search"):
        assert name in listed
    assert main(["experiment"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--list" in err


def test_cli_experiment_search_is_nnscratch_search_with_its_defaults(tmp_path, monkeypatch):
    from nnscratch.cli import search

    seen = []
    monkeypatch.setattr(search, "cmd_search", lambda args: seen.append(args) or 0)
    assert (
        main(["experiment", "search", "--out", str(tmp_path), "--seed", "3", "--lang", "zh-CN"])
        == 0
    )
    (args,) = seen
    assert (args.out, args.seed, args.dataset, args.lang) == (
        tmp_path / "search-digits-seed3",  # its seed in the name: another seed, another search
        3,
        "digits",
        "zh-CN",
    )
    assert args.trials == 40 and args.n_jobs == 1  # the search command's own defaults
