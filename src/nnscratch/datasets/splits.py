"""Splitting and encoding labels."""

import numpy as np
from sklearn.model_selection import train_test_split

from ..functions import one_hot

__all__ = ["one_hot", "stratified_split"]


def stratified_split(x, t, test_size, seed=None):
    """Split (x, t) into two parts with the same class proportions, reproducibly for a seed.

    ``test_size`` is a fraction in (0, 1) or a count. Returns ``x_a, x_b, t_a, t_b`` where b holds
    ``test_size`` of the samples.
    """
    seed = None if seed is None else int(np.random.SeedSequence(seed).generate_state(1)[0])
    return train_test_split(x, t, test_size=test_size, stratify=t, random_state=seed)
