"""The mini-batch learning loop of chapter 4.

Repeat: draw a mini-batch → compute the gradient of the loss → step the weights against it.
``iter_per_epoch = ceil(N / batch_size)`` iterations make one epoch; after every epoch the accuracy
on the training and test data shows whether the network generalises.

Beyond the notebook: any optimizer of ``optim``, a learning-rate schedule, a validation set (given,
or split off the training data) whose loss and accuracy join the history, and early stopping on
the validation loss that puts back the best weights. Accuracy and validation loss are always
measured in evaluation mode (no dropout, BatchNorm's running statistics).
"""

import contextlib
import math
import signal
import sys
import threading
import time

import numpy as np

from . import numgrad_fast
from .errors import NnscratchError
from .optim import SGD
from .validation import (check_batch_size, check_dataset, check_positive_int,
                         input_size, output_size)

GRADIENT_METHODS = ("backprop", "numerical")
SAMPLING = ("shuffle", "replacement")


class Callback:
    """Hooks the trainer calls; override what you need."""

    def on_train_begin(self, trainer):
        pass

    def on_iteration_end(self, trainer, loss):
        pass

    def on_epoch_end(self, trainer, record):
        pass

    def on_train_end(self, trainer):
        pass

    def on_interrupt(self, trainer):
        """Training stops mid-way (``request_stop``, Ctrl-C, SIGTERM); ``on_train_end`` is not
        called then, since the run is not over."""

    def state_dict(self):
        """What a resumed run needs of this callback (JSON-able, arrays allowed); None: nothing."""
        return None

    def load_state_dict(self, state):
        pass


class TrainingInterrupted(Exception):
    """Training stopped at the user's request (Ctrl-C, SIGTERM, ``request_stop``) after a whole
    step; the checkpoint (if a :class:`CheckpointSaver` was given) holds exactly that point."""

    def __init__(self, epoch, iteration, checkpoint_path=None, signal_name=None):
        self.epoch, self.iteration = epoch, iteration
        self.checkpoint_path, self.signal_name = checkpoint_path, signal_name
        where = (f"checkpoint saved to {checkpoint_path}" if checkpoint_path is not None
                 else "no checkpoint saved")
        super().__init__(f"interrupted at epoch {epoch + 1}, iteration {iteration}: {where}")


class TrainingDiverged(NnscratchError):
    """The loss (or a parameter) became NaN or infinite: the step was too large."""


def _net_mode(net, training):
    """Put ``net`` in training or evaluation mode when it has modes (LayerNet does)."""
    if hasattr(net, "train") and callable(net.train):
        net.train(training)


class EarlyStopping(Callback):
    """Stop when the validation loss has not improved for ``patience`` epochs, and put back the
    parameters (and buffers) of the best epoch at the end of training.

    State in plain attributes: ``best_loss``, ``best_epoch``, ``wait`` (epochs without
    improvement), ``best_params`` and ``best_buffers`` (copies).
    """

    def __init__(self, patience, min_delta=0.0):
        if not (isinstance(patience, (int, np.integer)) and patience > 0):
            raise NnscratchError(f"early-stopping patience must be a positive number of epochs, "
                                 f"got {patience!r}")
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = math.inf
        self.best_epoch = 0
        self.wait = 0
        self.best_params = None
        self.best_buffers = None

    def on_train_begin(self, trainer):
        if trainer.x_val is None:
            raise NnscratchError("early stopping watches the validation loss: give x_val/t_val "
                                 "or a validation_split")
        if self.wait >= self.patience:  # resumed after it had stopped: the run is over
            trainer.stop_training = True

    def on_epoch_end(self, trainer, record):
        if record["val_loss"] < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.wait = record["val_loss"], record["epoch"], 0
            self.best_params = {k: v.copy() for k, v in trainer.net.params.items()}
            self.best_buffers = {k: v.copy() for k, v in getattr(trainer.net, "buffers", {}).items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True

    def state_dict(self):
        return {"best_loss": self.best_loss, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_params": self.best_params, "best_buffers": self.best_buffers}

    def load_state_dict(self, state):
        self.best_loss, self.best_epoch = float(state["best_loss"]), int(state["best_epoch"])
        self.wait = int(state["wait"])
        self.best_params, self.best_buffers = state["best_params"], state["best_buffers"]

    def on_train_end(self, trainer):
        if self.best_params is None:
            return
        # in place: layers and optimizer state refer to these very arrays
        for key, value in self.best_params.items():
            trainer.net.params[key][...] = value
        if self.best_buffers:
            trainer.net.buffers.update({k: v.copy() for k, v in self.best_buffers.items()})


class Trainer:
    """Mini-batch training of ``net`` on (x_train, t_train).

    Parameters
    ----------
    net : a network with ``params``, ``loss``, ``accuracy``, ``loss_gradient``, ``numerical_gradient``.
    x_train, t_train : (N, D) inputs and (N,) index labels; x_test, t_test likewise (optional).
    epochs, batch_size : the run's length and the mini-batch size.
    lr : SGD learning rate, used when no ``optimizer`` is given (None: SGD's default).
    grad : "backprop" or "numerical" (the notebook's central differences, by the fast engine of
        ``numgrad_fast`` where it supports the network, else by the naive loop).
    sampling : "shuffle" (each epoch visits every sample once in a new random order, the last batch
        may be smaller) or "replacement" (each batch drawn at random with ``rng.choice`` as the
        notebook did).
    seed : seeds the batch order; the same seed and data give an identical history.
    x_val, t_val : a validation set, or ``validation_split``: the fraction (or count) of the
        training data set aside, stratified, for validation (drawn from the seed's generator before
        the first batch; without a split the batch order is exactly the notebook's).
    early_stopping : patience in epochs (see :class:`EarlyStopping`), or None.
    lr_schedule : ``schedule(base_lr, epoch)`` (``optim.StepLR``, ``optim.CosineLR``) setting the
        optimizer's rate at the start of each epoch, or None.

    After ``train()``, ``history`` holds ``train_loss`` (per iteration), ``train_acc`` and
    ``test_acc`` (per epoch) and ``epoch_seconds``; with validation data also ``val_loss`` and
    ``val_acc`` (per epoch), with a schedule ``lr`` (per epoch). The trainer's state is in plain
    attributes: ``epoch``, ``iteration``, ``rng``, ``optimizer`` (``state_dict()``), ``history``,
    and within an epoch ``epoch_position`` (batches done) and ``epoch_rng_state``.

    Checkpoints and resume: :class:`CheckpointSaver` writes one after every epoch and on
    :meth:`request_stop` / signals (:meth:`stop_on_signals`); :meth:`load_checkpoint` on a trainer
    built like the saved one continues bit-identically. The inputs are checked first
    (``validation.check_dataset`` against the network's sizes, batch size, learning rate).
    """

    def __init__(self, net, x_train, t_train, x_test=None, t_test=None, *, epochs=10,
                 batch_size=100, lr=None, optimizer=None, grad="backprop", sampling="shuffle",
                 seed=None, callbacks=(), x_val=None, t_val=None, validation_split=None,
                 early_stopping=None, lr_schedule=None):
        # bad data stops here with a message, not as a shape error deep in a layer
        n_features, n_classes = input_size(net), output_size(net)
        x_train, t_train = check_dataset(x_train, t_train, n_features, n_classes,
                                         ("x_train", "t_train"))
        if (x_test is None) != (t_test is None):
            raise NnscratchError("x_test and t_test must be given together")
        if x_test is not None:
            x_test, t_test = check_dataset(x_test, t_test, n_features, n_classes,
                                           ("x_test", "t_test"))
        if x_val is not None and t_val is not None:
            x_val, t_val = check_dataset(x_val, t_val, n_features, n_classes, ("x_val", "t_val"))
        if optimizer is None:  # SGD at rate lr, or at SGD's own default rate
            optimizer = SGD() if lr is None else SGD(lr)
        self.rng = np.random.default_rng(seed)
        if validation_split is not None:
            if x_val is not None:
                raise NnscratchError("give either x_val/t_val or validation_split, not both")
            from .datasets.splits import stratified_split

            x_train, x_val, t_train, t_val = stratified_split(
                x_train, t_train, validation_split, seed=int(self.rng.integers(2 ** 63)))
        if (x_val is None) != (t_val is None) or (x_val is not None and len(x_val) != len(t_val)):
            raise NnscratchError("x_val and t_val must be given together, one label per sample")
        n = len(x_train)
        batch_size = check_batch_size(batch_size, n)
        check_positive_int(epochs, "epochs")
        if grad not in GRADIENT_METHODS:
            raise NnscratchError(f"unknown gradient method {grad!r}: use one of "
                                 f"{', '.join(GRADIENT_METHODS)}")
        if sampling not in SAMPLING:
            raise NnscratchError(f"unknown sampling {sampling!r}: use one of {', '.join(SAMPLING)}")
        self.net = net
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.grad = grad
        self.sampling = sampling
        self.x_val, self.t_val = x_val, t_val
        self.lr_schedule = lr_schedule
        self.base_lr = self.optimizer.lr
        self.callbacks = list(callbacks)
        if early_stopping is not None:
            self.callbacks.append(EarlyStopping(early_stopping))
        # checkpoints last, so that they hold every other callback's state of the same epoch
        self.callbacks.sort(key=lambda cb: isinstance(cb, CheckpointSaver))
        self.iter_per_epoch = math.ceil(n / batch_size)
        self.epoch = 0
        self.iteration = 0
        self.stop_training = False
        self.history = {"train_loss": [], "train_acc": [], "test_acc": [], "epoch_seconds": []}
        if x_val is not None:
            self.history.update(val_loss=[], val_acc=[])
        if lr_schedule is not None:
            self.history["lr"] = []
        # where the current epoch is, for stopping after any step and resuming exactly there:
        # batches done in it, the generator's state when it began, seconds spent in it so far
        self.epoch_position = 0
        self.epoch_rng_state = None
        self.epoch_elapsed = 0.0
        self.checkpoint_path = None  # the last checkpoint written (set by CheckpointSaver)
        self.stop_requested = None  # the reason (e.g. "SIGINT") once request_stop was called

    #: BLAS threads while the epoch's steps run; None (default): BLAS's own setting. 1 is
    #: faster for mini-batch products (100 × 784 × 50 is too small to share; a second thread
    #: waiting for a busy core made epochs 2-10× slower) and `nnscratch train` uses it, but
    #: OpenBLAS rounds differently with one thread, so the library keeps BLAS's setting.
    blas_threads = None

    def batches(self):
        """Index arrays of one epoch's mini-batches (while they are drawn and learned from,
        BLAS uses at most ``blas_threads`` threads)."""
        with blas_limit(self.blas_threads):
            n = len(self.x_train)
            if self.sampling == "replacement":
                for _ in range(self.iter_per_epoch):
                    yield self.rng.choice(n, self.batch_size)
            else:
                order = self.rng.permutation(n)
                for start in range(0, n, self.batch_size):
                    yield order[start:start + self.batch_size]

    def numerical_gradient(self, x, t):
        """The notebook's central differences for every parameter: by the fast engine where it
        supports the network (same numbers, far less work), else by the naive loop."""
        if numgrad_fast.supports(self.net):
            return numgrad_fast.fast_numerical_gradient(self.net, x, t)
        return self.net.numerical_gradient(x, t)

    def step(self, batch):
        """One learning step on the samples ``batch``; returns the batch loss before the step."""
        # take() is the same gather as x_train[batch], with less of fancy indexing's overhead
        x, t = self.x_train.take(batch, axis=0), self.t_train.take(batch, axis=0)
        if self.grad == "backprop":
            loss, grads = self.net.loss_gradient(x, t)
        else:
            loss = self.net.loss(x, t)
            grads = self.numerical_gradient(x, t)
        loss = float(loss)
        if not math.isfinite(loss):
            raise self.diverged(f"loss {loss}")
        self.optimizer.update(self.net.params, grads)
        return loss

    def evaluate(self):
        """Train and test accuracy of the current parameters (in evaluation mode)."""
        train_acc = self.net.accuracy(self.x_train, self.t_train)
        test_acc = (self.net.accuracy(self.x_test, self.t_test)
                    if self.x_test is not None else float("nan"))
        return train_acc, test_acc

    def validate(self):
        """Validation loss and accuracy, in evaluation mode."""
        evaluating = getattr(self.net, "evaluating", contextlib.nullcontext)
        with evaluating():
            loss = float(self.net.loss(self.x_val, self.t_val))
        return loss, self.net.accuracy(self.x_val, self.t_val)

    def train(self):
        """Run the remaining epochs; returns ``history``.

        After :meth:`request_stop` (or a signal, see :meth:`stop_on_signals`) the current step
        is finished, callbacks' ``on_interrupt`` run (a :class:`CheckpointSaver` saves) and
        :class:`TrainingInterrupted` is raised; ``train()`` on a trainer restored from that
        checkpoint continues exactly where it stopped.
        """
        self.stop_training = False
        self.stop_requested = None
        for cb in self.callbacks:
            cb.on_train_begin(self)
        while self.epoch < self.epochs and not self.stop_training:
            start = time.perf_counter()
            if self.epoch_position == 0:  # a new epoch (not one resumed half-way)
                self.epoch_rng_state = self.rng.bit_generator.state
                self.epoch_elapsed = 0.0
                if self.lr_schedule is not None:
                    self.optimizer.lr = self.lr_schedule(self.base_lr, self.epoch)
            _net_mode(self.net, True)
            batches = self.batches()
            for _ in range(self.epoch_position):  # resumed: the same order, the same draws
                next(batches)
            for batch in batches:
                loss = self.step(batch)
                self.history["train_loss"].append(loss)
                self.iteration += 1
                self.epoch_position += 1
                for cb in self.callbacks:
                    cb.on_iteration_end(self, loss)
                if self.stop_requested and self.epoch_position < self.iter_per_epoch:
                    self.epoch_elapsed += time.perf_counter() - start
                    self._interrupt()
            self._check_finite()  # a checkpoint never holds NaN weights
            losses = self.history["train_loss"][len(self.history["train_loss"])
                                                - self.epoch_position:]
            train_acc, test_acc = self.evaluate()
            seconds = self.epoch_elapsed + time.perf_counter() - start
            self.epoch += 1
            self.epoch_position = 0
            self.history["train_acc"].append(train_acc)
            self.history["test_acc"].append(test_acc)
            self.history["epoch_seconds"].append(seconds)
            record = {"epoch": self.epoch, "loss": float(np.mean(losses)),
                      "train_acc": train_acc, "test_acc": test_acc, "seconds": seconds}
            if self.x_val is not None:
                record["val_loss"], record["val_acc"] = self.validate()
                self.history["val_loss"].append(record["val_loss"])
                self.history["val_acc"].append(record["val_acc"])
            if self.lr_schedule is not None:
                record["lr"] = self.optimizer.lr
                self.history["lr"].append(self.optimizer.lr)
            for cb in self.callbacks:
                cb.on_epoch_end(self, record)
            if self.stop_requested and self.epoch < self.epochs:
                self._interrupt()
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    # --- stopping, divergence --------------------------------------------------------------
    def request_stop(self, reason="request_stop"):
        """Ask training to stop after the current step (safe to call from a signal handler)."""
        self.stop_requested = reason

    @contextlib.contextmanager
    def stop_on_signals(self, signals=("SIGINT", "SIGTERM")):
        """``with trainer.stop_on_signals(): trainer.train()``: Ctrl-C and SIGTERM finish the
        current step, save (through the callbacks) and raise :class:`TrainingInterrupted`
        instead of killing the run mid-update. A second signal interrupts at once
        (KeyboardInterrupt). The previous handlers are put back afterwards."""
        if threading.current_thread() is not threading.main_thread():
            yield self  # signal handlers can only be installed from the main thread
            return

        def handler(signum, frame):
            if self.stop_requested:
                raise KeyboardInterrupt
            self.request_stop(signal.Signals(signum).name)

        previous = {}
        try:
            for name in signals:
                signum = getattr(signal, name)
                previous[signum] = signal.signal(signum, handler)
            yield self
        finally:
            for signum, old in previous.items():
                signal.signal(signum, old)

    def _interrupt(self):
        self._check_finite()
        for cb in self.callbacks:
            cb.on_interrupt(self)
        raise TrainingInterrupted(self.epoch, self.iteration, self.checkpoint_path,
                                  self.stop_requested)

    def _check_finite(self):
        for key, value in self.net.params.items():
            if not np.isfinite(value).all():
                # the step that broke them is the last one counted
                raise self.diverged(f"parameter {key} became "
                                    f"{'NaN' if np.isnan(value).any() else 'inf'}",
                                    iteration=self.iteration)

    def diverged(self, what, iteration=None):
        """The :class:`TrainingDiverged` error for ``what`` went non-finite at ``iteration``
        (default: the step under way), naming the likely cause (the learning rate, with a 10×
        smaller one to try) and the last good checkpoint."""
        lr = float(self.optimizer.lr)
        scheduled = (f" (this epoch's rate; the schedule started at {float(self.base_lr)!r})"
                     if lr != self.base_lr else "")
        where = (f"Last good checkpoint: {self.checkpoint_path}" if self.checkpoint_path
                 else "No checkpoint was saved")
        return TrainingDiverged(
            f"training diverged at epoch {self.epoch + 1}, iteration "
            f"{self.iteration + 1 if iteration is None else iteration} "
            f"({what}): the learning rate {lr!r}{scheduled} is probably too high; try "
            f"{lr / 10:.3g}. {where}")

    # --- checkpoints -----------------------------------------------------------------------
    def checkpoint_state(self):
        """Everything needed to continue exactly from here, as keyword arguments of
        :func:`nnscratch.io.save_checkpoint` (without the folder, the network and config).

        Mid-epoch, the generator is saved as it was when the epoch began, with the number of
        batches done: replaying the epoch's draws gives the same batches for the rest of it.
        """
        from .io import rng_state

        optimizer_state = (self.optimizer.state_dict()
                           if hasattr(self.optimizer, "state_dict") else {})
        rng = (self.rng.bit_generator.state if self.epoch_position == 0
               else self.epoch_rng_state)
        callbacks = {}
        for key, cb in _callback_keys(self.callbacks):
            state = cb.state_dict()
            if state is not None:
                callbacks[key] = state
        layer_rngs = [rng_state(layer.rng) for layer in _layers_with_rng(self.net)]
        extra = {"epoch_position": self.epoch_position, "epoch_elapsed": self.epoch_elapsed,
                 "lr": self.optimizer.lr, "callbacks": callbacks, "layer_rngs": layer_rngs}
        return {"optimizer_state": optimizer_state, "rng": rng, "epoch": self.epoch,
                "iteration": self.iteration, "history": self.history, "extra": extra}

    def save_checkpoint(self, directory, config=None):
        """Write ``directory/checkpoint.npz`` (atomically) and return its path."""
        from .io import save_checkpoint

        return save_checkpoint(directory, self.net, config=config, **self.checkpoint_state())

    def load_checkpoint(self, checkpoint):
        """Continue from ``checkpoint`` (an :class:`nnscratch.io.Checkpoint`, or a folder/path to
        load into this trainer's network): parameters, buffers, optimizer, generators,
        counters, history and callback state. Build the trainer exactly as the saved run was
        built (same data, seed, options), then call this, then ``train()``."""
        from .io import Checkpoint, describe_architecture, load_checkpoint, restore_rng

        if not isinstance(checkpoint, Checkpoint):
            checkpoint = load_checkpoint(checkpoint, self.net)
        elif checkpoint.net is not self.net:
            if describe_architecture(checkpoint.net) != describe_architecture(self.net):
                raise NnscratchError(f"checkpoint {str(checkpoint.path)!r} holds a "
                                     f"{describe_architecture(checkpoint.net)} but the network "
                                     f"given is a {describe_architecture(self.net)}")
            for key, value in checkpoint.net.params.items():
                self.net.params[key][...] = value
            for key, value in getattr(checkpoint.net, "buffers", {}).items():
                self.net.buffers[key] = value.copy()
        source = f"checkpoint {str(checkpoint.path)!r}"
        extra = checkpoint.extra
        try:
            if hasattr(self.optimizer, "load_state_dict"):
                self.optimizer.load_state_dict(checkpoint.optimizer_state)
            self.optimizer.lr = float(extra["lr"])
            position = int(extra["epoch_position"])
            self.epoch_elapsed = float(extra["epoch_elapsed"])
            layer_rngs = extra["layer_rngs"]
            callbacks = extra["callbacks"]
            history = checkpoint.history
            if set(history) != set(self.history):
                raise NnscratchError(f"its history has {sorted(history)}, this run records "
                                     f"{sorted(self.history)}")
        except (KeyError, TypeError, ValueError) as exc:
            raise NnscratchError(f"{source} does not fit this run ({type(exc).__name__}: {exc}):"
                                 " resume with the options it was saved with") from None
        if not 0 <= position < self.iter_per_epoch or checkpoint.epoch > self.epochs:
            raise NnscratchError(f"{source} stopped at epoch {checkpoint.epoch}, batch "
                                 f"{position}, which this run ({self.epochs} epochs of "
                                 f"{self.iter_per_epoch} batches) does not have: resume with "
                                 "the options it was saved with")
        layers = _layers_with_rng(self.net)
        if len(layer_rngs) != len(layers):
            raise NnscratchError(f"{source} holds {len(layer_rngs)} layer generators, the "
                                 f"network has {len(layers)}: it is another network")
        for layer, state in zip(layers, layer_rngs):
            layer.rng.bit_generator.state = restore_rng(state, source).bit_generator.state
        for key, cb in _callback_keys(self.callbacks):
            if key in callbacks:
                cb.load_state_dict(callbacks[key])
        self.rng = checkpoint.rng() if checkpoint.rng_state is not None else self.rng
        self.epoch_rng_state = self.rng.bit_generator.state
        self.epoch, self.iteration = checkpoint.epoch, checkpoint.iteration
        self.epoch_position = position
        self.history = {k: list(v) for k, v in history.items()}
        self.checkpoint_path = checkpoint.path
        self.stop_requested = None
        return self


def _callback_keys(callbacks):
    """(key, callback) pairs with stable keys: the class name, numbered when repeated."""
    seen = {}
    for cb in callbacks:
        name = type(cb).__name__
        seen[name] = seen.get(name, 0) + 1
        yield (name if seen[name] == 1 else f"{name}{seen[name]}"), cb


def _layers_with_rng(net):
    """Layers that draw random numbers while training (Dropout), in network order."""
    return [layer for layer in getattr(net, "layers", ())
            if isinstance(getattr(layer, "rng", None), np.random.Generator)]


class CheckpointSaver(Callback):
    """Write ``directory/checkpoint.npz`` after every epoch and when training is interrupted, so
    that ``Trainer.load_checkpoint`` (``nnscratch train --resume DIR``) continues from there.

    ``config``: the run's settings, stored in the checkpoint (the CLI keeps its arguments
    there to rebuild the same run). The path of the last checkpoint is ``trainer.checkpoint_path``.
    """

    def __init__(self, directory, config=None):
        self.directory = directory
        self.config = config

        self.saved_at = None  # the iteration of the last save

    def save(self, trainer):
        trainer.checkpoint_path = trainer.save_checkpoint(self.directory, self.config)
        self.saved_at = trainer.iteration

    def on_epoch_end(self, trainer, record):
        self.save(trainer)

    def on_interrupt(self, trainer):
        if self.saved_at != trainer.iteration:  # stopped at an epoch's end: saved already
            self.save(trainer)


def blas_limit(threads):
    """``with blas_limit(n):`` BLAS (NumPy's matrix products) uses at most ``n`` threads inside,
    its previous setting after; ``n=None`` changes nothing. Uses threadpoolctl."""
    global _THREADPOOLS
    if threads is None:
        return contextlib.nullcontext()
    if _THREADPOOLS is None:  # looking the libraries up takes 0.3 ms: once, not every epoch
        from threadpoolctl import ThreadpoolController

        _THREADPOOLS = ThreadpoolController()
    return _THREADPOOLS.limit(limits=threads, user_api="blas")


_THREADPOOLS = None


def train(net, x_train, t_train, x_test=None, t_test=None, **options):
    """Train ``net`` by mini-batch gradient descent; returns the history dict (see Trainer)."""
    return Trainer(net, x_train, t_train, x_test, t_test, **options).train()


class ProgressBar(Callback):
    """A tqdm bar over all iterations with the running loss, and one line per epoch."""

    def __init__(self, bar_file=None, line_file=None, disable=None):
        self.bar_file = bar_file  # None: stderr
        self.line_file = line_file if line_file is not None else sys.stdout
        self.disable = disable
        self.bar = None
        self.running = None

    def on_train_begin(self, trainer):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=trainer.epochs * trainer.iter_per_epoch, initial=trainer.iteration,
                        unit="it", file=self.bar_file, disable=self.disable, dynamic_ncols=True,
                        leave=False)

    def on_iteration_end(self, trainer, loss):
        # exponential moving average: readable while still following the trend
        self.running = loss if self.running is None else 0.9 * self.running + 0.1 * loss
        self.bar.update(1)
        if trainer.iteration % 10 == 0:
            self.bar.set_postfix(loss=f"{self.running:.4f}", refresh=False)

    def on_epoch_end(self, trainer, record):
        self.bar.write(format_epoch(record, trainer.epochs), file=self.line_file)
        self.line_file.flush()  # a line per epoch, also when stdout is a pipe

    def on_train_end(self, trainer):
        self.bar.close()

    def on_interrupt(self, trainer):
        self.bar.close()


def format_epoch(record, epochs):
    width = len(str(epochs))
    val = (f"val loss {record['val_loss']:.4f}  val acc {record['val_acc']:.4f}  "
           if "val_loss" in record else "")
    return (f"epoch {record['epoch']:>{width}}/{epochs}  loss {record['loss']:.4f}  "
            f"train acc {record['train_acc']:.4f}  {val}test acc {record['test_acc']:.4f}  "
            f"{record['seconds']:.2f} s")
