"""The container every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    x_test: np.ndarray
    t_test: np.ndarray
    n_classes: int
    x_val: np.ndarray | None = None
    t_val: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        yield self.x_train, self.t_train
        yield self.x_test, self.t_test

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]
