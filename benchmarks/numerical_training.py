"""The notebook's numerical-gradient experiment, run to the end with the fast engine.

784-50-10 sigmoid TwoLayerNet (weight_init_std 0.01), SGD lr 0.1, batch 100 drawn with replacement
(``rng.choice``, as the notebook), 10,000 iterations; train and test accuracy every
iter_per_epoch = 600 iterations and at the end. Every gradient is the notebook's central difference
(L(θ + h e_k) − L(θ − h e_k)) / 2h over all 39,760 parameters, computed by
``nnscratch.engine.numgrad.fast_numerical_gradient``. On Fashion-MNIST (MNIST is not downloadable
here), float64.

    python benchmarks/numerical_training.py [--iters 10000] [--out runs/numerical.json]
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nnscratch import load_dataset  # noqa: E402
from nnscratch.engine import numgrad as numgrad_fast  # noqa: E402
from nnscratch.engine.numgrad import fast_numerical_gradient  # noqa: E402
from nnscratch.nets import TwoLayerNet  # noqa: E402
from nnscratch.optim import SGD  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--hidden", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/numerical_training.json")
    args = parser.parse_args(argv)

    (x_train, t_train), (x_test, t_test) = load_dataset("fashion-mnist", dtype=np.float64)
    net = TwoLayerNet(784, args.hidden, 10, seed=args.seed)
    optimizer = SGD(args.lr)
    rng = np.random.default_rng(args.seed)
    iter_per_epoch = max(len(x_train) // args.batch_size, 1)
    history = {
        "train_loss": [],
        "iteration": [],
        "train_acc": [],
        "test_acc": [],
        "seconds": [],
        "cpu_seconds": [],
    }
    grad_seconds = []
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(1, args.iters + 1):
        batch = rng.choice(len(x_train), args.batch_size)
        x, t = x_train[batch], t_train[batch]
        t0 = time.perf_counter()
        grads = fast_numerical_gradient(net, x, t)
        grad_seconds.append(time.perf_counter() - t0)
        history["train_loss"].append(float(net.loss(x, t)))
        optimizer.update(net.params, grads)
        if i % iter_per_epoch == 0 or i == args.iters:
            train_acc, test_acc = net.accuracy(x_train, t_train), net.accuracy(x_test, t_test)
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            for key, value in (
                ("iteration", i),
                ("train_acc", train_acc),
                ("test_acc", test_acc),
                ("seconds", elapsed),
                ("cpu_seconds", cpu),
            ):
                history[key].append(value)
            recent_loss = np.mean(history["train_loss"][-iter_per_epoch:])
            print(
                f"iter {i:>6}/{args.iters}  loss {recent_loss:.4f}"
                f"  train acc {train_acc:.4f}  test acc {test_acc:.4f}  {elapsed:7.1f} s"
                f" (CPU {cpu:7.1f} s, load {os.getloadavg()[0]:.1f})"
                f"  (median gradient {np.median(grad_seconds[-iter_per_epoch:]):.3f} s)",
                flush=True,
            )
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    summary = {
        "config": vars(args)
        | {
            "dataset": "fashion-mnist",
            "net": f"784-{args.hidden}-10 sigmoid",
            "gradient": "numerical (fast engine, central differences, h=1e-4)",
        },
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "threads": numgrad_fast.THREADS,
        "load_average_end": os.getloadavg(),
        "median_gradient_seconds": float(np.median(grad_seconds)),
        "final_train_acc": history["train_acc"][-1],
        "final_test_acc": history["test_acc"][-1],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "history": history,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=1)
    print(
        f"done: {args.iters} iterations in {wall:.1f} s ({wall / 60:.1f} min), final test acc "
        f"{summary['final_test_acc']:.4f}, "
        f"median gradient {summary['median_gradient_seconds']:.3f} s,"
        f" CPU {cpu:.1f} s, peak RSS {summary['peak_rss_mb']:.0f} MB -> {args.out}"
    )


if __name__ == "__main__":
    main()
