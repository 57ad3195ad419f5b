"""One numerical gradient of the notebook's 784-50-10 net, batch 100: naive loop vs fast engine.

Both compute (L(θ + h e_k) − L(θ − h e_k)) / 2h for all 39,760 parameters, float64, on the same
Fashion-MNIST batch, in one run; reports both times, the speed-up and the largest relative error
per parameter (gradcheck.relative_error).

    python benchmarks/numgrad_speed.py [--repeat 5] [--naive-repeat 1]
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nnscratch import load_dataset  # noqa: E402
from nnscratch.engine import numgrad as numgrad_fast  # noqa: E402
from nnscratch.engine.numgrad import fast_numerical_gradient  # noqa: E402
from nnscratch.gradcheck import relative_error  # noqa: E402
from nnscratch.nets import TwoLayerNet  # noqa: E402


def timed(fn, repeat):
    wall, cpu, result = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return float(np.median(wall)), float(np.median(cpu)), result


def long_double_differences(net, x, t, entries, h=1e-4):
    """(L(θ + h e_k) − L(θ − h e_k)) / 2h for W1's flat ``entries``, computed in np.longdouble
    (64-bit mantissa on x86): an independent, more precise evaluation of the same differences."""
    ld = np.longdouble
    p = {k: v.astype(ld) for k, v in net.params.items()}
    xl = x.astype(ld)

    def loss(w1):
        z = xl @ w1 + p["b1"]
        a = 1 / (1 + np.exp(-z))
        s = a @ p["W2"] + p["b2"]
        s = s - s.max(axis=1, keepdims=True)
        log_y = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        return -log_y[np.arange(len(t)), t].sum() / len(t)

    out = []
    for k in entries:
        w1 = p["W1"].copy()
        # the perturbation float64 really applies: fl(w + h) − w, as in the naive loop
        w = net.params["W1"].flat[k]
        w1.flat[k] = ld(w + h)
        plus = loss(w1)
        w1.flat[k] = ld(w - h)
        out.append((plus - loss(w1)) / (2 * ld(h)))
    return np.array(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--naive-repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    (x_train, t_train), _ = load_dataset("fashion-mnist", dtype=np.float64)
    rng = np.random.default_rng(args.seed)
    batch = rng.choice(len(x_train), 100)
    x, t = x_train[batch], t_train[batch]
    net = TwoLayerNet(784, 50, 10, seed=args.seed)
    fast_wall, fast_cpu, fast = timed(lambda: fast_numerical_gradient(net, x, t), args.repeat)
    naive_wall, naive_cpu, naive = timed(lambda: net.numerical_gradient(x, t), args.naive_repeat)
    print(f"threads {numgrad_fast.THREADS}, load average {os.getloadavg()[0]:.1f}")
    print(f"naive loop : {naive_wall:8.3f} s wall  {naive_cpu:8.3f} s CPU")
    print(f"fast engine: {fast_wall:8.3f} s wall  {fast_cpu:8.3f} s CPU")
    print(f"speed-up   : {naive_wall / fast_wall:8.1f}× wall  {naive_cpu / fast_cpu:8.1f}× CPU")
    entries = np.argsort(-np.abs(naive["W1"]).ravel())[:20]
    ref = long_double_differences(net, x, t, entries)
    scale = np.max(np.abs(naive["W1"]))
    for name, grad in (("naive", naive), ("fast", fast)):
        err = np.max(np.abs(grad["W1"].ravel()[entries] - ref)) / scale
        print(
            f"{name:5s} vs the same central differences in long double (20 largest W1 entries): "
            f"{float(err):.1e} of the W1 scale"
        )
    for key in naive:
        print(
            f"relative error {key}: {relative_error(fast[key], naive[key]):.2e}"
            f"  (gradient scale {np.max(np.abs(naive[key])):.2e}, max |fast - naive| "
            f"{np.max(np.abs(fast[key] - naive[key])):.1e})"
        )


if __name__ == "__main__":
    main()
