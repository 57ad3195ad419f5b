"""The mini-batch learning loop of chapter 4.

Repeat: draw a mini-batch → compute the gradient of the loss → step the weights against it.
``iter_per_epoch = ceil(N / batch_size)`` iterations make one epoch; after every epoch the accuracy
on the training and test data shows whether the network generalises.
"""

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

    After ``train()``, ``history`` holds ``train_loss`` (per iteration), ``train_acc`` and
    ``test_acc`` (per epoch) and ``epoch_seconds``.
    """

    def __init__(self, net, x_train, t_train, x_test=None, t_test=None, *, epochs=10,
                 batch_size=100, lr=0.1, optimizer=None, grad="backprop", sampling="shuffle",
                 seed=None, callbacks=()):
        n = len(x_train)
        if len(t_train) != n:
            raise NnscratchError(f"x_train has {n} samples but t_train has {len(t_train)}: "
                                 "give one label per sample")
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
        self.rng = np.random.default_rng(seed)
        self.callbacks = list(callbacks)
        self.iter_per_epoch = math.ceil(n / batch_size)
        self.epoch = 0
        self.iteration = 0
        self.history = {"train_loss": [], "train_acc": [], "test_acc": [], "epoch_seconds": []}

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
        self.optimizer.update(self.net.params, grads)
        return float(loss)

    def evaluate(self):
        """Train and test accuracy of the current parameters."""
        train_acc = self.net.accuracy(self.x_train, self.t_train)
        test_acc = (self.net.accuracy(self.x_test, self.t_test)
                    if self.x_test is not None else float("nan"))
        return train_acc, test_acc

    def train(self):
        """Run the remaining epochs; returns ``history``."""
        for cb in self.callbacks:
            cb.on_train_begin(self)
        while self.epoch < self.epochs:
            start = time.perf_counter()
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
    return (f"epoch {record['epoch']:>{width}}/{epochs}  loss {record['loss']:.4f}  "
            f"train acc {record['train_acc']:.4f}  test acc {record['test_acc']:.4f}  "
            f"{record['seconds']:.2f} s")
