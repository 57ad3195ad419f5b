"""Trainer.validate measures the validation loss in evaluation mode, as its docstring promises:
no dropout, BatchNorm's running statistics; and the network is back in training mode after it."""

import numpy as np

from nnscratch.nets import MultiLayerNet
from nnscratch.optim import Adam
from nnscratch.train import Callback, Trainer


def evaluation_loss_by_hand(net, x, t):
    """Mean cross-entropy and accuracy of x → Affine → BatchNorm (running mean/var) → ReLU →
    (Dropout: the identity) → Affine → softmax, written out with NumPy alone (one hidden layer)."""
    p, b = net.params, net.buffers
    h = x @ p["W1"] + p["b1"]
    h = p["gamma1"] * (h - b["running_mean1"]) / np.sqrt(b["running_var1"] + 1e-5) + p["beta1"]
    h = np.maximum(h, 0)
    s = h @ p["W2"] + p["b2"]
    s = s - s.max(axis=1, keepdims=True)
    log_y = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return -np.mean(log_y[np.arange(len(t)), t]), np.mean(np.argmax(s, axis=1) == t)


class Expected(Callback):
    """At each epoch's end (after validate): the evaluation-mode loss by hand, and the mode."""

    def __init__(self):
        self.records, self.by_hand, self.modes = [], [], []

    def on_epoch_end(self, trainer, record):
        self.records.append(record)
        self.by_hand.append(evaluation_loss_by_hand(trainer.net, trainer.x_val, trainer.t_val))
        self.modes.append([trainer.net.training]
                          + [layer.training for layer in trainer.net.layers
                             if hasattr(layer, "training")])


def test_validation_loss_is_measured_in_evaluation_mode_and_training_mode_comes_back():
    rng = np.random.default_rng(0)
    centers, t = rng.normal(0, 2, (3, 12)), rng.integers(0, 3, 200)
    x = centers[t] + rng.normal(0, 1, (200, 12))
    net = MultiLayerNet(12, [16], 3, dropout=0.5, use_batchnorm=True, seed=0)
    expected = Expected()
    trainer = Trainer(net, x[:150], t[:150], epochs=3, batch_size=25, optimizer=Adam(0.01),
                      seed=0, x_val=x[150:], t_val=t[150:], callbacks=[expected])
    trainer.train()
    assert len(expected.records) == 3
    for record, (loss, acc), modes in zip(expected.records, expected.by_hand, expected.modes):
        # dropout halves units at random and batch statistics differ from the running ones:
        # a training-mode forward pass is far from these numbers
        np.testing.assert_allclose(record["val_loss"], loss, rtol=1e-12)
        assert record["val_acc"] == acc
        assert modes == [True, True, True]  # the net, its BatchNorm and Dropout layers
