"""`nnscratch train`'s run folder: one writer at a time (an OS lock, gone with its process, even
after SIGKILL), nothing rewritten by --resume of a finished run, and checkpoints whose saved
options have today's form still resume."""

import json
import os

import numpy as np
import pytest

from nnscratch.cli import main
from nnscratch.io import load_checkpoint, save_checkpoint
from tests.helpers import one_line_error, start, wait_for_line

#: a run long enough (0.06 s an epoch, 300 epochs) to be still running when the test is done
LONG = ["train", "--model", "two-layer", "--hidden", "32", "--batch-size", "4", "--epochs", "300"]
SHORT = ["train", "--quiet", "--hidden", "8", "--epochs", "2", "--seed", "1"]
#: a run that stops early (SGD at rate 2: its validation loss soon stops falling)
STOPS_EARLY = [
    *("train", "--quiet", "--hidden", "8", "--epochs", "40", "--early-stopping", "1"),
    *("--optimizer", "sgd", "--lr", "2", "--lr-schedule", "none"),
]


def snapshot(folder):
    """Every file's bytes and modification time (ns), the lock file's too."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------------------- one writer


@pytest.fixture
def running(tmp_path):
    """A real `nnscratch train --out DIR` process, past its first epoch; killed at the end."""
    proc = start(LONG + ["--out", tmp_path])
    wait_for_line(proc, "epoch ")
    yield proc, tmp_path
    proc.kill()
    proc.wait(timeout=60)


@pytest.mark.slow
def test_a_second_writer_to_a_running_folder_is_refused_naming_the_running_one(running, capsys):
    proc, folder = running
    assert main(["train", "--quiet", "--epochs", "1", "--out", str(folder)]) == 2
    err = one_line_error(capsys)
    assert f"{folder} is in use by another `nnscratch train` (pid {proc.pid}, started " in err
    assert "give another --out" in err
    assert proc.poll() is None  # the first one still runs, undisturbed
    # nothing written by the refused run (the first one, 300 epochs long, writes checkpoints)
    assert not [
        name for name in ("model.npz", "history.json", "curves.png") if (folder / name).exists()
    ]


@pytest.mark.slow
def test_a_writer_killed_with_sigkill_leaves_no_lock_behind(tmp_path, capsys):
    proc = start(LONG + ["--out", tmp_path])
    wait_for_line(proc, "epoch ")
    # the lock is really held while it runs: a second writer is refused, naming it...
    assert main(["train", "--quiet", "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert f"(pid {proc.pid}, started " in one_line_error(capsys)
    proc.kill()  # SIGKILL: no handler, no cleanup runs
    proc.wait(timeout=60)
    # ...and gone with the process: the next run proceeds
    assert main(["train", "--quiet", "--epochs", "1", "--hidden", "8", "--out", str(tmp_path)]) == 0
    assert "test acc" in capsys.readouterr().out


#: a run whose first epoch lasts seconds (1437 steps of a 2048-wide network, one image each):
#: it holds its folder with no checkpoint there yet
SLOW_FIRST_EPOCH = [
    "train",
    "--quiet",
    "--hidden",
    "2048,2048",
    "--no-batchnorm",
    "--batch-size",
    "1",
    "--epochs",
    "2",
]


@pytest.mark.slow
def test_resume_of_a_folder_held_before_its_first_checkpoint_names_the_running_one(
    tmp_path, capsys
):
    proc = start(SLOW_FIRST_EPOCH + ["--out", tmp_path])
    try:
        wait_for_line(proc, "training ")  # printed once it holds the folder
        assert main(["train", "--quiet", "--resume", str(tmp_path)]) == 2
        err = one_line_error(capsys)
        assert not (tmp_path / "checkpoint.npz").exists()  # the case under test: none yet
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert f"{tmp_path} is in use by another `nnscratch train` (pid {proc.pid}, started " in err


@pytest.mark.slow
def test_resume_holds_the_lock_too(tmp_path, capsys):
    from nnscratch.cli.rundir import run_lock

    unfinished_checkpoint(tmp_path, TODAY["mlp"])
    with run_lock(tmp_path) as announce:
        announce()
        assert main(["train", "--quiet", "--resume", str(tmp_path)]) == 2
    assert f"(pid {os.getpid()}, started " in one_line_error(capsys)
    assert main(["train", "--quiet", "--resume", str(tmp_path)]) == 0  # released: it proceeds


def test_without_fcntl_runs_take_no_lock(tmp_path, monkeypatch):
    """Windows has no fcntl: runs go ahead unlocked (and write no lock file)."""
    from nnscratch.cli import rundir

    monkeypatch.setattr(rundir, "fcntl", None)
    with rundir.run_lock(tmp_path), rundir.run_lock(tmp_path):
        pass
    assert not list(tmp_path.iterdir())


def test_the_lock_is_taken_once_per_folder_and_released_after(tmp_path):
    from nnscratch.cli.rundir import run_lock
    from nnscratch.errors import NnscratchError

    with run_lock(tmp_path):  # held, before it names itself
        with pytest.raises(NnscratchError, match=r"\(it is just starting\)"):
            with run_lock(tmp_path):
                pass
    with run_lock(tmp_path) as announce:
        announce()
        with pytest.raises(NnscratchError, match=rf"\(pid {os.getpid()}, started \d{{4}}-"):
            with run_lock(tmp_path):
                pass
    with run_lock(tmp_path):  # released at the end of the block
        pass


# ---------------------------------------------------------------------------- finished runs


@pytest.mark.slow
def test_resume_of_a_finished_run_says_so_and_writes_nothing(tmp_path, capsys):
    assert main(SHORT + ["--out", str(tmp_path)]) == 0
    test_acc = json.loads((tmp_path / "history.json").read_text())["test_acc"][-1]
    before = snapshot(tmp_path)
    capsys.readouterr()
    assert main(["train", "--resume", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert (
        out
        == (
            f"{tmp_path}: the run finished all 2 epochs (test acc {test_acc:.4f}); "
            "nothing to resume\n"
        )
        and err == ""
    )
    assert snapshot(tmp_path) == before


@pytest.mark.slow
def test_resume_of_a_run_that_stopped_early_says_so_and_writes_nothing(tmp_path, capsys):
    assert main([*STOPS_EARLY, "--out", str(tmp_path)]) == 0
    history = json.loads((tmp_path / "history.json").read_text())
    epochs = len(history["test_acc"])
    assert epochs < 40  # it did stop early: the case under test
    best = min(range(epochs), key=lambda e: history["val_loss"][e])  # the first lowest
    before = snapshot(tmp_path)
    capsys.readouterr()
    assert main(["train", "--resume", str(tmp_path)]) == 0
    assert capsys.readouterr().out == (
        f"{tmp_path}: the run stopped early at epoch {epochs} of 40 (best epoch {best + 1}, "
        f"test acc {history['test_acc'][best]:.4f}); nothing to resume\n"
    )
    assert snapshot(tmp_path) == before


RESULTS = ("model.npz", "history.json", "curves.png")


@pytest.mark.slow
@pytest.mark.parametrize("lost", [RESULTS, ("model.npz",), ("curves.png",)])
def test_resume_of_a_finished_run_whose_results_were_not_written_writes_them(
    tmp_path, capsys, lost
):
    """Killed after its last checkpoint, before (or while) save_results wrote the results."""
    from nnscratch.io import load_model

    assert main(SHORT + ["--out", str(tmp_path)]) == 0
    history = json.loads((tmp_path / "history.json").read_text())
    model = load_model(tmp_path / "model.npz")
    for name in lost:
        (tmp_path / name).unlink()
    capsys.readouterr()
    assert main(["train", "--quiet", "--resume", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    missing = " and ".join(lost)
    assert out.splitlines()[0] == (
        f"{tmp_path}: the run finished all 2 epochs (test acc {history['test_acc'][-1]:.4f}); "
        f"{missing} missing: writing the results from its checkpoint"
    )
    assert all((tmp_path / name).exists() for name in RESULTS)
    assert json.loads((tmp_path / "history.json").read_text()) == history
    written = load_model(tmp_path / "model.npz")
    for key, value in model.params.items():
        assert np.array_equal(written.params[key], value), key


@pytest.mark.slow
def test_resume_of_a_run_stopped_early_without_its_model_writes_the_best_one(tmp_path, capsys):
    from nnscratch.io import load_model

    assert main([*STOPS_EARLY, "--out", str(tmp_path)]) == 0
    model = load_model(tmp_path / "model.npz")
    (tmp_path / "model.npz").unlink()
    capsys.readouterr()
    assert main(["train", "--quiet", "--resume", str(tmp_path)]) == 0
    assert "model.npz missing: writing the results" in capsys.readouterr().out
    written = load_model(tmp_path / "model.npz")  # the best epoch's weights, restored
    for key, value in model.params.items():
        assert np.array_equal(written.params[key], value), key


@pytest.mark.slow
@pytest.mark.parametrize(
    "callbacks",
    [
        [1, 2],  # not a dict
        {"EarlyStopping": "stopped"},  # its state not a dict
        {"EarlyStopping": {"best_epoch": 1}},  # no "wait"
        {"EarlyStopping": {"wait": 5}},  # no "best_epoch"
        {"EarlyStopping": {"wait": [], "best_epoch": 1}},
    ],
)
def test_resume_with_damaged_early_stopping_state_is_one_line(tmp_path, capsys, callbacks):
    args = {**TODAY["mlp"], "early_stopping": 1, "validation_split": 0.1}
    assert (
        main(
            [
                "train",
                "--quiet",
                "--hidden",
                "8",
                "--epochs",
                "2",
                "--seed",
                "1",
                "--early-stopping",
                "1",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    saved = load_checkpoint(tmp_path)
    assert {k: saved.config["args"][k] for k in args} == args
    save_checkpoint(
        tmp_path,
        saved.net,
        optimizer_state=saved.optimizer_state,
        rng=saved.rng_state,
        epoch=1,
        iteration=saved.iteration,
        history=saved.history,
        config=saved.config,
        extra={**saved.extra, "callbacks": callbacks},
    )
    capsys.readouterr()
    assert main(["train", "--quiet", "--resume", str(tmp_path)]) == 2
    assert "early-stopping state" in one_line_error(capsys)


# ---------------------------------------------------------------------------- what a run leaves


@pytest.mark.parametrize(
    "argv",
    [
        ["--dataset", "mnsit"],  # a typo: known before any file is read
        ["--hidden", "8,x"],
        ["--batch-size", "5000"],  # known once the data is loaded
    ],
)
def test_a_run_that_fails_before_writing_leaves_no_folder_behind(tmp_path, capsys, argv):
    out = tmp_path / "runs" / "x"
    assert main(["train", "--quiet", *argv, "--out", str(out)]) == 2
    one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_run_leaves_a_folder_it_did_not_create_as_it_was(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["train", "--quiet", "--batch-size", "5000", "--out", str(tmp_path)]) == 2
    one_line_error(capsys)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert {p.name for p in tmp_path.iterdir()} <= {"notes.txt", ".nnscratch-train.lock"}
    # a --resume folder that was not there is not left there either
    assert main(["train", "--quiet", "--resume", str(tmp_path / "none")]) == 2
    assert "does not exist" in one_line_error(capsys)
    assert not (tmp_path / "none").exists()


# ---------------------------------------------------------------------------- without flock


@pytest.mark.parametrize("errno_name", ["ENOLCK", "EOPNOTSUPP"])
def test_a_filesystem_without_flock_runs_unlocked_with_a_warning(
    tmp_path, capsys, monkeypatch, errno_name
):
    """Some network filesystems refuse flock: the run goes ahead and says it is unprotected."""
    import errno
    import fcntl

    from nnscratch.cli import rundir

    def refuse(fd, operation):
        code = getattr(errno, errno_name)
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fcntl, "flock", refuse)
    assert main(SHORT + ["--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "test acc" in out and (tmp_path / "model.npz").exists()
    assert err.count("\n") == 1 and err.startswith(f"nnscratch: warning: {tmp_path}")
    assert "not protected against a second" in err
    with rundir.run_lock(tmp_path), rundir.run_lock(tmp_path):  # unlocked: both go ahead
        pass


# ---------------------------------------------------------------------------- today's checkpoints

#: the saved options ("args" in the checkpoint's config) exactly as `nnscratch train` at commit
#: f128fc9 wrote them (printed from checkpoints it saved) for SHORT with --epochs 2 and for
#: --model two-layer --hidden 8: the mlp-only options of two-layer are None.
TODAY = {
    "mlp": {
        "activation": "relu",
        "batch_size": 32,
        "batchnorm": True,
        "dataset": "digits",
        "dropout": 0.0,
        "dtype": "float64",
        "early_stopping": None,
        "epochs": 2,
        "grad": "backprop",
        "hidden": [8],
        "lr": 0.001,
        "lr_schedule": "cosine",
        "model": "mlp",
        "optimizer": "adam",
        "seed": 1,
        "validation_split": None,
        "weight_decay": 0.0,
        "weight_init": "he",
    },
    "two-layer": {
        "activation": "sigmoid",
        "batch_size": 32,
        "batchnorm": None,
        "dataset": "digits",
        "dropout": None,
        "dtype": "float64",
        "early_stopping": None,
        "epochs": 2,
        "grad": "backprop",
        "hidden": [8],
        "lr": 0.5,
        "lr_schedule": "none",
        "model": "two-layer",
        "optimizer": "sgd",
        "seed": 1,
        "validation_split": None,
        "weight_decay": None,
        "weight_init": None,
    },
}


def argv_of(args):
    """The command line of a fresh run with the saved options ``args``."""
    argv = [
        "train",
        "--quiet",
        "--dataset",
        args["dataset"],
        "--model",
        args["model"],
        "--hidden",
        ",".join(map(str, args["hidden"])),
        "--seed",
        str(args["seed"]),
    ]
    return argv + ["--epochs", str(args["epochs"])]


def typed(d):
    """Values with their types: 0.0 and 0, True and 1, [8] and (8,) differ."""
    return {k: (type(v).__name__, v) for k, v in d.items()}


def unfinished_checkpoint(folder, args, more=()):
    """A checkpoint after epoch 1 of ``args["epochs"]`` whose saved options are ``args``: a
    1-epoch run's checkpoint (the first epoch of a longer run with these options and the options
    ``more``, the cosine schedule's first rate being the same), with its config's "args" replaced
    by ``args``."""
    assert main(argv_of({**args, "epochs": 1}) + [*more, "--out", str(folder)]) == 0
    saved = load_checkpoint(folder)
    config = {**saved.config, "epochs": args["epochs"], "args": args}
    save_checkpoint(
        folder,
        saved.net,
        optimizer_state=saved.optimizer_state,
        rng=saved.rng_state,
        epoch=saved.epoch,
        iteration=saved.iteration,
        history=saved.history,
        config=config,
        extra=saved.extra,
    )
    for name in ("model.npz", "history.json", "curves.png"):
        (folder / name).unlink()


@pytest.mark.parametrize("model", sorted(TODAY))
def test_a_new_run_saves_every_option_and_the_earlier_ones_as_before(model, tmp_path):
    from nnscratch.run.options import OPTIONS

    assert main(argv_of(TODAY[model]) + ["--out", str(tmp_path)]) == 0
    saved = load_checkpoint(tmp_path).config["args"]
    assert set(saved) == set(OPTIONS)
    assert typed({k: saved[k] for k in TODAY[model]}) == typed(TODAY[model])


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(TODAY))
def test_a_checkpoint_with_todays_saved_options_resumes_to_the_same_end(model, tmp_path, capsys):
    unfinished_checkpoint(tmp_path / "resumed", TODAY[model])
    assert main(["train", "--quiet", "--resume", str(tmp_path / "resumed")]) == 0
    assert "resuming from" in capsys.readouterr().out
    assert main(argv_of(TODAY[model]) + ["--out", str(tmp_path / "whole")]) == 0
    resumed, whole = (
        json.loads((tmp_path / run / "history.json").read_text()) for run in ("resumed", "whole")
    )
    assert resumed["config"] == whole["config"]
    for key in ("train_loss", "train_acc", "test_acc"):
        assert resumed[key] == whole[key], key


@pytest.mark.slow
def test_an_earlier_checkpoint_on_a_2d_set_resumes_on_the_points_it_drew(tmp_path, capsys):
    """Before --data-seed a 2-D set's points came from seed 0 whatever the run's --seed: such a
    checkpoint resumes on them, to the end of a whole run with --data-seed 0."""
    args = {**TODAY["two-layer"], "dataset": "moons", "seed": 5}
    unfinished_checkpoint(tmp_path / "resumed", args, ["--data-seed", "0"])
    assert main(["train", "--quiet", "--resume", str(tmp_path / "resumed")]) == 0
    assert "resuming from" in capsys.readouterr().out
    assert main(argv_of(args) + ["--data-seed", "0", "--out", str(tmp_path / "whole")]) == 0
    resumed, whole = (
        json.loads((tmp_path / run / "history.json").read_text()) for run in ("resumed", "whole")
    )
    assert resumed["config"]["dataset_options"]["seed"] == 0
    for key in ("train_loss", "train_acc", "test_acc"):
        assert resumed[key] == whole[key], key
    # and a --data-seed on resuming it is the conflict it is
    assert main(["train", "--resume", str(tmp_path / "resumed"), "--data-seed", "5"]) == 2
    assert "--data-seed 5 conflicts with the checkpoint's 0" in one_line_error(capsys)
