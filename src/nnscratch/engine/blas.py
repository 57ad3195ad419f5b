"""BLAS threads: how many a network's mini-batch steps and evaluations get, and the limit that
holds them.

NumPy's matrix products run in OpenBLAS, which by default splits a product over every core and
keeps very small ones on one. On the machines measured (``benchmarks/blas_threads.py``, figures
in the README) a second thread pays from about a million multiply-adds per product (100 × 100 ×
100: 0.79 of one thread's time; 100 × 784 × 256: 0.62) and changes nothing below. But a thread
on a core that another process keeps busy waits for it: beside two busy processes on two cores,
BLAS's own setting made training 2.6× slower than one thread (``benchmarks/busy.py``). So the
rule has two parts:

- the size of the products, a rule on the network's shapes: steps whose largest product is under
  :data:`SECOND_THREAD_MACS` always run on one thread;
- the idle cores (:mod:`nnscratch.engine.load`), looked at when a run starts and after every
  epoch: the larger steps and the evaluation get one thread per idle core (a core counts when
  at least :data:`IDLE_SHARE` of it is free), at least one, at most the count in force when the
  run starts (the cores, ``OPENBLAS_NUM_THREADS`` or a caller's limit). Where the load cannot be
  measured (Windows) they get one thread: the choice that never loses much.

OpenBLAS's one- and two-thread kernels round differently (products with 784 terms, in float32,
differ by about 1e-5), so with ``"auto"`` two runs of the same seed whose large products met
different loads agree to float rounding, not bit for bit. A fixed count (``Trainer.blas_threads =
1``, or ``OPENBLAS_NUM_THREADS=1`` for the CLI) gives the same numbers every time on the same
machine, resumes included.

The thread count is one setting of the whole process: :func:`blas_limit` must not run in two
threads at once (the playground, whose sessions step in parallel threads, leaves it alone).
"""

import contextlib
import math
import sys

from ..validation import check_positive_int
from . import compiled, load

__all__ = ["IDLE_SHARE", "SECOND_THREAD_MACS", "RunThreads", "blas_limit", "step_threads"]

#: Multiply-adds of a step's largest product from which BLAS keeps its own setting (every core);
#: below it a step runs on one thread.
SECOND_THREAD_MACS = 1_000_000

#: The share of a core that must be free for it to count as idle: a BLAS thread on a core that
#: another process keeps half busy waits for it.
IDLE_SHARE = 0.75


def step_threads(net, batch_size):
    """BLAS threads for the steps of ``net`` on mini-batches of ``batch_size`` rows by the size
    of their products: ``None`` (more than one may pay) when the step's largest product has at
    least :data:`SECOND_THREAD_MACS` multiply-adds, else 1.

    The largest product has at least ``batch_size × W.size`` multiply-adds for the largest weight
    array W (x·W (N, D)·(D, H) of an Affine layer is N·D·H; a convolution's im2col product is
    out_h·out_w times that)."""
    weights = [p.size for p in getattr(net, "params", {}).values() if getattr(p, "ndim", 0) >= 2]
    return None if batch_size * max(weights, default=0) >= SECOND_THREAD_MACS else 1


class RunThreads:
    """The BLAS threads of a training run, from ``Trainer.blas_threads``: :attr:`steps` for its
    mini-batch steps and :attr:`evaluation` for the end of an epoch, each a count or ``None``
    (BLAS's setting untouched).

    - "auto": the rule of this module; :meth:`look` measures the idle cores again (the trainer
      calls it after every epoch);
    - n: n threads for both, whatever the load;
    - None: BLAS's setting untouched.

    ``idle_cores`` stands in for :meth:`nnscratch.engine.load.CoreMonitor.idle_cores` (tests)."""

    def __init__(self, setting, net, batch_size, *, idle_cores=None):
        if setting != "auto" and setting is not None:
            check_positive_int(
                setting, "blas_threads", hint='or "auto" (the default), or None to leave BLAS alone'
            )
        self.setting = setting
        self.large_steps = step_threads(net, batch_size) is None
        #: the most threads "auto" gives: the count in force when the run starts
        self.limit = current_threads() if setting == "auto" else None
        self._idle_cores = idle_cores
        self.steps = self.evaluation = None if setting == "auto" else setting
        self.look()

    def look(self):
        """With "auto", choose again from the idle cores now: the evaluation gets one thread per
        idle core (at least 1, at most :attr:`limit`), the steps as many if their products are
        large, else 1."""
        if self.setting != "auto" or self.limit is None:
            return
        # one thread at most (OPENBLAS_NUM_THREADS=1, one core): nothing to choose or wait for
        idle = 1.0 if self.limit == 1 else (self._idle_cores or load.monitor().idle_cores)()
        free = 1 if idle is None else max(1, math.floor(idle + 1 - IDLE_SHARE))
        self.evaluation = min(self.limit, free)
        self.steps = self.evaluation if self.large_steps else 1


@contextlib.contextmanager
def blas_limit(threads):
    """``with blas_limit(n) as set_threads:`` BLAS (NumPy's matrix products) uses ``n`` threads
    inside (``set_threads(m)`` makes it m there), its previous setting after; ``n=None``
    changes nothing (nor does ``set_threads(None)``). Through threadpoolctl's controllers of the
    BLAS libraries, looked up when modules were imported since the last time (1-2 ms) and set
    directly (a microsecond, where a new ``threadpool_limits`` costs as much as a lookup: too
    much for one step). The compiled kernels' parallel loops (:mod:`nnscratch.engine.compiled`)
    get the same count."""
    if threads is None:
        yield lambda count: None
        return
    kernels = compiled.loaded()
    libraries = _blas_libraries()
    before = [lib.get_num_threads() for lib in libraries]
    kernel_threads = compiled.threads() if kernels is not None else None

    def set_threads(count):
        if count is not None:
            for lib in libraries:
                lib.set_num_threads(count)
            compiled.set_threads(count)

    set_threads(threads)
    try:
        yield set_threads
    finally:
        for lib, count in zip(libraries, before):
            lib.set_num_threads(count)
        compiled.set_threads(kernel_threads)


def current_threads():
    """The BLAS thread count in force now (the cores, what OPENBLAS_NUM_THREADS said, or a
    caller's limit); ``None`` when threadpoolctl sees no BLAS library."""
    return max((lib.get_num_threads() for lib in _blas_libraries()), default=None)


_LIBRARIES: list = []
_MODULES_SEEN = -1  # len(sys.modules) when _LIBRARIES was looked up


def _blas_libraries():
    """threadpoolctl's controllers of the BLAS libraries loaded now: looked up again (1-2 ms)
    only when modules were imported since the last look, since a new extension module can bring
    its own BLAS (scikit-learn's SciPy does)."""
    global _LIBRARIES, _MODULES_SEEN
    if len(sys.modules) != _MODULES_SEEN:
        from threadpoolctl import ThreadpoolController

        _LIBRARIES = [
            lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"
        ]
        _MODULES_SEEN = len(sys.modules)
    return _LIBRARIES
