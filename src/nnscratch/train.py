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
import sys
import time

import numpy as np

from .errors import NnscratchError
from .optim import SGD

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

    def on_epoch_end(self, trainer, record):
        if record["val_loss"] < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.wait = record["val_loss"], record["epoch"], 0
            self.best_params = {k: v.copy() for k, v in trainer.net.params.items()}
            self.best_buffers = {k: v.copy() for k, v in getattr(trainer.net, "buffers", {}).items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True

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
    lr : SGD learning rate, used when no ``optimizer`` is given.
    grad : "backprop" or "numerical" (the notebook's central differences; very slow).
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
    attributes: ``epoch``, ``iteration``, ``rng``, ``optimizer`` (``state_dict()``), ``history``.
    """

    def __init__(self, net, x_train, t_train, x_test=None, t_test=None, *, epochs=10,
                 batch_size=100, lr=0.1, optimizer=None, grad="backprop", sampling="shuffle",
                 seed=None, callbacks=(), x_val=None, t_val=None, validation_split=None,
                 early_stopping=None, lr_schedule=None):
        if len(x_train) != len(t_train):
            raise NnscratchError(f"x_train has {len(x_train)} samples but t_train has "
                                 f"{len(t_train)}: give one label per sample")
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
        if not (isinstance(batch_size, (int, np.integer)) and 0 < batch_size <= n):
            raise NnscratchError(f"batch size must be an integer from 1 to {n} (the number of "
                                 f"training samples), got {batch_size!r}")
        if not (isinstance(epochs, (int, np.integer)) and epochs > 0):
            raise NnscratchError(f"epochs must be a positive integer, got {epochs!r}")
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
        self.optimizer = optimizer if optimizer is not None else SGD(lr)
        self.grad = grad
        self.sampling = sampling
        self.x_val, self.t_val = x_val, t_val
        self.lr_schedule = lr_schedule
        self.base_lr = self.optimizer.lr
        self.callbacks = list(callbacks)
        if early_stopping is not None:
            self.callbacks.append(EarlyStopping(early_stopping))
        self.iter_per_epoch = math.ceil(n / batch_size)
        self.epoch = 0
        self.iteration = 0
        self.stop_training = False
        self.history = {"train_loss": [], "train_acc": [], "test_acc": [], "epoch_seconds": []}
        if x_val is not None:
            self.history.update(val_loss=[], val_acc=[])
        if lr_schedule is not None:
            self.history["lr"] = []

    def batches(self):
        """Index arrays of one epoch's mini-batches."""
        n = len(self.x_train)
        if self.sampling == "replacement":
            for _ in range(self.iter_per_epoch):
                yield self.rng.choice(n, self.batch_size)
        else:
            order = self.rng.permutation(n)
            for start in range(0, n, self.batch_size):
                yield order[start:start + self.batch_size]

    def step(self, batch):
        """One learning step on the samples ``batch``; returns the batch loss before the step."""
        x, t = self.x_train[batch], self.t_train[batch]
        if self.grad == "backprop":
            loss, grads = self.net.loss_gradient(x, t)
        else:
            loss = self.net.loss(x, t)
            grads = self.net.numerical_gradient(x, t)
        loss = float(loss)
        if not math.isfinite(loss):
            raise NnscratchError(f"the loss became {loss} at iteration {self.iteration + 1}: "
                                 "training diverged; lower the learning rate")
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
        """Run the remaining epochs; returns ``history``."""
        for cb in self.callbacks:
            cb.on_train_begin(self)
        self.stop_training = False
        while self.epoch < self.epochs and not self.stop_training:
            start = time.perf_counter()
            if self.lr_schedule is not None:
                self.optimizer.lr = self.lr_schedule(self.base_lr, self.epoch)
            _net_mode(self.net, True)
            losses = []
            for batch in self.batches():
                loss = self.step(batch)
                losses.append(loss)
                self.history["train_loss"].append(loss)
                self.iteration += 1
                for cb in self.callbacks:
                    cb.on_iteration_end(self, loss)
            train_acc, test_acc = self.evaluate()
            seconds = time.perf_counter() - start
            self.epoch += 1
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
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history


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

    def on_train_end(self, trainer):
        self.bar.close()


def format_epoch(record, epochs):
    width = len(str(epochs))
    val = (f"val loss {record['val_loss']:.4f}  val acc {record['val_acc']:.4f}  "
           if "val_loss" in record else "")
    return (f"epoch {record['epoch']:>{width}}/{epochs}  loss {record['loss']:.4f}  "
            f"train acc {record['train_acc']:.4f}  {val}test acc {record['test_acc']:.4f}  "
            f"{record['seconds']:.2f} s")
