"""Every check at the API boundary: the bad input, and a message that says what to change."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnscratch import NnscratchError, TwoLayerNet
from nnscratch.validation import (
    POSITIVE,
    check_batch_size,
    check_dataset,
    check_inputs,
    check_labels,
    check_positive_int,
    input_size,
    output_size,
    parse_hidden,
)

X = np.arange(12, dtype=float).reshape(4, 3) / 12
T = np.array([0, 1, 2, 1])


# ------------------------------------------------------------------ accepted input passes through


def test_good_input_is_returned_unchanged():
    x, t = check_dataset(X, T, n_features=3, n_classes=3)
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(t, T)
    assert t.dtype == np.int64


def test_single_sample_becomes_a_batch_of_one():
    assert check_inputs(np.ones(3), n_features=3).shape == (1, 3)


@pytest.mark.parametrize(
    "labels",
    [
        np.array([[0], [1], [2], [1]]),  # (N, 1)
        np.eye(3)[T],  # one-hot (N, C)
        np.array([0.0, 1.0, 2.0, 1.0]),  # whole numbers stored as float
    ],
)
def test_other_label_forms_become_index_labels(labels):
    np.testing.assert_array_equal(check_labels(labels, 4, 3), T)


# ------------------------------------------------------------------ x/t length mismatch


def test_length_mismatch():
    with pytest.raises(
        NnscratchError,
        match=r"x has 4 samples but t has 3 labels: give exactly "
        r"one label per sample",
    ):
        check_dataset(X, T[:3])


# ------------------------------------------------------------------ labels


@pytest.mark.parametrize(
    "labels, message",
    [
        (
            np.array([0, 1, 3, 1]),
            r"label 3 but the model has 3 classes \(0..2\): build the model "
            r"with output_size=4 or fix the labels",
        ),
        (np.array([0, -1, 2, 1]), r"label -1: labels must be class indices from 0 to 2"),
        (
            np.array([0, 1.5, 2, 1]),
            r"holds 1.5, which is not a whole number: labels are class "
            r"indices",
        ),
        (np.array([0, np.nan, 2, 1]), r"holds nan, which is not a whole number"),
        (np.array(["0", "1", "2", "1"]), r"dtype <U1: labels must be integer class indices"),
        (np.eye(4)[[0, 1, 2, 1]], r"one-hot with 4 columns but the model has 3 classes"),
        (np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]), r"rows are not one-hot"),
        (np.zeros((4, 3, 1)), r"shape \(4, 3, 1\): give index labels \(N,\) or one-hot"),
    ],
)
def test_bad_labels(labels, message):
    with pytest.raises(NnscratchError, match=message):
        check_labels(labels, n_samples=4, n_classes=3)


# ------------------------------------------------------------------ inputs


@pytest.mark.parametrize("bad, kind", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "inf")])
def test_nan_or_inf_in_inputs(bad, kind):
    x = X.copy()
    x[2, 1] = bad
    with pytest.raises(
        NnscratchError,
        match=rf"x holds {kind} in 1 of 4 samples \(first: row 2\):"
        r" remove or impute those values",
    ):
        check_inputs(x)


def test_nan_and_inf_together_are_both_named():
    x = X.copy()
    x[0, 0], x[3, 2] = np.nan, np.inf
    with pytest.raises(NnscratchError, match=r"holds NaN and inf in 2 of 4 samples \(first: row 0"):
        check_inputs(x)


def test_feature_count_not_matching_the_model():
    with pytest.raises(
        NnscratchError,
        match=r"x has 3 features per sample but the model takes "
        r"64: use data of the kind the model was trained on",
    ):
        check_inputs(X, n_features=64)


@pytest.mark.parametrize(
    "x, message",
    [
        (np.zeros((2, 2, 2)), r"shape \(2, 2, 2\): give an \(N, D\) array.*reshape"),
        (np.array(["a", "b"]), r"dtype <U1: give numbers"),
        (np.zeros((0, 3)), r"x is empty"),
    ],
)
def test_inputs_of_the_wrong_kind(x, message):
    with pytest.raises(NnscratchError, match=message):
        check_inputs(x)


def test_ragged_lists_are_refused():
    with pytest.raises(NnscratchError, match="not a rectangular array"):
        check_inputs([[1.0, 2.0], [3.0]])


# ------------------------------------------------------------------ hyperparameters


@pytest.mark.parametrize(
    "batch_size, hint",
    [
        (0, "use e.g. 32"),
        (-5, "use e.g. 32"),
        (5, "use at most 4"),
        (2.5, "use e.g. 32"),
        (True, "use e.g. 32"),
    ],
)
def test_batch_size_out_of_range(batch_size, hint):
    with pytest.raises(
        NnscratchError,
        match=rf"batch_size must be an integer from 1 to 4 \(the "
        rf"number of training samples\), got .*: {hint}",
    ):
        check_batch_size(batch_size, 4)


def test_batch_size_in_range():
    assert check_batch_size(1, 4) == 1 and check_batch_size(np.int64(4), 4) == 4


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf"), "0.1", None, True])
def test_learning_rate_not_positive(lr):
    with pytest.raises(NnscratchError, match=r"^lr must be a number in \(0, ∞\), got .*: try 0.1$"):
        POSITIVE.check(lr, "lr", hint="try 0.1")
    assert POSITIVE.check(0.5, "lr") == 0.5 and POSITIVE.check(np.float32(0.25), "lr") == 0.25


def test_positive_int():
    assert check_positive_int(3, "epochs") == 3
    with pytest.raises(NnscratchError, match="epochs must be a positive integer, got 0"):
        check_positive_int(0, "epochs")


# ------------------------------------------------------------------ --hidden


@pytest.mark.parametrize(
    "text, sizes",
    [("256,128", (256, 128)), ("100", (100,)), (" 50 , 20 ", (50, 20)), ("1,1,1", (1, 1, 1))],
)
def test_parse_hidden(text, sizes):
    assert parse_hidden(text) == sizes


@pytest.mark.parametrize(
    "text, message",
    [
        ("", r"has an empty size"),
        (
            "256,",
            r"'256,' has an empty size: give sizes separated by commas, e.g. --hidden 256,128",
        ),
        ("256,,128", r"has an empty size"),
        ("256;128", r"'256;128' is not a positive integer"),
        ("256,0", r"'0' is not a positive integer"),
        ("-5", r"'-5' is not a positive integer"),
        ("1.5", r"'1.5' is not a positive integer"),
        ("abc", r"'abc' is not a positive integer; give layer sizes such as --hidden 256,128"),
        ("１２", r"is not a positive integer"),  # full-width digits: int() would take them
    ],
)
def test_malformed_hidden(text, message):
    with pytest.raises(NnscratchError, match=message):
        parse_hidden(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789, -.x\t１"), max_size=12) | st.text(max_size=12))
def test_parse_hidden_returns_positive_sizes_or_our_error(text):
    try:
        sizes = parse_hidden(text)
    except NnscratchError as exc:
        assert "--hidden" in str(exc)
        return
    assert sizes and all(isinstance(n, int) and n > 0 for n in sizes)
    assert ",".join(map(str, sizes)) == ",".join(str(int(p)) for p in text.split(","))


# ------------------------------------------------------------------ model sizes


def test_input_and_output_size_of_a_network():
    net = TwoLayerNet(64, 7, 10)
    assert input_size(net) == 64 and output_size(net) == 10


# --------------------------------------------------------------- one helper per kind of argument
from nnscratch.validation import check_choice, check_float_dtype, check_number  # noqa: E402


@pytest.mark.parametrize(
    "value, kwargs",
    [
        (0.0, dict(low=0)),
        (1.0, dict(high=1)),
        (0.5, dict(low=0, high=1, low_open=True)),
        (np.float32(0.25), dict(low=0, high=1, high_open=True)),
        (-3, {}),
    ],
)
def test_check_number_accepts_the_interval_and_its_closed_ends(value, kwargs):
    assert check_number(value, "x", **kwargs) == float(value)


@pytest.mark.parametrize(
    "value, kwargs, interval",
    [
        (0.0, dict(low=0, low_open=True), r"\(0, ∞\)"),
        (1.0, dict(high=1, high_open=True), r"\(-∞, 1\)"),
        (-0.1, dict(low=0), r"\[0, ∞\)"),
        (1.5, dict(low=0, high=1), r"\[0, 1\]"),
        (True, {}, r"\(-∞, ∞\)"),
        ("0.1", dict(low=0), r"\[0, ∞\)"),
        (float("nan"), {}, r"\(-∞, ∞\)"),
        (float("inf"), dict(low=0), r"\[0, ∞\)"),
        (None, {}, r"\(-∞, ∞\)"),
    ],
)
def test_check_number_rejects_what_is_outside_or_not_a_number(value, kwargs, interval):
    with pytest.raises(NnscratchError, match=rf"^ratio must be a number in {interval}, got "):
        check_number(value, "ratio", **kwargs)


def test_check_choice_and_float_dtype():
    assert check_choice("b", ("a", "b"), "method") == "b"
    with pytest.raises(NnscratchError, match=r"^method must be one of a, b, got 'c'$"):
        check_choice("c", ("a", "b"), "method")
    with pytest.raises(NnscratchError, match=r"^method must be one of a, b, got \['a'\]$"):
        check_choice(["a"], ("a", "b"), "method")
    assert (
        check_float_dtype("float32") == np.float32 and check_float_dtype(np.float64) == np.float64
    )
    for bad in ("float16", np.int64, "nope"):
        with pytest.raises(NnscratchError, match="dtype must be float32 or float64"):
            check_float_dtype(bad)
