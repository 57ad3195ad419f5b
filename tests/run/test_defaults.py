"""Every default the command line, compare-optimizers and NNClassifier use is the class's own:
the expected values are read here from ``inspect.signature`` of the classes, never written out.
(The exceptions are the recipes' own choices, each checked to be one: the notebook's SGD rate 0.5
for its two-layer network, and the README's recipe for mlp: hidden 256,128, Adam, a cosine
schedule, batch norm on; and --lr-schedule step's γ 0.5.)"""

import inspect

import numpy as np
import pytest

from nnscratch.cli import build_parser, main
from nnscratch.cli.train import resolve_args
from nnscratch.engine import BOOK
from nnscratch.nets import MultiLayerNet, TwoLayerNet
from nnscratch.optim import OPTIMIZERS, SGD, CosineLR, StepLR
from nnscratch.run import build as build_module
from nnscratch.run.build import description, network, schedule
from nnscratch.run.defaults import MODEL_DEFAULTS, STEP_GAMMA
from nnscratch.run.trainer import Trainer
from nnscratch.sklearn import NNClassifier


def own_default(cls, parameter):
    return inspect.signature(cls).parameters[parameter].default


def resolved(*argv):
    return resolve_args(build_parser().parse_args(["train", *argv]))


def book_class(optimizer):
    """The textbook class of an optimizer (the engine's is its subclass)."""
    return BOOK.get(type(optimizer), type(optimizer))


@pytest.fixture
def started(monkeypatch):
    """The optimizers the Trainers of a command start with: (class, rate) each, in order."""
    seen = []

    class Recording(Trainer):
        def __init__(self, *args, **options):
            super().__init__(*args, **options)
            seen.append((book_class(self.optimizer), self.optimizer.lr))

    monkeypatch.setattr(build_module, "Trainer", Recording)
    return seen


#: an option of `nnscratch train` and NNClassifier's hyperparameter (the same names) → the
#: MultiLayerNet parameter it is passed to
NET_PARAMETERS = {
    "activation": "activation",
    "weight_init": "weight_init",
    "weight_decay": "weight_decay_lambda",
    "dropout": "dropout",
    "batchnorm": "use_batchnorm",
}


# ---------------------------------------------------------------------------- nnscratch train


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_train_without_lr_starts_at_the_optimizers_own_rate(name):
    assert resolved("--optimizer", name)["lr"] == own_default(OPTIMIZERS[name], "lr")


@pytest.mark.parametrize("name", sorted(set(OPTIMIZERS) - {"sgd"}))
def test_train_two_layer_without_lr_starts_at_the_optimizers_own_rate(name):
    config = resolved("--model", "two-layer", "--optimizer", name)
    assert config["lr"] == own_default(OPTIMIZERS[name], "lr")


def test_train_two_layer_with_sgd_is_the_one_exception_the_notebooks_rate():
    config = resolved("--model", "two-layer")
    assert (config["optimizer"], config["lr"]) == ("sgd", 0.5)
    assert own_default(SGD, "lr") != 0.5  # so the exception is really one


def test_train_runs_at_the_rate_it_resolved(started, capsys):
    assert (
        main(
            [
                "train",
                "--quiet",
                "--epochs",
                "1",
                "--hidden",
                "4",
                "--no-batchnorm",
                "--optimizer",
                "rmsprop",
            ]
        )
        == 0
    )
    ((cls, lr),) = started
    assert cls is OPTIMIZERS["rmsprop"] and lr == own_default(cls, "lr")
    assert f"rmsprop lr {lr:g})" in capsys.readouterr().out


def test_train_two_layer_is_the_notebooks_network_as_two_layer_net_builds_it():
    config = resolved("--model", "two-layer")
    assert config["activation"] == own_default(TwoLayerNet, "activation")
    net = network(config, (64,), 10, seed=0)
    assert net.config() == TwoLayerNet(64, 100, 10).config()
    assert description(config, net)["model"] == "two-layer"
    assert net.weight_init_std == own_default(TwoLayerNet, "weight_init_std")


#: the README's recipe for mlp, where it departs from the classes' own defaults
MLP_RECIPE = {"hidden", "optimizer", "lr_schedule", "batchnorm"}


def test_train_mlp_defaults_are_multilayernets_but_the_recipes_documented_choices():
    config = resolved("--model", "mlp")
    for ours, theirs in NET_PARAMETERS.items():
        value, expected = config[ours], own_default(MultiLayerNet, theirs)
        if ours in MLP_RECIPE:  # an exception, and really one
            assert value == MODEL_DEFAULTS["mlp"][ours] and value != expected, ours
        else:
            assert (type(value), value) == (type(expected), expected), ours
    assert config["hidden"] == MODEL_DEFAULTS["mlp"]["hidden"] == (256, 128)
    net = network(config, (64,), 10, seed=0)
    assert net.config() == MultiLayerNet(64, (256, 128), 10, use_batchnorm=True).config()
    # the training side: Trainer's own would be SGD at a constant rate
    trainer = Trainer(
        MultiLayerNet(2, (3,), 2), np.zeros((4, 2)), np.zeros(4, int), epochs=1, batch_size=2
    )
    assert isinstance(trainer.optimizer, SGD) and own_default(Trainer, "lr_schedule") is None
    assert (config["optimizer"], config["lr_schedule"]) == ("adam", "cosine")


def test_train_schedules_are_the_classes_but_the_step_factor():
    cosine = schedule(resolved("--epochs", "12"))
    assert type(cosine) is CosineLR and cosine.total == 12
    assert cosine.min_lr == own_default(CosineLR, "min_lr")
    step = schedule(resolved("--epochs", "12", "--lr-schedule", "step"))
    assert type(step) is StepLR and step.step_size == 3  # epochs / 4: four levels
    assert step.gamma == STEP_GAMMA == 0.5 != own_default(StepLR, "gamma")
    assert schedule(resolved("--epochs", "3", "--lr-schedule", "step")).step_size == 1
    assert schedule(resolved("--lr-schedule", "none")) is None
    assert schedule(resolved("--epochs", "12", "--schedule-epochs", "20")).total == 20


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_train_length_on_the_large_sets_is_per_model_where_the_readme_says(dataset):
    # 10 epochs on the 60,000-image sets, but the README's 20 for DeepConvNet; --epochs wins
    assert resolved("--dataset", dataset)["epochs"] == 10
    assert resolved("--dataset", dataset, "--model", "cnn")["epochs"] == 10
    assert resolved("--dataset", dataset, "--model", "deep-cnn")["epochs"] == 20
    assert resolved("--dataset", dataset, "--model", "deep-cnn", "--epochs", "3")["epochs"] == 3
    assert resolved("--model", "deep-cnn")["epochs"] == resolved()["epochs"] == 40  # digits'


# ---------------------------------------------------------------------------- compare-optimizers


@pytest.mark.slow
def test_compare_optimizers_trains_each_at_its_own_rate(started, tmp_path, capsys):
    assert (
        main(
            [
                "compare-optimizers",
                "--steps",
                "1",
                "--epochs",
                "1",
                "--hidden",
                "4",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert dict(started) == {cls: own_default(cls, "lr") for cls in OPTIMIZERS.values()}
    assert len(started) == len(OPTIMIZERS)


# ---------------------------------------------------------------------------- NNClassifier


def small_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 5)), rng.integers(0, 3, 40)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_nnclassifier_without_lr_trains_at_the_optimizers_own_rate(name):
    clf = NNClassifier(optimizer=name, hidden_sizes=(4,), epochs=1, random_state=0)
    assert clf.get_params()["lr"] is None  # stored as given: scikit-learn's contract
    clf.fit(*small_data())
    assert book_class(clf._optimizer) is OPTIMIZERS[name]
    assert clf._optimizer.lr == own_default(OPTIMIZERS[name], "lr")


def test_nnclassifier_network_defaults_are_multilayernets():
    params = NNClassifier().get_params()
    spec = NNClassifier()._spec()
    for ours, theirs in NET_PARAMETERS.items():
        expected = own_default(MultiLayerNet, theirs)
        assert (type(spec[ours]), spec[ours]) == (type(expected), expected), ours
        assert params[ours] in (None, expected), ours  # None: the table's default, MultiLayerNet's
    x, t = small_data()
    clf = NNClassifier(epochs=1, random_state=0).fit(x, t)
    assert clf._net.config() == MultiLayerNet(5, params["hidden_sizes"], 3).config()
