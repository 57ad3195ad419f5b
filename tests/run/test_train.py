"""The mini-batch loop: epochs, batches, sampling and reproducibility."""

import math

import numpy as np
import pytest

from nnscratch.datasets import load_dataset
from nnscratch.errors import NnscratchError
from nnscratch.nets import TwoLayerNet
from nnscratch.run.callbacks import Callback
from nnscratch.run.trainer import Trainer, train


def small_data(n=23, d=5, c=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, c, size=n)


class Recorder(Callback):
    def __init__(self):
        self.batches, self.epochs = [], []

    def on_epoch_end(self, trainer, record):
        self.epochs.append(record)


def test_iter_per_epoch_is_ceil_and_shuffled_epochs_visit_every_sample_once():
    x, t = small_data(n=23)
    net = TwoLayerNet(5, 4, 3, seed=0)
    trainer = Trainer(net, x, t, epochs=2, batch_size=5, seed=0)
    assert trainer.iter_per_epoch == math.ceil(23 / 5) == 5
    batches = list(trainer.batches())
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    assert sorted(np.concatenate(batches).tolist()) == list(range(23))
    history = trainer.train()
    assert len(history["train_loss"]) == 2 * 5
    assert len(history["train_acc"]) == len(history["test_acc"]) == 2
    assert trainer.iteration == 10 and trainer.epoch == 2


def test_sampling_with_replacement_draws_full_batches():
    x, t = small_data(n=23)
    trainer = Trainer(
        TwoLayerNet(5, 4, 3, seed=0), x, t, batch_size=5, sampling="replacement", seed=0
    )
    batches = list(trainer.batches())
    assert len(batches) == 5 and all(len(b) == 5 for b in batches)
    assert all(0 <= i < 23 for b in batches for i in b)


def test_same_seed_same_history_different_seed_different_history():
    x, t = small_data(n=40)

    def run(seed, sampling):
        net = TwoLayerNet(5, 4, 3, weight_init_std=0.5, seed=seed)
        return train(net, x, t, x, t, epochs=3, batch_size=8, lr=0.3, seed=seed, sampling=sampling)

    for sampling in ("shuffle", "replacement"):
        assert run(7, sampling)["train_loss"] == run(7, sampling)["train_loss"]
        assert run(7, sampling)["train_acc"] == run(7, sampling)["train_acc"]
        assert run(7, sampling)["train_loss"] != run(8, sampling)["train_loss"]


def test_one_step_is_plain_sgd_on_the_batch():
    x, t = small_data(n=10)
    net = TwoLayerNet(5, 4, 3, weight_init_std=0.5, seed=0)
    reference = TwoLayerNet(5, 4, 3, weight_init_std=0.5, seed=0)
    trainer = Trainer(net, x, t, batch_size=4, lr=0.2, seed=0)
    batch = next(trainer.batches())
    loss = trainer.step(batch)
    grads = reference.gradient(x[batch], t[batch])
    assert loss == pytest.approx(reference.loss(x[batch], t[batch]), rel=1e-15)
    for key in net.params:
        np.testing.assert_allclose(
            net.params[key], reference.params[key] - 0.2 * grads[key], rtol=1e-15
        )


def test_numerical_gradient_training_lowers_the_loss():
    x, t = small_data(n=12, d=4, c=3)
    net = TwoLayerNet(4, 3, 3, weight_init_std=0.5, seed=0)
    before = net.loss(x, t)
    train(net, x, t, epochs=3, batch_size=12, lr=0.5, grad="numerical", seed=0)
    assert net.loss(x, t) < before


def test_digits_training_generalises():
    data = load_dataset("digits")
    net = TwoLayerNet(64, 50, 10, seed=0)
    recorder = Recorder()
    history = train(
        net,
        data.x_train,
        data.t_train,
        data.x_test,
        data.t_test,
        epochs=30,
        batch_size=32,
        lr=0.5,
        seed=0,
        callbacks=[recorder],
    )
    assert history["test_acc"][-1] >= 0.95
    assert history["train_acc"][-1] > history["train_acc"][0]
    assert [r["epoch"] for r in recorder.epochs] == list(range(1, 31))
    assert np.mean(history["train_loss"][-45:]) < np.mean(history["train_loss"][:45]) / 5


@pytest.mark.parametrize(
    "options, message",
    [
        ({"batch_size": 0}, "batch_size must be an integer from 1 to 23"),
        ({"batch_size": 24}, "batch_size must be an integer from 1 to 23"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"lr": 0}, r"lr must be a number in \(0, ∞\), got 0: use e.g. 0.1"),
        ({"grad": "magic"}, "backprop, numerical"),
        ({"sampling": "sorted"}, "shuffle, replacement"),
    ],
)
def test_bad_options_are_clear_errors(options, message):
    x, t = small_data(n=23)
    with pytest.raises(NnscratchError, match=message):
        Trainer(TwoLayerNet(5, 4, 3), x, t, **{"batch_size": 5, **options})


def test_length_mismatch_is_a_clear_error():
    x, t = small_data(n=23)
    with pytest.raises(NnscratchError, match="23 samples but t_train has 22"):
        Trainer(TwoLayerNet(5, 4, 3), x, t[:-1])


def test_numerical_training_uses_the_fast_engine_with_the_naive_loops_numbers():
    from nnscratch.engine import numgrad as numgrad_fast
    from nnscratch.optim import SGD

    x, t = small_data(n=12, d=4, c=3)
    fast_net = TwoLayerNet(4, 3, 3, weight_init_std=0.5, seed=0)
    naive_net = TwoLayerNet(4, 3, 3, weight_init_std=0.5, seed=0)
    assert numgrad_fast.supports(fast_net)
    trainer = Trainer(fast_net, x, t, epochs=1, batch_size=4, lr=0.5, grad="numerical", seed=0)
    batches = list(Trainer(naive_net, x, t, batch_size=4, seed=0).batches())
    trainer.train()
    sgd = SGD(0.5)
    for batch in batches:  # the same batches, stepped with the naive loop's gradient
        sgd.update(naive_net.params, naive_net.numerical_gradient(x[batch], t[batch]))
    for key in fast_net.params:
        np.testing.assert_allclose(
            fast_net.params[key], naive_net.params[key], rtol=1e-9, atol=1e-12
        )


def test_numerical_training_falls_back_to_the_naive_loop_for_batch_norm():
    from nnscratch.engine import numgrad as numgrad_fast
    from nnscratch.nets import MultiLayerNet

    x, t = small_data(n=12, d=4, c=3)
    net = MultiLayerNet(4, [3], 3, use_batchnorm=True, seed=0)
    assert not numgrad_fast.supports(net)
    before = net.loss(x, t)
    train(net, x, t, epochs=2, batch_size=12, lr=0.1, grad="numerical", seed=0)
    assert net.loss(x, t) < before


def test_an_epochs_loss_is_the_mean_of_its_batch_losses():
    x, t = small_data(n=23)
    recorder = Recorder()
    trainer = Trainer(
        TwoLayerNet(5, 4, 3, weight_init_std=0.5, seed=0),
        x,
        t,
        epochs=3,
        batch_size=5,
        lr=0.5,
        seed=0,
        callbacks=[recorder],
    )
    history = trainer.train()
    for epoch, record in enumerate(recorder.epochs):
        losses = history["train_loss"][5 * epoch : 5 * (epoch + 1)]  # 23 samples: 5 batches
        assert record["loss"] == pytest.approx(sum(losses) / 5, rel=1e-12)
        assert record["loss"] != losses[-1]
