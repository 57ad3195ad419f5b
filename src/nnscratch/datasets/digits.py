"""scikit-learn's bundled handwritten digits: 1,797 images of 8×8 pixels, classes 0-9.

It ships inside scikit-learn, so it works offline on any machine: our embedded default.
"""

import numpy as np

from .base import Dataset
from .splits import stratified_split

#: Pixels of the digits set are integers 0..16.
DIGITS_MAX_PIXEL = 16.0


def load_digits(test_size=0.2, seed=0, dtype=np.float64):
    """Digits with pixels scaled to [0, 1] and a seeded stratified train/test split.

    Returns a :class:`Dataset` with x (N, 64) of ``dtype`` and int labels (N,); with the default
    test_size 0.2 that is 1,437 train and 360 test images.
    """
    from sklearn import datasets as sk_datasets  # here: only this loader needs scikit-learn

    bunch = sk_datasets.load_digits()
    x = (bunch.data / DIGITS_MAX_PIXEL).astype(dtype)
    t = bunch.target.astype(np.int64)
    x_train, x_test, t_train, t_test = stratified_split(x, t, test_size, seed)
    return Dataset(
        "digits",
        x_train,
        t_train,
        x_test,
        t_test,
        n_classes=10,
        info={"source": "scikit-learn (bundled)", "image_shape": (8, 8)},
    )
