"""Callbacks: EarlyStopping's checks and its min_delta, and the order callbacks run in."""

from types import SimpleNamespace

import numpy as np
import pytest

from nnscratch.errors import NnscratchError
from nnscratch.io import load_checkpoint
from nnscratch.nets import TwoLayerNet
from nnscratch.run.callbacks import Callback, CheckpointSaver, EarlyStopping
from nnscratch.run.trainer import Trainer


@pytest.mark.parametrize("patience", [True, False, 0, -1, 2.5, "3", None])
def test_early_stopping_patience_must_be_a_positive_integer(patience):
    with pytest.raises(
        NnscratchError,
        match=r"^early-stopping patience \(epochs\) must be a "
        rf"positive integer, got {patience!r}$",
    ):
        EarlyStopping(patience)


@pytest.mark.parametrize("min_delta", [-0.1, float("nan"), float("inf"), True, "0.1"])
def test_early_stopping_min_delta_must_be_a_number_at_least_zero(min_delta):
    with pytest.raises(
        NnscratchError,
        match=r"^early-stopping min_delta must be a number in "
        r"\[0, ∞\), got ",
    ):
        EarlyStopping(2, min_delta)


def _fake_trainer():
    return SimpleNamespace(
        net=SimpleNamespace(params={"W1": np.zeros(2)}, buffers={}), stop_training=False
    )


@pytest.mark.parametrize("min_delta, best, stops_at", [(0.0, [1, 2, 3], None), (0.5, [1, 1, 3], 2)])
def test_early_stopping_counts_only_improvements_larger_than_min_delta(min_delta, best, stops_at):
    # val losses 1.0, 0.7, 0.4: each lower than the last by 0.3; with min_delta 0.5, 0.7 is no
    # improvement on 1.0 (0.7 ≥ 1.0 - 0.5: patience 1 runs out at epoch 2), 0.4 is (0.4 < 0.5)
    stopper, trainer = EarlyStopping(1, min_delta=min_delta), _fake_trainer()
    best_epochs, stopped = [], None
    for epoch, loss in enumerate([1.0, 0.7, 0.4], start=1):
        stopper.on_epoch_end(trainer, {"epoch": epoch, "val_loss": loss})
        best_epochs.append(stopper.best_epoch)
        if trainer.stop_training and stopped is None:
            stopped = epoch
    assert best_epochs == best and stopped == stops_at


class Seen(Callback):
    """Records, at each epoch's end, which epoch the checkpoint on disk holds."""

    def __init__(self, directory, order=None):
        self.directory, self.seen = directory, []
        if order is not None:
            self.order = order

    def on_epoch_end(self, trainer, record):
        path = self.directory / "checkpoint.npz"
        self.seen.append(load_checkpoint(path).epoch if path.exists() else None)


def test_callbacks_run_in_their_declared_order_the_saver_last_by_default(tmp_path):
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(40, 4)), rng.integers(0, 3, 40)
    early, late, saver = (
        Seen(tmp_path),
        Seen(tmp_path, order=CheckpointSaver.order + 1),
        CheckpointSaver(tmp_path),
    )
    trainer = Trainer(
        TwoLayerNet(4, 5, 3, seed=0),
        x[:30],
        t[:30],
        epochs=2,
        batch_size=10,
        seed=0,
        x_val=x[30:],
        t_val=t[30:],
        early_stopping=5,
        callbacks=[late, saver, early],
    )
    # ascending order, as given within one order; the early stopper (order 0) before the saver
    assert [type(cb) for cb in trainer.callbacks] == [Seen, EarlyStopping, CheckpointSaver, Seen]
    assert trainer.callbacks[0] is early and trainer.callbacks[-1] is late
    trainer.train()
    assert early.seen == [None, 1]  # before the saver: the previous epoch's checkpoint
    assert late.seen == [1, 2]  # after it: this epoch's


def test_a_loss_equal_to_the_best_is_no_improvement():
    # val losses 1.0, 1.0: the second only equals the best, so the patience of 1 runs out at
    # epoch 2 and the best epoch stays the first
    stopper, trainer = EarlyStopping(1), _fake_trainer()
    for epoch in (1, 2):
        stopper.on_epoch_end(trainer, {"epoch": epoch, "val_loss": 1.0})
    assert (stopper.best_epoch, stopper.wait, trainer.stop_training) == (1, 1, True)


def test_the_best_weights_are_put_back_into_the_very_arrays_the_layers_hold():
    rng = np.random.default_rng(1)
    x, t = rng.normal(size=(60, 4)), rng.integers(0, 3, 60)
    net = TwoLayerNet(4, 5, 3, weight_init_std=0.5, seed=0)
    held = dict(net.params)  # what the layers, the optimizer and a user hold
    stopper = EarlyStopping(2)
    # a rate far too large: the validation loss gets worse after the first epochs
    Trainer(
        net,
        x[:40],
        t[:40],
        epochs=30,
        batch_size=10,
        lr=30.0,
        seed=0,
        x_val=x[40:],
        t_val=t[40:],
        callbacks=[stopper],
    ).train()
    assert stopper.best_epoch < 30
    for key, value in stopper.best_params.items():
        assert net.params[key] is held[key], key  # in place, not a new array
        np.testing.assert_array_equal(held[key], value)
