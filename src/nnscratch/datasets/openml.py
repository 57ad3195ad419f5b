"""The notebook's path: MNIST through scikit-learn's ``fetch_openml("mnist_784")``.

OpenML serves the 70,000 images as one table, the 60,000 training images first; we split it there,
as the original files do. scikit-learn caches it under ``<user cache>/openml``.
"""

import numpy as np

from ..errors import NnscratchError
from .idx import check_labels
from .sources import cache_root


def load_openml(spec, data_home=None, **_ignored):
    """``(x_train, t_train, x_test, t_test), info`` of ``spec`` fetched from OpenML.

    x is uint8 (N, 28, 28) like the IDX files, t int64 (N,).
    """
    from sklearn.datasets import fetch_openml

    if spec.openml_name is None:
        raise NnscratchError(f"{spec.name} has no OpenML copy; use source='auto'")
    data_home = cache_root() / "openml" if data_home is None else data_home
    try:
        bunch = fetch_openml(spec.openml_name, version=1, as_frame=False, data_home=data_home)
    except Exception as exc:  # network errors come as URLError, OSError, HTTPError...
        raise NnscratchError(
            f"fetch_openml({spec.openml_name!r}) failed: {exc}; check the "
            "network or use source='auto' (mirrors, local files)"
        ) from None
    n, pixels = spec.n_train + spec.n_test, int(np.prod(spec.image_shape))
    x = np.asarray(bunch.data)
    if x.shape != (n, pixels):
        raise NnscratchError(
            f"OpenML {spec.openml_name}: expected data of shape {(n, pixels)}, got {x.shape}"
        )
    if x.min() < 0 or x.max() > 255:
        raise NnscratchError(f"OpenML {spec.openml_name}: pixel values outside 0..255")
    images = x.astype(np.uint8).reshape(n, *spec.image_shape)
    labels = check_labels(
        np.asarray(bunch.target).astype(np.int64), f"OpenML {spec.openml_name}", spec.n_classes, n
    )
    arrays = (
        images[: spec.n_train],
        labels[: spec.n_train],
        images[spec.n_train :],
        labels[spec.n_train :],
    )
    info = {
        "source": f"OpenML {spec.openml_name} (scikit-learn fetch_openml)",
        "folder": str(data_home),
        "files": {},
        "image_shape": spec.image_shape,
        "classes": list(spec.classes),
    }
    return arrays, info
