"""Each optimizer's first two updates against values worked out by hand; state save/restore;
learning-rate schedules."""

import math

import numpy as np
import pytest

from nnscratch.errors import NnscratchError
from nnscratch.optim import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    CosineLR,
    Momentum,
    Nesterov,
    RMSprop,
    StepLR,
    WarmupCosineLR,
    clip_by_global_norm,
    global_norm,
    optimizer_path,
)

W0 = [1.0, -2.0]
G1 = [0.5, 1.0]
G2 = [-1.0, 2.0]


def _two_updates(optimizer):
    params = {"W": np.array(W0)}
    optimizer.update(params, {"W": np.array(G1)})
    first = params["W"].copy()
    optimizer.update(params, {"W": np.array(G2)})
    return first, params["W"]


# By hand, lr = 0.1 everywhere; g1 = (0.5, 1), g2 = (-1, 2).
EXPECTED = {
    # W - lr g
    "sgd": (SGD(0.1), [1 - 0.05, -2 - 0.1], [0.95 + 0.1, -2.1 - 0.2]),
    # v1 = -0.1 g1 = (-0.05, -0.1); v2 = 0.9 v1 - 0.1 g2 = (0.055, -0.29)
    "momentum": (Momentum(0.1, 0.9), [0.95, -2.1], [0.95 + 0.055, -2.1 - 0.29]),
    # W += 0.9 v - 0.1 g: (-0.095, -0.19), then (0.0495 + 0.1, -0.261 - 0.2)
    "nesterov": (Nesterov(0.1, 0.9), [0.905, -2.19], [0.905 + 0.1495, -2.19 - 0.461]),
    # h1 = (0.25, 1), h2 = (1.25, 5); W -= 0.1 g / (√h + 1e-7)
    "adagrad": (
        AdaGrad(0.1),
        [1 - 0.05 / (0.5 + 1e-7), -2 - 0.1 / (1 + 1e-7)],
        [
            1 - 0.05 / (0.5 + 1e-7) + 0.1 / (math.sqrt(1.25) + 1e-7),
            -2 - 0.1 / (1 + 1e-7) - 0.2 / (math.sqrt(5) + 1e-7),
        ],
    ),
    # h1 = 0.01 g1² = (0.0025, 0.01) → √h1 = (0.05, 0.1);
    # h2 = 0.99 h1 + 0.01 g2² = (0.012475, 0.0499)
    "rmsprop": (
        RMSprop(0.1, 0.99),
        [1 - 0.05 / (0.05 + 1e-7), -2 - 0.1 / (0.1 + 1e-7)],
        [
            1 - 0.05 / (0.05 + 1e-7) + 0.1 / (math.sqrt(0.012475) + 1e-7),
            -2 - 0.1 / (0.1 + 1e-7) - 0.2 / (math.sqrt(0.0499) + 1e-7),
        ],
    ),
    # t=1: m̂ = g1, v̂ = g1² → step lr·g/|g| = 0.1 sign(g).
    # t=2: m = 0.9·0.1 g1 + 0.1 g2 = (-0.055, 0.29), m̂ = m / 0.19;
    #      v = 0.999·0.001 g1² + 0.001 g2² = (0.00124975, 0.004999), v̂ = v / 0.001999
    "adam": (
        Adam(0.1),
        [1 - 0.1 * 0.5 / (0.5 + 1e-8), -2 - 0.1 * 1 / (1 + 1e-8)],
        [
            1
            - 0.1 * 0.5 / (0.5 + 1e-8)
            - 0.1 * (-0.055 / 0.19) / (math.sqrt(0.00124975 / 0.001999) + 1e-8),
            -2 - 0.1 / (1 + 1e-8) - 0.1 * (0.29 / 0.19) / (math.sqrt(0.004999 / 0.001999) + 1e-8),
        ],
    ),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_first_two_updates_by_hand(name):
    optimizer, first, second = EXPECTED[name]
    got_first, got_second = _two_updates(optimizer)
    np.testing.assert_allclose(got_first, first, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got_second, second, rtol=1e-12, atol=1e-14)


def test_adam_bias_correction():
    # Without correction the first step would be lr · (1 - β₁) g / √((1 - β₂) g²)
    # = 0.1 · 0.1 / √0.001 ≈ 0.316 per unit sign; with it, exactly lr (up to ε) in every coordinate,
    # whatever the gradient's scale.
    params = {"W": np.zeros(3)}
    Adam(0.1).update(params, {"W": np.array([1e-3, 5.0, -200.0])})
    np.testing.assert_allclose(params["W"], [-0.1, -0.1, 0.1], rtol=1e-4)
    opt = Adam(0.1, beta1=0.9, beta2=0.999)
    params = {"W": np.zeros(1)}
    for _ in range(3):
        opt.update(params, {"W": np.ones(1)})
    # a constant gradient: m̂ = v̂ = 1 exactly at every step (the correction undoes the zero start)
    np.testing.assert_allclose(params["W"], [-0.3], rtol=1e-7)
    assert opt.t == 3


@pytest.mark.parametrize("name", ["momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_state_saved_and_restored_gives_the_same_next_steps(name):
    rng = np.random.default_rng(0)
    grads = [{"W": rng.standard_normal((2, 3)), "b": rng.standard_normal(3)} for _ in range(5)]
    params_a = {"W": np.ones((2, 3)), "b": np.zeros(3)}
    a = OPTIMIZERS[name](lr=0.05)
    for g in grads[:3]:
        a.update(params_a, g)
    state = a.state_dict()
    params_b = {k: v.copy() for k, v in params_a.items()}
    b = OPTIMIZERS[name](lr=0.05)
    b.load_state_dict(state)
    for g in grads[3:]:
        a.update(params_a, g)
        b.update(params_b, g)
    for key in params_a:
        np.testing.assert_array_equal(params_a[key], params_b[key])
    assert int(state["t"]) == 3  # the saved dict was a copy, not a view of the live state
    assert all(isinstance(v, np.ndarray) for v in state.values())


def test_loading_another_optimizers_state_is_a_clear_error():
    a = Adam()
    a.update({"W": np.zeros(2)}, {"W": np.ones(2)})
    with pytest.raises(NnscratchError, match="another optimizer"):
        Momentum().load_state_dict(a.state_dict())


def test_the_optimizers_by_name_and_a_bad_rate():
    assert list(OPTIMIZERS) == [
        "sgd",
        "momentum",
        "nesterov",
        "adagrad",
        "rmsprop",
        "adam",
        "adamw",
    ]
    assert all(cls.__name__.lower() == name for name, cls in OPTIMIZERS.items())
    with pytest.raises(
        NnscratchError,
        match=r"^lr must be a number in \(0, ∞\), got -1: use "
        r"e\.g\. 0\.001$",
    ):
        Adam(lr=-1)


def test_step_schedule():
    schedule = StepLR(step_size=2, gamma=0.5)
    assert [schedule(0.8, e) for e in range(5)] == [0.8, 0.8, 0.4, 0.4, 0.2]


def test_cosine_schedule():
    schedule = CosineLR(total=4, min_lr=0.1)
    lrs = [schedule(1.1, e) for e in range(5)]
    # 0.1 + 0.5 · 1.0 · (1 + cos(π e / 4)): 1.1, 0.1 + 0.5(1 + √½), 0.6, 0.1 + 0.5(1 - √½), 0.1
    np.testing.assert_allclose(
        lrs, [1.1, 0.1 + 0.5 * (1 + math.sqrt(0.5)), 0.6, 0.1 + 0.5 * (1 - math.sqrt(0.5)), 0.1]
    )


def test_optimizer_path_on_a_quadratic():
    path = optimizer_path(SGD(0.25), lambda x: 2 * x, [4.0, -2.0], step_num=2)
    # x ← x - 0.25 · 2x = x / 2
    np.testing.assert_array_equal(path, [[4.0, -2.0], [2.0, -1.0], [1.0, -0.5]])


# --- hyperparameters checked at the boundary (validation's helpers) ---------------------------


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: StepLR(True), r"^step_size must be a positive integer, got True: "),
        (lambda: StepLR(0), r"^step_size must be a positive integer, got 0"),
        (lambda: StepLR(2.0), r"^step_size must be a positive integer, got 2\.0"),
        (lambda: StepLR(2, gamma=0), r"^step decay factor γ must be a number in \(0, 1\], got 0"),
        (lambda: StepLR(2, gamma=1.5), r"^step decay factor γ must be a number in \(0, 1\]"),
        (lambda: StepLR(2, gamma=True), r"^step decay factor γ must be a number in \(0, 1\]"),
        (
            lambda: CosineLR(True),
            r"^the cosine schedule's length \(total\) must be a positive "
            r"integer, got True: ",
        ),
        (lambda: CosineLR(0), r"length \(total\) must be a positive integer, got 0"),
        (lambda: CosineLR(4, min_lr=-0.1), r"^min_lr must be a number in \[0, ∞\), got -0\.1"),
        (
            lambda: Momentum(momentum=1.0),
            r"^momentum must be a number in \[0, 1\), got 1\.0: "
            r"use e\.g\. 0\.9",
        ),
        (lambda: Nesterov(momentum=-0.5), r"^momentum must be a number in \[0, 1\)"),
        (lambda: RMSprop(decay_rate=1), r"^decay_rate must be a number in \[0, 1\)"),
        (lambda: Adam(beta1=1.0), r"^beta1 must be a number in \[0, 1\)"),
        (lambda: Adam(beta2=True), r"^beta2 must be a number in \[0, 1\)"),
        (lambda: Adam(eps=0.0), r"^eps must be a number in \(0, ∞\), got 0\.0: use e\.g\. 1e-08"),
        (lambda: AdaGrad(eps=-1e-7), r"^eps must be a number in \(0, ∞\)"),
        (lambda: RMSprop(eps=float("nan")), r"^eps must be a number in \(0, ∞\)"),
    ],
)
def test_bad_hyperparameters_are_clear_errors(make, message):
    with pytest.raises(NnscratchError, match=message):
        make()


def test_hyperparameters_at_the_ends_of_their_ranges_are_accepted():
    assert [StepLR(1, gamma=1)(0.5, e) for e in range(3)] == [0.5, 0.5, 0.5]  # γ = 1: constant
    assert CosineLR(np.int64(2), min_lr=0)(1.0, 2) == 0.0
    # α = 0 and β1 = 0: no memory, so the first update is plain SGD's / RMSprop's with ρ = β2
    for momentum, sgd in zip(_two_updates(Momentum(0.1, momentum=0)), _two_updates(SGD(0.1))):
        np.testing.assert_array_equal(momentum, sgd)
    # β1 = β2 = 0: m = g, v = g², so W ← W - lr · g / (|g| + ε) ≈ W - lr · sign(g)
    first, second = _two_updates(Adam(0.1, beta1=0.0, beta2=0.0))
    np.testing.assert_allclose(first, [1 - 0.1, -2 - 0.1], rtol=1e-7)
    np.testing.assert_allclose(second, [1 - 0.1 + 0.1, -2 - 0.2], rtol=1e-7)


def test_the_cosine_rate_stays_at_its_end_after_total_epochs():
    schedule = CosineLR(total=4, min_lr=0.1)
    # past the end the cosine would climb again (epoch 6: 0.1 + 0.5·(1 + cos 1.5π) = 0.6)
    assert [schedule(1.1, e) for e in (4, 5, 6, 8, 100)] == [0.1] * 5


def test_the_default_learning_rates_are_the_documented_ones():
    # the README's table: SGD 0.1 (the book's chapter-4 rate), Momentum, Nesterov and AdaGrad
    # 0.01, RMSprop and Adam 0.001 — written out here, not read from the signatures
    assert [cls().lr for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam)] == [
        0.1,
        0.01,
        0.01,
        0.01,
        0.001,
        0.001,
    ]


def test_adamw_shrinks_the_matrices_then_takes_adams_step():
    # by hand, lr 0.1, λ 0.1: W ← 1·(1 − 0.01) = 0.99, then Adam's first step lr·g/|g| = 0.1
    params = {"W": np.array([[1.0]]), "b": np.array([1.0])}
    grads = {"W": np.array([[0.5]]), "b": np.array([0.5])}
    AdamW(lr=0.1, decay=0.1, eps=1e-12).update(params, grads)
    assert params["W"][0, 0] == pytest.approx(0.99 - 0.1, abs=1e-10)
    assert params["b"][0] == pytest.approx(1.0 - 0.1, abs=1e-10)  # a bias is not decayed
    assert grads["W"][0, 0] == 0.5


def test_adamw_without_decay_is_adam():
    a, b = {"W": np.array([[1.0, -2.0]])}, {"W": np.array([[1.0, -2.0]])}
    adam, adamw = Adam(lr=0.05), AdamW(lr=0.05, decay=0.0)
    for g in (G1, G2):
        adam.update(a, {"W": np.array([g])})
        adamw.update(b, {"W": np.array([g])})
    np.testing.assert_array_equal(a["W"], b["W"])


def test_clipping_by_the_global_norm():
    grads = {"a": np.array([3.0]), "b": np.array([[4.0]])}  # ‖g‖ = 5
    assert global_norm(grads) == 5.0
    clipped = clip_by_global_norm(grads, 1.0)
    np.testing.assert_allclose(clipped["a"], [0.6])
    np.testing.assert_allclose(clipped["b"], [[0.8]])
    assert grads["a"][0] == 3.0  # never written into
    kept = clip_by_global_norm(grads, 10.0)
    assert kept["a"][0] == 3.0 and kept["b"][0, 0] == 4.0
    f32 = clip_by_global_norm({"a": np.array([3.0, 4.0], np.float32)}, 1.0)
    assert f32["a"].dtype == np.float32


def test_warmup_then_cosine():
    s = WarmupCosineLR(total=10, warmup=2, min_lr=0.1)
    assert s(1.0, 0) == 0.0
    assert s(1.0, 1) == pytest.approx(0.5)  # halfway up the ramp
    assert s(1.0, 2) == pytest.approx(1.0)  # the top
    assert s(1.0, 6) == pytest.approx(0.55)  # halfway down: (1 + 0.1) / 2
    assert s(1.0, 10) == pytest.approx(0.1) and s(1.0, 50) == pytest.approx(0.1)
    with pytest.raises(NnscratchError, match="longer than its warm-up"):
        WarmupCosineLR(total=2, warmup=2)
