"""`nnscratch search` and experiments.search: sampling, one generator per trial (the same trials
whatever n_jobs), resuming after Ctrl-C, and the one-line errors of a bad search space."""

import json
import math
import os
import signal
import subprocess
import time
import warnings

import joblib
import numpy as np
import pytest

from nnscratch import cli
from nnscratch.errors import NnscratchError
from nnscratch.experiments.search import best_trials, random_search, retrain_best
from nnscratch.experiments.space import parse_range, parse_space, sample_params
from nnscratch.plots.search import search_figure
from tests.helpers import COMMAND, one_line_error

#: a search that takes a second or two: digits, one small hidden layer, few epochs
TINY = {"hidden": (20,), "epochs": 2}


@pytest.fixture
def main():
    return cli.main


def without_seconds(trials):
    return [{k: v for k, v in t.items() if k != "seconds"} for t in trials]


# --- sampling ----------------------------------------------------------------------------------
def test_log_uniform_samples_are_uniform_in_their_logarithm():
    space = parse_space({"lr": "1e-6:1e-2"})
    rng = np.random.default_rng(1)
    logs = np.log10([sample_params(space, rng)["lr"] for _ in range(4000)])
    assert logs.min() >= -6 and logs.max() <= -2
    # log10(lr) ~ U(-6, -2): mean -4, sd 4/√12 ≈ 1.15: the mean of 4000 within ±0.06 (3 se)
    assert abs(logs.mean() + 4) < 0.06
    # each decade holds a quarter of the draws (sd of the fraction √(0.25·0.75/4000) ≈ 0.007)
    counts = np.histogram(logs, bins=[-6, -5, -4, -3, -2])[0] / len(logs)
    assert np.all(np.abs(counts - 0.25) < 0.03)


def test_linear_range_integer_range_and_choices():
    space = parse_space(["dropout=0:0.5", "batch_size=16:64", "activation=relu,tanh"])
    rng = np.random.default_rng(2)
    draws = [sample_params(space, rng) for _ in range(2000)]
    dropout = np.array([d["dropout"] for d in draws])
    assert dropout.min() >= 0 and dropout.max() <= 0.5 and abs(dropout.mean() - 0.25) < 0.02
    assert all(isinstance(d["batch_size"], int) and 16 <= d["batch_size"] <= 64 for d in draws)
    assert {d["activation"] for d in draws} == {"relu", "tanh"}


def test_scale_defaults_and_explicit_scales():
    assert parse_range("lr", "1e-4:1e-1") == {"scale": "log", "low": 1e-4, "high": 1e-1}
    assert parse_range("dropout", "0.1:0.5")["scale"] == "linear"
    assert parse_range("lr", "0.01:0.1:linear")["scale"] == "linear"
    assert parse_range("momentum", "0.5:0.99:log")["scale"] == "log"
    assert parse_range("batchnorm", "yes,no") == {"values": [True, False]}
    assert parse_range("batch_size", "32") == {"values": [32]}  # one value: fixed


def test_the_order_the_space_is_written_in_changes_nothing():
    a = parse_space(["dropout=0:0.5", "lr=1e-4:1e-1"])
    b = parse_space(["lr=1e-4:1e-1", "dropout=0:0.5"])
    assert a == b
    assert sample_params(a, np.random.default_rng(3)) == sample_params(b, np.random.default_rng(3))


@pytest.mark.parametrize(
    "specs, message",
    [
        (["learning_rate=1e-3:1e-1"], "unknown search parameter 'learning_rate'"),
        (["lr=1e-2:1e-6"], "LOW must be below HIGH"),
        (["lr=1e-3:1e-3"], "LOW must be below HIGH"),
        (["weight_decay=0:1e-4"], "a log range needs LOW > 0"),
        (["dropout=0:1.5"], "dropout must be a number in [0, 1), got '1.5'"),
        (["lr=-1:1:linear"], "lr must be a number in (0, ∞), got '-1'"),
        (["activation=0:1"], "activation takes a list of values"),
        (["activation=relu,swish"], "activation must be one of sigmoid, relu, tanh, got 'swish'"),
        (["batch_size=1.5,3"], "batch_size must be a positive integer, got '1.5'"),
        (["lr=1:2:3"], "write a range as LOW:HIGH[:log|:linear]"),
        (["dropout"], "write NAME=LOW:HIGH"),
        (["dropout=0:0.5", "dropout=0.1:0.2"], "dropout is given twice"),
    ],
)
def test_bad_search_spaces_say_what_is_wrong(specs, message):
    with pytest.raises(NnscratchError) as info:
        parse_space(specs)
    assert message in str(info.value)


def test_an_optimizer_option_needs_an_optimizer_that_takes_it():
    with pytest.raises(NnscratchError, match="add --param optimizer=momentum"):
        random_search(space={"momentum": "0.5:0.9"}, trials=1, **TINY)
    # with a choice of optimizers, an sgd trial simply does not get it
    trials = random_search(
        space={"momentum": "0.5:0.9", "optimizer": "sgd,momentum"}, trials=6, seed=1, **TINY
    )
    for t in trials:
        assert ("momentum" in t["params"]) == (t["params"]["optimizer"] == "momentum")
    assert {t["params"]["optimizer"] for t in trials} == {"sgd", "momentum"}


# --- trials ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_each_trial_draws_from_its_own_generator_and_n_jobs_changes_nothing():
    space = {"lr": "1e-3:1e-1", "dropout": "0:0.3"}
    one = random_search(space=space, trials=4, n_jobs=1, seed=5, **TINY)
    two = random_search(space=space, trials=4, n_jobs=2, seed=5, **TINY)
    assert without_seconds(one) == without_seconds(two)
    parsed = parse_space(space)
    for i, trial in enumerate(one):
        rng = np.random.default_rng([5, i])  # the documented stream: seed first, then params
        assert trial["index"] == i and trial["seed"] == int(rng.integers(2**63))
        assert trial["params"] == sample_params(parsed, rng)
        assert len(trial["val_acc"]) == len(trial["train_acc"]) == len(trial["val_loss"]) == 2
        assert trial["final_val_acc"] == trial["val_acc"][-1]
    assert len({t["params"]["lr"] for t in one}) == 4


@pytest.mark.slow
def test_a_backend_without_generators_runs_the_same_trials_in_rounds():
    # joblib's multiprocessing backend, like Ray's, cannot return results as they end
    with joblib.parallel_backend("multiprocessing", n_jobs=2):
        rounds = random_search(trials=3, n_jobs=2, seed=4, **TINY)
    assert without_seconds(rounds) == without_seconds(random_search(trials=3, seed=4, **TINY))


def test_an_interrupt_between_two_trials_keeps_the_first_and_cancels_the_rest_quietly(tmp_path):
    def interrupt(record):  # Ctrl-C while the parent handles a result, not while it waits
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        random_search(trials=6, n_jobs=2, out=tmp_path, on_trial=interrupt, **TINY)
    assert not [w for w in caught if "tasks" in str(w.message)]  # joblib's "cancelled" note
    assert len(list((tmp_path / "trials").iterdir())) == 1  # the one it was handling is kept


def test_another_seed_gives_other_trials():
    a = random_search(trials=2, seed=0, **TINY)
    b = random_search(trials=2, seed=1, **TINY)
    assert [t["params"] for t in a] != [t["params"] for t in b]


def test_best_trials_rank_by_validation_accuracy_diverged_last():
    trials = [{"index": i, "final_val_acc": acc} for i, acc in enumerate([0.5, None, 0.9, 0.9])]
    assert [t["index"] for t in best_trials(trials, 4)] == [2, 3, 0, 1]
    assert [t["index"] for t in best_trials(trials, 2)] == [2, 3]


def test_rerun_skips_done_trials_and_other_settings_are_refused(tmp_path):
    out = tmp_path / "search"
    first = random_search(trials=2, out=out, **TINY)
    more = random_search(trials=3, out=out, **TINY)
    assert without_seconds(more[:2]) == without_seconds(first)  # read back, not run again
    assert [
        line for line in (out / "trials.log").read_text().splitlines() if line.startswith("queued")
    ] == ["queued 0", "queued 1", "queued 2"]
    with pytest.raises(
        NnscratchError, match="other settings .*epochs 2 there, 3 here.*another --out"
    ):
        random_search(trials=3, out=out, hidden=(20,), epochs=3)


def test_retrain_best_trains_on_train_and_validation_and_tests_once():
    trials = random_search(trials=3, space={"lr": "0.05:0.2"}, **TINY)
    best = retrain_best(trials, space={"lr": "0.05:0.2"}, **TINY)
    assert best["index"] == best_trials(trials, 1)[0]["index"]
    assert best["params"] == trials[best["index"]]["params"]
    assert best["train_images"] == 1437  # all of digits' training part: 1797 − 360 test images
    assert 0.3 < best["test_acc"] <= 1  # lr ≥ 0.05 for 2 epochs learns something (chance: 0.1)


def test_figure_draws_the_best_trials_ranked():
    trials = [
        {
            "index": i,
            "final_val_acc": i / 30,
            "val_acc": [0.1, i / 30],
            "train_acc": [0.1, i / 25],
            "params": {"lr": 10.0**-i, "weight_decay": 1e-6},
        }
        for i in range(23)
    ]
    fig = search_figure(best_trials(trials, 20))
    drawn = [ax for ax in fig.axes if ax.lines]
    assert len(drawn) == 20
    assert drawn[0].get_title() == "1: lr 1.0e-22, wd 1.0e-06"  # trial 22 is the best
    assert [line.get_linestyle() for line in drawn[0].lines] == ["-", "--"]


# --- the command -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, message",
    [
        (["--param", "foo=1:2"], "unknown search parameter 'foo'"),
        (["--lr", "1e-2:1e-6"], "lr=1e-2:1e-6: LOW must be below HIGH"),
        (["--weight-decay", "0:1e-4"], "a log range needs LOW > 0"),
        (["--param", "lr=1e-3:1e-1"], "lr is set by --lr"),
        (
            ["--param", "beta1=0.8:0.99"],
            "beta1 is not an option of sgd: it applies to --optimizer adam or adamw: add --param "
            "optimizer=adam",
        ),
    ],
)
def test_command_errors_are_one_line(main, capsys, tmp_path, args, message):
    out = tmp_path / "never"
    assert main(["search", "--trials", "1", "--out", str(out), *args]) == 2
    assert message in one_line_error(capsys)
    assert not out.exists()


@pytest.mark.slow
def test_command_searches_plots_and_retrains(main, capsys, tmp_path):
    out = tmp_path / "s"
    assert (
        main(
            [
                "search",
                "--trials",
                "3",
                "--epochs",
                "2",
                "--hidden",
                "20",
                "--lr",
                "0.05:0.2",
                "--out",
                str(out),
                "--retrain-best",
                "--top",
                "2",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "best 2 of 3 trials by validation accuracy" in text and "test acc" in text
    results = json.loads((out / "results.json").read_text())
    assert [t["index"] for t in results["trials"]] == [0, 1, 2]
    assert results["settings"]["hidden"] == [20]
    assert json.loads((out / "best.json").read_text())["index"] == results["ranking"][0]
    assert (out / "search.png").stat().st_size > 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow that makes them diverge
def test_diverged_trials_are_kept_ranked_last_and_never_retrained(main, capsys, tmp_path):
    out = tmp_path / "s"
    assert (
        main(
            [
                "search",
                "--trials",
                "2",
                "--epochs",
                "2",
                "--hidden",
                "20",
                "--lr",
                "1e150:1e300",
                "--out",
                str(out),
                "--retrain-best",
            ]
        )
        == 2
    )
    captured = capsys.readouterr()
    assert "trial 0: diverged" in captured.out and "nothing to retrain" in captured.err
    record = json.loads((out / "trials" / "0000.json").read_text())
    assert record["final_val_acc"] is None and "diverged" in record["diverged"]
    assert (out / "search.png").exists() and not (out / "best.json").exists()


@pytest.mark.slow
def test_ctrl_c_keeps_finished_trials_and_a_rerun_finishes_the_rest(tmp_path):
    out = tmp_path / "s"
    # ~0.3-0.8 s a trial: time enough to interrupt after the first and before the twelfth
    args = [
        "search",
        "--trials",
        "12",
        "--n-jobs",
        "2",
        "--epochs",
        "150",
        "--hidden",
        "50,50",
        "--out",
        str(out),
    ]
    command = [*COMMAND, *args]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )  # its own process group, like a terminal's
    deadline = time.monotonic() + 60
    while not list((out / "trials").glob("*.json")) if (out / "trials").exists() else True:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole group, workers too
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.count("\n") == 1 and "interrupted" in stderr and "Traceback" not in stderr
    assert "best" not in stdout  # it stopped before the end
    kept = sorted(p.name for p in (out / "trials").iterdir())
    assert 1 <= len(kept) < 12
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    for name in kept:  # every file kept is a whole trial
        assert json.loads((out / "trials" / name).read_text())["index"] == int(name[:4])
    log_before = (out / "trials.log").read_text().splitlines()

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    names = sorted(p.name for p in (out / "trials").iterdir())
    assert names == [f"{i:04d}.json" for i in range(12)]
    log = (out / "trials.log").read_text().splitlines()
    rerun_queued = {
        int(line.split()[1]) for line in log[len(log_before) :] if line.startswith("queued")
    }
    kept_indices = {int(name[:4]) for name in kept}
    assert rerun_queued == set(range(12)) - kept_indices  # none of the kept ones ran again
    done = [int(line.split()[1]) for line in log if line.startswith("done")]
    assert sorted(done) == list(range(12))  # each trial finished exactly once
    stored = [json.loads((out / "trials" / n).read_text()) for n in names]
    whole = random_search(trials=12, epochs=150, hidden=(50, 50), n_jobs=2)  # uninterrupted
    assert without_seconds(stored) == without_seconds(whole)
    assert not math.isnan(stored[0]["final_val_acc"])
