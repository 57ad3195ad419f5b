"""The Trainer's features: the notebook configuration unchanged, validation, early stopping,
schedules, eval mode when accuracy is measured."""

import math

import numpy as np
import pytest

from nnscratch.nets import TwoLayerNet
from nnscratch.train import Trainer


def _learnable_data(n, d=784, c=10, seed=0):
    """Random inputs in [0, 1) whose labels are the argmax of a fixed random linear map."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    t = np.argmax(x @ rng.standard_normal((d, c)), axis=1)
    return x, t


def _reference_notebook_run(x, t, x_test, t_test, net_seed, train_seed, epochs, batch_size, lr,
                            sampling):
    """The notebook's TwoLayerNet (784-50-10, sigmoid, SGD) as a plain-numpy loop, written here
    independently of nnscratch: the same rng draws (weights: N(0, 0.01²) W1 then W2; batches:
    permutation per epoch or ``choice`` with replacement) and the same order of floating-point
    operations, so that the library's layered implementation must agree bit for bit."""
    rng = np.random.default_rng(net_seed)
    d, h, c = x.shape[1], 50, 10
    W1 = 0.01 * rng.standard_normal((d, h))
    b1 = np.zeros(h)
    W2 = 0.01 * rng.standard_normal((h, c))
    b2 = np.zeros(c)
    batch_rng = np.random.default_rng(train_seed)
    n = len(x)

    def scores(xb):
        z1 = 0.5 * (1.0 + np.tanh(0.5 * (xb @ W1 + b1)))
        return z1 @ W2 + b2

    def acc(xb, tb):
        return float(np.mean(np.argmax(scores(xb), axis=1) == tb))

    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for _ in range(epochs):
        if sampling == "shuffle":
            order = batch_rng.permutation(n)
            batches = [order[s:s + batch_size] for s in range(0, n, batch_size)]
        else:
            batches = [batch_rng.choice(n, batch_size) for _ in range(math.ceil(n / batch_size))]
        for b in batches:
            xb, tb = x[b], t[b]
            m = len(b)
            z1 = 0.5 * (1.0 + np.tanh(0.5 * (xb @ W1 + b1)))
            a2 = z1 @ W2 + b2
            shifted = a2 - np.max(a2, axis=-1, keepdims=True)
            log_y = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
            history["train_loss"].append(float(-np.sum(log_y[np.arange(m), tb]) / m))
            dy = np.exp(log_y)
            dy[np.arange(m), tb] -= 1.0
            dy = dy * (1.0 / m)
            gW2, gb2 = z1.T @ dy, dy.sum(axis=0)
            da1 = (dy @ W2.T) * z1 * (1.0 - z1)
            gW1, gb1 = xb.T @ da1, da1.sum(axis=0)
            W1 -= lr * gW1
            b1 -= lr * gb1
            W2 -= lr * gW2
            b2 -= lr * gb2
        history["train_acc"].append(acc(x, t))
        history["test_acc"].append(acc(x_test, t_test))
    return history


@pytest.mark.parametrize("sampling", ["shuffle", "replacement"])
def test_notebook_configuration_gives_the_reference_history_bit_for_bit(sampling):
    x, t = _learnable_data(500)
    x_test, t_test = _learnable_data(200, seed=1)
    expected = _reference_notebook_run(x, t, x_test, t_test, net_seed=3, train_seed=4, epochs=3,
                                       batch_size=100, lr=0.1, sampling=sampling)
    net = TwoLayerNet(784, 50, 10, seed=3)
    history = Trainer(net, x, t, x_test, t_test, epochs=3, batch_size=100, lr=0.1, seed=4,
                      sampling=sampling).train()
    for key in ("train_loss", "train_acc", "test_acc"):
        assert history[key] == expected[key], key
    assert len(history["train_loss"]) == 15
    # the run learned something, so equal histories are not equal by being constant
    assert history["train_loss"][-1] < history["train_loss"][0]
