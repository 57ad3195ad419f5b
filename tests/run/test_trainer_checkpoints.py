"""The Trainer's side of checkpoints: ``checkpoints.save`` / ``restore``, the format of the
checkpoint's ``extra`` (which checkpoints written before keep), and the derived checkpoint_path."""

import numpy as np
import pytest

from nnscratch.io import load_checkpoint
from nnscratch.nets import MultiLayerNet
from nnscratch.optim import Adam
from nnscratch.run import checkpoints
from nnscratch.run.callbacks import CheckpointSaver
from nnscratch.run.interrupt import TrainingInterrupted
from nnscratch.run.trainer import Trainer
from tests.helpers import StopAt

rng = np.random.default_rng(3)
X, T = rng.normal(size=(60, 6)), rng.integers(0, 3, 60)


def make(callbacks=(), net_seed=0):
    net = MultiLayerNet(6, [8, 8], 3, dropout=0.2, seed=net_seed)
    return Trainer(
        net,
        X,
        T,
        epochs=3,
        batch_size=10,
        optimizer=Adam(0.01),
        seed=1,
        validation_split=0.2,
        early_stopping=4,
        callbacks=callbacks,
    )


def test_save_and_restore_continue_bit_identically(tmp_path):
    whole = make()
    whole.train()
    half = make([StopAt(7)])  # mid-epoch 2 (48 training samples: 5 batches an epoch)
    with pytest.raises(TrainingInterrupted):
        half.train()
    path = checkpoints.save(half, tmp_path)
    assert path == tmp_path / "checkpoint.npz"
    resumed = checkpoints.restore(make(net_seed=5), load_checkpoint(tmp_path))
    assert resumed.resumed_from == path and (resumed.epoch, resumed.iteration) == (1, 7)
    resumed.train()
    for key, value in whole.net.params.items():
        assert np.array_equal(resumed.net.params[key], value), key
    assert resumed.history["train_loss"] == whole.history["train_loss"]
    assert resumed.history["val_loss"] == whole.history["val_loss"]


def test_checkpoint_extra_keeps_its_format(tmp_path):
    trainer = make([StopAt(6), CheckpointSaver(tmp_path)])
    with pytest.raises(TrainingInterrupted):
        trainer.train()
    extra = load_checkpoint(tmp_path).extra
    # the keys checkpoints of earlier versions hold: a resume reads exactly these
    assert set(extra) == {"epoch_position", "epoch_elapsed", "lr", "callbacks", "layer_rngs"}
    assert (extra["epoch_position"], extra["lr"]) == (1, 0.01)  # step 6 = epoch 2's first
    assert set(extra["callbacks"]) == {"EarlyStopping"}  # the saver itself keeps no state
    assert len(extra["layer_rngs"]) == 2  # one generator per Dropout layer


def test_checkpoint_path_is_the_savers_else_the_restored_one(tmp_path):
    saver = CheckpointSaver(tmp_path / "a")
    trainer = make([StopAt(5), saver])
    assert trainer.checkpoint_path is None
    with pytest.raises(TrainingInterrupted) as exc:
        trainer.train()
    assert (
        trainer.checkpoint_path
        == saver.path
        == exc.value.checkpoint_path
        == tmp_path / "a" / "checkpoint.npz"
    )
    with pytest.raises(AttributeError):
        trainer.checkpoint_path = tmp_path  # derived, never set from outside
    # resumed without a saver: the checkpoint it came from is the last one there is
    resumed = make([StopAt(9)]).load_checkpoint(tmp_path / "a")
    with pytest.raises(TrainingInterrupted) as exc:
        resumed.train()
    assert exc.value.checkpoint_path == tmp_path / "a" / "checkpoint.npz"
    # resumed with a saver elsewhere: the new checkpoint once it is written
    other = CheckpointSaver(tmp_path / "b")
    again = make([StopAt(9), other]).load_checkpoint(tmp_path / "a")
    assert again.checkpoint_path == tmp_path / "a" / "checkpoint.npz"
    with pytest.raises(TrainingInterrupted) as exc:
        again.train()
    assert exc.value.checkpoint_path == other.path == tmp_path / "b" / "checkpoint.npz"
