"""The option table: every front end derives its options from it (the command line's flags, the
playground's form, the search's space, NNClassifier's hyperparameters), every bad value gets the
same one-line message from each of them, and ``resolve`` fills the defaults by the documented
rules. These tests read the table, so that an option added to it is checked everywhere."""

import inspect

import numpy as np
import pytest

from nnscratch.cli import build_parser, main
from nnscratch.errors import NnscratchError
from nnscratch.experiments.space import PARAMS, parse_range
from nnscratch.optim import OPTIMIZERS
from nnscratch.playground import settings as playground
from nnscratch.run import defaults as D
from nnscratch.run import options as O
from nnscratch.run.build import build, optimizer
from nnscratch.sklearn import HYPERPARAMETERS, NNClassifier
from tests.helpers import one_line_error

OPTIONS = O.OPTIONS
#: a value of each kind the table refuses, and one it takes (as text, as typed)
BAD = {
    "int": "-3",
    "float": "nan",
    "bool": "perhaps",
    "choice": "no-such-thing",
    "sizes": "8,,8",
    "names": "x1,x3",
    "init": "glorious",
    "path": "story\0.txt",
}


def test_every_option_is_a_flag_of_nnscratch_train_with_its_help():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {action.dest: action for action in train._actions}
    for name, option in OPTIONS.items():
        assert name in flags and option.flag in flags[name].option_strings, name
        assert flags[name].help.startswith(option.help), name
        assert flags[name].default is None  # left out: the table's rules decide


def test_every_option_but_the_fixed_ones_is_a_field_of_the_playground():
    assert set(playground.SETTINGS) | set(playground.FIXED) == set(OPTIONS)
    rows = {row["name"]: row for row in playground.table()}
    for name in playground.SETTINGS:
        assert rows[name]["help"] == OPTIONS[name].help
        assert rows[name]["help_zh"] == OPTIONS[name].help_zh


def test_the_search_varies_every_network_and_optimizer_option():
    for name, option in OPTIONS.items():
        searchable = (
            option.target in ("network", "optimizer") and option.kind not in ("sizes", "names")
        ) or name in ("optimizer", "lr", "batch_size")
        assert (name in PARAMS) == searchable, name


def test_nnclassifier_takes_every_option_but_the_datas_and_the_model():
    params = set(inspect.signature(NNClassifier).parameters)
    assert params == set(HYPERPARAMETERS)
    assert set(HYPERPARAMETERS.values()) == {
        n for n, o in OPTIONS.items() if o.group != "data" and n != "model"
    }
    assert NNClassifier().get_params().keys() == params


@pytest.mark.parametrize("name", [n for n, o in OPTIONS.items() if o.target == "optimizer"])
def test_every_optimizer_option_reaches_its_optimizer(name):
    taker = next(o for o, cls in OPTIMIZERS.items() if name in inspect.signature(cls).parameters)
    value = 0.5 if OPTIONS[name].interval.contains(0.5) else 2
    built = optimizer({"optimizer": taker, name: value})
    assert getattr(built, name) == value
    others = [o for o, cls in OPTIMIZERS.items() if name not in inspect.signature(cls).parameters]
    if others:
        with pytest.raises(
            NnscratchError,
            match=rf"^{name} is not an option of --optimizer "
            rf"{others[0]}: it applies to --optimizer",
        ):
            O.resolve({"optimizer": others[0], name: value})


def messages(name, text):
    """The message each front end gives for ``text`` (as typed) of option ``name``."""
    out = {}
    with pytest.raises(NnscratchError) as table:
        OPTIONS[name].parse(text)
    out["table"] = str(table.value)
    with pytest.raises(NnscratchError) as resolved:
        O.resolve({name: text}, parse=True)
    out["resolve"] = str(resolved.value)
    if name in playground.SETTINGS:
        with pytest.raises(NnscratchError) as form:
            playground.validate({name: text})
        out["playground"] = str(form.value)
    if name in PARAMS:
        with pytest.raises(NnscratchError) as space:
            parse_range(name, text)
        out["search"] = str(space.value)
    return out


@pytest.mark.parametrize("name", list(OPTIONS))
def test_a_bad_value_gets_one_message_from_every_front_end(name, capsys):
    text = BAD[OPTIONS[name].kind]
    found = messages(name, text)
    if OPTIONS[name].kind != "bool":  # a switch on the command line: --batchnorm, --no-batchnorm
        assert main(["train", OPTIONS[name].flag, text, "--quiet"]) == 2
        found["command line"] = one_line_error(capsys).removeprefix("nnscratch: error: ").strip()
    if name in HYPERPARAMETERS.values():  # NNClassifier: the value as a Python value
        sk_name = next(k for k, v in HYPERPARAMETERS.items() if v == name)
        with pytest.raises(NnscratchError) as fit:
            NNClassifier(**{sk_name: text}).fit(np.zeros((4, 2)), [0, 1, 0, 1])
        # under scikit-learn's name where it differs: "hidden_sizes must be ..."
        assert str(fit.value).startswith(f"{sk_name} must be ")
        found["NNClassifier"] = name + str(fit.value).removeprefix(sk_name)
    assert len(set(found.values())) == 1, found
    message = found["table"]
    assert message.startswith(f"{name} must be ") and repr(text) in message


def test_the_textbook_classes_check_with_the_same_words():
    from nnscratch.layers import Dropout

    with pytest.raises(NnscratchError) as textbook:
        OPTIMIZERS["adam"](beta1=1.5)
    with pytest.raises(NnscratchError) as table:
        OPTIONS["beta1"].check(1.5)
    assert str(textbook.value).startswith(str(table.value))  # + what to give: the default
    with pytest.raises(NnscratchError, match=r"must be a number in \[0, 1\), got 1.0"):
        Dropout(1.0, None)


# ---------------------------------------------------------------------------- resolve's rules


def test_resolve_fills_every_option_and_leaves_out_what_the_run_does_not_take():
    spec = O.resolve({"model": "cnn"})
    assert set(spec) == set(OPTIONS)
    assert spec["batchnorm"] is spec["weight_decay"] is spec["activation"] is None  # not taken
    assert spec["optimizer"] == "adam" and spec["lr"] == 0.003  # the cnn recipe's
    assert spec["beta1"] is None  # None: the optimizer's own default
    assert spec["classes"] is None and spec["test_size"] == 0.2  # digits' own split


def test_the_notebooks_learning_rate_has_one_number():
    assert D.NOTEBOOK_LR == 0.5
    assert O.resolve({"model": "two-layer"})["lr"] == D.NOTEBOOK_LR
    assert O.resolve({"model": "two-layer", "optimizer": "momentum"})["lr"] == 0.01
    assert inspect.signature(OPTIMIZERS["sgd"]).parameters["lr"].default != D.NOTEBOOK_LR


def test_no_op_values_of_options_a_model_does_not_take_are_accepted():
    assert O.resolve({"model": "two-layer", "dropout": 0, "batchnorm": False})["dropout"] is None
    assert O.resolve({"model": "cnn", "activation": "relu"})["activation"] is None


@pytest.mark.parametrize(
    "given, message",
    [
        (
            {"model": "two-layer", "dropout": 0.3},
            "dropout is not an option of --model two-layer: it applies to --model mlp or deep-cnn",
        ),
        (
            {"dataset": "moons", "test_size": 0.3, "classes": 4},
            "classes is not an option of --dataset moons: it applies to --dataset spiral or "
            "gaussians",
        ),
        (
            {"schedule_epochs": 5, "lr_schedule": "none"},
            "schedule_epochs is not an option of --lr-schedule none: it applies to "
            "--lr-schedule step or cosine",
        ),
        ({"model": "cnn", "dataset": "spiral"}, "spiral holds 2-D points, not images"),
        ({"grad": "numerical", "dropout": 0.5}, "differentiate noise"),
        ({"colour": "red"}, "unknown option colour"),
    ],
)
def test_contradictions_are_one_message(given, message):
    with pytest.raises(NnscratchError, match=message):
        O.resolve(given)


def test_a_spec_builds_the_run_it_describes():
    run = build(
        {
            "model": "mlp",
            "hidden": (7, 5),
            "activation": "tanh",
            "optimizer": "adam",
            "beta1": 0.5,
            "epochs": 2,
            "batchnorm": False,
            "lr_schedule": "step",
            "seed": 3,
        }
    )
    assert run.net.config()["hidden_sizes"] == [7, 5] and run.net.activation == "tanh"
    assert run.optimizer.beta1 == 0.5 and run.trainer.optimizer is run.optimizer
    assert run.schedule.step_size == 1 and run.trainer.lr_schedule is run.schedule
    assert run.trainer.epochs == 2 and run.trainer.engine == "fast"
    again = build(run.spec)
    for key in run.net.params:  # the same seed: the same weights
        assert np.array_equal(again.net.params[key], run.net.params[key])


def test_the_saved_options_resolve_to_the_same_spec():
    spec = O.resolve({"model": "mlp", "dropout": 0.1, "early_stopping": 3})
    assert O.resolve(spec.saved()) == spec
    assert spec["validation_split"] == D.EARLY_STOPPING_SPLIT
