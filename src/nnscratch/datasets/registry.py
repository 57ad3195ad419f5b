"""``load_dataset(name)``: one entry point for every dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import NnscratchError
from ..functions import one_hot as encode_one_hot
from ..validation import check_choice, check_float_dtype
from .base import Dataset
from .digits import DIGITS_MAX_PIXEL, load_digits
from .mnist import load_idx_dataset
from .sources import SPECS
from .splits import stratified_split
from .text import TEXT_DATASETS, text_dataset
from .toy2d import K_CLASSES, TOY_DATASETS, load_toy

if TYPE_CHECKING:
    import os

    from numpy.typing import DTypeLike

#: name → one-line description; "digits" is bundled, "mnist" and "fashion-mnist" are IDX datasets
#: (sources.SPECS), the toy 2-D sets (toy2d) are generated.
DATASETS = {
    "digits": "scikit-learn's 8×8 handwritten digits, bundled (1,797 images)",
    "mnist": "MNIST handwritten digits, 28×28 (60,000 train, 10,000 test)",
    "fashion-mnist": "Fashion-MNIST article images, 28×28 (60,000 train, 10,000 test)",
    **TOY_DATASETS,
    **TEXT_DATASETS,
}

#: the pixel value that normalisation maps to 1
IDX_MAX_PIXEL = 255.0


def load_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    source: str = "auto",
    normalize: bool = True,
    flatten: bool = True,
    one_hot: bool = False,
    dtype: DTypeLike | None = None,
    val_size: float | None = None,
    seed: int = 0,
    verify: bool = True,
    **options: Any,
) -> Dataset:
    """Load dataset ``name`` (one of ``DATASETS``: "digits", "mnist", "fashion-mnist", or a toy
    2-D set: "moons", "circles", "spiral", "xor", "gaussians") as a :class:`Dataset`.

    Parameters
    ----------
    data_dir : a folder to look in first (``data_dir/<name>/`` or ``data_dir/``) and to download
        into. Then ``$NNSCRATCH_DATA``, the user cache, the distribution's folder, the mirrors.
    source : "auto" (local, then download), "local" (never download) or "openml" (scikit-learn's
        ``fetch_openml``, the notebook's way). Ignored for "digits" (always bundled).
    normalize : pixels scaled to [0, 1] (x / 255; digits x / 16), else raw values 0..255 (0..16).
    flatten : x of shape (N, H·W) (784 for MNIST); else (N, 1, H, W) like the book's loader.
    one_hot : labels as (N, C) one-hot rows of ``dtype`` instead of int indices (N,).
    dtype : float32 or float64; default float32 for MNIST/Fashion-MNIST (half the memory of 70,000
        images), float64 for digits.
    val_size : hold out this fraction (or count) of the training set, stratified and seeded, as
        ``x_val``/``t_val``; the test set is untouched.
    seed : seeds the validation split (and the digits train/test split).
    verify : check every file against its official SHA-256 (leave on).
    options : for digits ``test_size``; for IDX sets the downloader's ``timeout``, ``retries``,
        ``backoff``, ``progress``; for the toy sets ``n_samples``, ``noise``, ``classes`` (spiral,
        gaussians) and ``test_size`` (see :mod:`.toy2d`). The toy sets are points, not images:
        ``normalize`` leaves them as drawn and ``flatten=False`` is an error.
    """
    check_choice(name, tuple(DATASETS), "dataset")
    if name in TEXT_DATASETS:  # windows of token ids: no pixels, no dtype
        return text_dataset(name, data_dir=data_dir, seed=seed, **options)
    dtype = check_float_dtype(
        dtype if dtype is not None else np.float32 if name in SPECS else np.float64
    )
    if name in TOY_DATASETS:
        if not flatten:
            raise NnscratchError(
                f"{name} holds 2-D points, not images: it has no (N, 1, H, W) "
                "form; leave flatten on"
            )
        data = load_toy(name, seed=seed, dtype=dtype, **_toy_options(name, options))
        image_shape = None
    elif name == "digits":
        data = load_digits(seed=seed, dtype=dtype, **options)
        if not normalize:  # k/16 is exact in binary floating point, so this restores k exactly
            data.x_train = data.x_train * dtype.type(DIGITS_MAX_PIXEL)
            data.x_test = data.x_test * dtype.type(DIGITS_MAX_PIXEL)
        image_shape = data.info["image_shape"]
    else:
        spec = SPECS[name]
        (x_train, t_train, x_test, t_test), info = load_idx_dataset(
            name, data_dir=data_dir, source=source, verify=verify, **options
        )
        # x / 255 (not x · (1/255)): each pixel is then the correctly rounded k/255
        scale = dtype.type(IDX_MAX_PIXEL if normalize else 1)
        data = Dataset(
            name,
            x_train.reshape(len(x_train), -1).astype(dtype) / scale,
            t_train,
            x_test.reshape(len(x_test), -1).astype(dtype) / scale,
            t_test,
            n_classes=spec.n_classes,
            info=info,
        )
        image_shape = spec.image_shape
    if val_size is not None:
        data.x_train, data.x_val, data.t_train, data.t_val = stratified_split(
            data.x_train, data.t_train, val_size, seed
        )
    if not flatten:
        for attr in ("x_train", "x_test", "x_val"):
            x = getattr(data, attr)
            if x is not None:
                # an image set's: flatten=False is refused above for the toy sets (None)
                setattr(data, attr, x.reshape(len(x), 1, *image_shape))  # type: ignore[misc]
    if one_hot:
        for attr in ("t_train", "t_test", "t_val"):
            t = getattr(data, attr)
            if t is not None:
                setattr(data, attr, encode_one_hot(t, data.n_classes).astype(dtype))
    return data


def _toy_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The toy set's options, or an error naming the ones it takes (instead of a TypeError)."""
    allowed = ("n_samples", "noise", "test_size") + (("classes",) if name in K_CLASSES else ())
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise NnscratchError(
            f"{name} takes the options {', '.join(allowed)}; got {', '.join(unknown)}"
        )
    return options
