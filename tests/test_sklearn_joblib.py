"""NNClassifier under joblib's process workers: GridSearchCV(n_jobs=2) gives exactly the scores of
n_jobs=1 (the estimator travels by pickle, every fit is seeded by random_state), and a fitted
model pickles and clones."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from nnscratch.datasets import load_dataset
from nnscratch.sklearn import NNClassifier

pytestmark = pytest.mark.slow  # worker processes

GRID = {"lr": [0.003, 0.03], "hidden_sizes": [(16,), (32,)]}


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits")
    return data.x_train[:600], data.t_train[:600], data.x_test, data.t_test


def grid_search(digits, n_jobs):
    x, t, _, _ = digits
    search = GridSearchCV(
        NNClassifier(epochs=3, batch_size=32, random_state=0), GRID, cv=3, n_jobs=n_jobs
    )
    return search.fit(x, t)


def test_grid_search_in_two_processes_scores_exactly_as_in_one(digits):
    one, two = grid_search(digits, 1), grid_search(digits, 2)
    assert two.best_params_["lr"] in GRID["lr"]
    assert two.best_params_["hidden_sizes"] in GRID["hidden_sizes"]
    for key in ("split0_test_score", "split1_test_score", "split2_test_score", "mean_test_score"):
        np.testing.assert_array_equal(two.cv_results_[key], one.cv_results_[key])
    assert two.best_params_ == one.best_params_
    # the grid differs in what it learns: not every setting scores alike
    assert len(set(two.cv_results_["mean_test_score"])) > 1
    # the refit model (in this process) predicts as the one refit after n_jobs=1
    x_test = digits[2]
    np.testing.assert_array_equal(two.predict_proba(x_test), one.predict_proba(x_test))


def test_a_fitted_classifier_pickles_and_clones(digits):
    x, t, x_test, _ = digits
    clf = NNClassifier(hidden_sizes=(16,), epochs=2, random_state=3).fit(x, t)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(x_test), clf.predict_proba(x_test))
    assert again.loss_curve_ == clf.loss_curve_ and again.n_iter_ == 2
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params()
    assert not hasattr(fresh, "classes_")  # unfitted: clone copies hyperparameters only
    # the clone, fitted on the same data with the same random_state, is the same model
    np.testing.assert_array_equal(fresh.fit(x, t).predict_proba(x_test), clf.predict_proba(x_test))
