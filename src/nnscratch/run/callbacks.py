"""What runs beside the training loop: a :class:`Callback`'s hooks are called by the Trainer at
the start, after every mini-batch step, after every epoch, at the end and on an interrupt.

:class:`ProgressBar` shows the run, :class:`EarlyStopping` ends it when the validation loss stops
improving, :class:`CheckpointSaver` writes what a resume needs (through ``checkpoints``).
Callbacks run in ascending ``order`` (as given within one order): a CheckpointSaver comes last, so
that its checkpoint holds the other callbacks' state of the same epoch.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import NnscratchError
from ..validation import check_number, check_positive_int
from . import checkpoints

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping
    from pathlib import Path

    import numpy as np

    from .trainer import Trainer


class Callback:
    """Hooks the trainer calls; override what you need. ``order``: callbacks with a smaller one
    run first."""

    order: int = 0

    def on_train_begin(self, trainer: Trainer) -> None:
        pass

    def on_iteration_end(self, trainer: Trainer, loss: float) -> None:
        pass

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        pass

    def on_train_end(self, trainer: Trainer) -> None:
        pass

    def on_interrupt(self, trainer: Trainer) -> None:
        """Training stops mid-way (``request_stop``, Ctrl-C, SIGTERM); ``on_train_end`` is not
        called then, since the run is not over."""

    def state_dict(self) -> dict[str, Any] | None:
        """What a resumed run needs of this callback (JSON-able, arrays allowed); None: nothing."""
        return None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class ProgressBar(Callback):
    """A tqdm bar over all iterations (epochs × iter_per_epoch) with the running loss, and one
    line per epoch (:func:`format_epoch`) on ``line_file`` (default: stdout)."""

    def __init__(
        self,
        bar_file: TextIO | None = None,
        line_file: TextIO | None = None,
        disable: bool | None = None,
    ) -> None:
        self.bar_file = bar_file  # None: stderr
        self.line_file = line_file if line_file is not None else sys.stdout
        self.disable = disable
        self.bar: Any = None  # the tqdm bar, once training begins
        self.running: float | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=trainer.epochs * trainer.iter_per_epoch,
            initial=trainer.iteration,
            unit="it",
            file=self.bar_file,
            disable=self.disable,
            dynamic_ncols=True,
            leave=False,
        )

    def on_iteration_end(self, trainer: Trainer, loss: float) -> None:
        # exponential moving average: readable while still following the trend
        self.running = loss if self.running is None else 0.9 * self.running + 0.1 * loss
        self.bar.update(1)
        if trainer.iteration % 10 == 0:
            self.bar.set_postfix(loss=f"{self.running:.4f}", refresh=False)

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self.bar.write(format_epoch(record, trainer.epochs), file=self.line_file)
        self.line_file.flush()  # a line per epoch, also when stdout is a pipe

    def on_train_end(self, trainer: Trainer) -> None:
        self.bar.close()

    def on_interrupt(self, trainer: Trainer) -> None:
        self.bar.close()


def format_epoch(record: Mapping[str, Any], epochs: int) -> str:
    """One epoch's line: its number, mean mini-batch loss, accuracies, validation, seconds."""
    width = len(str(epochs))
    val = (
        f"val loss {record['val_loss']:.4f}  val acc {record['val_acc']:.4f}  "
        if "val_loss" in record
        else ""
    )
    # a language model has no test set: its validation text is what it is measured on
    test = "" if math.isnan(record["test_acc"]) else f"test acc {record['test_acc']:.4f}  "
    return (
        f"epoch {record['epoch']:>{width}}/{epochs}  loss {record['loss']:.4f}  "
        f"train acc {record['train_acc']:.4f}  {val}{test}{record['seconds']:.2f} s"
    )


class EarlyStopping(Callback):
    """Stop when the validation loss has not improved for ``patience`` epochs (improved: lower
    than the best by more than ``min_delta`` ≥ 0), and put back the parameters (and buffers) of
    the best epoch at the end of training.

    State in plain attributes: ``best_loss``, ``best_epoch``, ``wait`` (epochs without
    improvement), ``best_params`` and ``best_buffers`` (copies).
    """

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        self.patience = check_positive_int(patience, "early-stopping patience (epochs)")
        self.min_delta = check_number(min_delta, "early-stopping min_delta", low=0)
        self.best_loss = math.inf
        self.best_epoch = 0
        self.wait = 0
        self.best_params: dict[str, np.ndarray] | None = None
        self.best_buffers: dict[str, np.ndarray] | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        if trainer.x_val is None:
            raise NnscratchError(
                "early stopping watches the validation loss: give x_val/t_val or a validation_split"
            )
        if self.wait >= self.patience:  # resumed after it had stopped: the run is over
            trainer.stop_training = True

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if record["val_loss"] < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.wait = record["val_loss"], record["epoch"], 0
            self.best_params = {k: v.copy() for k, v in trainer.net.params.items()}
            buffers = getattr(trainer.net, "buffers", {})
            self.best_buffers = {k: v.copy() for k, v in buffers.items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True

    def state_dict(self) -> dict[str, Any]:
        return {
            "best_loss": self.best_loss,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "best_params": self.best_params,
            "best_buffers": self.best_buffers,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_loss, self.best_epoch = float(state["best_loss"]), int(state["best_epoch"])
        self.wait = int(state["wait"])
        self.best_params, self.best_buffers = state["best_params"], state["best_buffers"]

    def on_train_end(self, trainer: Trainer) -> None:
        if self.best_params is None:
            return
        # in place: layers and optimizer state refer to these very arrays
        for key, value in self.best_params.items():
            trainer.net.params[key][...] = value
        if self.best_buffers:
            trainer.net.buffers.update({k: v.copy() for k, v in self.best_buffers.items()})


class CheckpointSaver(Callback):
    """Write ``directory/checkpoint.npz`` after every epoch and when training is interrupted, so
    that ``Trainer.load_checkpoint`` (``nnscratch train --resume DIR``) continues from there.

    ``config``: the run's settings, stored in the checkpoint (the CLI keeps its arguments
    there to rebuild the same run). ``path``: the last checkpoint this saver wrote (None: none
    yet), which ``Trainer.checkpoint_path`` reports. Runs last (``order``), so that the
    checkpoint holds the other callbacks' state of the same epoch.
    """

    order = 100

    def __init__(
        self, directory: str | os.PathLike[str], config: dict[str, Any] | None = None
    ) -> None:
        self.directory = directory
        self.config = config
        self.path: Path | None = None
        self.saved_at: int | None = None  # the iteration of the last save

    def save(self, trainer: Trainer) -> None:
        self.path = checkpoints.save(trainer, self.directory, self.config)
        self.saved_at = trainer.iteration

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self.save(trainer)

    def on_interrupt(self, trainer: Trainer) -> None:
        if self.saved_at != trainer.iteration:  # stopped at an epoch's end: saved already
            self.save(trainer)
