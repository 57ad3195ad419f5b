"""The compiled kernels (``nnscratch.engine.compiled``, ``kernels``): each update equals the NumPy
engine's bit for bit; the engine falls back to NumPy's kernels where numba is missing, saying so
once; a run loads them only when it pays; numba keeps them in the user's cache folder."""

import os
import subprocess
import sys

import numpy as np
import pytest

from nnscratch import optim
from nnscratch.engine import FAST, compiled
from nnscratch.engine import optim as engine_optim
from nnscratch.nets import MultiLayerNet
from nnscratch.optim import OPTIMIZERS
from nnscratch.run.trainer import Trainer

needs_numba = pytest.mark.skipif(
    compiled.kernels() is None, reason="numba cannot be imported here: the NumPy engine only"
)


def updates(name, dtype, on, steps=40, noncontiguous=False, strided_grad=False):
    """``steps`` updates of optimizer ``name`` (the engine's) on W (6 × 5, or its transpose, a
    view that is not C-contiguous) and b, with NumPy's kernels (``on`` False) or the compiled
    ones; W's gradient is 0 in one column from step 10 on, so that its moving averages decay
    into the subnormal floats and are flushed (with ``strided_grad``, it is a transposed view,
    as a convolution's). The parameters and the state after."""
    if on:
        compiled.kernels()  # loaded (where numba imports): the thread uses them below
    with compiled.using(on):
        rng = np.random.default_rng(3)
        kwargs = {"decay": 0.1} if name == "adamw" else {}
        opt = FAST[OPTIMIZERS[name]](lr=0.05, **kwargs)
        w = rng.standard_normal((5, 6) if noncontiguous else (6, 5)).astype(dtype)
        params = {"W": w.T if noncontiguous else w, "b": rng.standard_normal(5).astype(dtype)}
        for step in range(steps):
            grads = {k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()}
            if step >= 10:
                grads["W"][:, 0] = 0.0
            if strided_grad:
                grads["W"] = np.ascontiguousarray(grads["W"].T).T
            opt.update(params, grads)
        return params, opt.state_dict()


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_compiled_update_equals_numpys_bit_for_bit(name, dtype):
    numpy_params, numpy_state = updates(name, dtype, on=False)
    params, state = updates(name, dtype, on=True)
    for key in params:
        np.testing.assert_array_equal(params[key], numpy_params[key], err_msg=key)
    assert state.keys() == numpy_state.keys()
    for key in state:
        np.testing.assert_array_equal(state[key], numpy_state[key], err_msg=key)


@needs_numba
def test_the_flush_reaches_the_subnormal_floats_in_both(monkeypatch):
    # float32, 0.9ᵏ: Momentum's velocity of a column whose gradient stopped (step 10) falls below
    # 1.2e-38 after about 800 steps and under float32's least subnormal after about 940: at step
    # 870 it is 0 where the flushes ran, subnormal where they did not
    for on in (False, True):
        _, state = updates("momentum", np.float32, on, steps=870)
        assert np.all(state["v/W"][:, 0] == 0), state["v/W"][:, 0]
        monkeypatch.setattr(engine_optim, "FLUSH_EVERY", 10**9)
        _, state = updates("momentum", np.float32, on, steps=870)
        monkeypatch.undo()
        column = np.abs(state["v/W"][:, 0])
        assert np.all((column > 0) & (column < np.finfo(np.float32).tiny)), column


@needs_numba
def test_a_parameter_that_is_not_contiguous_is_updated_by_numpys_kernels():
    numpy_params, _ = updates("adam", np.float32, on=False, noncontiguous=True)
    params, _ = updates("adam", np.float32, on=True, noncontiguous=True)
    assert not params["W"].flags.c_contiguous
    np.testing.assert_array_equal(params["W"], numpy_params["W"])


@needs_numba
def test_a_strided_gradient_is_read_as_numpys_kernels_read_it(monkeypatch):
    numpy_params, _ = updates("adam", np.float32, on=False, strided_grad=True)
    kernels, calls = compiled.kernels(), []
    adam = kernels.adam
    monkeypatch.setattr(kernels, "adam", lambda *a: calls.append(a[0].size) or adam(*a))
    params, _ = updates("adam", np.float32, on=True, strided_grad=True)
    assert calls.count(30) == 40  # W's 40 updates: by the kernel, not NumPy's passes
    np.testing.assert_array_equal(params["W"], numpy_params["W"])
    reference, _ = updates("adam", np.float32, on=False)
    np.testing.assert_array_equal(params["W"], reference["W"])


@needs_numba
def test_a_whole_run_on_the_compiled_kernels_is_the_textbooks():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((300, 20)), rng.integers(0, 4, 300)
    histories = {}
    for engine, on in (("book", False), ("fast", False), ("fast", True)):
        net = MultiLayerNet(20, [16, 12], 4, use_batchnorm=True, seed=0)
        trainer = Trainer(
            net, x, t, epochs=3, batch_size=30, optimizer=optim.Adam(0.01), seed=0,
            engine=engine,
        )  # fmt: skip
        trainer.compiled_kernels = on  # a short run: "auto" would take NumPy's
        histories[engine, on] = trainer.train()["train_loss"]
    book = np.array(histories["book", False])
    np.testing.assert_allclose(histories["fast", False], book, rtol=1e-12)
    np.testing.assert_allclose(histories["fast", True], book, rtol=1e-12)


@pytest.fixture
def no_numba(monkeypatch):
    """A process where ``import numba`` fails (as where it is not installed) and the kernels
    were never loaded."""
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba → ImportError
    monkeypatch.setattr(compiled, "_state", {"enabled": None, "module": None, "why": None})
    monkeypatch.delenv(compiled.ENV, raising=False)


def test_without_numba_the_numpy_engine_runs_and_says_so_once(no_numba):
    with pytest.warns(RuntimeWarning, match="pip install numba") as caught:
        assert compiled.kernels() is None
        assert compiled.kernels() is None  # asked again: no second warning
    assert len(caught) == 1
    assert compiled.loaded() is None
    assert "the NumPy engine" in compiled.status() and "\n" not in compiled.status()
    params, _ = updates("adam", np.float32, on=True)  # "on", but nothing to run them: NumPy's
    reference, _ = updates("adam", np.float32, on=False)
    np.testing.assert_array_equal(params["W"], reference["W"])


def test_a_run_loads_the_kernels_only_when_it_pays(no_numba, recwarn):
    assert not compiled.pays(1000, 1000) and compiled.pays(compiled.PAYING_VALUES, 1)
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((60, 5)), rng.integers(0, 2, 60)
    trainer = Trainer(MultiLayerNet(5, [4], 2, seed=0), x, t, epochs=1, batch_size=30, seed=0)
    trainer.train()
    assert not recwarn.list  # a short run does not even try
    trainer.compiled_kernels = True  # asked for: tries, and says why it cannot
    with pytest.warns(RuntimeWarning, match="numba"):
        trainer.run(1)


@needs_numba
def test_a_runs_numbers_do_not_depend_on_what_ran_before_it_in_the_process():
    # the kernels loaded (by this test module) and in use: a run too short to pay for them runs
    # on NumPy's, as it does in a fresh process (a search's worker, a resume), bit for bit
    def history(on):
        with compiled.using(on):  # the thread's choice before the run: the run's own wins
            rng = np.random.default_rng(1)
            x, t = rng.standard_normal((200, 12)), rng.integers(0, 3, 200)
            net = MultiLayerNet(12, [10], 3, use_batchnorm=True, seed=0)
            return Trainer(net, x, t, epochs=2, batch_size=20, seed=0).train()["train_loss"]

    assert compiled.kernels() is not None
    assert history(True) == history(False)


def test_turned_off_by_the_environment(no_numba, monkeypatch, recwarn):
    monkeypatch.setenv(compiled.ENV, "0")
    assert compiled.kernels() is None
    assert not recwarn.list  # off on purpose: nothing to warn of
    assert f"{compiled.ENV}=0" in compiled.status()


def _python(code, env):
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )


@needs_numba
@pytest.mark.slow
def test_numba_keeps_the_compiled_kernels_in_the_user_cache(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", compiled.ENV)}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    code = (
        "import numpy as np\n"
        "from nnscratch.engine import compiled\n"
        "k = compiled.kernels()\n"
        "p = np.ones(4, np.float32)\n"
        "k.sgd(p, p.copy(), np.float32(0.5))\n"
        "print(p[0])\n"
    )
    first = _python(code, env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "0.5"
    folder = tmp_path / "nnscratch" / "numba"
    cached = {p.name for p in folder.rglob("*")}
    assert any(name.endswith(".nbi") for name in cached), cached  # the index numba reads
    assert any(name.endswith(".nbc") for name in cached), cached  # the machine code


@pytest.mark.slow
def test_the_quick_starts_short_run_never_imports_numba():
    code = (
        "import sys\n"
        "from nnscratch.run.build import build\n"
        "build({'epochs': 2}).trainer.train()\n"
        "print('numba' in sys.modules)\n"
    )
    run = _python(code, {k: v for k, v in os.environ.items() if k != compiled.ENV})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.slow
def test_nnscratch_train_without_numba_says_so_in_one_line_and_trains(tmp_path):
    # numba made unimportable, as where it is not installed; a run long enough to want the
    # kernels (4.3 million parameters × 90 steps ≥ PAYING_VALUES)
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "from nnscratch.cli import main\n"
        "sys.exit(main())\n"
    )
    args = ["train", "--hidden", "2000,2000", "--epochs", "2", "--out", str(tmp_path / "run")]
    env = {k: v for k, v in os.environ.items() if k != compiled.ENV}
    run = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    notices = [line for line in run.stderr.splitlines() if "numba" in line]
    assert len(notices) == 1, run.stderr
    assert "the NumPy engine" in notices[0] and "pip install numba" in notices[0]
    assert "Traceback" not in run.stderr
    assert (tmp_path / "run" / "model.npz").exists()
