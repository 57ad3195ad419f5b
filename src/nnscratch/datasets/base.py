"""The container every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterator


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
    x_test: np.ndarray | None  # None: a run measured on its test set once, at its end
    t_test: np.ndarray | None
    n_classes: int
    x_val: np.ndarray | None = None
    t_val: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[tuple[np.ndarray | None, np.ndarray | None]]:
        yield self.x_train, self.t_train
        yield self.x_test, self.t_test

    @property
    def classes(self) -> tuple[str, ...]:
        """The name of each class, index by index (:func:`.sources.class_names`)."""
        from .sources import class_names

        return class_names(self.name, self.n_classes)

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    def first(self, n: int) -> Dataset:
        """The dataset with only its first ``n`` training samples (the test set as it is)."""
        return replace(self, x_train=self.x_train[:n], t_train=self.t_train[:n])

    def without_test(self) -> Dataset:
        """The dataset without its test set: for a run that measures the test once at its end,
        not after every epoch."""
        return replace(self, x_test=None, t_test=None)
