"""``NNClassifier``: nnscratch networks as a scikit-learn estimator.

It follows scikit-learn's conventions: hyperparameters are constructor arguments stored as given,
inputs are validated once at the boundary (``validate_data``), and what fitting learns ends in
``_`` (``classes_``, ``loss_curve_``, ``n_iter_``, ``n_features_in_``). So it works inside
``Pipeline`` and ``GridSearchCV``.
"""

import inspect

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .nets import MultiLayerNet
from .optim import make_optimizer
from .train import Trainer

#: MultiLayerNet's own defaults, which NNClassifier's network hyperparameters take
_NET = inspect.signature(MultiLayerNet).parameters


class NNClassifier(ClassifierMixin, BaseEstimator):
    """A feed-forward network classifier trained by mini-batch gradient descent.

    Parameters
    ----------
    hidden_sizes : tuple of int
        Width of each hidden layer, e.g. ``(100,)`` or ``(256, 128)``.
    activation : {"relu", "sigmoid", "tanh"}
    optimizer : {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"}
        The update rule (see ``nnscratch.optim``).
    lr : float or None
        Learning rate; None: the chosen optimizer's own default (its class's signature, read by
        ``optim.default_lr``), e.g. Adam's.
    batch_size : int
        Mini-batch size (clipped to the number of samples).
    epochs : int
        Passes over the data in ``fit``; ``partial_fit`` makes one pass per call.
    weight_init : "he", "xavier" or a float standard deviation
    weight_decay : float
        L2 penalty λ (the loss gets ½ λ Σ‖W‖²).
    dropout : float
        Dropout probability after each hidden activation (0: none).
    batchnorm : bool
        Batch normalisation before each hidden activation.
    random_state : int or None
        Seeds weight initialisation and batch order: same seed, same model.

    ``activation``, ``weight_init``, ``weight_decay``, ``dropout`` and ``batchnorm`` default to
    MultiLayerNet's own defaults (its signature).

    Attributes
    ----------
    classes_ : ndarray (C,)
        The labels seen in ``fit`` (any values: ints, strings...), sorted.
    loss_curve_ : list of float
        Mean training loss of each epoch.
    n_iter_ : int
        Epochs run so far.
    n_features_in_ : int
    """

    def __init__(self, hidden_sizes=(100,), activation=_NET["activation"].default,
                 optimizer="adam", lr=None, batch_size=32, epochs=30,
                 weight_init=_NET["weight_init"].default,
                 weight_decay=_NET["weight_decay_lambda"].default,
                 dropout=_NET["dropout"].default, batchnorm=_NET["use_batchnorm"].default,
                 random_state=None):
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.weight_init = weight_init
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.batchnorm = batchnorm
        self.random_state = random_state

    # -- building -------------------------------------------------------------------------------
    def _start(self, n_features, classes):
        """Fresh network, optimizer and random generator for a new fit."""
        self.classes_ = classes
        self.loss_curve_ = []
        self.n_iter_ = 0
        init_seed, order_seed = np.random.SeedSequence(self.random_state).spawn(2)
        self._rng = np.random.default_rng(order_seed)
        self._net = self._make_net(n_features, len(classes), init_seed)
        self._optimizer = make_optimizer(self.optimizer, self.lr)  # None: the class's default

    def _make_net(self, n_features, n_classes, seed):
        return MultiLayerNet(n_features, tuple(self.hidden_sizes), n_classes,
                             activation=self.activation, weight_init=self.weight_init,
                             weight_decay_lambda=self.weight_decay, dropout=self.dropout,
                             use_batchnorm=self.batchnorm, seed=seed)

    # -- fitting --------------------------------------------------------------------------------
    def _epochs(self, X, y_index, epochs):
        trainer = Trainer(self._net, X, y_index, epochs=epochs,
                          batch_size=min(self.batch_size, len(X)), optimizer=self._optimizer,
                          seed=self._rng)
        history = trainer.train()
        losses = np.reshape(history["train_loss"], (epochs, trainer.iter_per_epoch))
        self.loss_curve_.extend(float(v) for v in losses.mean(axis=1))
        self.n_iter_ += epochs

    def _labels(self, y):
        check_classification_targets(y)
        return y

    def fit(self, X, y):
        """Train from scratch for ``epochs`` passes over (X, y); returns self."""
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32))
        classes, y_index = np.unique(self._labels(y), return_inverse=True)
        self._start(X.shape[1], classes)
        self._epochs(X, y_index, self.epochs)
        return self

    def partial_fit(self, X, y, classes=None):
        """One pass over (X, y). The first call needs ``classes`` (all labels there will be)."""
        first = not hasattr(self, "classes_")
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), reset=first)
        y = self._labels(y)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit "
                                 "(every label the data will have, e.g. np.unique(y_all))")
            self._start(X.shape[1], np.unique(classes))
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"labels {unknown.tolist()} are not in classes {self.classes_.tolist()}"
                             " given on the first call to partial_fit")
        self._epochs(X, np.searchsorted(self.classes_, y), 1)
        return self

    # -- predicting -----------------------------------------------------------------------------
    def predict_proba(self, X):
        """Class probabilities (N, C), columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return self._net.predict(X)

    def predict(self, X):
        """The most probable class of each sample, as labels from ``classes_``."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError before fit
        return self.classes_[np.argmax(proba, axis=1)]
