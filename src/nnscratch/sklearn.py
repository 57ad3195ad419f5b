"""``NNClassifier``: nnscratch networks as a scikit-learn estimator.

It follows scikit-learn's conventions: hyperparameters are constructor arguments stored as given,
inputs are validated once at the boundary (``validate_data``), and what fitting learns ends in
``_`` (``classes_``, ``loss_curve_``, ``n_iter_``, ``n_features_in_``). So it works inside
``Pipeline`` and ``GridSearchCV``.

Its hyperparameters are the options of the run table (``run.options``) that a classifier of
given data takes — every network and training option; ``hidden`` is called ``hidden_sizes`` and
``seed`` ``random_state``, as scikit-learn names them — so a new option of the table is a new
hyperparameter here, checked with the same message. The network is always a MultiLayerNet.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .datasets import Dataset
from .datasets.splits import kept
from .run.build import network, optimizer, seeds, trainer
from .run.options import OPTIONS, Spec, resolve

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray
    from typing_extensions import Self


#: table option → hyperparameter name, where scikit-learn's convention differs
RENAMED = {"hidden": "hidden_sizes", "seed": "random_state"}
#: the classifier's own defaults, where they depart from the table's: a single hidden layer of
#: 100 (as scikit-learn's MLPClassifier), the book's plain network at a constant Adam rate
PRESET = {
    "hidden": (100,),
    "batchnorm": False,
    "optimizer": "adam",
    "lr_schedule": "none",
    "batch_size": 32,
    "epochs": 30,
    "seed": None,
}
#: the options of the table it takes: all but the data's (it is given X and y) and the model
OPTION_NAMES = tuple(name for name, o in OPTIONS.items() if o.group != "data" and name != "model")
HYPERPARAMETERS = {RENAMED.get(name, name): name for name in OPTION_NAMES}


def seed_of(random_state: object) -> object:
    """The run's seed of a ``random_state``: an int as it is (the table checks it); None a new
    one; a ``RandomState`` or a ``Generator`` one drawn from it (a new one each fit, as
    scikit-learn's estimators draw theirs)."""
    if random_state is None:  # a SeedSequence made without entropy draws an int
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**62, dtype=np.int64))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**62))
    return random_state


class NNClassifier(ClassifierMixin, BaseEstimator):
    """A feed-forward network classifier (a MultiLayerNet) trained by mini-batch gradient
    descent.

    Its parameters are every option of the run table (``nnscratch train --help`` lists them)
    but the data's and the model, under the same name, except ``hidden_sizes`` (the table's
    ``hidden``: the width of each hidden layer, e.g. ``(100,)``) and ``random_state``
    (``seed``: an int for the same model every time; None, a ``RandomState`` or a ``Generator``
    for a new seed each fit). Left at None, an option takes the table's default for an mlp (the
    optimizer's own learning rate, MultiLayerNet's activation and initialisation...); the
    defaults given here are the classifier's own: one hidden layer of 100, no batch norm, Adam
    at a constant rate, batches of 32, 30 epochs.

    Attributes
    ----------
    classes_ : ndarray (C,)
        The labels seen in ``fit`` (any values: ints, strings...), sorted.
    loss_curve_ : list of float
        Mean training loss of each epoch.
    n_iter_ : int
        Epochs run so far (``fit`` runs ``epochs``; ``partial_fit`` one per call).
    n_features_in_ : int
    """

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(HYPERPARAMETERS))
        if unknown:
            raise TypeError(
                f"NNClassifier got unknown parameters {', '.join(unknown)}: it takes "
                f"{', '.join(HYPERPARAMETERS)}"
            )
        for name, option in HYPERPARAMETERS.items():
            setattr(self, name, params.get(name, PRESET.get(option)))

    # -- building -------------------------------------------------------------------------------
    def _spec(
        self, epochs: int | None = None, n_samples: int | None = None, seed: object = 0
    ) -> Spec:
        """The hyperparameters resolved by the table (a bad one: its one-line message, under the
        hyperparameter's name) with the run's ``seed`` (a new fit's, :meth:`_start`'s: only the
        network and the batch order use it); with ``n_samples``, the batch size at most the
        samples the training keeps (those ``validation_split`` leaves)."""
        given = {option: getattr(self, name) for name, option in HYPERPARAMETERS.items()}
        given["seed"] = seed
        if epochs is not None:
            given["epochs"] = epochs
        for option, name in RENAMED.items():  # the table's check, under scikit-learn's name
            dataclasses.replace(OPTIONS[option], name=name).check(given[option])
        spec = resolve({"model": "mlp", **given})
        if n_samples is not None and spec["validation_split"]:
            n_samples = kept(n_samples, spec["validation_split"])
        if n_samples is not None and spec["batch_size"] > n_samples:
            return Spec({**spec, "batch_size": n_samples})
        return spec

    def _start(self, n_features: int, classes: np.ndarray) -> None:
        """Fresh network, optimizer and batch-order generator for a new fit."""
        spec = self._spec(seed=seed_of(self.random_state))
        self.classes_ = classes
        self.loss_curve_: list[float] = []
        self.n_iter_ = 0
        init_seed, order_seed = seeds(spec["seed"])
        self._rng = np.random.default_rng(order_seed)
        self._net = network(spec, (n_features,), len(classes), init_seed)
        self._optimizer = optimizer(spec)

    # -- fitting --------------------------------------------------------------------------------
    def _epochs(self, X: np.ndarray, y_index: np.ndarray, epochs: int | None) -> None:
        """``epochs`` passes over (X, y_index) (None: the ``epochs`` hyperparameter's)."""
        spec = self._spec(epochs, len(X))
        # no test set: the Trainer takes None for it
        data = Dataset("fit", X, y_index, None, None, len(self.classes_))
        run = trainer(spec, self._net, self._optimizer, data, self._rng)
        history = run.train()
        losses = np.reshape(history["train_loss"], (run.epoch, run.iter_per_epoch))
        self.loss_curve_.extend(float(v) for v in losses.mean(axis=1))
        self.n_iter_ += run.epoch

    def _labels(self, y: np.ndarray) -> np.ndarray:
        check_classification_targets(y)
        return y

    # X, y: Any, as they go to validate_data (untyped), which checks them and makes them arrays
    def fit(self, X: Any, y: Any) -> Self:
        """Train from scratch for ``epochs`` passes over (X, y); returns self."""
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32))
        classes, y_index = np.unique(self._labels(y), return_inverse=True)
        self._start(X.shape[1], classes)
        self._epochs(X, y_index, None)
        return self

    def partial_fit(self, X: Any, y: Any, classes: ArrayLike | None = None) -> Self:
        """One pass over (X, y). The first call needs ``classes`` (all labels there will be)."""
        first = not hasattr(self, "classes_")
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), reset=first)
        y = self._labels(y)
        if first:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit "
                    "(every label the data will have, e.g. np.unique(y_all))"
                )
            self._start(X.shape[1], np.unique(classes))
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"labels {unknown.tolist()} are not in classes {self.classes_.tolist()}"
                " given on the first call to partial_fit"
            )
        self._epochs(X, np.searchsorted(self.classes_, y), 1)
        return self

    # -- predicting -----------------------------------------------------------------------------
    def predict_proba(self, X: ArrayLike) -> NDArray[np.floating]:
        """Class probabilities (N, C), columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return self._net.predict(X)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most probable class of each sample, as labels from ``classes_``."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError before fit
        return self.classes_[np.argmax(proba, axis=1)]


# scikit-learn reads an estimator's hyperparameters from its constructor's signature (set on
# purpose: a function object takes the attribute)
NNClassifier.__init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    + [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=PRESET.get(option))
        for name, option in HYPERPARAMETERS.items()
    ]
)
