"""Stop a run after any step, resume it from its checkpoint in a fresh trainer, and end
bit-identical to the same run never interrupted."""

import numpy as np
import pytest

from nnscratch.errors import NnscratchError
from nnscratch.io import load_checkpoint, load_model, save_model
from nnscratch.nets import MultiLayerNet, TwoLayerNet
from nnscratch.optim import Adam, CosineLR
from nnscratch.run.callbacks import Callback, CheckpointSaver
from nnscratch.run.interrupt import TrainingDiverged, TrainingInterrupted
from nnscratch.run.trainer import Trainer
from tests.helpers import StopAt


def _data(n, seed):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 2, (3, 20))
    t = rng.integers(0, 3, n)
    return centers[t] + rng.normal(0, 1.5, (n, 20)), t


X, T = _data(100, 0)
X_TEST, T_TEST = _data(40, 1)

#: two runs: the notebook's network with SGD and shuffled batches; a MultiLayerNet with every
#: piece of state there is (Adam's moments and step, BatchNorm's running statistics, dropout
#: masks, a cosine schedule, a validation split, early stopping's best weights)
RUNS = {
    "two-layer-sgd": dict(
        net=lambda seed: TwoLayerNet(20, 8, 3, seed=seed),
        options=lambda: dict(epochs=3, batch_size=16, lr=0.5),
    ),
    "two-layer-replacement": dict(
        net=lambda seed: TwoLayerNet(20, 8, 3, seed=seed),
        options=lambda: dict(epochs=3, batch_size=16, lr=0.5, sampling="replacement"),
    ),
    "mlp-adam-bn-dropout-cosine": dict(
        net=lambda seed: MultiLayerNet(20, [16, 8], 3, dropout=0.3, use_batchnorm=True, seed=seed),
        options=lambda: dict(
            epochs=3,
            batch_size=16,
            optimizer=Adam(0.01),
            lr_schedule=CosineLR(3),
            validation_split=0.2,
            early_stopping=5,
        ),
    ),
}


def make(run, net_seed=1, callbacks=()):
    spec = RUNS[run]
    return Trainer(
        spec["net"](net_seed),
        X,
        T,
        X_TEST,
        T_TEST,
        seed=2,
        callbacks=callbacks,
        **spec["options"](),
    )


def assert_same_run(a, b):
    """Bit-identical parameters, buffers and history (the wall-clock seconds aside)."""
    assert a.net.params.keys() == b.net.params.keys()
    for key in a.net.params:
        assert np.array_equal(a.net.params[key], b.net.params[key]), key
    for key in a.net.buffers:
        assert np.array_equal(a.net.buffers[key], b.net.buffers[key]), key
    assert a.history.keys() == b.history.keys()
    for key in a.history:
        if key != "epoch_seconds":
            assert len(a.history[key]) == len(b.history[key]), key
            # exact equality; NaN (no test set) equals NaN
            assert np.array_equal(a.history[key], b.history[key], equal_nan=True), key
    assert len(a.history["epoch_seconds"]) == len(b.history["epoch_seconds"])
    assert (a.epoch, a.iteration) == (b.epoch, b.iteration)


@pytest.fixture(scope="module")
def uninterrupted():
    return {run: _train(make(run)) for run in RUNS}


def _train(trainer):
    trainer.train()
    return trainer


def interrupt_and_resume(run, stops, tmp_path):
    """Run ``run``, stopping after each iteration in ``stops`` in turn; every resume starts from
    the checkpoint in a new trainer whose network was built with another seed (so everything
    must come from the checkpoint)."""
    directory = tmp_path / run
    for i, k in enumerate(stops):
        trainer = make(
            run, net_seed=100 + i if i else 1, callbacks=[StopAt(k), CheckpointSaver(directory)]
        )
        if i:
            trainer.load_checkpoint(directory)
        with pytest.raises(TrainingInterrupted) as exc:
            trainer.train()
        assert (exc.value.epoch, exc.value.iteration) == (trainer.epoch, k)
        assert exc.value.checkpoint_path == directory / "checkpoint.npz"
        saved = load_checkpoint(directory)
        assert (saved.epoch, saved.iteration) == (trainer.epoch, k)
    final = make(run, net_seed=999, callbacks=[CheckpointSaver(directory)])
    final.load_checkpoint(directory)
    final.train()
    return final


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize(
    "stop", ["first", "mid-epoch", "epoch-end", "after-epoch-end", "last-epoch-mid"]
)
def test_resume_after_one_interruption_is_bit_identical(run, stop, uninterrupted, tmp_path):
    ipe = uninterrupted[run].iter_per_epoch
    k = {
        "first": 1,
        "mid-epoch": 3,
        "epoch-end": ipe,
        "after-epoch-end": ipe + 1,
        "last-epoch-mid": 2 * ipe + 2,
    }[stop]
    assert_same_run(interrupt_and_resume(run, [k], tmp_path), uninterrupted[run])


@pytest.mark.parametrize("run", RUNS)
def test_resume_after_several_interruptions_is_bit_identical(run, uninterrupted, tmp_path):
    ipe = uninterrupted[run].iter_per_epoch
    stops = [2, 3, ipe, 2 * ipe - 1, 2 * ipe + 1]
    assert_same_run(interrupt_and_resume(run, stops, tmp_path), uninterrupted[run])


def test_stop_requested_at_the_very_last_iteration_finishes_the_run(uninterrupted, tmp_path):
    total = 3 * uninterrupted["two-layer-sgd"].iter_per_epoch
    trainer = make("two-layer-sgd", callbacks=[StopAt(total), CheckpointSaver(tmp_path)])
    trainer.train()  # nothing left to interrupt: no TrainingInterrupted
    assert_same_run(trainer, uninterrupted["two-layer-sgd"])
    assert load_checkpoint(tmp_path).epoch == 3


def test_network_rebuilt_from_the_checkpoint_resumes_too(uninterrupted, tmp_path):
    run = "mlp-adam-bn-dropout-cosine"
    with pytest.raises(TrainingInterrupted):
        make(run, callbacks=[StopAt(7), CheckpointSaver(tmp_path)]).train()
    saved = load_checkpoint(tmp_path)  # the network comes from the file's architecture
    trainer = Trainer(saved.net, X, T, X_TEST, T_TEST, seed=2, **RUNS[run]["options"]())
    trainer.load_checkpoint(saved)
    trainer.train()
    assert_same_run(trainer, uninterrupted[run])


def test_checkpoint_after_every_epoch(tmp_path):
    seen = []

    class Watch(Callback):
        def on_epoch_end(self, trainer, record):
            seen.append(load_checkpoint(tmp_path).epoch if trainer.checkpoint_path else None)

    trainer = make("two-layer-sgd", callbacks=[Watch(), CheckpointSaver(tmp_path)])
    trainer.train()
    # the saver runs after the other callbacks: Watch sees the previous epoch's checkpoint
    assert seen == [None, 1, 2]
    saved = load_checkpoint(tmp_path)
    assert (saved.epoch, saved.iteration) == (3, 3 * trainer.iter_per_epoch)
    for key, value in trainer.net.params.items():
        assert np.array_equal(saved.net.params[key], value)
    assert saved.history["train_loss"] == trainer.history["train_loss"]


def test_early_stopping_state_survives_a_resume(tmp_path):
    rng = np.random.default_rng(5)  # noisy classes: the validation loss turns up soon
    centers, t = rng.normal(0, 1, (3, 20)), rng.integers(0, 3, 100)
    x = centers[t] + rng.normal(0, 2, (100, 20))

    def build(callbacks=()):
        net = MultiLayerNet(20, [64], 3, seed=1)
        return Trainer(
            net,
            x,
            t,
            epochs=12,
            batch_size=16,
            optimizer=Adam(0.01),
            seed=3,
            validation_split=0.3,
            early_stopping=2,
            callbacks=callbacks,
        )

    whole = build()
    whole.train()
    stopper = whole.callbacks[-1]
    assert whole.epoch < 12, "the run should stop early for this test to mean something"
    ipe = whole.iter_per_epoch
    # interrupt at the epoch boundary after the best epoch, where best weights and wait matter
    with pytest.raises(TrainingInterrupted):
        build([StopAt(stopper.best_epoch * ipe + 1), CheckpointSaver(tmp_path)]).train()
    resumed = build([CheckpointSaver(tmp_path)]).load_checkpoint(tmp_path)
    resumed.train()
    assert_same_run(resumed, whole)
    # the finished run's checkpoint resumes to the same (restored best) weights, no more epochs
    again = build().load_checkpoint(tmp_path)
    again.train()
    assert again.epoch == whole.epoch
    for key in whole.net.params:
        assert np.array_equal(again.net.params[key], whole.net.params[key])


def test_checkpoint_of_another_run_is_refused(tmp_path):
    with pytest.raises(TrainingInterrupted):
        make("two-layer-sgd", callbacks=[StopAt(2), CheckpointSaver(tmp_path)]).train()
    other = Trainer(TwoLayerNet(20, 8, 3), X, T, epochs=3, batch_size=50, lr=0.5)
    with pytest.raises(NnscratchError, match="resume with the options it was saved with"):
        other.load_checkpoint(tmp_path)  # batch 2 of an epoch that has 2 batches
    adam = Trainer(TwoLayerNet(20, 8, 3), X, T, epochs=3, batch_size=16, optimizer=Adam())
    with pytest.raises(NnscratchError, match="resume with the options it was saved with"):
        adam.load_checkpoint(tmp_path)  # SGD's checkpoint has no Adam state, no 't'
    with pytest.raises(NnscratchError, match="holds a .*TwoLayerNet.* but the network given"):
        Trainer(TwoLayerNet(20, 9, 3), X, T, epochs=3, batch_size=16).load_checkpoint(tmp_path)
    saved = load_checkpoint(tmp_path)  # a Checkpoint already read, its network rebuilt
    with pytest.raises(
        NnscratchError,
        match="holds a .*'hidden_size': 8.* but the network given is a .*'hidden_size': 9",
    ):
        Trainer(TwoLayerNet(20, 9, 3), X, T, epochs=3, batch_size=16).load_checkpoint(saved)


def test_multilayer_batchnorm_model_roundtrip_gives_identical_predictions(tmp_path):
    trainer = make("mlp-adam-bn-dropout-cosine")
    trainer.train()
    net = trainer.net
    assert any(np.any(v != 0) for k, v in net.buffers.items() if k.startswith("running_mean"))
    path = save_model(tmp_path / "mlp.npz", net)
    loaded = load_model(path)
    assert isinstance(loaded, MultiLayerNet) and loaded.config() == net.config()
    assert np.array_equal(loaded.predict(X_TEST), net.predict(X_TEST))
    for key, value in net.buffers.items():
        assert np.array_equal(loaded.buffers[key], value)


# ---------------------------------------------------------------------------- divergence


def exploding(base_lr, epoch):
    """A schedule that is sane for one epoch, then far too large."""
    return base_lr * (1e150 if epoch >= 1 else 1.0)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_divergence_names_the_learning_rate_and_the_last_good_checkpoint(tmp_path):
    net = MultiLayerNet(20, [16], 3, seed=0)
    trainer = Trainer(
        net,
        X,
        T,
        epochs=4,
        batch_size=20,
        lr=0.1,
        seed=0,
        lr_schedule=exploding,
        callbacks=[CheckpointSaver(tmp_path)],
    )
    with pytest.raises(TrainingDiverged) as exc:
        trainer.train()
    message = str(exc.value)
    assert message.startswith(f"training diverged at epoch 2, iteration {trainer.iteration + 1} (")
    assert (
        "the learning rate 1e+149 (this epoch's rate; the schedule started at 0.1) is "
        "probably too high; try 1e+148" in message
    )
    assert f"Last good checkpoint: {tmp_path / 'checkpoint.npz'}" in message
    saved = load_checkpoint(tmp_path)
    assert (saved.epoch, saved.iteration) == (1, 5)
    assert all(np.isfinite(v).all() for v in saved.net.params.values())


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_divergence_at_once_says_no_checkpoint_and_the_rate_to_try():
    net = MultiLayerNet(20, [8], 3, weight_init=10.0, seed=0)
    with pytest.raises(
        TrainingDiverged,
        match=r"^training diverged at epoch 1, iteration \d+ \((loss|parameter) .*"
        r"the learning rate 5e\+100 is probably too high; try 5e\+99. "
        r"No checkpoint was saved$",
    ):
        Trainer(net, X, T, epochs=5, batch_size=20, lr=5e100).train()
    assert issubclass(TrainingDiverged, NnscratchError)


@pytest.mark.parametrize(
    "losses, kept, what",
    [
        ([2.0, 150.0, 199.0, 201.0, 1.0], 3, "loss 201, over 100× the first step's 2"),
        # a first loss under 1 counts as 1: the limit is never below 100
        ([0.5, 99.0, 101.0, 1.0], 2, "loss 101, over 100× the first step's 0.5"),
    ],
)
def test_a_loss_grown_past_100_times_its_first_stops_the_run_as_diverged(losses, kept, what):
    net = MultiLayerNet(20, [8], 3, seed=0)
    real = net.loss_gradient
    given = iter(losses)
    net.loss_gradient = lambda x, t: (next(given), real(x, t)[1])
    trainer = Trainer(net, X, T, epochs=5, batch_size=20, lr=0.1, seed=0)
    with pytest.raises(TrainingDiverged) as exc:
        trainer.train()
    assert f"iteration {kept + 1} ({what}): the learning rate 0.1 is probably" in str(exc.value)
    assert trainer.history["train_loss"] == losses[:kept]


def test_interrupted_message_names_epoch_iteration_and_checkpoint(tmp_path):
    exc = TrainingInterrupted(2, 1234, tmp_path / "checkpoint.npz")
    assert str(exc) == (
        f"interrupted at epoch 3, iteration 1234: checkpoint saved to {tmp_path / 'checkpoint.npz'}"
    )


# ---------------------------------------------------------------------------- bad input


def _bad(what):
    x, t, x_test, t_test = X.copy(), T.copy(), X_TEST.copy(), T_TEST.copy()
    if what == "length":
        t = t[:-1]
    elif what == "label-range":
        t[5] = 3
    elif what == "label-negative":
        t[5] = -1
    elif what == "label-fraction":
        t = t.astype(float)
        t[5] = 0.5
    elif what == "nan":
        x[7, 2] = np.nan
    elif what == "inf-test":
        x_test[0, 0] = np.inf
    elif what == "features":
        x = x[:, :19]
    elif what == "test-features":
        x_test = x_test[:, :19]
    return x, t, x_test, t_test


@pytest.mark.parametrize(
    "what, message",
    [
        (
            "length",
            r"x has 100 samples but t_train has 99 labels: give exactly one label per sample",
        ),
        (
            "label-range",
            r"t_train holds the label 3 but the model has 3 classes \(0..2\): build the "
            r"model with output_size=4 or fix the labels",
        ),
        ("label-negative", r"t_train holds the label -1: labels must be class indices from 0 to 2"),
        (
            "label-fraction",
            r"t_train holds 0.5, which is not a whole number: labels are class "
            r"indices",
        ),
        (
            "nan",
            r"x_train holds NaN in 1 of 100 samples \(first: row 7\): remove or impute those "
            r"values before training",
        ),
        ("inf-test", r"x_test holds inf in 1 of 40 samples \(first: row 0\)"),
        (
            "features",
            r"x_train has 19 features per sample but the model takes 20: use data of the "
            r"kind the model was trained on",
        ),
        ("test-features", r"x_test has 19 features per sample but the model takes 20"),
    ],
)
def test_trainer_checks_its_data(what, message):
    x, t, x_test, t_test = _bad(what)
    with pytest.raises(NnscratchError, match=f"^{message}"):
        Trainer(TwoLayerNet(20, 8, 3), x, t, x_test, t_test, epochs=1, batch_size=10)


@pytest.mark.parametrize(
    "options, message",
    [
        (
            dict(batch_size=0),
            r"batch_size must be an integer from 1 to 100 \(the number of training "
            r"samples\), got 0: use e.g. 32 or 100",
        ),
        (dict(batch_size=101), r"got 101: use at most 100"),
        (dict(batch_size=2.5), r"got 2.5: use e.g. 32"),
        (dict(lr=-0.1), r"lr must be a number in \(0, ∞\), got -0.1: use e.g. 0.1"),
        (dict(lr=float("nan")), r"lr must be a number in \(0, ∞\), got nan"),
    ],
)
def test_trainer_checks_batch_size_and_learning_rate(options, message):
    with pytest.raises(NnscratchError, match=message):
        Trainer(TwoLayerNet(20, 8, 3), X, T, epochs=1, **{"batch_size": 10, **options})


def test_optimizers_check_their_rate():
    with pytest.raises(
        NnscratchError,
        match=r"lr must be a number in \(0, ∞\), got 0: use "
        r"e.g. 0.001",
    ):
        Adam(lr=0)
    with pytest.raises(
        NnscratchError,
        match=r"lr must be a number in \(0, ∞\), got inf: use "
        r"e.g. 0.1",
    ):
        Trainer(TwoLayerNet(20, 8, 3), X, T, lr=float("inf"))
