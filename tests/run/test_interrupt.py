"""`nnscratch train` stopped by Ctrl-C (SIGINT) or SIGTERM in a real process, resumed with
--resume to the same end as a run never stopped; resume's option checks; divergence and bad input
through the command line (one line, exit code 2)."""

import json
import os
import signal
import subprocess

import numpy as np
import pytest

from nnscratch.cli import main
from nnscratch.io import load_checkpoint, load_model
from tests.helpers import COMMAND, one_line_error, start, wait_for_line

#: a small run that still takes a couple of seconds after its first epoch (0.06 s an epoch),
#: so that the signal sent on the first epoch line lands well before the end
RUN = [
    "train",
    "--model",
    "two-layer",
    "--hidden",
    "32",
    "--batch-size",
    "4",
    "--epochs",
    "36",
    "--seed",
    "3",
]


def interrupt(args, signum):
    proc = start(args)
    wait_for_line(proc, "epoch  1/")
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    assert main(RUN + ["--quiet", "--out", str(out)]) == 0
    return out


@pytest.mark.slow
def test_ctrl_c_saves_prints_the_resume_command_exits_130_and_resume_ends_identical(
    uninterrupted, tmp_path
):
    out = tmp_path / "run"
    code, err = interrupt(RUN + ["--out", str(out)], signal.SIGINT)
    assert code == 130, err
    last = err.strip().splitlines()[-1]
    assert "Traceback" not in err
    checkpoint = out / "checkpoint.npz"
    assert last.startswith("nnscratch: interrupted at epoch ")
    assert last.endswith(
        f": checkpoint saved to {checkpoint}; resume with: nnscratch train --resume {out}"
    )
    saved = load_checkpoint(out)
    epoch = int(last.split("interrupted at epoch ")[1].split(",")[0])
    iteration = int(last.split("iteration ")[1].split(":")[0])
    assert (saved.epoch + 1, saved.iteration) == (epoch, iteration)
    assert 1 <= saved.epoch < 36 and len(saved.history["train_loss"]) == iteration
    assert not (out / "model.npz").exists()  # the run is not over
    assert not list(out.glob("*.tmp"))

    proc = subprocess.run(
        COMMAND + ["train", "--resume", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"resuming from {checkpoint} at epoch {epoch}, iteration {iteration}" in proc.stdout
    resumed = json.loads((out / "history.json").read_text())
    whole = json.loads((uninterrupted / "history.json").read_text())
    assert resumed["config"] == whole["config"]
    for key in ("train_loss", "train_acc", "test_acc"):
        assert resumed[key] == whole[key], key  # bit-identical: JSON keeps every float exactly
    a, b = load_model(out / "model.npz"), load_model(uninterrupted / "model.npz")
    for key in a.params:
        assert np.array_equal(a.params[key], b.params[key]), key


@pytest.mark.slow
def test_sigterm_saves_too_and_exits_143(tmp_path):
    code, err = interrupt(RUN + ["--out", str(tmp_path)], signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, err
    assert f"checkpoint saved to {tmp_path / 'checkpoint.npz'}" in err
    saved = load_checkpoint(tmp_path)
    assert saved.iteration == len(saved.history["train_loss"]) > 0


@pytest.mark.slow
def test_ctrl_c_without_out_says_how_to_keep_a_checkpoint():
    code, err = interrupt(RUN, signal.SIGINT)
    assert code == 130
    assert (
        err.strip()
        .splitlines()[-1]
        .endswith(
            ": no checkpoint saved; no checkpoint without --out DIR: give it to be able to resume"
        )
    )


@pytest.mark.slow
def test_signal_handlers_are_put_back_after_training(tmp_path):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert main(["train", "--quiet", "--model", "two-layer", "--epochs", "1"]) == 0
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


# ---------------------------------------------------------------------------- --resume

SHORT = ["train", "--quiet", "--hidden", "8", "--epochs", "2", "--seed", "1"]


@pytest.fixture
def finished(tmp_path):
    assert main(SHORT + ["--out", str(tmp_path)]) == 0
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize(
    "option, message",
    [
        (
            ["--epochs", "5"],
            "--epochs 5 conflicts with the checkpoint's 2: --resume continues the "
            "saved run with its options; leave --epochs out",
        ),
        (["--hidden", "9,4"], "--hidden 9,4 conflicts with the checkpoint's 8"),
        (
            ["--dataset", "fashion-mnist"],
            "--dataset fashion-mnist conflicts with the checkpoint's digits",
        ),
        (["--lr", "0.5"], "--lr 0.5 conflicts with the checkpoint's 0.001"),
        (["--model", "two-layer"], "--model two-layer conflicts with the checkpoint's mlp"),
    ],
)
def test_resume_with_a_conflicting_option_is_one_line_exit_2(finished, option, message, capsys):
    assert main(["train", "--resume", str(finished), *option]) == 2
    assert message in one_line_error(capsys)


def test_resume_with_the_same_options_and_of_a_finished_run(finished, capsys):
    before = json.loads((finished / "history.json").read_text())
    assert (
        main(["train", "--quiet", "--resume", str(finished), "--epochs", "2", "--hidden", "8"]) == 0
    )
    assert "the run finished all 2 epochs" in capsys.readouterr().out
    assert json.loads((finished / "history.json").read_text()) == before


def test_resume_of_a_folder_without_checkpoint(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "checkpoint.npz' does not exist" in one_line_error(capsys)


def test_resume_of_a_file_that_is_not_a_checkpoint(tmp_path, capsys):
    (tmp_path / "checkpoint.npz").write_bytes(b"not a zip at all")
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "cannot be read as an nnscratch .npz file" in one_line_error(capsys)


def test_out_writes_model_that_evaluate_reads(finished, capsys):
    assert main(["evaluate", str(finished / "model.npz")]) == 0
    assert "MultiLayerNet on digits" in capsys.readouterr().out


# ---------------------------------------------------------------------------- divergence


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_divergence_is_one_line_naming_the_learning_rate(tmp_path, capsys):
    assert (
        main(
            [
                "train",
                "--quiet",
                "--hidden",
                "8",
                "--no-batchnorm",
                "--optimizer",
                "sgd",
                "--lr",
                "1e300",
                "--lr-schedule",
                "none",
                "--epochs",
                "2",
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    err = one_line_error(capsys)
    assert err.startswith("nnscratch: error: training diverged at epoch 1, iteration ")
    assert err.strip().endswith(
        "the learning rate 1e+300 is probably too high; try 1e+299. No checkpoint was saved"
    )
    assert not (tmp_path / "checkpoint.npz").exists()


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--hidden", "8,x"],
            "hidden must be layer sizes separated by commas, e.g. 256,128, got '8,x'",
        ),
        (
            ["--hidden", "8,,4"],
            "hidden must be layer sizes separated by commas, e.g. 256,128, got '8,,4'",
        ),
        (
            ["--hidden", "0"],
            "hidden must be layer sizes separated by commas, e.g. 256,128, got '0'",
        ),
        (["--lr", "-1"], "lr must be a number in (0, ∞), got '-1'"),
        (["--lr", "0"], "lr must be a number in (0, ∞), got '0'"),
        (["--lr", "inf"], "lr must be a number in (0, ∞), got 'inf'"),
        (["--batch-size", "0"], "batch_size must be a positive integer, got '0'"),
        (
            ["--batch-size", "5000"],
            "batch_size must be an integer from 1 to 1437 (the number of "
            "training samples), got 5000: use at most 1437",
        ),
    ],
)
def test_bad_values_are_one_line_exit_2(argv, message, capsys):
    assert main(["train", "--quiet", *argv]) == 2
    assert message in one_line_error(capsys)


def test_argparse_errors_are_one_line_too(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--bogus", "3"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err == ("nnscratch: error: unrecognized arguments: --bogus 3 (see nnscratch --help)\n")


# ---------------------------------------------------------------------------- in-process signals


def _signal_at(k, times):
    from nnscratch.run.callbacks import Callback

    class Send(Callback):
        def on_iteration_end(self, trainer, loss):
            if trainer.iteration == k:
                for _ in range(times):
                    os.kill(os.getpid(), signal.SIGINT)

    return Send()


def _small_trainer(callbacks):
    from nnscratch import Trainer, TwoLayerNet

    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(60, 4)), rng.integers(0, 3, 60)
    return Trainer(
        TwoLayerNet(4, 5, 3, seed=0), x, t, epochs=3, batch_size=10, seed=0, callbacks=callbacks
    )


@pytest.mark.slow
def test_stop_on_signals_finishes_the_step_saves_and_restores_the_handler(tmp_path):
    from nnscratch.run.callbacks import CheckpointSaver
    from nnscratch.run.interrupt import TrainingInterrupted

    trainer = _small_trainer([_signal_at(8, 1), CheckpointSaver(tmp_path)])
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(TrainingInterrupted) as exc:
        with trainer.stop_on_signals():
            trainer.train()
    assert (exc.value.signal_name, exc.value.epoch, exc.value.iteration) == ("SIGINT", 1, 8)
    assert load_checkpoint(tmp_path).iteration == 8
    assert signal.getsignal(signal.SIGINT) is before


def test_a_second_ctrl_c_interrupts_at_once(tmp_path):
    trainer = _small_trainer([_signal_at(3, 2)])
    with pytest.raises(KeyboardInterrupt):
        with trainer.stop_on_signals():
            trainer.train()
    assert trainer.iteration == 3


def test_resume_of_a_checkpoint_written_from_python(tmp_path, capsys):
    from nnscratch import TwoLayerNet
    from nnscratch.io import save_checkpoint

    save_checkpoint(tmp_path, TwoLayerNet(64, 5, 10), config={"dataset": "digits"})
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert (
        "was not written by `nnscratch train`: resume it from Python with Trainer.load_checkpoint"
    ) in one_line_error(capsys)
