"""The language models through the option table, ``build`` and the Trainer: the defaults of
nanoGPT's recipe, the errors, an epoch of windows, gradient clipping, the step-by-step schedule,
and a resumed run equal to an uninterrupted one."""

import math

import numpy as np
import pytest

from nnscratch.datasets import load_dataset
from nnscratch.datasets.text import EVAL_WINDOWS, side_by_side, windows
from nnscratch.errors import NnscratchError
from nnscratch.functions import accuracy
from nnscratch.gpt import GPT
from nnscratch.optim import SGD, WarmupCosineLR
from nnscratch.run.build import build
from nnscratch.run.options import resolve
from nnscratch.run.trainer import Trainer
from tests.helpers import StopAt

TINY = {"layers": 1, "heads": 2, "width": 16, "context": 16, "epochs": 1}


def test_gpt_on_tang300_takes_nanogpts_recipe():
    spec = resolve({"model": "gpt", "dataset": "tang300"})
    assert (spec["layers"], spec["heads"], spec["width"], spec["context"]) == (4, 4, 128, 64)
    assert (spec["optimizer"], spec["lr"], spec["beta2"], spec["decay"]) == (
        "adamw",
        0.001,
        0.99,
        0.1,
    )
    assert (spec["lr_schedule"], spec["warmup"], spec["clip_norm"]) == ("warmup-cosine", 0.05, 1.0)
    assert (spec["batch_size"], spec["dtype"], spec["epochs"]) == (12, "float32", 20)
    assert spec["dropout"] == 0.2  # 唐诗三百首 is small: the model would learn it by heart
    assert resolve({"model": "gpt", "dataset": "tang"})["dropout"] == 0.0  # nanoGPT's
    assert spec["activation"] is None and spec["hidden"] is None  # not gpt's options
    rnn = resolve({"model": "rnnlm", "dataset": "tang300"})
    assert (rnn["width"], rnn["hidden"], rnn["layers"]) == (100, (100,), None)


@pytest.mark.parametrize(
    "given, message",
    [
        ({"model": "gpt", "dataset": "digits"}, "--model gpt cannot learn --dataset digits"),
        ({"model": "mlp", "dataset": "tang300"}, "--model mlp cannot learn --dataset tang300"),
        ({"model": "gpt", "dataset": "tang300", "width": 10, "heads": 4}, "divisible by heads"),
        ({"model": "gpt", "dataset": "tang300", "validation_split": 0.1}, "validation_split"),
        ({"model": "mlp", "dataset": "digits", "context": 8}, "context is not an option"),
        ({"model": "gpt", "dataset": "tang300", "hidden": (3,)}, "hidden is not an option"),
    ],
)
def test_what_a_language_model_refuses(given, message):
    with pytest.raises(NnscratchError, match=message):
        resolve(given)


def test_the_windows_of_a_text():
    ids = np.arange(10)
    x, t = windows(ids, 4)
    assert x.shape == t.shape == (6, 4)
    np.testing.assert_array_equal(x[2], [2, 3, 4, 5])
    np.testing.assert_array_equal(t[2], [3, 4, 5, 6])
    assert np.shares_memory(x, ids)  # a view: 全唐诗's 3.6 M windows cost nothing
    xs, ts = side_by_side(np.arange(20), 4)
    np.testing.assert_array_equal(xs[:, 0], [0, 4, 8, 12])  # every token once, as an input
    np.testing.assert_array_equal(ts[-1], [13, 14, 15, 16])
    few, _ = side_by_side(np.arange(4 * 100 + 1), 4, limit=5)
    assert len(few) == 5 and few[0, 0] == 0 and few[-1, 0] == 4 * 99  # spread over the text
    assert EVAL_WINDOWS >= 1


def test_tang300_as_windows_for_the_trainer():
    data = load_dataset("tang300", context=16)
    tokens = len(data.x_train) + 16  # every window's start, and the last window's tail
    assert data.x_train.shape == (tokens - 16, 16) and data.n_classes == 2558
    assert data.info["epoch_size"] == len(data.x_train) // 16
    np.testing.assert_array_equal(data.t_train[:, :-1], data.x_train[:, 1:])
    assert data.x_val.shape[1] == 16 and data.x_test is None
    assert data.info["tokenizer"].vocab_size == data.n_classes


def test_accuracy_counts_every_position():
    y = np.zeros((2, 3, 4))
    y[0, :, 1] = y[1, :, 2] = 1  # predicts 1 in the first window, 2 in the second
    t = np.array([[1, 1, 0], [2, 3, 2]])
    assert accuracy(y, t) == pytest.approx(4 / 6)


@pytest.fixture(scope="module")
def tiny_run():
    run = build({"model": "gpt", "dataset": "tang300", **TINY, "seed": 3})
    before = float(run.trainer.validate()[0])
    history = run.trainer.train()
    return run, before, history


def test_an_epoch_reads_each_token_about_once_and_learns(tiny_run):
    run, before, history = tiny_run
    trainer = run.trainer
    assert trainer.epoch_size == len(run.data.x_train) // 16
    assert trainer.iteration == math.ceil(trainer.epoch_size / 12)  # 12: nanoGPT's batch
    assert before == pytest.approx(math.log(2558), abs=0.1)  # a uniform guess at the start
    assert history["val_loss"][-1] < before - 0.5  # the commas, line ends, common characters
    assert isinstance(run.net, GPT) and run.net.dtype == np.float32
    assert run.description()["tokenizer"]["chars"] == run.data.info["tokenizer"].chars


def test_the_warmup_then_cosine_is_set_before_every_step(tiny_run):
    run, _, _ = tiny_run
    trainer = build({"model": "gpt", "dataset": "tang300", **TINY, "epochs": 4}).trainer
    schedule = trainer.lr_schedule
    assert isinstance(schedule, WarmupCosineLR) and schedule.warmup == pytest.approx(0.2)
    trainer.run(3)  # the first steps of the warm-up: rate ∝ steps done
    assert trainer.optimizer.lr == pytest.approx(0.001 * (3 / trainer.iter_per_epoch) / 0.2)


def test_clipping_caps_the_length_of_a_step():
    data = load_dataset("tang300", context=8)
    x, t = data.x_train[:24], data.t_train[:24]
    net = GPT(data.n_classes, context=8, n_layers=1, n_heads=1, width=8, seed=0)
    before = {k: v.copy() for k, v in net.params.items()}
    trainer = Trainer(net, x, t, optimizer=SGD(lr=1.0), clip_norm=1e-3, batch_size=24, seed=0)
    trainer.run(1)
    step = math.sqrt(sum(np.sum((net.params[k] - before[k]) ** 2) for k in before))
    assert step == pytest.approx(1e-3, rel=1e-6)  # SGD at rate 1: the step is the gradient


@pytest.mark.parametrize("dropout, stop", [(0.0, 7), (0.2, 9)])
def test_a_resumed_run_is_the_uninterrupted_one(tmp_path, dropout, stop):
    # with dropout, the masks too: their generator is saved with the checkpoint
    options = {"model": "gpt", "dataset": "tang300", **TINY, "context": 8, "epochs": 2}
    options["dropout"] = dropout
    whole = build(options)
    assert whole.net.dropout == dropout
    whole.trainer.train()
    first = build(options, callbacks=[StopAt(stop)])
    with pytest.raises(Exception, match="interrupted"):
        first.trainer.train()
    first.trainer.save_checkpoint(tmp_path)
    rest = build(options)
    rest.trainer.load_checkpoint(tmp_path)
    rest.trainer.train()
    for key, value in whole.net.params.items():
        np.testing.assert_array_equal(rest.net.params[key], value, err_msg=key)


def test_rnnlm_learns_from_random_windows():
    run = build(
        {
            "model": "rnnlm",
            "dataset": "tang300",
            "width": 16,
            "hidden": (16,),
            "context": 16,
            "epochs": 1,
        }
    )
    assert run.net.stateful is False  # each random window starts from h = 0
    before = float(run.trainer.validate()[0])
    run.trainer.train()
    assert run.trainer.history["val_loss"][-1] < before - 1.0


def test_a_text_file_of_ones_own(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("\n\n".join(f"第{i}段：春眠不覺曉，處處聞啼鳥。" for i in range(40)), "utf-8")
    spec = resolve(
        {
            "model": "gpt",
            "text": str(path),
            "context": 8,
            "layers": 1,
            "width": 8,
            "heads": 2,
            "epochs": 1,
        }
    )
    assert spec["dataset"] == "text" and spec["text"] == str(path)
    run = build(spec)
    assert run.data.info["tokenizer"].decode(run.data.x_train[0]) == "第0段：春眠不覺"
    run.trainer.train()
    assert run.description()["dataset_options"]["text"] == str(path)  # evaluate reads it again
    with pytest.raises(NnscratchError, match="give --text FILE"):
        resolve({"model": "gpt", "dataset": "text"})
    with pytest.raises(NnscratchError, match="text is not an option of --dataset tang300"):
        resolve({"model": "gpt", "dataset": "tang300", "text": str(path)})


def test_a_batch_of_windows_is_gathered_without_copying_the_text():
    from nnscratch.run.trainer import gather

    x, _ = windows(np.arange(10_000_001, dtype=np.int32), 1000)  # a copy: 40 GB
    rows = np.array([5, 9_000_000])
    batch = gather(x, rows)
    np.testing.assert_array_equal(batch[:, 0], rows)
    np.testing.assert_array_equal(batch[1, -1], 9_000_999)
    dense = np.arange(12).reshape(4, 3)
    np.testing.assert_array_equal(gather(dense, np.array([2, 0])), dense[[2, 0]])
