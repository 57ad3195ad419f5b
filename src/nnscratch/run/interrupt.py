"""How a run ends before its last epoch: the user asks it to stop (Ctrl-C, SIGTERM,
``Trainer.request_stop``), or it diverges (the loss or a parameter is no longer finite).

A stop request is only a flag: the trainer finishes the step under way, lets its callbacks save
(``on_interrupt``) and raises :class:`TrainingInterrupted`, so that a checkpoint never holds half
an update.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import TYPE_CHECKING

import numpy as np

from ..errors import NnscratchError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path
    from types import FrameType
    from typing import TypeVar

    from typing_extensions import Self

    from .trainer import Resumable, Trainer

    #: a trainer, or what it offers for stopping (``Trainer``'s base ``Resumable``)
    R = TypeVar("R", bound=Resumable)


class TrainingInterrupted(Exception):
    """Training stopped at the user's request (Ctrl-C, SIGTERM, ``request_stop``) after a whole
    step; the checkpoint (if a :class:`CheckpointSaver` was given) holds exactly that point.

    ``epoch`` (0-based: the epoch under way), ``iteration`` (steps done), ``checkpoint_path``
    (None: no checkpoint saved), ``signal_name`` (e.g. "SIGTERM"; "request_stop" from Python).
    """

    def __init__(
        self,
        epoch: int,
        iteration: int,
        checkpoint_path: Path | None = None,
        signal_name: str | None = None,
    ) -> None:
        self.epoch, self.iteration = epoch, iteration
        self.checkpoint_path, self.signal_name = checkpoint_path, signal_name
        where = (
            f"checkpoint saved to {checkpoint_path}"
            if checkpoint_path is not None
            else "no checkpoint saved"
        )
        super().__init__(f"interrupted at epoch {epoch + 1}, iteration {iteration}: {where}")


class TrainingDiverged(NnscratchError):
    """The loss (or a parameter) became NaN or infinite, or the loss grew past
    ``trainer.DIVERGENCE_GROWTH`` times the run's first: the step was too large."""

    @classmethod
    def of(cls, trainer: Trainer, what: str, iteration: int | None = None) -> Self:
        """The error for ``what`` went non-finite in ``trainer``'s epoch under way, at step
        ``iteration`` (default: the step under way), naming the likely cause (the learning rate,
        with a 10× smaller one to try) and the last good checkpoint."""
        lr = float(trainer.optimizer.lr)
        scheduled = (
            f" (this epoch's rate; the schedule started at {float(trainer.base_lr)!r})"
            if lr != trainer.base_lr
            else ""
        )
        path = trainer.checkpoint_path
        where = f"Last good checkpoint: {path}" if path else "No checkpoint was saved"
        return cls(
            f"training diverged at epoch {trainer.epoch + 1}, iteration "
            f"{trainer.iteration + 1 if iteration is None else iteration} ({what}): "
            f"the learning rate {lr!r}{scheduled} is probably too high; try "
            f"{lr / 10:.3g}. {where}"
        )


def check_finite(trainer: Trainer) -> None:
    """Raise :class:`TrainingDiverged` if a parameter of ``trainer.net`` is NaN or infinite
    (so that a checkpoint never holds such weights)."""
    for key, value in trainer.net.params.items():
        if not np.isfinite(value).all():
            # the step that broke them is the last one counted
            raise TrainingDiverged.of(
                trainer,
                f"parameter {key} became {'NaN' if np.isnan(value).any() else 'inf'}",
                iteration=trainer.iteration,
            )


def interrupted(trainer: Trainer) -> TrainingInterrupted:
    """The :class:`TrainingInterrupted` for a stop requested of ``trainer``, once its weights are
    checked (:func:`check_finite`) and its callbacks' ``on_interrupt`` ran (a CheckpointSaver
    saves there)."""
    check_finite(trainer)
    for cb in trainer.callbacks:
        cb.on_interrupt(trainer)
    return TrainingInterrupted(
        trainer.epoch, trainer.iteration, trainer.checkpoint_path, trainer.stop_requested
    )


@contextlib.contextmanager
def stop_on_signals(trainer: R, signals: Iterable[str] = ("SIGINT", "SIGTERM")) -> Iterator[R]:
    """``with stop_on_signals(trainer):`` each of ``signals`` calls ``trainer.request_stop(name)``
    instead of killing the run mid-update; a second one, once a stop is requested, interrupts at
    once (KeyboardInterrupt). The previous handlers are put back afterwards. Outside the main
    thread (where Python cannot install handlers) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield trainer
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if trainer.stop_requested:
            raise KeyboardInterrupt
        trainer.request_stop(signal.Signals(signum).name)

    previous = {}
    try:
        for name in signals:
            signum = getattr(signal, name)
            previous[signum] = signal.signal(signum, handler)
        yield trainer
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
