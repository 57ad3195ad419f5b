"""When does OpenBLAS's second thread pay? Matrix products of the shapes a mini-batch step makes,
timed with 1 and 2 BLAS threads on this machine.

Each shape (rows × inner × columns, float32) is timed as it runs in training: a product, then an
elementwise pass over its output (as ReLU or + b would make), ``--reps`` times in a row; the two
thread counts take turns, ``--rounds`` rounds, and the median is reported. Prints the time per
product with each count, their ratio, and the smallest product (in multiply-adds) from which two
threads are faster in every larger shape: the measurement behind ``nnscratch.blas``'s
``SECOND_THREAD_MACS``. Run by hand, on a quiet machine:

    python benchmarks/blas_threads.py
"""

import argparse
import time

import numpy as np
from convnet import machine
from threadpoolctl import threadpool_limits

#: (rows, inner, columns): the products of a batch-100 step of the notebook's, the recipe's and the
#: conv nets' layers, and evaluation's chunks of 4,096 rows.
SHAPES = [
    (100, 50, 10),
    (100, 128, 10),
    (100, 100, 100),
    (100, 784, 50),
    (784, 100, 50),
    (100, 256, 128),
    (256, 100, 128),
    (100, 128, 256),
    (100, 784, 256),
    (784, 100, 256),
    (1000, 25, 30),
    (4096, 784, 50),
    (4096, 256, 128),
    (4096, 784, 256),
]


def time_product(a, b, reps):
    start = time.perf_counter()
    for _ in range(reps):
        out = a @ b
        np.maximum(out, 0, out=out)
    return (time.perf_counter() - start) / reps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"machine: {machine()}; float32; median of {args.rounds} rounds of {args.reps} products")
    print("\n| rows × inner × columns | MACs | 1 thread µs | 2 threads µs | 2 / 1 |")
    print("|---|---:|---:|---:|---:|")
    ratios = []
    for rows, inner, cols in SHAPES:
        a = rng.standard_normal((rows, inner)).astype(np.float32)
        b = rng.standard_normal((inner, cols)).astype(np.float32)
        times = {1: [], 2: []}
        for _ in range(args.rounds):
            for threads in (1, 2):
                with threadpool_limits(threads, user_api="blas"):
                    times[threads].append(time_product(a, b, max(1, args.reps * 100 // rows)))
        one, two = (float(np.median(times[n])) * 1e6 for n in (1, 2))
        macs = rows * inner * cols
        ratios.append((macs, two / one))
        print(
            f"| {rows} × {inner} × {cols} | {macs / 1e6:.2f} M | {one:.1f} | {two:.1f} "
            f"| {two / one:.2f} |"
        )
    ratios.sort()
    paying = [m for i, (m, _) in enumerate(ratios) if all(r < 0.95 for _, r in ratios[i:])]
    print(
        f"\ntwo threads at least 5 % faster for every product from "
        f"{paying[0] / 1e6:.2f} M multiply-adds"
        if paying
        else "\ntwo threads never pay here"
    )


if __name__ == "__main__":
    main()
