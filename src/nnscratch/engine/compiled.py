"""Whether the engine's compiled kernels (:mod:`nnscratch.engine.kernels`, numba) run, and where
numba keeps them.

The engine computes each layer and update with NumPy; where numba is installed, the passes that
NumPy makes one by one over the same arrays (Adam's fourteen, batch norm's, the softmax's) run as
one compiled loop instead, on every core where it pays. A thread's engine uses them inside
``with using(True):`` (:func:`loaded`); a training run says so for itself when it is long enough
to win back their loading — numba's import and set-up, about half a second (:func:`pays`:
:data:`PAYING_VALUES`) — a choice of the run's own size, never of what ran before in the
process, so that a run gives the same numbers in a fresh process, a search's worker or a resume
(the layers' kernels round otherwise than NumPy's in the last bits). :func:`kernels` loads them
and gives that module, or ``None`` for the NumPy engine:

- numba missing or failing to import (a Python it does not support yet, an unusual platform):
  ``None``, and :func:`status` says why, in one line (a warning, once: ``nnscratch train``
  prints it);
- ``NNSCRATCH_COMPILED=0`` in the environment (or :func:`enable` ``(False)``): ``None``, on
  purpose — the NumPy engine, e.g. to compare.

numba compiles a kernel on its first call for the dtypes it meets and keeps the machine code on
disk (``$NUMBA_CACHE_DIR``, else :func:`cache_folder`), so only the very first run on a machine
pays the compilation; a later run loads it. The compiled and the NumPy engine give the same
results within float rounding (tests prove it, kernel by kernel and for whole runs).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np

__all__ = [
    "ENV",
    "PAYING_VALUES",
    "cache_folder",
    "enable",
    "kernels",
    "pays",
    "loaded",
    "loaded_for",
    "max_threads",
    "set_threads",
    "status",
    "thread_pool",
    "threads",
    "using",
]

#: the environment variable that turns the compiled kernels off ("0") for a whole process
ENV = "NNSCRATCH_COMPILED"

#: parameter values a run updates (steps × parameters) from which it loads the kernels: loading
#: takes about 0.5 s (numba's import and set-up; about 4 s more the very first time, compiling),
#: and the kernels save about 0.4 s an epoch of the default network on Fashion-MNIST (1.4e8
#: values an epoch): two epochs (2.8e8) measured even, ten 4.3 s faster (20 %); the quick
#: start's digits run (3e7) never loads them
PAYING_VALUES = 200_000_000

_state: dict = {"enabled": None, "module": None, "why": None}
_thread = threading.local()  # .use: this thread's run's choice (:func:`using`)


def cache_folder() -> Path:
    """Where numba keeps the compiled kernels unless ``$NUMBA_CACHE_DIR`` says: the user cache
    (``$XDG_CACHE_HOME/nnscratch/numba``, else ``~/.cache/nnscratch/numba``)."""
    from ..datasets.sources import cache_root

    return cache_root() / "numba"


def enable(on: bool | None = True) -> bool | None:
    """Turn the compiled kernels on (where numba imports) or off for this process (``None``: as
    ``$NNSCRATCH_COMPILED`` says); returns the setting before."""
    before = _state["enabled"]
    _state["enabled"] = None if on is None else bool(on)
    return before


def _enabled() -> bool:
    if _state["enabled"] is None:
        _state["enabled"] = os.environ.get(ENV, "1").strip() not in ("0", "false", "no", "off")
    return bool(_state["enabled"])


def kernels() -> ModuleType | None:
    """The kernels module, loaded (numba imported) on the first call; ``None`` when they are
    off or numba cannot be imported (:func:`status` says which; a warning says it once)."""
    if not _enabled():
        return None
    module = _state["module"]
    if module is None and _state["why"] is None:
        module = _state["module"] = _load()
        if module is None:
            warnings.warn(status(), RuntimeWarning, stacklevel=2)
    return module


def loaded() -> ModuleType | None:
    """The kernels module if it is loaded, on, and this thread uses it (:func:`using`), else
    ``None`` (never loads it): what the engine's layers and optimizers ask at every step."""
    if _state["enabled"] is False or not getattr(_thread, "use", False):
        return None
    return _state["module"]


@contextlib.contextmanager
def using(on: bool) -> Iterator[None]:
    """``with using(on):`` this thread's engine runs on the kernels (``on``, where loaded: see
    :func:`kernels`) or on NumPy's (not ``on``: also the default) inside, as before after."""
    before = getattr(_thread, "use", None)
    _thread.use = bool(on)
    try:
        yield
    finally:
        _thread.use = before


def loaded_for(*arrays: np.ndarray) -> ModuleType | None:
    """The kernels module where it is loaded and its kernels can take ``arrays``: C-contiguous
    (they run over flat indices or rows), all of one dtype, float32 or float64; else ``None``
    (the NumPy way)."""
    kernels = loaded()
    if kernels is None:
        return None
    dtype = arrays[0].dtype
    if dtype.char not in "fd" or any(a.dtype != dtype or not a.flags.c_contiguous for a in arrays):
        return None
    return kernels


def pays(parameters: int, steps: int) -> bool:
    """Whether a run of ``steps`` updates of ``parameters`` values wins back the kernels'
    loading (:data:`PAYING_VALUES`)."""
    return parameters * steps >= PAYING_VALUES


def _load() -> ModuleType | None:
    try:
        import numba
    except Exception as error:  # ImportError, or a numba built for another NumPy
        _state["why"] = f"numba could not be imported ({type(error).__name__}: {error})"
        return None
    # an OpenMP thread that spins after a kernel, waiting for the next, holds a core that BLAS's
    # threads and the main thread need: on 2 cores, epochs of 0.4 s took 15 s
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if not os.environ.get("NUMBA_CACHE_DIR"):
        # read when a kernel is decorated: set before the kernels module is imported
        numba.config.CACHE_DIR = str(cache_folder())  # type: ignore[attr-defined]
    from . import kernels as module

    # numba's first call sets its compiler up, which loads SciPy's BLAS: now, not in the middle
    # of a run whose BLAS threads were set (nnscratch.engine.blas)
    module.sgd.serial(*np.zeros((2, 1)), 0.0)
    return module


def status() -> str:
    """One line: which engine the compiled kernels leave ("compiled (numba X)" or why NumPy)."""
    if not _enabled():
        return f"the NumPy engine ({ENV}=0): the compiled kernels are off"
    if kernels() is None:
        return (
            f"the NumPy engine: {_state['why']}; pip install numba for the compiled kernels "
            "(the same results, faster)"
        )
    return f"the compiled engine (numba {sys.modules['numba'].__version__})"


def set_threads(count: int | None) -> None:
    """Threads for the compiled kernels' parallel loops (this thread's setting; None changes
    nothing), kept equal to BLAS's by :func:`nnscratch.engine.blas.blas_limit`."""
    if count is None or _state["module"] is None:
        return
    import numba

    numba.set_num_threads(max(1, min(count, max_threads())))


def threads() -> int:
    """The threads the kernels' parallel loops use now (this thread's setting): 1 where the
    kernels are not loaded."""
    if loaded() is None:
        return 1
    import numba

    return int(numba.get_num_threads())


def thread_pool(workers: int) -> concurrent.futures.ThreadPoolExecutor:
    """A pool of at least ``workers`` threads, kept for the process, for the engine's work that
    NumPy runs with the GIL let go (blocks of a softmax in ``engine.time_layers``)."""
    pool, size = _state.get("pool"), _state.get("pool_size", 0)
    if pool is None or size < workers:
        pool = _state["pool"] = concurrent.futures.ThreadPoolExecutor(
            workers, thread_name_prefix="nnscratch-engine"
        )
        _state["pool_size"] = workers
    return pool


def max_threads() -> int:
    """The most threads the kernels' parallel loops can have (numba's pool: the cores, or
    ``$NUMBA_NUM_THREADS``)."""
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
