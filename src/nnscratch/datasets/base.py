"""The container every loader returns."""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Dataset:
    """Train and test arrays of one dataset.

    x_train (N, D) and x_test (M, D) are float; t_train (N,) and t_test (M,) int class indices
    (or one-hot (N, C) when asked for). ``x_val``/``t_val`` hold a validation split when one was
    asked for. Iterating gives ``(x_train, t_train), (x_test, t_test)`` like the book's loader.
    """

    name: str
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    n_classes: int
    x_val: np.ndarray | None = None
    t_val: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __iter__(self):
        yield self.x_train, self.t_train
        yield self.x_test, self.t_test

    @property
    def n_features(self):
        return self.x_train.shape[1]
