"""NNClassifier as a scikit-learn estimator.

scikit-learn's own estimator checks run in full. None is excluded. Two may report "skipped" by
scikit-learn itself, not by us: ``check_array_api_input`` (runs only when the environment variable
SCIPY_ARRAY_API=1 is set and an array-API library is installed; we accept NumPy arrays only) and,
where pandas is missing, ``check_classifier_data_not_an_array`` (the test extra installs pandas).
"""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from nnscratch.datasets import load_dataset
from nnscratch.sklearn import NNClassifier


@pytest.mark.slow
@parametrize_with_checks([NNClassifier(random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_fit_predict_on_digits_with_fitted_attributes():
    data = load_dataset("digits")
    clf = NNClassifier(hidden_sizes=(50,), epochs=20, random_state=0)
    assert clf.fit(data.x_train, data.t_train) is clf
    assert clf.classes_.tolist() == list(range(10))
    assert clf.n_iter_ == 20 and len(clf.loss_curve_) == 20
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 5
    assert clf.score(data.x_test, data.t_test) >= 0.95
    proba = clf.predict_proba(data.x_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(data.x_test), proba.argmax(axis=1))


def test_string_labels_come_back_as_strings():
    data = load_dataset("digits")
    names = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
    clf = NNClassifier(hidden_sizes=(50,), epochs=20, random_state=0)
    clf.fit(data.x_train, names[data.t_train])
    assert clf.classes_.tolist() == sorted(names.tolist())
    assert np.mean(clf.predict(data.x_test) == names[data.t_test]) >= 0.95


def test_same_random_state_same_model():
    data = load_dataset("digits")
    a = NNClassifier(epochs=3, random_state=1).fit(data.x_train, data.t_train)
    b = NNClassifier(epochs=3, random_state=1).fit(data.x_train, data.t_train)
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.predict_proba(data.x_test), b.predict_proba(data.x_test))


@pytest.mark.parametrize("make", [np.random.RandomState, np.random.default_rng])
def test_a_random_state_object_draws_a_seed_from_itself(make):
    """As scikit-learn's estimators: the same state gives the same model, and one state fitted
    twice gives two (the second seed drawn after the first)."""
    moons = load_dataset("moons")
    x, t = moons.x_train, moons.t_train
    a = NNClassifier(hidden_sizes=(8,), epochs=1, random_state=make(3)).fit(x, t)
    b = NNClassifier(hidden_sizes=(8,), epochs=1, random_state=make(3)).fit(x, t)
    assert a.loss_curve_ == b.loss_curve_
    again = b.fit(x, t).loss_curve_
    assert again != a.loss_curve_


def test_the_batch_fits_in_what_the_validation_split_leaves():
    """40 samples with a validation split of 0.5 leave 20 to train on: batches of 32 are 20 (not
    an error asking for at most 20)."""
    x, t = np.random.default_rng(0).random((40, 2)), np.arange(40) % 2
    clf = NNClassifier(hidden_sizes=(4,), epochs=2, validation_split=0.5, random_state=0)
    assert clf.fit(x, t).n_iter_ == 2


def test_partial_fit_continues_training():
    data = load_dataset("digits")
    clf = NNClassifier(hidden_sizes=(50,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(data.x_train, data.t_train)
    for _ in range(10):
        clf.partial_fit(data.x_train, data.t_train, classes=np.arange(10))
    assert clf.n_iter_ == 10 and len(clf.loss_curve_) == 10
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    # partial_fit equals fit epoch by epoch: the optimizer and generator carry over
    fitted = NNClassifier(hidden_sizes=(50,), epochs=10, random_state=0)
    fitted.fit(data.x_train, data.t_train)
    np.testing.assert_allclose(clf.loss_curve_, fitted.loss_curve_, rtol=1e-12)
    with pytest.raises(ValueError, match=r"labels \[10\] are not in classes"):
        clf.partial_fit(data.x_train[:2], np.array([10, 1]))


@pytest.mark.slow
def test_pipeline_and_grid_search_over_two_hyperparameters():
    data = load_dataset("digits")
    pipe = make_pipeline(StandardScaler(), NNClassifier(epochs=10, random_state=0))
    grid = GridSearchCV(
        pipe, {"nnclassifier__hidden_sizes": [(16,), (64,)], "nnclassifier__lr": [1e-4, 1e-3]}, cv=3
    )
    grid.fit(data.x_train, data.t_train)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_params_["nnclassifier__hidden_sizes"] == (64,)
    assert grid.score(data.x_test, data.t_test) >= 0.9


def test_hyperparameters_build_the_network_they_name():
    data = load_dataset("digits")
    clf = NNClassifier(
        hidden_sizes=(20, 10),
        activation="tanh",
        optimizer="momentum",
        lr=0.05,
        batchnorm=True,
        dropout=0.1,
        weight_decay=1e-4,
        epochs=15,
        random_state=0,
    )
    clf.fit(data.x_train, data.t_train)
    net = clf._net
    assert {k: v.shape for k, v in net.params.items() if k.startswith("W")} == {
        "W1": (64, 20),
        "W2": (20, 10),
        "W3": (10, 10),
    }
    assert "gamma1" in net.params and net.activation == "tanh"
    assert net.dropout == 0.1 and net.weight_decay_lambda == 1e-4
    assert type(clf._optimizer).__name__ == "Momentum"
    assert clf.score(data.x_test, data.t_test) >= 0.9
    # predictions are deterministic: dropout is off when predicting
    np.testing.assert_array_equal(clf.predict_proba(data.x_test), clf.predict_proba(data.x_test))


def test_loss_curve_is_the_mean_of_each_epochs_batch_losses(monkeypatch):
    """Recomputed from the batch losses themselves, recorded as training runs: 1437 samples in
    batches of 100 make 15 batches an epoch, the last one of 37."""
    from nnscratch.run import build
    from nnscratch.run.callbacks import Callback
    from nnscratch.run.trainer import Trainer

    batch_losses = []

    class Record(Callback):
        def on_iteration_end(self, trainer, loss):
            batch_losses.append(float(loss))

    class RecordingTrainer(Trainer):
        def __init__(self, *args, callbacks=(), **options):
            super().__init__(*args, callbacks=[*callbacks, Record()], **options)

    monkeypatch.setattr(build, "Trainer", RecordingTrainer)
    data = load_dataset("digits")
    clf = NNClassifier(hidden_sizes=(20,), batch_size=100, epochs=3, random_state=0)
    clf.fit(data.x_train, data.t_train)
    clf.partial_fit(data.x_train, data.t_train)
    assert len(batch_losses) == 4 * 15
    expected = [sum(batch_losses[15 * e : 15 * (e + 1)]) / 15 for e in range(4)]
    assert clf.loss_curve_ == pytest.approx(expected, rel=1e-12)
