"""BLAS threads: how many a network's mini-batch steps get, and the limit that holds them.

NumPy's matrix products run in OpenBLAS, which by default splits a product over every core and
keeps very small ones on one. On the machines measured (``benchmarks/blas_threads.py``, figures
in the README) a second thread pays from about a million multiply-adds per product (100 × 100 ×
100: 0.79 of one thread's time; 100 × 784 × 256: 0.62) and changes nothing below, where threads
only add the chance of waiting for a busy core. So a step's threads are chosen by the size of its
products, by a rule on the network's shapes and never by a timing: OpenBLAS's one- and two-thread
kernels round differently (products with 784 terms, in float32), and a choice made by the clock
could give two runs of the same seed different numbers. The numbers of a run are the same on
the same machine with the same BLAS setting (resumes included); another core count, another
``OPENBLAS_NUM_THREADS`` or another processor's kernels round differently.

The thread count is one setting of the whole process: :func:`blas_limit` must not run in two
threads at once (the playground, whose sessions step in parallel threads, leaves it alone).
"""

import contextlib
import sys

from ..validation import check_positive_int

__all__ = ["SECOND_THREAD_MACS", "blas_limit", "run_threads", "step_threads"]

#: Multiply-adds of a step's largest product from which BLAS keeps its own setting (every core);
#: below it a step runs on one thread.
SECOND_THREAD_MACS = 1_000_000


def step_threads(net, batch_size):
    """BLAS threads for the steps of ``net`` on mini-batches of ``batch_size`` rows: ``None``
    (BLAS's own setting) when the step's largest product has at least
    :data:`SECOND_THREAD_MACS` multiply-adds, else 1.

    The largest product has at least ``batch_size × W.size`` multiply-adds for the largest weight
    array W (x·W (N, D)·(D, H) of an Affine layer is N·D·H; a convolution's im2col product is
    out_h·out_w times that)."""
    weights = [p.size for p in getattr(net, "params", {}).values() if getattr(p, "ndim", 0) >= 2]
    return None if batch_size * max(weights, default=0) >= SECOND_THREAD_MACS else 1


def run_threads(setting, net, batch_size):
    """(BLAS threads for the steps, for the end of an epoch) of a training run, from
    ``Trainer.blas_threads``: "auto" → :func:`step_threads` for the steps, BLAS's own setting for
    the evaluation (its chunks of thousands of rows are large products: the count in force when
    the run starts, so that a caller's own limit holds); n → n for both; None → BLAS's setting
    untouched."""
    if setting == "auto":
        steps = step_threads(net, batch_size)
        return steps, None if steps is None else current_threads()
    if setting is not None:
        check_positive_int(
            setting, "blas_threads", hint='or "auto" (the default), or None to leave BLAS alone'
        )
    return setting, setting


@contextlib.contextmanager
def blas_limit(threads):
    """``with blas_limit(n):`` BLAS (NumPy's matrix products) uses ``n`` threads inside, its
    previous setting after; ``n=None`` changes nothing. Through threadpoolctl's controllers of the
    BLAS libraries, looked up when modules were imported since the last time (1-2 ms) and set
    directly (a microsecond, where a new ``threadpool_limits`` costs as much as a lookup: too
    much for one step)."""
    if threads is None:
        yield
        return
    libraries = _blas_libraries()
    before = [lib.get_num_threads() for lib in libraries]
    for lib in libraries:
        lib.set_num_threads(threads)
    try:
        yield
    finally:
        for lib, count in zip(libraries, before):
            lib.set_num_threads(count)


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
