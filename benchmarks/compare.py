"""nnscratch against PyTorch (CPU) and scikit-learn's MLPClassifier, on the same data in one run.

Run by hand, never in CI (needs torch==2.13.0 in a separate venv, see the README's Performance
section):

    python benchmarks/compare.py [--epochs 17] [--deep-epochs 5] [--out runs/benchmark.json]

For each configuration and system a fresh subprocess trains on Fashion-MNIST (60,000 training
images; MNIST is not downloadable here) and reports seconds per epoch (training only: shuffling,
batching, gradient and update; evaluation is timed apart), the final test accuracy and its peak
resident memory (``ru_maxrss``, the whole process: interpreter, libraries, data). Configurations:

- notebook: 784-50-10 sigmoid, weights N(0, 0.01²), biases 0, SGD lr 0.1, batch 100;
- deep: 784-256-128-10 ReLU, Adam lr 0.001, batch 100 (nnscratch's side needs
  ``nnscratch.nets.MultiLayerNet`` and ``nnscratch.optim.Adam``; skipped with a message until
  they exist).

The parent also measures the machine's float32 matmul GFLOP/s (NumPy's BLAS, 2048² square
products) and reports which fraction of it each system's matrix products reach.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

SYSTEMS = ("nnscratch", "pytorch", "sklearn")
CONFIGS = {
    "notebook": {
        "sizes": [784, 50, 10],
        "activation": "sigmoid",
        "optimizer": "sgd",
        "lr": 0.1,
        "batch_size": 100,
    },
    "deep": {
        "sizes": [784, 256, 128, 10],
        "activation": "relu",
        "optimizer": "adam",
        "lr": 0.001,
        "batch_size": 100,
    },
}


class Skip(Exception):
    """This system cannot run this configuration (yet); the message says why."""


def epoch_flops(sizes, n, batch_size):
    """Matrix-product FLOPs of one epoch of backprop: per Affine layer and batch of B,
    forward x·W (2·B·D·H), ∂W = xᵀ·dout (2·B·D·H) and ∂x = dout·Wᵀ (2·B·D·H)."""
    per_sample = sum(3 * 2 * d * h for d, h in zip(sizes[:-1], sizes[1:]))
    return per_sample * n


def matmul_gflops(dtype=np.float32, size=2048, repeat=7):
    """Median GFLOP/s of an (size × size)·(size × size) product with NumPy's BLAS."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size)).astype(dtype)
    b = rng.standard_normal((size, size)).astype(dtype)
    a @ b  # warm up threads and caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * size**3 / np.median(times) / 1e9


# --- one system, one configuration (runs in its own process) ---------------------------------


def run_nnscratch(cfg, data, epochs, seed):
    from nnscratch import Trainer

    (x_train, t_train), (x_test, t_test) = data
    if cfg["optimizer"] == "sgd":
        from nnscratch.nets import TwoLayerNet
        from nnscratch.optim import SGD

        net = TwoLayerNet(
            *cfg["sizes"],
            weight_init_std=0.01,
            seed=seed,
            activation=cfg["activation"],
            dtype=np.float32,
        )
        optimizer = SGD(cfg["lr"])
    else:
        try:
            from nnscratch.nets import MultiLayerNet
            from nnscratch.optim import Adam
        except ImportError:
            raise Skip("no MultiLayerNet/Adam in nnscratch yet") from None
        try:
            net = MultiLayerNet(
                cfg["sizes"][0],
                cfg["sizes"][1:-1],
                cfg["sizes"][-1],
                activation=cfg["activation"],
                seed=seed,
                dtype=np.float32,
            )
            optimizer = Adam(lr=cfg["lr"])
        except TypeError as exc:
            raise Skip(f"MultiLayerNet/Adam have another signature than expected ({exc})") from None
    trainer = Trainer(
        net,
        x_train,
        t_train,
        epochs=epochs,
        batch_size=cfg["batch_size"],
        optimizer=optimizer,
        seed=seed,
    )
    trainer.blas_threads = 1  # as `nnscratch train` does: faster for these small products
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for batch in trainer.batches():
            trainer.step(batch)
        seconds.append(time.perf_counter() - start)
    return seconds, float(net.accuracy(x_test, t_test)), str(net.params["W1"].dtype)


def run_pytorch(cfg, data, epochs, seed):
    try:
        import torch
    except ImportError:
        raise Skip("torch is not installed here (pip install torch==2.13.0)") from None
    torch.set_num_threads(2)
    torch.manual_seed(seed)
    (x_train, t_train), (x_test, t_test) = data
    x_train, x_test = torch.from_numpy(x_train), torch.from_numpy(x_test)
    t_train, t_test = torch.from_numpy(t_train), torch.from_numpy(t_test)
    act = {"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}[cfg["activation"]]
    layers = []
    for i, (d, h) in enumerate(zip(cfg["sizes"][:-1], cfg["sizes"][1:])):
        linear = torch.nn.Linear(d, h)
        if cfg["optimizer"] == "sgd":  # the notebook's initialisation
            torch.nn.init.normal_(linear.weight, std=0.01)
            torch.nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < len(cfg["sizes"]) - 2:
            layers.append(act())
    model = torch.nn.Sequential(*layers)
    optimizer = (
        torch.optim.SGD(model.parameters(), lr=cfg["lr"])
        if cfg["optimizer"] == "sgd"
        else torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    n, batch_size = len(x_train), cfg["batch_size"]
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        for first in range(0, n, batch_size):
            idx = order[first : first + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train[idx]), t_train[idx])
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == t_test).double().mean().item()
    return seconds, accuracy, "float32"


def run_sklearn(cfg, data, epochs, seed):
    import warnings

    from sklearn.neural_network import MLPClassifier

    (x_train, t_train), (x_test, t_test) = data
    model = MLPClassifier(
        hidden_layer_sizes=tuple(cfg["sizes"][1:-1]),
        activation={"sigmoid": "logistic", "relu": "relu"}[cfg["activation"]],
        solver=cfg["optimizer"],
        alpha=0.0,
        batch_size=cfg["batch_size"],
        learning_rate_init=cfg["lr"],
        momentum=0.0,
        nesterovs_momentum=False,
        shuffle=True,
        random_state=seed,
    )
    classes = np.unique(t_train)
    seconds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(epochs):  # partial_fit: one pass over the data, shuffled
            start = time.perf_counter()
            model.partial_fit(x_train, t_train, classes=classes)
            seconds.append(time.perf_counter() - start)
    return seconds, float(model.score(x_test, t_test)), str(model.coefs_[0].dtype)


def worker(system, config, epochs, seed):
    from nnscratch import load_dataset

    cfg = CONFIGS[config]
    data = tuple(load_dataset("fashion-mnist", dtype=np.float32))  # every system in float32
    runner = {"nnscratch": run_nnscratch, "pytorch": run_pytorch, "sklearn": run_sklearn}[system]
    try:
        seconds, accuracy, param_dtype = runner(cfg, data, epochs, seed)
    except Skip as exc:
        return {"system": system, "config": config, "skipped": str(exc)}
    return {
        "system": system,
        "config": config,
        "epochs": epochs,
        "epoch_seconds": seconds,
        "median_epoch_seconds": float(np.median(seconds)),
        "test_acc": accuracy,
        "dtype": param_dtype,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# --- the parent: environment, subprocesses, table --------------------------------------------


def environment():
    from threadpoolctl import threadpool_info

    info = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "blas": [
            {
                k: pool.get(k)
                for k in (
                    "internal_api",
                    "version",
                    "num_threads",
                    "threading_layer",
                    "architecture",
                )
            }
            for pool in threadpool_info()
        ],
    }
    for name in ("torch", "sklearn"):
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            info[name] = None
    return info


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(
                line.split(":", 1)[1].strip() for line in f if line.startswith("model name")
            )
    except (OSError, StopIteration):
        return platform.processor()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs", type=int, default=17, help="notebook config (17 ≈ 10,000 iterations)"
    )
    parser.add_argument("--deep-epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--out", default="runs/benchmark.json")
    parser.add_argument("--worker", nargs=2, metavar=("SYSTEM", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        epochs = args.epochs if args.worker[1] == "notebook" else args.deep_epochs
        print(json.dumps(worker(*args.worker, epochs, args.seed)))
        return

    env = environment()
    gflops = matmul_gflops()
    env["float32_matmul_gflops"] = gflops
    env["float64_matmul_gflops"] = matmul_gflops(np.float64)
    env["load_average_start"] = os.getloadavg()
    print(json.dumps(env, indent=1))
    results = []
    for config in args.configs.split(","):
        for system in args.systems.split(","):
            cmd = [
                sys.executable,
                os.path.abspath(__file__),
                "--worker",
                system,
                config,
                "--epochs",
                str(args.epochs),
                "--deep-epochs",
                str(args.deep_epochs),
                "--seed",
                str(args.seed),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if out.returncode:
                result = {
                    "system": system,
                    "config": config,
                    "skipped": f"failed: {out.stderr.strip().splitlines()[-1:]}",
                }
            else:
                result = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(result)
            print(
                f"{config:9s} {system:9s} "
                + (
                    f"skipped: {result['skipped']}"
                    if "skipped" in result
                    else f"{result['median_epoch_seconds']:.3f} s/epoch  "
                    f"test acc {result['test_acc']:.4f}  peak {result['peak_rss_mb']:.0f} MB"
                ),
                flush=True,
            )
    env["load_average_end"] = os.getloadavg()
    table = markdown_table(results, gflops)
    print(table)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"environment": env, "results": results, "table": table}, f, indent=1)


def markdown_table(results, gflops):
    n = 60_000
    torch_s = {
        r["config"]: r["median_epoch_seconds"]
        for r in results
        if r["system"] == "pytorch" and "skipped" not in r
    }
    rows = [
        "| config | system | dtype | s/epoch (median) | × PyTorch | test acc | "
        "% of f32 matmul peak | peak RSS MB |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if "skipped" in r:
            rows.append(f"| {r['config']} | {r['system']} | – | skipped: {r['skipped']} | | | | |")
            continue
        cfg = CONFIGS[r["config"]]
        s = r["median_epoch_seconds"]
        ratio = f"{s / torch_s[r['config']]:.2f}" if r["config"] in torch_s else "–"
        frac = epoch_flops(cfg["sizes"], n, cfg["batch_size"]) / s / 1e9 / gflops
        rows.append(
            f"| {r['config']} | {r['system']} | {r['dtype']} | {s:.3f} | {ratio} | "
            f"{r['test_acc']:.4f} | {100 * frac:.0f}% | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
