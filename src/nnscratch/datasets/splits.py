"""Splitting and encoding labels."""

from __future__ import annotations

import numpy as np

from ..errors import NnscratchError
from ..functions import one_hot

__all__ = ["kept", "one_hot", "stratified_split"]


def kept(n: int, test_size: float) -> int:
    """How many of ``n`` samples a split of ``test_size`` (a fraction, or a count) keeps in its
    first part: n − ⌈test_size·n⌉, as scikit-learn's ``train_test_split`` rounds."""
    n_b = test_size if isinstance(test_size, (int, np.integer)) else int(np.ceil(test_size * n))
    return n - n_b


def stratified_split(
    x: np.ndarray, t: np.ndarray, test_size: float, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split (x, t) into two parts with the same class proportions, reproducibly for a seed.

    ``test_size`` is a fraction in (0, 1) or a count. Returns ``x_a, x_b, t_a, t_b`` where b holds
    ``test_size`` of the samples.
    """
    n, n_classes = len(t), len(np.unique(t))
    n_b = n - kept(n, test_size)
    if not n_classes <= n_b <= n - n_classes:
        raise NnscratchError(
            f"a split of {test_size} holds {n_b} of {n} samples, but each part needs at least one "
            f"sample of each of the {n_classes} classes: choose a fraction between "
            f"{n_classes / n:.3g} and {1 - n_classes / n:.3g} (0.1 is usual)"
        )
    from sklearn.model_selection import train_test_split  # here: it takes a second to import

    seed = None if seed is None else int(np.random.SeedSequence(seed).generate_state(1)[0])
    return train_test_split(x, t, test_size=test_size, stratify=t, random_state=seed)
