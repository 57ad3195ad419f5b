"""Datasets as arrays: x float (N, D) in [0, 1], t int labels (N,).

``load_dataset(name)`` returns a :class:`Dataset`; like the book's ``load_mnist`` it unpacks as
``(x_train, t_train), (x_test, t_test) = load_dataset("digits")``. "mnist" and "fashion-mnist" are
read from IDX files (:mod:`.idx`) found on this machine or downloaded from mirrors, every file
checked against its official SHA-256 (:mod:`.sources`, :mod:`.download`).
"""

from .base import Dataset
from .digits import load_digits
from .idx import read_idx, write_idx
from .registry import DATASETS, load_dataset
from .splits import one_hot, stratified_split

__all__ = [
    "DATASETS",
    "Dataset",
    "load_dataset",
    "load_digits",
    "one_hot",
    "read_idx",
    "stratified_split",
    "write_idx",
]
