"""The toy 2-D datasets: each shape checked by its defining equation on noiseless points, the noise
by its standard deviation, seeds, splits, bounds and the command line."""

import math

import numpy as np
import pytest

from nnscratch import load_dataset
from nnscratch.cli import main
from nnscratch.datasets.toy2d import DEFAULT_NOISE, MAX_SAMPLES, TOY_DATASETS, make_toy
from nnscratch.errors import NnscratchError

NAMES = list(TOY_DATASETS)


@pytest.mark.parametrize("name", NAMES)
def test_shapes_types_and_equal_classes(name):
    x, t = make_toy(name, n_samples=301, seed=1)
    k = 3 if name in ("spiral", "gaussians") else 2
    assert x.shape == (301, 2) and x.dtype == np.float64 and t.dtype == np.int64
    counts = np.bincount(t)
    assert len(counts) == k and counts.max() - counts.min() <= 1 and counts.sum() == 301


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_points_other_seed_other_points(name):
    a, b, c = (make_toy(name, seed=s) for s in (5, 5, 6))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_points_come_in_random_order():
    _, t = make_toy("moons", n_samples=200, seed=0)
    assert 0 < np.sum(t[:100]) < 100  # not all of class 0 first


def test_moons_by_their_equations():
    x, t = make_toy("moons", n_samples=400, noise=0)
    upper, lower = x[t == 0], x[t == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1)  # (cos θ, sin θ)
    assert np.all(upper[:, 1] >= 0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1)
    assert np.all(lower[:, 1] <= 0.5)


def test_circles_by_their_radii():
    x, t = make_toy("circles", n_samples=400, noise=0)
    np.testing.assert_allclose(np.hypot(*x[t == 0].T), 1)
    np.testing.assert_allclose(np.hypot(*x[t == 1].T), 0.5)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_spiral_arm_k_has_angle_2pi_k_over_K_plus_one_turn_of_radius(k):
    x, t = make_toy("spiral", n_samples=500, noise=0, classes=k)
    r = np.hypot(*x.T)
    assert np.all((r > 0) & (r <= 1))
    theta = np.arctan2(x[:, 0], x[:, 1])  # the point is r·(sin θ, cos θ)
    expected = 2 * math.pi * t / k + 2 * math.pi * r
    gap = np.angle(np.exp(1j * (theta - expected)))  # the difference modulo 2π, in (−π, π]
    np.testing.assert_allclose(gap, 0, atol=1e-9)


def test_xor_is_the_sign_rule_and_fills_all_four_quadrants():
    x, t = make_toy("xor", n_samples=400, noise=0)
    np.testing.assert_array_equal(t, (x[:, 0] * x[:, 1] > 0).astype(int))
    assert np.all(np.abs(x) <= 1)
    quadrants = np.bincount((x[:, 0] > 0) * 2 + (x[:, 1] > 0), minlength=4)
    assert np.all(quadrants > 60)


def test_gaussians_without_noise_are_their_centres_on_the_unit_circle():
    x, t = make_toy("gaussians", n_samples=40, noise=0, classes=4)
    centres = np.c_[np.cos(2 * np.pi * t / 4), np.sin(2 * np.pi * t / 4)]
    np.testing.assert_allclose(x, centres, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_noise_is_gaussian_of_the_given_std(name):
    """The same seed draws the same shape, then the noise: their difference is N(0, σ²)."""
    clean, t0 = make_toy(name, n_samples=20_000, noise=0, seed=3)
    noisy, t1 = make_toy(name, n_samples=20_000, noise=0.2, seed=3)
    assert np.array_equal(t0, t1)
    diff = noisy - clean
    assert abs(diff.mean()) < 0.01 and abs(diff.std() - 0.2) < 0.005


def test_default_noise_is_the_tables():
    clean, _ = make_toy("moons", n_samples=5000, noise=0, seed=2)
    default, _ = make_toy("moons", n_samples=5000, seed=2)
    assert abs((default - clean).std() - DEFAULT_NOISE["moons"]) < 0.005


def test_load_dataset_splits_them_stratified_and_keeps_options():
    data = load_dataset("spiral", n_samples=300, classes=4, test_size=0.25, seed=2, val_size=0.2)
    assert data.n_features == 2 and data.n_classes == 4
    assert len(data.x_test) == 75 and len(data.x_train) + len(data.x_val) == 225
    assert sorted(np.bincount(data.t_test).tolist()) == [18, 19, 19, 19]  # 75 over 4, stratified
    x, t = make_toy("spiral", n_samples=300, classes=4, seed=2)
    together = np.concatenate([data.x_train, data.x_val, data.x_test])
    assert sorted(map(tuple, together)) == sorted(map(tuple, x))  # the same points, split
    hot = load_dataset("moons", one_hot=True, dtype="float32")
    assert hot.t_train.shape == (400, 2) and hot.x_train.dtype == np.float32


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_toy("moons", classes=3, n_samples=7), "n_samples must be from 8"),
        (lambda: make_toy("spiral", classes=1), "spiral takes 2 to 10 classes, got 1"),
        (lambda: make_toy("spiral", classes=11), "spiral takes 2 to 10 classes, got 11"),
        (lambda: make_toy("circles", n_samples=MAX_SAMPLES + 1), f"to {MAX_SAMPLES}, got"),
        (lambda: make_toy("xor", noise=-0.1), r"noise must be a number in \[0, 10\]"),
        (lambda: make_toy("xor", noise=float("nan")), "noise must be a number"),
        (lambda: make_toy("spiral", classes=True), "classes must be a positive integer"),
        (
            lambda: make_toy("torus"),
            "name must be one of moons, circles, spiral, xor, gaussians, got 'torus'",
        ),
        (
            lambda: load_dataset("moons", classes=3),
            "moons takes the options n_samples, noise, test_size; got classes",
        ),
        (lambda: load_dataset("moons", flatten=False), "holds 2-D points, not images"),
    ],
)
def test_bad_options_are_clear_errors(call, message):
    with pytest.raises(NnscratchError, match=message):
        call()


def test_the_command_lists_and_trains_on_them(capsys):
    assert main(["data", "list"]) == 0
    listing = capsys.readouterr().out
    assert all(f"{name}: {TOY_DATASETS[name]}" in listing for name in NAMES)
    assert main(["data", "download", "spiral"]) == 0
    assert "nothing to download" in capsys.readouterr().out
    assert main(["train", "--dataset", "moons", "--hidden", "8", "--epochs", "30", "--quiet"]) == 0
    out = capsys.readouterr().out
    train_acc = float(out.split("final train acc ")[1].split(",")[0])
    assert "on moons (400 train, 100 test" in out and train_acc > 0.85
