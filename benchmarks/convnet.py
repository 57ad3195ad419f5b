"""nnscratch's convolutional networks against PyTorch's on the CPU, side by side in one run.

The book's SimpleConvNet (conv 30 filters 5×5 → ReLU → max-pool 2×2 → Affine 100 → ReLU →
Affine 10) or DeepConvNet (six 3×3 convolutions 16-16-32-32-64-64, a max-pool after every second,
Affine 50 → ReLU → Dropout 0.5 → Affine 10 → Dropout 0.5), trained on Fashion-MNIST (60,000
training images, 1×28×28, float32), batch 100, Adam lr 0.001:

- nnscratch: ``SimpleConvNet`` / ``DeepConvNet(dtype=float32)`` on the fast engine, the
  ``Trainer``'s batches and ``Trainer.step`` (the library's own training step), BLAS limited to
  ``--threads`` threads; ``--baseline SRC`` adds nnscratch-base: the same with the nnscratch
  found in SRC (another checkout's ``src/``), taking its turns with the others;
- torch: PyTorch 2.13 CPU, ``nn.Sequential`` of the same layers, ``CrossEntropyLoss``,
  ``torch.optim.Adam``, ``torch.set_num_threads(--threads)``.

Both start from the same weights (nnscratch's seed-0 draw, copied into torch's layers) and take
the same batches (``np.random.default_rng(0).permutation`` each epoch; DeepConvNet's dropout masks
differ). Each runs in its own process; the parent has them take their steps in turns, a burst of
``--steps / --repeat`` steps each (A B A B ...), so that the load of a shared machine falls on
both alike. Reported: seconds per epoch of training steps (batch gather, forward, backward,
update: the sum of its bursts; median over the epochs) and per step (median over bursts), the
ratio to PyTorch, the evaluation of the 10,000 test images timed apart, test accuracy after the
last epoch, each process's peak resident memory (``ru_maxrss``: interpreter, libraries, data
and all), and how much of the machine's matrix-product rate the step reaches: the step's
matrix-product FLOPs (counted from the layers' shapes: forward, ∂W and ∂x of every convolution —
its im2col product — and Affine layer; the first layer's ∂x is not computed) divided by the step's
time, as a fraction of the GFLOP/s of a 2000×2000 float32 product measured in each process with
its threads. Run by hand, never in CI (torch only in the benchmark's environment):

    python benchmarks/convnet.py --net simple --epochs 1
    python benchmarks/convnet.py --net deep --steps 200      # a part of an epoch, for a quick look
    python benchmarks/convnet.py --net simple --baseline ../before/src   # before/after, one run

``--json FILE`` writes the figures as JSON too (benchmarks/record.py), for benchmarks/run_all.py.
"""

import argparse
import multiprocessing as mp
import os
import platform
import resource
import subprocess
import time

import numpy as np
from fastpath import load_kernels, receive, torch_tensors  # receive: an answer, or an error

SEED = 0
BATCH = 100
LR = 0.001
GEMM_SIZE = 2000


def _data():
    from nnscratch import load_dataset

    d = load_dataset("fashion-mnist", flatten=False, dtype="float32")
    return d.x_train, d.t_train, d.x_test, d.t_test


def _network(name):
    from nnscratch import DeepConvNet, SimpleConvNet

    return (SimpleConvNet if name == "simple" else DeepConvNet)(seed=SEED, dtype=np.float32)


def step_flops(net, batch=BATCH):
    """Matrix-product FLOPs of one training step of ``net`` on ``batch`` images: for every
    Convolution, out = col·W_colᵀ, ∂W_col = dout_colᵀ·col and ∂col = dout_col·W_col, each
    2·(N·out_h·out_w)·(C·FH·FW)·FN; for every Affine layer x·W, xᵀ·dout and dout·Wᵀ, each 2·N·D·H.
    The first layer's ∂x is not computed (the network skips it)."""
    from nnscratch.conv import Convolution
    from nnscratch.layers import Affine

    total, shape = 0, (batch, *net.input_dim)
    x = np.zeros((1, *net.input_dim), np.float32)
    for i, layer in enumerate(net.layers):
        products = 2 if i == 0 else 3
        if isinstance(layer, Convolution):
            FN, C, FH, FW = net.params[layer.weight_key].shape
            _, _, out_h, out_w = layer.output_shape(shape)
            total += products * 2 * batch * out_h * out_w * C * FH * FW * FN
        elif isinstance(layer, Affine):
            D, H = net.params[layer.weight_key].shape
            total += products * 2 * batch * D * H
        x = layer.forward(x)
        shape = (batch, *x.shape[1:])
    return total


def gemm_gflops(matmul, make):
    """GFLOP/s of a GEMM_SIZE² float32 product, the best of 5 after a warm-up."""
    a, b = make(), make()
    matmul(a, b)
    best = min(_timed(lambda: matmul(a, b)) for _ in range(5))
    return 2 * GEMM_SIZE**3 / best / 1e9


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def serve(conn, new_epoch, steps, evaluate, gflops):
    """Answer the parent: ("epoch",) starts an epoch's batches, ("run", k) takes k steps →
    seconds, ("eval",) → (seconds, test accuracy), ("stats",) → (peak RSS MB, GEMM GFLOP/s)."""
    conn.send("ready")
    while True:
        cmd = conn.recv()
        if cmd[0] == "epoch":
            new_epoch()
        elif cmd[0] == "run":
            count = cmd[1]
            conn.send(_timed(lambda: steps(count)))  # noqa: B023 - called here, at once
        elif cmd[0] == "eval":
            start = time.perf_counter()
            acc = evaluate()
            conn.send((time.perf_counter() - start, acc))
        elif cmd[0] == "stats":
            conn.send((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, gflops()))
        else:
            return


def worker_nnscratch(conn, name, threads, src=None):
    if src is not None:  # another checkout's nnscratch (--baseline): before/after in one run
        import sys

        sys.path.insert(0, src)
    from threadpoolctl import threadpool_limits

    import nnscratch
    from nnscratch import Trainer
    from nnscratch.optim import Adam

    print(f"nnscratch from {os.path.dirname(nnscratch.__file__)}", flush=True)
    x, t, x_test, t_test = _data()
    net = _network(name)
    # the Trainer puts the network on the fast engine (a baseline's networks were fast already)
    trainer = Trainer(net, x, t, epochs=10**6, batch_size=BATCH, optimizer=Adam(LR), seed=SEED)
    trainer.blas_threads = threads
    use_kernels = load_kernels(net, 10 * trainer.iter_per_epoch)  # a 10-epoch `nnscratch train`
    draw = trainer.batches
    batches = iter(())

    def new_epoch():
        nonlocal batches
        batches = draw()

    def steps(k):
        with threadpool_limits(threads, user_api="blas"), use_kernels():
            for _ in range(k):
                trainer.step(next(batches))

    def evaluate():
        with threadpool_limits(threads, user_api="blas"):
            return float(net.accuracy(x_test, t_test))

    def gflops():
        with threadpool_limits(threads, user_api="blas"):
            rng = np.random.default_rng(0)
            return gemm_gflops(
                np.matmul, lambda: rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(np.float32)
            )

    serve(conn, new_epoch, steps, evaluate, gflops)


def torch_model(name, params):
    """PyTorch's layers of network ``name``, holding nnscratch's ``params`` (W1, b1, ...)."""
    import torch
    from torch import nn

    if name == "simple":
        layers = [
            nn.Conv2d(1, 30, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(4320, 100),
            nn.ReLU(),
            nn.Linear(100, 10),
        ]
    else:
        from nnscratch.convnets import DeepConvNet
        from nnscratch.validation import default_of

        layers, channels = [], 1
        filter_nums = default_of(DeepConvNet, "filter_nums")
        for i, (n, pad) in enumerate(zip(filter_nums, DeepConvNet.PADS)):
            layers += [nn.Conv2d(channels, n, 3, padding=pad), nn.ReLU()]
            layers += [nn.MaxPool2d(2)] if i % 2 else []
            channels = n
        layers += [
            nn.Flatten(),
            nn.Linear(1024, 50),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(50, 10),
            nn.Dropout(0.5),
        ]
    weighted = [layer for layer in layers if isinstance(layer, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        for i, layer in enumerate(weighted, start=1):
            W = params[f"W{i}"]  # nn.Linear keeps (out, in): the transpose of ours
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(W if W.ndim == 4 else W.T)))
            layer.bias.copy_(torch.from_numpy(params[f"b{i}"]))
    return nn.Sequential(*layers)


def worker_torch(conn, name, threads):
    import torch

    from nnscratch.convnets import CONV_EVAL_BATCH

    torch.set_num_threads(threads)
    torch.manual_seed(SEED)
    x, t, x_test, t_test = torch_tensors(*_data())
    model = torch_model(name, _network(name).params)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(SEED)  # Trainer's generator: the same permutations
    batches = iter(())

    def new_epoch():
        nonlocal batches
        order = torch.from_numpy(rng.permutation(len(x)))
        batches = (order[i : i + BATCH] for i in range(0, len(x), BATCH))

    def steps(k):
        model.train()
        for _ in range(k):
            idx = next(batches)
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), t[idx]).backward()
            optimizer.step()

    def evaluate():
        model.eval()
        with torch.no_grad():
            right = sum(
                int(
                    (
                        model(x_test[i : i + CONV_EVAL_BATCH]).argmax(1)
                        == t_test[i : i + CONV_EVAL_BATCH]
                    ).sum()
                )
                for i in range(0, len(x_test), CONV_EVAL_BATCH)
            )
        return right / len(x_test)

    def gflops():
        return gemm_gflops(torch.mm, lambda: torch.randn(GEMM_SIZE, GEMM_SIZE))

    serve(conn, new_epoch, steps, evaluate, gflops)


WORKERS = {"nnscratch": worker_nnscratch, "torch": worker_torch}


def machine_info():
    """The CPU's model name, its vector instructions and the number of cores: {"cpu", "simd",
    "avx512", "cores", "line"}, "line" being all three in one line (:func:`machine`)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(
            line.split(":", 1)[1].strip()
            for line in out.splitlines()
            if line.startswith("Model name")
        )
    except (OSError, subprocess.CalledProcessError, StopIteration):
        model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
        simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    except OSError:
        simd = "vector instructions unknown"
    cores = os.cpu_count()
    return {
        "cpu": model,
        "simd": simd,
        "avx512": simd == "AVX-512",
        "cores": cores,
        "line": f"{model}, {simd}, {cores} cores",
    }


def machine():
    """The CPU's model name, its vector instructions and the number of cores, in one line."""
    return machine_info()["line"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=["simple", "deep"], default="simple")
    parser.add_argument("--epochs", type=int, default=1, help="epochs each system trains")
    parser.add_argument(
        "--steps", type=int, default=None, help="steps per epoch (default: the whole epoch, 600)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=10,
        help="bursts per epoch and system, taken in turns (default 10)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="torch.set_num_threads and nnscratch's BLAS threads (default 2)",
    )
    parser.add_argument(
        "--nnscratch-threads",
        type=int,
        default=None,
        help="nnscratch's BLAS threads, if not --threads (`nnscratch train` uses 1)",
    )
    parser.add_argument(
        "--baseline",
        default=None,
        metavar="SRC",
        help="also time nnscratch with the package found in SRC",
    )
    parser.add_argument(
        "--json",
        default=None,
        metavar="PATH",
        help="write the figures as JSON here too (benchmarks/record.py: rows, machine, loads)",
    )
    args = parser.parse_args()
    steps = min(args.steps or 600, 600)
    bursts = [len(b) for b in np.array_split(np.arange(steps), max(1, min(args.repeat, steps)))]
    mp.set_start_method("spawn")  # fresh processes: no torch in nnscratch's
    workers = {}
    systems = dict(WORKERS)
    if args.baseline:
        systems["nnscratch-base"] = worker_nnscratch
    for name, fn in systems.items():
        parent, child = mp.Pipe()
        threads = args.threads if name == "torch" else args.nnscratch_threads or args.threads
        extra = (os.path.abspath(args.baseline),) if name == "nnscratch-base" else ()
        process = mp.Process(target=fn, args=(child, args.net, threads, *extra))
        process.start()
        workers[name] = (process, parent)
        assert receive((process, parent), name) == "ready"
    epoch_s = {name: [] for name in workers}
    step_ms = {name: [] for name in workers}
    loads = [os.getloadavg()[0]]
    for epoch in range(args.epochs):
        for _, conn in workers.values():
            conn.send(("epoch",))
        seconds = dict.fromkeys(workers, 0.0)
        names = list(workers)
        for b, k in enumerate(bursts):  # the order rotated from burst to burst: A B C, B C A, ...
            for name in names[b % len(names) :] + names[: b % len(names)]:
                process, conn = workers[name]
                conn.send(("run", k))
                s = receive((process, conn), name)
                seconds[name] += s
                step_ms[name].append(1000 * s / k)
        for name in workers:
            epoch_s[name].append(seconds[name])
        loads.append(os.getloadavg()[0])
        print(
            f"epoch {epoch + 1} ({steps} steps): "
            + "  ".join(f"{n} {s:.2f} s" for n, s in seconds.items())
            + f"  load {loads[-1]:.1f}",
            flush=True,
        )
    results = {}
    for name, (process, conn) in workers.items():
        conn.send(("eval",))
        eval_s, acc = receive((process, conn), name)
        conn.send(("stats",))
        rss, gflops = receive((process, conn), name)
        conn.send(("quit",))
        process.join()
        results[name] = {
            "epoch_s": float(np.median(epoch_s[name])),
            "step_ms": float(np.median(step_ms[name])),
            "eval_s": eval_s,
            "acc": acc,
            "rss": rss,
            "gflops": gflops,
        }
    flops = step_flops(_network(args.net))
    ref = results["torch"]
    print(
        f"\n{'SimpleConvNet' if args.net == 'simple' else 'DeepConvNet'}, Fashion-MNIST, "
        f"batch {BATCH}, Adam {LR}, float32, torch {args.threads} thread(s), nnscratch "
        f"{args.nnscratch_threads or args.threads} BLAS thread(s), {args.epochs} epoch(s) "
        f"of {steps} steps, in bursts of {bursts[0]}; machine: {machine()}; the step's "
        f"matrix products: {flops / 1e9:.3f} GFLOP"
    )
    print(
        f"\n| system | s per epoch ({steps} steps) | ms per step | × PyTorch | test eval s "
        f"| test acc | peak RSS MB | GEMM GFLOP/s | step's share of it |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        share = flops / (r["step_ms"] / 1000) / 1e9 / r["gflops"]
        print(
            f"| {name} | {r['epoch_s']:.2f} | {r['step_ms']:.2f} "
            f"| {r['step_ms'] / ref['step_ms']:.2f} | {r['eval_s']:.2f} | {r['acc']:.4f} "
            f"| {r['rss']:.0f} | {r['gflops']:.0f} | {share:.0%} |"
        )
    print(f"\nload average (1 min) during the run: {min(loads):.1f} – {max(loads):.1f}")
    if args.json:
        write_record(args, steps, bursts, results, loads, flops)


def write_record(args, steps, bursts, results, loads, flops):
    """The run as benchmarks/record.py's JSON: seconds per epoch for whole epochs, per step for
    a part of one (``--steps``); the ratio to PyTorch as printed (per step); NumPy's GEMM rate
    as nnscratch's process measured it, with its threads."""
    from record import write_json

    whole = steps == 600
    ref = results["torch"]
    nn_threads = args.nnscratch_threads or args.threads
    write_json(
        args.json,
        benchmark="convnet",
        title=f"{'SimpleConvNet' if args.net == 'simple' else 'DeepConvNet'}, Fashion-MNIST, "
        f"batch {BATCH}, Adam {LR}, {args.epochs} epoch(s) of {steps} steps",
        unit="epoch" if whole else "step",
        settings={
            "net": args.net,
            "epochs": args.epochs,
            "steps": steps,
            "bursts": len(bursts),
            "threads": args.threads,
            "nnscratch_threads": nn_threads,
            "baseline": args.baseline,
        },
        rows=[
            {
                "system": name,
                "seconds": r["epoch_s"] if whole else r["step_ms"] / 1000,
                "ratio_torch": r["step_ms"] / ref["step_ms"],
                "test_acc": r["acc"],
                "peak_rss_mb": r["rss"],
                "gemm_share": flops / (r["step_ms"] / 1000) / 1e9 / r["gflops"],
                "epoch_s": r["epoch_s"],
                "step_s": r["step_ms"] / 1000,
                "eval_s": r["eval_s"],
                "gemm_gflops": r["gflops"],
            }
            for name, r in results.items()
        ],
        loads=loads,
        gemm={nn_threads: results["nnscratch"]["gflops"]},
        step_gflop=flops / 1e9,
    )


if __name__ == "__main__":
    main()
