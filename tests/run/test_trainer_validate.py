"""Trainer.validate measures the validation loss in evaluation mode, as its docstring promises:
no dropout, BatchNorm's running statistics; and the network is back in training mode after it."""

import numpy as np
import pytest

from nnscratch.nets import MultiLayerNet
from nnscratch.optim import Adam
from nnscratch.run.callbacks import Callback
from nnscratch.run.trainer import Trainer


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
        self.modes.append(
            [trainer.net.training]
            + [layer.training for layer in trainer.net.layers if hasattr(layer, "training")]
        )


def test_validation_loss_is_measured_in_evaluation_mode_and_training_mode_comes_back():
    rng = np.random.default_rng(0)
    centers, t = rng.normal(0, 2, (3, 12)), rng.integers(0, 3, 200)
    x = centers[t] + rng.normal(0, 1, (200, 12))
    net = MultiLayerNet(12, [16], 3, dropout=0.5, use_batchnorm=True, seed=0)
    expected = Expected()
    trainer = Trainer(
        net,
        x[:150],
        t[:150],
        epochs=3,
        batch_size=25,
        optimizer=Adam(0.01),
        seed=0,
        x_val=x[150:],
        t_val=t[150:],
        callbacks=[expected],
    )
    trainer.train()
    assert len(expected.records) == 3
    for record, (loss, acc), modes in zip(expected.records, expected.by_hand, expected.modes):
        # dropout halves units at random and batch statistics differ from the running ones:
        # a training-mode forward pass is far from these numbers
        np.testing.assert_allclose(record["val_loss"], loss, rtol=1e-12)
        assert record["val_acc"] == acc
        assert modes == [True, True, True]  # the net, its BatchNorm and Dropout layers


def test_the_validation_loss_of_a_conv_net_is_computed_in_chunks_and_is_the_same():
    """6,000 images through a convolution at once would hold a gigabyte of column matrices:
    the loss is taken eval_batch images at a time, and is the loss of the whole set."""
    from nnscratch.convnets import SimpleConvNet
    from nnscratch.run.trainer import evaluation_loss

    rng = np.random.default_rng(1)
    x, t = rng.random((50, 1, 8, 8)), rng.integers(0, 3, 50)
    net = SimpleConvNet(
        (1, 8, 8),
        {"filter_num": 4, "filter_size": 3},
        hidden_size=5,
        output_size=3,
        weight_init_std=0.3,
        seed=0,
    )
    net.weight_decay_lambda = 0.1
    whole = float(net.loss(x, t))  # one forward pass over all 50 (no dropout: the same in eval)
    seen = []
    forward = net.layers[0].forward
    net.layers[0].forward = lambda images: seen.append(len(images)) or forward(images)
    net.eval_batch = 16
    assert evaluation_loss(net, x, t) == pytest.approx(whole, rel=1e-12)
    assert seen == [16, 16, 16, 2] and net.training
