"""What a benchmark's ``--json PATH`` writes, for ``run_all.py`` and anyone else to read.

One JSON object per run::

    {"benchmark": "convnet", "title": "SimpleConvNet, Fashion-MNIST, ...", "unit": "epoch",
     "settings": {...the script's options...}, "date": "2026-12-08T21:40:00",
     "command": "python benchmarks/convnet.py --net simple --epochs 3 --json ...",
     "machine": {"cpu": ..., "simd": "AVX-512", "avx512": true, "cores": 2,
                 "line": "<cpu>, AVX-512, 2 cores",
                 "numpy_gemm_gflops": {"1": 190.0, "2": 280.0}},   # float32 2000² product
     "loads": {"min": 0.4, "max": 1.9, "samples": [...]},         # 1-minute load averages
     "rows": [{"system": "nnscratch", "seconds": 6.74,            # per ``unit``, median
               "ratio_torch": 0.84,                              # ÷ PyTorch with 2 threads
               "test_acc": 0.8824, "val_loss": null, "peak_rss_mb": 436,
               "gemm_share": 0.18, ...the script's own figures...}, ...]}

``null`` where a script does not measure a figure (fastpath has no GEMM share; a GPT has a
validation loss, not an accuracy). The printed tables stay as they were; this is written beside
them.
"""

import datetime
import json
import math
import os
import shlex
import sys

import numpy as np
from convnet import GEMM_SIZE, gemm_gflops, machine_info


def numpy_gemm_rates(threads=(1, 2)):
    """NumPy's float32 GFLOP/s for a GEMM_SIZE² product with each number of BLAS threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    rates = {}
    for n in threads:
        with threadpool_limits(n, user_api="blas"):
            rates[n] = gemm_gflops(
                np.matmul, lambda: rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(np.float32)
            )
    return rates


def _plain(value):
    """``value`` as JSON can hold it: NumPy scalars as Python numbers, NaN and ∞ as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


ROW_KEYS = ("system", "seconds", "ratio_torch", "test_acc", "val_loss", "peak_rss_mb", "gemm_share")


def write_json(path, *, benchmark, title, unit, settings, rows, loads, gemm, **extra):
    """Write the run's record (the module's docstring) to ``path``. ``rows``: one dict per
    system, with at least ``system`` and ``seconds``; the other ROW_KEYS default to None.
    ``gemm``: {threads: NumPy float32 GFLOP/s}. ``loads``: the 1-minute load averages sampled.
    ``extra``: more keys for the record (a script's figures in its own form)."""
    record = {
        "benchmark": benchmark,
        "title": title,
        "unit": unit,
        "settings": settings,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": shlex.join(
            ["python", os.path.relpath(sys.argv[0]) if sys.argv[0] else "?", *sys.argv[1:]]
        ),
        "machine": {**machine_info(), "numpy_gemm_gflops": gemm},
        "loads": {"min": min(loads), "max": max(loads), "samples": list(loads)},
        "rows": [{**dict.fromkeys(ROW_KEYS), **row} for row in rows],
        **extra,
    }
    with open(path, "w") as f:
        json.dump(_plain(record), f, indent=1, ensure_ascii=False)
        f.write("\n")
