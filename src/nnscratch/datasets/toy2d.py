"""Toy 2-D datasets: points in the plane whose classes a small network can carve apart, so that the
decision boundary can be watched as it learns (TensorFlow Playground's circle, xor, gauss and
spiral; micrograd's two moons).

Every set is drawn from ``np.random.default_rng(seed)``: x float (N, 2), labels int (N,), the
classes as equal in size as N allows (the first N mod K classes one point more), the points in
random order, then Gaussian noise N(0, noise²) added to both coordinates (for ``gaussians``,
``noise`` is the blobs' standard deviation).

- moons: two interleaved half circles, class 0 (cos θ, sin θ), class 1 (1 − cos θ, ½ − sin θ),
  θ uniform in [0, π];
- circles: class 0 on the circle of radius 1, class 1 on the circle of radius ½, angles uniform;
- spiral: K arms, arm k at radius r uniform in (0, 1] and angle 2πk/K + 2π·r (one turn), the point
  r·(sin θ, cos θ);
- xor: x uniform in the quadrants of [−1, 1]², class 1 where x0 and x1 have the same sign
  (x0·x1 > 0), class 0 where they differ;
- gaussians: K blobs N(c_k, noise²·I), centres c_k = (cos 2πk/K, sin 2πk/K) on the unit circle.
"""

import math

import numpy as np

from ..errors import NnscratchError
from ..validation import check_choice, check_number, check_positive_int
from .base import Dataset
from .splits import stratified_split

#: name → one-line description, for ``nnscratch data list``
TOY_DATASETS = {
    "moons": "two interleaved half circles, 2 classes (2-D points, generated)",
    "circles": "a circle inside a circle, 2 classes (2-D points, generated)",
    "spiral": "K spiral arms, one class each, default 3 (2-D points, generated)",
    "xor": "the four quadrants, same sign against opposite sign, 2 classes (2-D points, generated)",
    "gaussians": "K Gaussian blobs on the unit circle, default 3 (2-D points, generated)",
}
#: each set's default noise: enough to make it a little hard, not enough to hide its shape
DEFAULT_NOISE = {"moons": 0.1, "circles": 0.05, "spiral": 0.02, "xor": 0.05, "gaussians": 0.3}
#: sets whose number of classes is an option (the others have 2)
K_CLASSES = ("spiral", "gaussians")
#: bounds that keep a request (from the command line or the playground) small
MAX_SAMPLES = 100_000
MAX_CLASSES = 10


def _class_sizes(n, k):
    """N points over K classes as evenly as possible: [⌈N/K⌉ ...] then [⌊N/K⌋ ...]."""
    return [n // k + (c < n % k) for c in range(k)]


def _labels(n, k):
    return np.repeat(np.arange(k), _class_sizes(n, k))


def _moons(n, rng, k):
    t = _labels(n, 2)
    theta = rng.uniform(0, math.pi, n)
    x = np.where(
        t[:, None] == 0,
        np.c_[np.cos(theta), np.sin(theta)],
        np.c_[1 - np.cos(theta), 0.5 - np.sin(theta)],
    )
    return x, t


def _circles(n, rng, k):
    t = _labels(n, 2)
    theta = rng.uniform(0, 2 * math.pi, n)
    radius = np.where(t == 0, 1.0, 0.5)
    return radius[:, None] * np.c_[np.cos(theta), np.sin(theta)], t


def _spiral(n, rng, k):
    t = _labels(n, k)
    r = 1 - rng.uniform(0, 1, n)  # (0, 1]: no point sits exactly at the centre, where arms meet
    theta = 2 * math.pi * t / k + 2 * math.pi * r
    return r[:, None] * np.c_[np.sin(theta), np.cos(theta)], t


def _xor(n, rng, k):
    t = _labels(n, 2)
    # |x| uniform in [0, 1]², x0's sign at random, x1's the same as x0's for class 1
    x = rng.uniform(0, 1, (n, 2))
    sign = rng.choice([-1.0, 1.0], n)
    x[:, 0] *= sign
    x[:, 1] *= np.where(t == 1, sign, -sign)
    return x, t


def _gaussians(n, rng, k):
    t = _labels(n, k)
    angle = 2 * math.pi * t / k
    return np.c_[np.cos(angle), np.sin(angle)], t  # the centres; the noise makes the blobs


GENERATORS = {
    "moons": _moons,
    "circles": _circles,
    "spiral": _spiral,
    "xor": _xor,
    "gaussians": _gaussians,
}


def make_toy(name, n_samples=500, noise=None, classes=3, seed=0):
    """(x (N, 2) float64, t (N,) int64) of toy set ``name`` (see the module docstring), in random
    order. ``noise``: the set's default (``DEFAULT_NOISE``) if None; ``classes``: K for spiral and
    gaussians (the others have 2)."""
    check_choice(name, tuple(GENERATORS), "name")
    k = check_positive_int(classes, "classes") if name in K_CLASSES else 2
    if not 2 <= k <= MAX_CLASSES:
        raise NnscratchError(f"{name} takes 2 to {MAX_CLASSES} classes, got {k}")
    n = check_positive_int(n_samples, "n_samples")
    if not 4 * k <= n <= MAX_SAMPLES:
        raise NnscratchError(
            f"n_samples must be from {4 * k} (four points a class, so that train "
            f"and test both have every class) to {MAX_SAMPLES}, got {n}"
        )
    noise = check_number(DEFAULT_NOISE[name] if noise is None else noise, "noise", 0, 10)
    rng = np.random.default_rng(seed)
    x, t = GENERATORS[name](n, rng, k)
    x = x + rng.normal(0, noise, x.shape)
    order = rng.permutation(n)
    return x[order], t[order].astype(np.int64)


def load_toy(name, n_samples=500, noise=None, classes=3, test_size=0.2, seed=0, dtype=np.float64):
    """Toy set ``name`` as a :class:`Dataset`: :func:`make_toy` split into train and test
    (``test_size`` of the points, stratified, from the same seed)."""
    x, t = make_toy(name, n_samples, noise, classes, seed)
    x_train, x_test, t_train, t_test = stratified_split(x.astype(dtype), t, test_size, seed)
    return Dataset(
        name,
        x_train,
        t_train,
        x_test,
        t_test,
        n_classes=int(t.max()) + 1,
        info={
            "source": "generated by nnscratch.datasets.toy2d",
            "n_samples": len(t),
            "noise": float(DEFAULT_NOISE[name] if noise is None else noise),
        },
    )
