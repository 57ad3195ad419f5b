"""The Trainer: the book's learning loop (``nnscratch.loop.learn``) with what a real run needs.

Repeat: draw a mini-batch → compute the gradient of the loss → step the weights against it,
W ← W − η ∂L/∂W (or any optimizer of ``optim``). ``iter_per_epoch = ceil(N / batch_size)``
iterations make one epoch; after every epoch the accuracy on the training and test data shows
whether the network generalises. With the same seed and ``sampling="replacement"`` it gives the
history of ``loop.learn`` (a test shows it).

Beyond the book's loop: every sample once per epoch (``sampling="shuffle"``), a learning-rate
schedule, a validation set (given, or split off the training data) whose loss and accuracy join
the history, callbacks (progress bar, early stopping, checkpoints), the numerical gradient as an
alternative to backprop, the engine (``nnscratch.engine``: the same network computed fast, and
BLAS threads by the size of the products and the idle cores), and stopping and resuming at any
step. Accuracy and validation loss are always measured in evaluation mode (no dropout,
BatchNorm's running statistics). The state a resume needs is saved and restored by
``checkpoints``; stopping on a signal is ``interrupt``'s job.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine import compiled, numgrad, use
from ..engine import optim as fast_optim
from ..engine.blas import RunThreads, blas_limit
from ..errors import NnscratchError
from ..optim import SGD, clip_by_global_norm
from ..validation import (
    POSITIVE,
    check_batch_size,
    check_choice,
    check_dataset,
    check_positive_int,
    check_token_windows,
    input_size,
    output_size,
)
from . import checkpoints, interrupt
from .callbacks import CheckpointSaver, EarlyStopping
from .interrupt import TrainingDiverged

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from pathlib import Path

    from numpy.typing import ArrayLike, NDArray
    from typing_extensions import Self

    from ..io import Checkpoint
    from ..optim import Optimizer
    from .callbacks import Callback

GRADIENT_METHODS = ("backprop", "numerical")
SAMPLING = ("shuffle", "replacement")
#: A step whose loss is over this many times the run's first (or over this much, for a first
#: under 1) stops the run as diverged: a learning rate far too high, well before NaN or chance.
DIVERGENCE_GROWTH = 100.0


def _net_mode(net: Any, training: bool) -> None:
    """Put ``net`` in training or evaluation mode when it has modes (LayerNet does)."""
    if hasattr(net, "train") and callable(net.train):
        net.train(training)


def new_history(validation: bool, schedule: bool) -> dict[str, list[float]]:
    """The history's empty lists: ``train_loss`` (per iteration), ``train_acc``, ``test_acc``,
    ``epoch_seconds`` (per epoch); ``val_loss``, ``val_acc`` with ``validation`` data, ``lr``
    with a ``schedule``."""
    history: dict[str, list[float]] = {
        "train_loss": [],
        "train_acc": [],
        "test_acc": [],
        "epoch_seconds": [],
    }
    if validation:
        history.update(val_loss=[], val_acc=[])
    if schedule:
        history["lr"] = []
    return history


def training_sets(
    net: Any,
    x_train: ArrayLike,
    t_train: ArrayLike,
    x_test: ArrayLike | None,
    t_test: ArrayLike | None,
    x_val: ArrayLike | None,
    t_val: ArrayLike | None,
    validation_split: float | None,
    rng: np.random.Generator,
) -> tuple[
    np.ndarray,
    NDArray[np.integer],
    np.ndarray | None,
    NDArray[np.integer] | None,
    np.ndarray | None,
    NDArray[np.integer] | None,
]:
    """(x_train, t_train, x_test, t_test, x_val, t_val), each checked against the network's
    sizes (``validation.check_dataset``: x (N, D) finite, labels (N,) in 0..C-1); a test or
    validation set is given whole or not at all. ``validation_split``: the fraction (or count)
    of the training data set aside, stratified, by a seed drawn from ``rng``."""
    if getattr(net, "takes_ids", False):  # a language model: windows of token ids
        return _token_sets(net, x_train, t_train, x_test, t_test, x_val, t_val, validation_split)
    n_features, n_classes = input_size(net), output_size(net)
    x_train, t_train = check_dataset(
        x_train, t_train, n_features, n_classes, ("x_train", "t_train")
    )
    if (x_test is None) != (t_test is None):
        raise NnscratchError("x_test and t_test must be given together")
    # t_test is given exactly when x_test is, t_val when x_val is (checked just before each):
    # a tie mypy cannot follow, hence the ignores below
    if x_test is not None:
        x_test, t_test = check_dataset(
            x_test,
            t_test,  # type: ignore[arg-type]
            n_features,
            n_classes,
            ("x_test", "t_test"),
        )
    if (x_val is None) != (t_val is None):
        raise NnscratchError("x_val and t_val must be given together, one label per sample")
    if x_val is not None:
        if validation_split is not None:
            raise NnscratchError("give either x_val/t_val or validation_split, not both")
        x_val, t_val = check_dataset(
            x_val,
            t_val,  # type: ignore[arg-type]
            n_features,
            n_classes,
            ("x_val", "t_val"),
        )
    elif validation_split is not None:
        from ..datasets.splits import stratified_split

        x_train, x_val, t_train, t_val = stratified_split(
            x_train, t_train, validation_split, seed=int(rng.integers(2**63))
        )
    return x_train, t_train, x_test, t_test, x_val, t_val  # type: ignore[return-value]


def _token_sets(net: Any, *arrays: Any) -> Any:
    """:func:`training_sets` for a language model: each pair checked as windows of token ids
    (``validation.check_token_windows``); no split, which would cut the text at random."""
    *pairs, validation_split = arrays
    if validation_split is not None:
        raise NnscratchError(
            "a language model's validation text is set apart by pieces (poems, paragraphs), not "
            "split off its windows: give x_val/t_val (datasets.text) and no validation_split"
        )
    names = ("x_train", "t_train", "x_test", "t_test", "x_val", "t_val")
    out: list[Any] = []
    for i in range(0, 6, 2):
        x, t = pairs[i], pairs[i + 1]
        if (x is None) != (t is None):
            raise NnscratchError(f"{names[i]} and {names[i + 1]} must be given together")
        out += (
            [None, None]
            if x is None
            else check_token_windows(
                x, t, output_size(net), getattr(net, "context", None), (names[i], names[i + 1])
            )
        )
    return tuple(out)


class Resumable:
    """What a run offers for stopping and resuming, over its ``stop_requested``, ``callbacks``
    and ``resumed_from``: the signals are ``interrupt``'s job, the saved state ``checkpoints``'.

    :class:`CheckpointSaver` writes a checkpoint after every epoch and on :meth:`request_stop` or
    a signal (:meth:`stop_on_signals`); :meth:`load_checkpoint` on a trainer built like the saved
    one continues bit-identically.
    """

    stop_requested: str | None  # the reason (e.g. "SIGINT") once request_stop was called
    callbacks: list[Callback]
    resumed_from: Path | None  # the checkpoint load_checkpoint restored
    _open_batches: Iterator[NDArray[np.integer]] | None  # the Trainer's epoch under way

    # --- stopping (the signals and divergence: ``interrupt``) --------------------------------
    def request_stop(self, reason: str = "request_stop") -> None:
        """Ask training to stop after the current step (safe to call from a signal handler)."""
        self.stop_requested = reason

    def stop_on_signals(
        self, signals: Iterable[str] = ("SIGINT", "SIGTERM")
    ) -> contextlib.AbstractContextManager[Self]:
        """``with trainer.stop_on_signals(): trainer.train()``: Ctrl-C and SIGTERM finish the
        current step, save (through the callbacks) and raise :class:`TrainingInterrupted`
        instead of killing the run mid-update (see :func:`interrupt.stop_on_signals`)."""
        return interrupt.stop_on_signals(self, signals)

    # --- checkpoints (the state itself: ``checkpoints``) ----------------------------------
    @property
    def checkpoint_path(self) -> Path | None:
        """The last checkpoint a :class:`CheckpointSaver` wrote, else the one restored; or None."""
        saved = [cb.path for cb in self.callbacks if isinstance(cb, CheckpointSaver) and cb.path]
        return saved[-1] if saved else self.resumed_from

    def save_checkpoint(
        self, directory: str | os.PathLike[str], config: dict[str, Any] | None = None
    ) -> Path:
        """Write ``directory/checkpoint.npz`` (atomically) and return its path."""
        # Resumable is the Trainer's base: self is a Trainer
        return checkpoints.save(self, directory, config)  # type: ignore[arg-type]

    def load_checkpoint(self, checkpoint: Checkpoint | str | os.PathLike[str]) -> Trainer:
        """Continue from ``checkpoint`` (an :class:`nnscratch.io.Checkpoint`, or a folder/path):
        build the trainer exactly as the saved run was built (same data, seed, options), then
        call this, then ``train()`` (see :func:`checkpoints.restore`). Returns the trainer."""
        self._open_batches = None  # an epoch under way here is not the restored one's
        # Resumable is the Trainer's base: self is a Trainer
        return checkpoints.restore(self, checkpoint)  # type: ignore[arg-type]


class Trainer(Resumable):
    """Mini-batch training of ``net`` on (x_train, t_train).

    Parameters
    ----------
    net : a network with ``params``, ``loss``, ``accuracy``, ``loss_gradient`` (a LayerNet).
    x_train, t_train : (N, D) inputs and (N,) index labels; x_test, t_test likewise (optional).
    epochs, batch_size : the run's length and the mini-batch size.
    optimizer : the update rule (an ``optim`` optimizer), or ``lr``: the book's SGD at that rate
        (neither: SGD at its default rate; both: an error).
    grad : "backprop" or "numerical" (the notebook's central differences).
    sampling : "shuffle" (every sample once per epoch, in a new random order; the last batch may
        be smaller) or "replacement" (each batch drawn with ``rng.choice``, as the book does).
    seed : seeds the batch order; the same seed and data give an identical history.
    x_val, t_val : a validation set, or ``validation_split``: the fraction (or count) of the
        training data set aside, stratified, for validation (drawn from the seed's generator before
        the first batch; without a split the batch order is exactly the book's).
    early_stopping : patience in epochs (see :class:`EarlyStopping`), or None.
    lr_schedule : ``schedule(base_lr, epoch)`` (``optim.StepLR``, ``optim.CosineLR``) setting the
        optimizer's rate at the start of each epoch, or None; a schedule with ``per_step``
        (``optim.WarmupCosineLR``) sets it before every step, at the (fractional) epoch the step
        ends.
    clip_norm : scale every step's gradients down to this global norm when they are longer
        (``optim.clip_by_global_norm``), or None.
    epoch_size : samples per epoch (None: all of x_train). A language model's windows start at
        every position of its text, so that its epoch, one window in ``context``, reads each
        token about once.
    x_train_eval, t_train_eval : the training data the end of an epoch measures accuracy on
        (None: x_train, t_train); a language model's, its text cut into windows side by side.
    callbacks : :class:`Callback` objects, run in ascending ``order``.
    engine : "fast" puts ``net`` and the optimizer on the engine (in place; ``engine.use``): the
        same run, computed fast; the numerical gradient is the engine's and BLAS threads follow
        the products' sizes and the idle cores (:attr:`blas_threads`). "book": the textbook's
        own classes. On the fast engine ``net.layers`` has each max pooling before its ReLU and
        the first layer's backward returns None; ``nnscratch.engine.use("book", net)`` gives the
        book's back.

    Notes
    -----
    After ``train()``, ``history`` holds the lists of :func:`new_history`. The trainer's state is
    in plain attributes: ``epoch``, ``iteration``, ``rng``, ``optimizer`` (``state_dict()``),
    ``history``, and within an epoch ``epoch_position`` (batches done) and ``epoch_rng_state``.
    The inputs are checked first (:func:`training_sets`); stopping and resuming: :class:`Resumable`.
    """

    #: BLAS threads on the fast engine: "auto" (by the size of the products and the cores that
    #: other processes leave idle, looked at after every epoch), a number (the same numbers
    #: every time, bit for bit), or None (BLAS's own setting, untouched):
    #: :class:`nnscratch.engine.blas.RunThreads`. The book's engine leaves BLAS alone.
    blas_threads: str | int | None = "auto"
    #: the compiled kernels on the fast engine (``nnscratch.engine.compiled``): "auto" (when
    #: the run is long enough to pay for loading them), True, or False (NumPy's)
    compiled_kernels: str | bool = "auto"

    #: None until an epoch begins (its generator's state) and a step is taken (its batch)
    epoch_rng_state: Mapping[str, Any] | None
    batch: NDArray[np.integer] | None

    def __init__(
        self,
        net: Any,
        x_train: ArrayLike,
        t_train: ArrayLike,
        x_test: ArrayLike | None = None,
        t_test: ArrayLike | None = None,
        *,
        epochs: int = 10,
        batch_size: int = 100,
        optimizer: Optimizer | None = None,
        lr: float | None = None,
        grad: str = "backprop",
        sampling: str = "shuffle",
        seed: int | np.random.SeedSequence | np.random.Generator | None = None,
        callbacks: Iterable[Callback] = (),
        x_val: ArrayLike | None = None,
        t_val: ArrayLike | None = None,
        validation_split: float | None = None,
        early_stopping: int | None = None,
        lr_schedule: Callable[[float, int], float] | None = None,
        engine: str = "fast",
        clip_norm: float | None = None,
        epoch_size: int | None = None,
        x_train_eval: ArrayLike | None = None,
        t_train_eval: ArrayLike | None = None,
    ) -> None:
        if optimizer is not None and lr is not None:
            raise NnscratchError(
                f"give the learning rate to the optimizer (lr={lr!r} and "
                f"optimizer={type(optimizer).__name__} together would train at "
                f"the optimizer's {getattr(optimizer, 'lr', '?')!r}): "
                "Trainer(optimizer=...) or Trainer(lr=...) for SGD"
            )
        self.net = net
        self.rng = np.random.default_rng(seed)
        # bad data stops here with a message, not as a shape error deep in a layer
        (self.x_train, self.t_train, self.x_test, self.t_test, self.x_val, self.t_val) = (
            training_sets(
                net, x_train, t_train, x_test, t_test, x_val, t_val, validation_split, self.rng
            )
        )
        self.x_train_eval, self.t_train_eval = (
            (self.x_train, self.t_train)
            if x_train_eval is None
            else training_sets(
                net,
                x_train_eval,
                t_train_eval,  # type: ignore[arg-type]  # given with x_train_eval
                *(None,) * 5,
                self.rng,
            )[:2]
        )
        self.epoch_size = (
            len(self.x_train)
            if epoch_size is None
            else min(check_positive_int(epoch_size, "epoch_size"), len(self.x_train))
        )
        self.batch_size = check_batch_size(batch_size, self.epoch_size)
        self.clip_norm = None if clip_norm is None else POSITIVE.check(clip_norm, "clip_norm")
        self.epochs = check_positive_int(epochs, "epochs")
        self.grad = check_choice(grad, GRADIENT_METHODS, "grad")
        self.sampling = check_choice(sampling, SAMPLING, "sampling")
        self.optimizer = optimizer if optimizer is not None else _book_sgd(lr)
        self.engine = use(engine, net, self.optimizer)
        self.lr_schedule = lr_schedule
        self.base_lr = self.optimizer.lr
        self.callbacks = list(callbacks)
        if early_stopping is not None:
            self.callbacks.append(EarlyStopping(early_stopping))
        # stable: as given within one order; a duck-typed callback without `order` counts as 0
        self.callbacks.sort(key=lambda cb: getattr(cb, "order", 0))
        self.iter_per_epoch = math.ceil(self.epoch_size / self.batch_size)
        self.epoch = self.iteration = 0  # epochs and mini-batch steps done
        self.stop_training = False
        self.history = new_history(self.x_val is not None, lr_schedule is not None)
        # where the current epoch is, for stopping after any step and resuming exactly there:
        # batches done in it, the generator's state when it began, seconds spent in it so far
        self.epoch_position = 0
        self.epoch_rng_state = None
        self.epoch_elapsed = 0.0
        self._open_batches = self.batch = None  # the epoch's batch generator; the last batch
        self.resumed_from = None  # the checkpoint load_checkpoint restored
        self.stop_requested = None  # the reason (e.g. "SIGINT") once request_stop was called

    def train(self) -> dict[str, list[float]]:
        """Run the remaining epochs; returns ``history``. After :meth:`request_stop` (or a
        signal: :meth:`stop_on_signals`) the current step is finished, callbacks' ``on_interrupt``
        run (a :class:`CheckpointSaver` saves) and :class:`TrainingInterrupted` is raised;
        ``train()`` on a trainer restored from that checkpoint continues exactly there."""
        self.stop_training = False
        self.stop_requested = None
        for cb in self.callbacks:
            cb.on_train_begin(self)
        while self.epoch < self.epochs and not self.stop_training:
            self.run(self.iter_per_epoch - self.epoch_position)  # the rest of the epoch
            if self.stop_requested and self.epoch < self.epochs:
                raise interrupt.interrupted(self)
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    def run(self, steps: int) -> list[dict[str, float]]:
        """Take ``steps`` mini-batch steps from where training is, ending every epoch that
        completes, whatever ``epochs`` says: :meth:`train` runs it epoch by epoch, and a driver
        that decides itself how long to learn (an animation, the playground) calls it directly.
        Returns the records of the epochs ended. It returns early at an epoch's end once a stop
        is asked for (:meth:`request_stop`, early stopping), and raises
        :class:`TrainingInterrupted` when one is asked for inside an epoch."""
        records = []
        _net_mode(self.net, True)
        kernels = self._compiled_kernels()
        threads = RunThreads(
            self.blas_threads if self.engine == "fast" else None, self.net, self.batch_size
        )
        with compiled.using(kernels), blas_limit(threads.steps) as set_threads:
            for _ in range(check_positive_int(steps, "steps")):
                start = time.perf_counter()
                batch = next(self._epoch_batches())
                if getattr(self.lr_schedule, "per_step", False):
                    done = self.epoch + (self.epoch_position + 1) / self.iter_per_epoch
                    self.optimizer.lr = self.lr_schedule(self.base_lr, done)  # type: ignore[arg-type, misc]
                loss = self.step(batch)
                for cb in self.callbacks:
                    cb.on_iteration_end(self, loss)
                self.epoch_elapsed += time.perf_counter() - start
                if self.epoch_position == self.iter_per_epoch:
                    set_threads(threads.evaluation)  # evaluation's products are large
                    records.append(self._end_epoch())
                    threads.look()  # the load may have changed during the epoch
                    set_threads(threads.steps)
                    if self.stop_requested or self.stop_training:
                        break
                elif self.stop_requested:
                    raise interrupt.interrupted(self)
        return records

    def _compiled_kernels(self) -> bool:
        """Whether this run's steps use the compiled kernels (loaded now, before BLAS's threads
        are set: numba's import brings SciPy's BLAS along): on the fast engine, by
        :attr:`compiled_kernels` — "auto": when the whole run (all its epochs, wherever it
        resumes) pays for loading them, a choice of the run alone, so that a resumed run or a
        search's trial in another process computes the same numbers."""
        setting = self.compiled_kernels
        if self.engine != "fast" or setting is False:
            return False
        params = sum(p.size for p in getattr(self.net, "params", {}).values())
        if setting is True or compiled.pays(params, self.epochs * self.iter_per_epoch):
            return compiled.kernels() is not None
        return False

    def step(self, batch: NDArray[np.integer]) -> float:
        """One learning step on the samples ``batch`` (indices): the gradient of the loss, the
        optimizer's update, and the step's bookkeeping; returns the batch's loss before it."""
        x, t = gather(self.x_train, batch), gather(self.t_train, batch)
        if self.grad == "backprop":
            loss, grads = self.net.loss_gradient(x, t)
        elif self.engine == "fast":
            loss, grads = self.net.loss(x, t), numgrad.numerical_gradient(self.net, x, t)
        else:
            loss, grads = self.net.loss(x, t), self.net.numerical_gradient(x, t)
        loss = float(loss)
        if self.clip_norm is not None:
            clip = fast_optim.clip_by_global_norm if self.engine == "fast" else clip_by_global_norm
            grads = clip(grads, self.clip_norm)
        if not math.isfinite(loss):
            raise TrainingDiverged.of(self, f"loss {loss}")
        first = self.history["train_loss"][0] if self.history["train_loss"] else loss
        if loss > DIVERGENCE_GROWTH * max(first, 1.0):
            raise TrainingDiverged.of(
                self, f"loss {loss:.3g}, over {DIVERGENCE_GROWTH:g}× the first step's {first:.3g}"
            )
        self.optimizer.update(self.net.params, grads)
        self.batch = batch
        self.history["train_loss"].append(loss)
        self.iteration += 1
        self.epoch_position += 1
        return loss

    def validate(self) -> tuple[float, float]:
        """(L, accuracy) on (x_val, t_val) in evaluation mode (:func:`evaluation_loss`)."""
        return (
            # called only where there is a validation set
            evaluation_loss(self.net, self.x_val, self.t_val),  # type: ignore[arg-type]
            self.net.accuracy(self.x_val, self.t_val),
        )

    def batches(self) -> Iterator[NDArray[np.integer]]:
        """Index arrays of one epoch's mini-batches, drawn from ``rng``: for a loop of one's own,
        ``for batch in trainer.batches(): trainer.step(batch)`` (``train`` adds the epochs'
        bookkeeping: the schedule, the evaluation, the callbacks, the checkpoints' state)."""
        n = len(self.x_train)
        if self.sampling == "replacement":
            for _ in range(self.iter_per_epoch):
                yield self.rng.choice(n, self.batch_size)
        else:
            order = self.rng.permutation(n)[: self.epoch_size]
            for start in range(0, self.epoch_size, self.batch_size):
                yield order[start : start + self.batch_size]

    def _epoch_batches(self) -> Iterator[NDArray[np.integer]]:
        """The current epoch's remaining mini-batches: a new epoch is begun when none of its
        batches is done (the generator's state remembered, for a checkpoint taken inside it; the
        scheduled learning rate set); one resumed half-way draws the same order again (from the
        generator's state when it began) and skips the batches done."""
        if self._open_batches is None:
            if self.epoch_position == 0:
                self.epoch_rng_state = self.rng.bit_generator.state
                self.epoch_elapsed = 0.0
                if self.lr_schedule is not None:
                    self.optimizer.lr = self.lr_schedule(self.base_lr, self.epoch)
            self._open_batches = self.batches()
            for _ in range(self.epoch_position):
                next(self._open_batches)
        return self._open_batches

    def _end_epoch(self) -> dict[str, float]:
        """Close the epoch whose batches are all done: accuracies (and the validation loss),
        the history's per-epoch rows and the callbacks' ``on_epoch_end``; returns the record
        ``{"epoch", "loss" (the mean of the epoch's batch losses), "train_acc", "test_acc",
        "seconds", ...}``."""
        interrupt.check_finite(self)  # a checkpoint never holds NaN weights
        losses = self.history["train_loss"][-self.epoch_position :]  # this epoch's, ≥ 1
        train_acc = self.net.accuracy(self.x_train_eval, self.t_train_eval)  # evaluation mode
        test_acc = (
            self.net.accuracy(self.x_test, self.t_test) if self.x_test is not None else float("nan")
        )
        self.epoch += 1
        self.epoch_position = 0
        self._open_batches = None
        self.history["train_acc"].append(train_acc)
        self.history["test_acc"].append(test_acc)
        self.history["epoch_seconds"].append(self.epoch_elapsed)
        record = {
            "epoch": self.epoch,
            "loss": float(np.mean(losses)),
            "train_acc": train_acc,
            "test_acc": test_acc,
            "seconds": self.epoch_elapsed,
        }
        if self.x_val is not None:
            record["val_loss"], record["val_acc"] = self.validate()
            self.history["val_loss"].append(record["val_loss"])
            self.history["val_acc"].append(record["val_acc"])
        if self.lr_schedule is not None:
            record["lr"] = self.optimizer.lr
            self.history["lr"].append(self.optimizer.lr)
        for cb in self.callbacks:
            cb.on_epoch_end(self, record)
        return record


def gather(a: np.ndarray, rows: NDArray[np.integer]) -> np.ndarray:
    """``a[rows]``: by ``take``, the same gather with less of fancy indexing's overhead, where
    ``a`` is contiguous; by indexing where it is a view such as a text's windows (``take``
    would first copy the whole of it: 2.2 GB for 全唐诗's, at every step)."""
    return a.take(rows, axis=0) if a.flags.c_contiguous else a[rows]


def _book_sgd(lr: float | None) -> SGD:
    """The book's SGD at rate ``lr`` (None: its default), for ``Trainer(lr=...)``."""
    return SGD() if lr is None else SGD(lr)


def evaluation_loss(net: Any, x: ArrayLike, t: ArrayLike) -> float:
    """L on (x, t) in evaluation mode (no dropout, BatchNorm's running statistics), the mean
    cross-entropy (+ weight decay), the mode restored after: ``net.evaluation_loss`` (in chunks)
    where the network has it, else its ``loss``."""
    if hasattr(net, "evaluation_loss"):
        return float(net.evaluation_loss(x, t))
    with getattr(net, "evaluating", contextlib.nullcontext)():
        return float(net.loss(x, t))


def train_or_diverge(trainer: Trainer) -> tuple[dict[str, list[float]], str | None]:
    """``(history, None)`` after ``trainer.train()``, or ``(history so far, the message)`` when
    the loss overflowed: for experiments and searches, where a diverging setting is a result."""
    try:
        return trainer.train(), None
    except TrainingDiverged as exc:
        return trainer.history, str(exc)


def train(
    net: Any,
    x_train: ArrayLike,
    t_train: ArrayLike,
    x_test: ArrayLike | None = None,
    t_test: ArrayLike | None = None,
    **options: Any,
) -> dict[str, list[float]]:
    """Train ``net`` by mini-batch gradient descent; returns the history dict (see Trainer,
    whose ``engine="fast"`` leaves ``net`` on the engine: ``engine.use("book", net)`` undoes it)."""
    return Trainer(net, x_train, t_train, x_test, t_test, **options).train()
