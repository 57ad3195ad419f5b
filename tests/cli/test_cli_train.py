"""`nnscratch train`, run in-process and as the installed command."""

import json
import shutil
import subprocess
import sys

import pytest

from nnscratch import __version__
from nnscratch.cli import main


@pytest.mark.slow
def test_default_training_on_digits_writes_history_and_curves(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "test acc" in out
    history = json.loads((tmp_path / "history.json").read_text())
    assert {"config", "train_loss", "train_acc", "test_acc"} <= set(history)
    cfg = history["config"]
    assert cfg["dataset"] == "digits" and cfg["seed"] == 0
    iter_per_epoch = -(-1437 // cfg["batch_size"])
    assert len(history["train_loss"]) == cfg["epochs"] * iter_per_epoch
    assert len(history["test_acc"]) == cfg["epochs"]
    assert history["test_acc"][-1] >= 0.95
    png = (tmp_path / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.slow
def test_epoch_lines_and_same_seed_same_history(tmp_path, capsys):
    args = ["train", "--epochs", "3", "--hidden", "20", "--seed", "5"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3  loss ")
    assert main(args + ["--out", str(tmp_path / "b"), "--quiet"]) == 0
    a = json.loads((tmp_path / "a" / "history.json").read_text())
    b = json.loads((tmp_path / "b" / "history.json").read_text())
    assert a["train_loss"] == b["train_loss"] and a["test_acc"] == b["test_acc"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--lr", "-1"], "nnscratch: error: lr must be a number in (0, ∞), got '-1'"),
        (
            ["train", "--hidden", "abc"],
            "nnscratch: error: hidden must be layer sizes separated by "
            "commas, e.g. 256,128, got 'abc'",
        ),
        (
            ["train", "--batch-size", "0"],
            "nnscratch: error: batch_size must be a positive integer, got '0'",
        ),
        (
            ["train", "--epochs", "0"],
            "nnscratch: error: epochs must be a positive integer, got '0'",
        ),
        (["train", "--bogus"], "nnscratch: error: unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_exit_2_with_one_message(argv, message, capsys):
    try:
        code = main(argv + ["--quiet"])
    except SystemExit as exc:  # argparse's own checks
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_library_errors_are_one_line_exit_2(capsys):
    assert main(["train", "--dataset", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        "nnscratch: error: dataset must be one of "
        "digits, mnist, fashion-mnist, moons, circles, "
        "spiral, xor, gaussians, tang300, tang, text, got 'nope'"
    )
    assert "Traceback" not in err
    assert main(["train", "--batch-size", "5000", "--quiet"]) == 2
    assert "batch_size must be an integer from 1 to 1437" in capsys.readouterr().err


@pytest.mark.slow
def test_installed_command_version_and_help():
    exe = shutil.which("nnscratch")
    cmd = [exe] if exe else [sys.executable, "-m", "nnscratch"]  # venv not activated
    out = subprocess.run(cmd + ["--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"nnscratch {__version__}"
    out = subprocess.run(
        cmd + ["train", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in (
        "--dataset",
        "--hidden",
        "--lr",
        "--batch-size",
        "--epochs",
        "--grad",
        "--seed",
        "--out",
    ):
        assert option in out


@pytest.mark.parametrize(
    "argv, batch_size, epochs",
    [
        (["train"], 32, 40),
        (["train", "--dataset", "fashion-mnist"], 100, 10),
        (["train", "--dataset", "mnist", "--epochs", "3"], 100, 3),
        (["train", "--dataset", "fashion-mnist", "--batch-size", "64"], 64, 10),
    ],
)
def test_default_length_follows_the_recipe_for_each_dataset(argv, batch_size, epochs):
    from nnscratch.cli import build_parser
    from nnscratch.cli.train import resolve_args

    spec = resolve_args(build_parser().parse_args(argv))
    assert (spec["batch_size"], spec["epochs"]) == (batch_size, epochs)


def test_paths_seeds_and_splits_that_cannot_work_are_one_line_errors(tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    assert main(["train", "--epochs", "1", "--quiet", "--out", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "choose a path you can write to" in err
    assert main(["train", "--epochs", "1", "--quiet", "--validation-split", "0.001"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "each part needs at least one sample of each of the 10" in err
    assert main(["train", "--seed", "-1"]) == 2
    assert "seed must be an integer ≥ 0, got '-1'" in capsys.readouterr().err


@pytest.mark.slow
def test_saved_files_follow_the_umask(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        assert main(["train", "--epochs", "1", "--quiet", "--out", str(tmp_path)]) == 0
    finally:
        os.umask(old)
    for name in ("model.npz", "checkpoint.npz", "history.json", "curves.png"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name


@pytest.mark.slow
def test_numerical_gradients_train_a_float32_net(capsys):
    assert (
        main(
            [
                "train",
                "--model",
                "two-layer",
                "--grad",
                "numerical",
                "--dtype",
                "float32",
                "--epochs",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    assert "test acc" in capsys.readouterr().out


def test_early_stopping_without_validation_data_says_which_flags_to_change(capsys):
    assert (
        main(
            [
                "train",
                "--quiet",
                "--epochs",
                "1",
                "--early-stopping",
                "2",
                "--validation-split",
                "0",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert (
        err.startswith(
            "nnscratch: error: early_stopping 2 watches the validation loss, "
            "but validation_split 0 holds no data out: "
        )
        and err.count("\n") == 1
    )
    assert "give validation_split 0.1" in err and "x_val" not in err


def test_numerical_gradients_say_what_backprop_and_the_naive_loop_would_cost(monkeypatch, capsys):
    from nnscratch.run import cost

    seen = []

    def costs(net, x, t, budget=0.5):  # fixed times: the arithmetic of the report is checked
        seen.append((net, x.shape, t.shape))
        return {"backprop": 2e-4, "numerical": 0.006, "naive": 1.5, "naive_estimated": False}

    monkeypatch.setattr(cost, "gradient_costs", costs)
    argv = ["train", "--model", "two-layer", "--grad", "numerical", "--epochs", "1", "--quiet"]
    assert main([*argv, "--batch-size", "100"]) == 0
    out = capsys.readouterr().out
    ((net, x_shape, t_shape),) = seen
    assert x_shape == (100, 64) and t_shape == (100,)  # a batch of the run's size
    assert "done: 1 epoch, 15 iterations in " in out  # 1,437 digits / 100: 15 steps
    assert (
        "one gradient of a batch of 100: backprop 200 µs; numerical 6 ms (30× backprop) on the "
        "fast engine, 1.5 s (7,500×) by the book's naive loop\n"
        "  an epoch of 15 steps: 3 ms by backprop, 90 ms numerical (fast), 22.5 s by the naive "
        "loop: backpropagation is what makes learning feasible\n"
    ) in out
    monkeypatch.setattr(
        cost,
        "gradient_costs",
        lambda *a, **k: {
            "backprop": 1e-3,
            "numerical": 0.01,
            "naive": 300,
            "naive_estimated": True,
        },
    )
    assert main(argv) == 0
    assert "≈ 300 s (300,000×) by the book's naive loop" in capsys.readouterr().out
    assert main(["train", "--model", "two-layer", "--epochs", "1", "--quiet"]) == 0
    assert "naive loop" not in capsys.readouterr().out  # backprop runs say nothing of it


def test_gradient_costs_time_copies_of_the_network():
    import numpy as np

    from nnscratch import TwoLayerNet
    from nnscratch.run import cost

    net = TwoLayerNet(6, 5, 3, seed=0)
    before = {k: v.copy() for k, v in net.params.items()}
    x, t = np.random.default_rng(0).standard_normal((4, 6)), np.array([0, 1, 2, 0])
    costs = cost.gradient_costs(net, x, t, budget=0.01)
    assert costs["naive_estimated"] is False  # 38 weights: timed in full
    assert all(costs[k] > 0 for k in ("backprop", "numerical", "naive"))
    assert type(net) is TwoLayerNet and all(
        np.array_equal(net.params[k], before[k]) for k in before
    )


def test_a_large_networks_naive_loop_is_estimated(monkeypatch):
    import numpy as np

    from nnscratch import TwoLayerNet
    from nnscratch.run import cost

    monkeypatch.setattr(cost, "NAIVE_BUDGET", 0.0)
    calls = []
    real = TwoLayerNet.numerical_gradient
    monkeypatch.setattr(TwoLayerNet, "numerical_gradient", lambda *a: calls.append(1) or real(*a))
    net = TwoLayerNet(6, 5, 3, seed=0)
    x, t = np.ones((4, 6)), np.array([0, 1, 2, 0])
    costs = cost.gradient_costs(net, x, t, budget=0.01)
    assert costs["naive_estimated"] is True and calls == []  # estimated, not run


@pytest.mark.parametrize(
    "extra, row",
    [
        ([], -1),  # the last epoch's
        # early stopping puts the best epoch's weights back: that epoch's accuracies
        (["--validation-split", "0.2", "--early-stopping", "1", "--lr", "0.05"], "best"),
    ],
)
def test_the_final_accuracies_are_those_of_the_weights_the_run_leaves(tmp_path, capsys, extra, row):
    from nnscratch import load_dataset
    from nnscratch.io import load_model

    argv = ["train", "--model", "two-layer", "--epochs", "12", "--quiet", "--out", str(tmp_path)]
    assert main([*argv, *extra]) == 0
    out = capsys.readouterr().out
    history = json.loads((tmp_path / "history.json").read_text())
    if row == "best":
        row = min(range(len(history["val_loss"])), key=history["val_loss"].__getitem__)
        assert "early stop" in out and row < len(history["val_loss"]) - 1
    train_acc, test_acc = history["train_acc"][row], history["test_acc"][row]
    assert f"final train acc {train_acc:.4f}, test acc {test_acc:.4f}" in out
    net = load_model(tmp_path / "model.npz")  # the weights measured again: the same numbers
    data = load_dataset("digits")
    assert net.accuracy(data.x_test, data.t_test) == pytest.approx(test_acc, abs=1e-12)


def test_durations_keep_three_figures_in_the_unit_after_rounding():
    from nnscratch.cli.train import duration

    assert [duration(s) for s in (8.31e-5, 9.1e-3, 1.214, 54.0, 1234.4)] == [
        "83.1 µs",
        "9.1 ms",
        "1.21 s",
        "54 s",
        "1,234 s",
    ]
    assert duration(0.00099996) == "1 ms" and duration(0.99996) == "1 s"  # never "1e+03 µs"
