"""The learning loop of chapter 4, as the book writes it.

Learning is repeating three steps until the network generalises to data it has not seen:

1. draw a random mini-batch of the training data;
2. compute the gradient of the loss on it (backpropagation: ``net.loss_gradient``);
3. step the weights against the gradient (``optimizer.update``: W ← W − η ∂L/∂W for SGD).

``iter_per_epoch = ceil(N / batch_size)`` steps make one epoch; after each, the accuracy on the
training and the test data shows whether the network generalises. ``nnscratch.Trainer`` runs the
same loop with what a real run needs beside it (and gives the same history for the same seed with
``sampling="replacement"``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .nets import LayerNet
    from .optim import Optimizer


def learn(
    net: LayerNet,
    optimizer: Optimizer,
    x_train: np.ndarray,
    t_train: np.ndarray,
    x_test: np.ndarray,
    t_test: np.ndarray,
    *,
    epochs: int = 10,
    batch_size: int = 100,
    seed: int | np.random.SeedSequence | np.random.Generator | None = None,
) -> dict[str, list[float]]:
    """Train ``net`` by ``optimizer`` on mini-batches of (x_train, t_train) for ``epochs`` epochs;
    returns the history: ``train_loss`` per step, ``train_acc`` and ``test_acc`` per epoch.

    Shapes: x (N, D) or images (N, C, H, W); t index labels (N,). ``seed`` seeds the batches."""
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": [], "test_acc": []}
    iter_per_epoch = math.ceil(len(x_train) / batch_size)
    for _ in range(epochs):
        for _ in range(iter_per_epoch):
            batch = rng.choice(len(x_train), batch_size)  # 1. a mini-batch
            loss, grads = net.loss_gradient(x_train[batch], t_train[batch])  # 2. the gradient
            optimizer.update(net.params, grads)  # 3. a step against it
            history["train_loss"].append(float(loss))
        history["train_acc"].append(net.accuracy(x_train, t_train))
        history["test_acc"].append(net.accuracy(x_test, t_test))
    return history
