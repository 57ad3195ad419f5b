"""BLAS threads: the rule on a network's shapes, and the limits that hold during a run."""

import types

import numpy as np
import pytest

from nnscratch import SimpleConvNet, TwoLayerNet
from nnscratch.engine import blas, compiled
from nnscratch.errors import NnscratchError
from nnscratch.run.trainer import Trainer

threadpoolctl = pytest.importorskip("threadpoolctl")
# numba (where the compiled kernels run) brings SciPy's BLAS with it: loaded before any test
# counts the libraries, as blas_limit loads it before it looks them up
compiled.kernels()


def blas_threads():
    return [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]


def test_step_threads_by_the_largest_product():
    # the notebook's W1 (784 × 50) times 100 rows: 3,920,000 multiply-adds ≥ 1,000,000
    assert blas.step_threads(TwoLayerNet(784, 50, 10, seed=0), 100) is None
    # digits' W1 (64 × 50) times 100 rows: 320,000, and 784 × 50 times 20 rows: 784,000
    assert blas.step_threads(TwoLayerNet(64, 50, 10, seed=0), 100) == 1
    assert blas.step_threads(TwoLayerNet(784, 50, 10, seed=0), 20) == 1
    # 784 × 50 × 26 = 1,019,200: just over
    assert blas.step_threads(TwoLayerNet(784, 50, 10, seed=0), 26) is None
    # a conv net's largest weight is an Affine one (4,320 × 100 on 28 × 28 inputs)
    assert blas.step_threads(SimpleConvNet(seed=0), 3) is None
    assert blas.step_threads(object(), 100) == 1  # no weights at all: nothing large


def idle(*answers):
    """A stand-in for the core monitor: idle cores ``answers`` in turn, the last one after."""
    seq = list(answers)
    return lambda: seq.pop(0) if len(seq) > 1 else seq[0]


def test_run_threads_settings():
    small, large = TwoLayerNet(64, 50, 10, seed=0), TwoLayerNet(784, 50, 10, seed=0)
    limit = max(blas_threads(), default=None)

    def auto(net, idle_cores):
        t = blas.RunThreads("auto", net, 100, idle_cores=idle(idle_cores))
        return t.steps, t.evaluation

    if limit is not None:
        quiet = min(limit, 2)
        assert auto(small, 2.0) == (1, quiet)  # small products: one thread whatever the load
        assert auto(large, 2.0) == (quiet, quiet)
        assert auto(large, 1.8) == (quiet, quiet)  # 0.2 of a core busy still counts as idle
        assert auto(large, 1.7) == (1, 1)  # 0.3 does not
        assert auto(large, 0.0) == (1, 1)  # every core busy: one thread
        assert auto(large, None) == (1, 1)  # the load unknown (Windows): one thread
        assert auto(large, 64.0) == (limit, limit)  # never more than the count in force
        with blas.blas_limit(1):  # a caller's own limit holds
            assert auto(large, 2.0) == (1, 1)
    assert blas.RunThreads(3, small, 100).steps == 3
    assert blas.RunThreads(3, small, 100).evaluation == 3
    assert blas.RunThreads(None, large, 100).steps is None
    assert blas.RunThreads(None, large, 100).evaluation is None
    for bad in (0, -1, "two", 1.5, "Auto"):
        with pytest.raises(NnscratchError, match='blas_threads.*"auto"'):
            blas.RunThreads(bad, small, 100)


def test_one_thread_at_most_needs_no_measurement():
    two_threads_or_skip()

    def unasked():
        raise AssertionError("the load was measured where there was nothing to choose")

    with blas.blas_limit(1):
        threads = blas.RunThreads("auto", TwoLayerNet(784, 50, 10, seed=0), 100, idle_cores=unasked)
        threads.look()
    assert (threads.steps, threads.evaluation) == (1, 1)


def test_look_follows_the_load():
    two_threads_or_skip()
    threads = blas.RunThreads(
        "auto", TwoLayerNet(784, 50, 10, seed=0), 100, idle_cores=idle(2.0, 0.1, 1.9)
    )
    assert (threads.steps, threads.evaluation) == (2, 2)
    threads.look()  # two busy processes arrived
    assert (threads.steps, threads.evaluation) == (1, 1)
    threads.look()  # and left
    assert (threads.steps, threads.evaluation) == (2, 2)


def test_blas_limit_sets_and_restores():
    before = blas_threads()
    if not before:
        pytest.skip("no BLAS library that threadpoolctl can see")
    with blas.blas_limit(1):
        assert blas_threads() == [1] * len(before)
        with blas.blas_limit(2):
            assert blas_threads() == [2] * len(before)
        assert blas_threads() == [1] * len(before)
    assert blas_threads() == before
    with pytest.raises(RuntimeError), blas.blas_limit(1):
        raise RuntimeError("restored on the way out too")
    assert blas_threads() == before


def two_threads_or_skip():
    before = blas_threads()
    if not before or max(before) < 2:
        pytest.skip("BLAS on one thread already: one and all cannot be told apart")
    return before


def threads_seen(net, n_features, epochs, monkeypatch, *idle_cores):
    """Train ``net`` on random data with the monitor answering ``idle_cores`` in turn; the BLAS
    threads in force at each step and evaluation."""
    fake = types.SimpleNamespace(idle_cores=idle(*idle_cores))
    monkeypatch.setattr(blas.load, "monitor", lambda: fake)
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((100 * epochs, n_features)), rng.integers(0, 4, 100 * epochs)
    trainer = Trainer(net, x, t, epochs=epochs, batch_size=50, seed=0)
    in_steps, in_evaluation = [], []
    step, accuracy = trainer.step, net.accuracy
    trainer.step = lambda batch: in_steps.append(blas_threads()) or step(batch)
    net.accuracy = lambda *a: in_evaluation.append(blas_threads()) or accuracy(*a)
    trainer.train()
    return in_steps, in_evaluation


def test_auto_run_one_thread_for_small_steps_idle_cores_for_evaluation(monkeypatch):
    before = two_threads_or_skip()
    # 160 weights × 50 rows: a step on one thread
    in_steps, in_evaluation = threads_seen(TwoLayerNet(20, 8, 4, seed=0), 20, 2, monkeypatch, 2.0)
    assert in_steps and all(s == [1] * len(before) for s in in_steps)
    assert in_evaluation and all(s == [2] * len(before) for s in in_evaluation)
    assert blas_threads() == before


def test_auto_run_large_steps_on_the_idle_cores_chosen_again_each_epoch(monkeypatch):
    before = two_threads_or_skip()
    # 784 × 50 weights × 50 rows: 1,960,000 multiply-adds; quiet, then busy after epoch 1
    in_steps, in_evaluation = threads_seen(
        TwoLayerNet(784, 50, 4, seed=0), 784, 2, monkeypatch, 2.0, 0.0
    )
    two, one = [2] * len(before), [1] * len(before)
    assert in_steps == [two] * 4 + [one] * 4  # 200 samples, 50 a batch: 4 steps an epoch
    assert in_evaluation == [two, one]  # the accuracy at each epoch's end
    assert blas_threads() == before


def test_a_failing_step_restores_blas():
    before = two_threads_or_skip()

    x = np.random.default_rng(1).standard_normal((100, 20))
    small = Trainer(
        TwoLayerNet(20, 8, 4, seed=0), x, np.arange(100) % 4, epochs=1, batch_size=50, seed=0
    )

    def fail(batch):
        assert blas_threads() == [1] * len(before)
        raise RuntimeError("a step that fails")

    small.step = fail
    with pytest.raises(RuntimeError):
        small.train()
    assert blas_threads() == before


def test_without_blas_nothing_to_limit(monkeypatch):
    monkeypatch.setattr(blas, "_LIBRARIES", [])
    assert blas.current_threads() is None
    with blas.blas_limit(1):
        pass
    threads = blas.RunThreads("auto", TwoLayerNet(784, 50, 4, seed=0), 50, idle_cores=idle(2.0))
    assert (threads.steps, threads.evaluation) == (None, None)


def test_blas_limit_holds_the_compiled_kernels_threads_too():
    kernels = compiled.kernels()
    if kernels is None:
        pytest.skip(compiled.status())
    with compiled.using(True):  # as a run that uses them
        before = compiled.threads()
        with blas.blas_limit(1) as set_threads:
            assert compiled.threads() == 1
            set_threads(2)
            assert compiled.threads() == min(2, compiled.max_threads())
        assert compiled.threads() == before
    assert compiled.threads() == 1  # outside a run that uses them: NumPy's, one thread
