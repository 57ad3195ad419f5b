"""The Trainer's features: the notebook configuration unchanged, validation, early stopping,
schedules, eval mode when accuracy is measured."""

import math

import numpy as np
import pytest

from nnscratch.engine import compiled
from nnscratch.engine.blas import blas_limit
from nnscratch.nets import TwoLayerNet
from nnscratch.run.trainer import Trainer


def _learnable_data(n, d=784, c=10, seed=0):
    """Random inputs in [0, 1) whose labels are the argmax of a fixed random linear map."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    t = np.argmax(x @ rng.standard_normal((d, c)), axis=1)
    return x, t


def _reference_notebook_run(
    x, t, x_test, t_test, net_seed, train_seed, epochs, batch_size, lr, sampling
):
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
            batches = [order[s : s + batch_size] for s in range(0, n, batch_size)]
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


@pytest.mark.parametrize("kernels", ["numpy", "compiled"])
@pytest.mark.parametrize("sampling", ["shuffle", "replacement"])
def test_notebook_configuration_gives_the_reference_history_bit_for_bit(sampling, kernels):
    x, t = _learnable_data(500)
    x_test, t_test = _learnable_data(200, seed=1)
    # one BLAS thread on both sides: one and two threads round products of 784 terms differently
    with blas_limit(1):
        expected = _reference_notebook_run(
            x,
            t,
            x_test,
            t_test,
            net_seed=3,
            train_seed=4,
            epochs=3,
            batch_size=100,
            lr=0.1,
            sampling=sampling,
        )
    net = TwoLayerNet(784, 50, 10, seed=3)
    trainer = Trainer(
        net, x, t, x_test, t_test, epochs=3, batch_size=100, lr=0.1, seed=4, sampling=sampling
    )
    trainer.blas_threads = 1
    trainer.compiled_kernels = kernels == "compiled"  # a short run: "auto" would take NumPy's
    if kernels == "compiled" and compiled.kernels() is None:
        pytest.skip(compiled.status())
    history = trainer.train()
    for key in ("train_acc", "test_acc"):
        assert history[key] == expected[key], key
    if kernels == "numpy":
        assert history["train_loss"] == expected["train_loss"]
    else:  # the compiled softmax's exp (libm's) and sum round otherwise in the last bits
        np.testing.assert_allclose(history["train_loss"], expected["train_loss"], rtol=1e-13)
    assert len(history["train_loss"]) == 15
    # the run learned something, so equal histories are not equal by being constant
    assert history["train_loss"][-1] < history["train_loss"][0]


from nnscratch.errors import NnscratchError  # noqa: E402
from nnscratch.nets import MultiLayerNet  # noqa: E402
from nnscratch.optim import Adam, CosineLR, StepLR  # noqa: E402
from nnscratch.run.callbacks import Callback  # noqa: E402


def _small_data(n=300, d=20, c=3, seed=0):
    return _learnable_data(n, d, c, seed)


def test_validation_split_and_history():
    x, t = _small_data()
    net = MultiLayerNet(20, [16], 3, seed=0)
    trainer = Trainer(
        net, x, t, epochs=3, batch_size=30, optimizer=Adam(0.01), seed=1, validation_split=0.2
    )
    history = trainer.train()
    assert len(trainer.x_train) == 240 and len(trainer.x_val) == 60
    # the split is a partition of the original samples (rows are distinct random vectors)
    rows = {r.tobytes() for r in np.vstack([trainer.x_train, trainer.x_val])}
    assert rows == {r.tobytes() for r in x}
    assert len(history["val_loss"]) == len(history["val_acc"]) == 3
    assert len(history["train_loss"]) == 3 * 8
    net.eval()
    assert history["val_loss"][-1] == float(net.loss(trainer.x_val, trainer.t_val))
    assert history["val_acc"][-1] == net.accuracy(trainer.x_val, trainer.t_val)
    # same seed, same split and history
    again = Trainer(
        MultiLayerNet(20, [16], 3, seed=0),
        x,
        t,
        epochs=3,
        batch_size=30,
        optimizer=Adam(0.01),
        seed=1,
        validation_split=0.2,
    ).train()
    assert again["val_loss"] == history["val_loss"]


def test_no_validation_keys_without_validation_data():
    x, t = _small_data(60)
    history = Trainer(MultiLayerNet(20, [4], 3, seed=0), x, t, epochs=1, batch_size=30).train()
    assert set(history) == {"train_loss", "train_acc", "test_acc", "epoch_seconds"}


def test_accuracy_is_measured_in_eval_mode():
    x, t = _small_data()
    net = MultiLayerNet(20, [32], 3, dropout=0.5, use_batchnorm=True, seed=0)
    trainer = Trainer(
        net, x, t, x[:50], t[:50], epochs=2, batch_size=30, optimizer=Adam(0.01), seed=0
    )
    history = trainer.train()
    assert net.training  # back in training mode after the evaluation
    net.eval()
    scores = net.scores(x)  # the deterministic evaluation-mode forward pass, by hand
    assert history["train_acc"][-1] == float(np.mean(np.argmax(scores, axis=1) == t))


class _Snapshots(Callback):
    def __init__(self):
        self.params = []

        self.buffers = []

    def on_epoch_end(self, trainer, record):
        self.params.append({k: v.copy() for k, v in trainer.net.params.items()})
        self.buffers.append({k: v.copy() for k, v in trainer.net.buffers.items()})


@pytest.mark.parametrize("batchnorm", [False, True])
def test_early_stopping_stops_after_patience_and_restores_the_best_weights(batchnorm):
    # random labels: the network can only memorise, so the validation loss soon rises
    rng = np.random.default_rng(0)
    x, t = rng.random((200, 10)), rng.integers(0, 3, 200)
    net = MultiLayerNet(10, [64], 3, use_batchnorm=batchnorm, seed=0)
    snapshots = _Snapshots()
    trainer = Trainer(
        net,
        x[:150],
        t[:150],
        epochs=60,
        batch_size=15,
        optimizer=Adam(0.01),
        seed=0,
        x_val=x[150:],
        t_val=t[150:],
        early_stopping=3,
        callbacks=[snapshots],
    )
    history = trainer.train()
    best = int(np.argmin(history["val_loss"]))  # 0-based epoch index of the lowest loss
    assert trainer.epoch == best + 1 + 3 < 60  # stopped 3 epochs after the best one
    assert len(history["val_loss"]) == trainer.epoch
    for key, value in net.params.items():
        np.testing.assert_array_equal(value, snapshots.params[best][key])
    assert set(net.buffers) == set(snapshots.buffers[best])
    for key, value in net.buffers.items():  # BatchNorm's running statistics of that epoch too
        np.testing.assert_array_equal(value, snapshots.buffers[best][key])
    assert not np.array_equal(snapshots.params[-1]["W1"], snapshots.params[best]["W1"])


def test_early_stopping_needs_validation_data():
    x, t = _small_data(60)
    with pytest.raises(NnscratchError, match="validation"):
        Trainer(MultiLayerNet(20, [4], 3), x, t, epochs=1, batch_size=30, early_stopping=2).train()


@pytest.mark.parametrize("schedule", [StepLR(2, 0.5), CosineLR(4)])
def test_learning_rate_schedule_sets_each_epochs_rate(schedule):
    x, t = _small_data(60)
    optimizer = Adam(0.02)
    history = Trainer(
        MultiLayerNet(20, [4], 3, seed=0),
        x,
        t,
        epochs=4,
        batch_size=30,
        optimizer=optimizer,
        lr_schedule=schedule,
    ).train()
    assert history["lr"] == [schedule(0.02, e) for e in range(4)]
    assert optimizer.lr == history["lr"][-1]


@pytest.mark.parametrize("chunks", [[1] * 24, [7, 1, 13, 3], [24]])
def test_run_in_chunks_is_train_step_for_step(chunks):
    """``run(n)`` (an animation's or the playground's driver) is the loop of ``train()``: the
    same batches, weights, schedule and per-epoch rows, however the steps are cut up."""
    x, t = _small_data(300)

    def trainer():
        return Trainer(
            MultiLayerNet(20, [8], 3, dropout=0.2, seed=0),
            x[:240],
            t[:240],
            x[240:],
            t[240:],
            epochs=3,
            batch_size=24,
            optimizer=Adam(0.01),
            seed=2,
            lr_schedule=StepLR(1, 0.5),
            validation_split=0.2,
        )

    whole, cut = trainer(), trainer()
    whole.train()
    records = [r for n in chunks for r in cut.run(n)]
    assert (cut.epoch, cut.iteration, cut.epoch_position) == (3, 24, 0)
    assert [r["epoch"] for r in records] == [1, 2, 3]
    for key in ("train_loss", "train_acc", "test_acc", "val_loss", "val_acc", "lr"):
        assert cut.history[key] == whole.history[key], key
    for key in whole.net.params:
        assert np.array_equal(cut.net.params[key], whole.net.params[key]), key


def test_run_stops_mid_epoch_and_goes_on_from_there():
    x, t = _small_data(120)
    trainer = Trainer(MultiLayerNet(20, [4], 3, seed=0), x, t, epochs=1, batch_size=30)
    assert trainer.run(3) == [] and (trainer.epoch, trainer.epoch_position) == (0, 3)
    assert [r["epoch"] for r in trainer.run(6)] == [1, 2]  # past `epochs`: run decides
    assert (trainer.epoch, trainer.epoch_position, len(trainer.history["train_acc"])) == (2, 1, 2)
    with pytest.raises(NnscratchError, match="steps"):
        trainer.run(0)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_divergence_is_a_clear_error():
    x, t = _small_data(60)
    net = MultiLayerNet(20, [8], 3, weight_init=10.0, seed=0)
    with pytest.raises(NnscratchError, match="diverged"):
        Trainer(net, x, t, epochs=5, batch_size=30, lr=1e200).train()


from nnscratch.cli import main  # noqa: E402


@pytest.mark.slow
def test_cli_train_with_every_new_option(tmp_path, capsys):
    rc = main(
        [
            "train",
            "--quiet",
            "--model",
            "mlp",
            "--hidden",
            "32,16",
            "--activation",
            "tanh",
            "--weight-init",
            "xavier",
            "--optimizer",
            "momentum",
            "--lr",
            "0.05",
            "--weight-decay",
            "1e-4",
            "--dropout",
            "0.1",
            "--batchnorm",
            "--epochs",
            "3",
            "--early-stopping",
            "2",
            "--lr-schedule",
            "cosine",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    import json

    saved = json.loads((tmp_path / "history.json").read_text())
    assert saved["config"]["hidden_sizes"] == [32, 16]
    assert saved["config"]["use_batchnorm"] is True
    assert saved["config"]["validation_split"] == 0.1
    assert len(saved["val_loss"]) == len(saved["train_acc"]) <= 3
    assert saved["lr"][0] == 0.05
    assert "test acc" in capsys.readouterr().out


@pytest.mark.slow
def test_cli_model_defaults(tmp_path):
    import json

    assert (
        main(
            [
                "train",
                "--quiet",
                "--model",
                "two-layer",
                "--epochs",
                "1",
                "--out",
                str(tmp_path / "a"),
            ]
        )
        == 0
    )
    config = json.loads((tmp_path / "a" / "history.json").read_text())["config"]
    # the notebook's network, as the command trained it before the recipe became the default
    assert (
        config["model"],
        config["hidden_size"],
        config["activation"],
        config["optimizer"],
        config["lr"],
        config["lr_schedule"],
    ) == ("two-layer", 100, "sigmoid", "sgd", 0.5, "none")
    assert (
        main(["train", "--quiet", "--epochs", "1", "--no-batchnorm", "--out", str(tmp_path / "b")])
        == 0
    )
    config = json.loads((tmp_path / "b" / "history.json").read_text())["config"]
    assert (
        config["model"],
        config["hidden_sizes"],
        config["activation"],
        config["optimizer"],
        config["lr"],
        config["lr_schedule"],
        config["use_batchnorm"],
    ) == ("mlp", [256, 128], "relu", "adam", 0.001, "cosine", False)


@pytest.mark.parametrize(
    "argv",
    [
        ["--model", "two-layer", "--hidden", "8,8"],
        ["--model", "two-layer", "--batchnorm"],
        ["--model", "two-layer", "--dropout", "0.5"],
        ["--dropout", "0.5", "--grad", "numerical"],
    ],
)
def test_cli_train_rejects_contradictory_options(argv, capsys):
    assert main(["train", "--quiet", "--epochs", "1", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nnscratch: error:") and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["--hidden", "8,x"],
        ["--dropout", "1.5"],
        ["--optimizer", "lbfgs"],
        ["--weight-init", "glorot"],
    ],
)
def test_cli_train_bad_values_exit_2(argv, capsys):
    try:
        code = main(["train", *argv])
    except SystemExit as exc:  # argparse's own checks
        code = exc.code
    assert code == 2
    assert capsys.readouterr().err.count("\n") == 1  # one line, no usage block


@pytest.mark.slow
def test_cli_compare_optimizers_writes_both_figures(tmp_path, capsys):
    rc = main(["compare-optimizers", "--epochs", "1", "--hidden", "16", "--out", str(tmp_path)])
    assert rc == 0
    for name in ("optimizer_paths.png", "optimizer_losses.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = capsys.readouterr().out
    assert all(
        name in out for name in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
    )
