"""nnscratch's fast training path against PyTorch, epoch by epoch, interleaved, in one run.

The notebook configuration on Fashion-MNIST (60,000 training images): 784-50-10 sigmoid, weights
N(0, 0.01²) and biases 0, SGD lr 0.1, batch 100, a new permutation of the data every epoch.

- nn32 / nn64: nnscratch ``TwoLayerNet(dtype=float32 / float64)`` on the fast engine, trained by
  the ``Trainer``'s batches and ``Trainer.step``, the steps' BLAS threads chosen as ``Trainer``
  does (``blas_threads = "auto"``: :func:`nnscratch.engine.blas.step_threads`, 2 for this
  network's products here);
- torch / torch-1t: PyTorch 2.13 CPU float32, ``nn.Sequential(Linear, Sigmoid, Linear)``,
  ``CrossEntropyLoss``, ``torch.optim.SGD``, ``torch.set_num_threads(2)`` / ``(1)``;
- nn32-1t / nn32-2t: nnscratch float32 with 1 / 2 BLAS threads;
- lean: not nnscratch but the same step as the leanest plain-NumPy loop we could write (float32,
  one BLAS thread, preallocated buffers, softmax as e / Σe, lr folded into δ2: about 30 NumPy
  calls a step where the library makes about 50) — how far structure and call count can still go;
- floor: only the batch gather and the step's five matrix products, nothing else (it learns
  nothing) — the time no NumPy implementation of this step can get under.

Every system starts from the same weights (nnscratch's seed-0 float64 draw, rounded to float32) and
draws the same permutations (``np.random.default_rng(0).permutation`` each epoch). Each runs in its
own process; the parent asks each for one epoch in turn (A B C D A B C D ...), so that the load of
a shared machine falls on all of them alike. Reported: wall and CPU seconds per epoch (training
only: shuffling, batches, gradients, updates), medians; the ratio to PyTorch; test accuracy after
the last epoch; peak RSS of each worker; the load average. Run by hand, never in CI:

    . .venv-bench/bin/activate          # torch==2.13.0 and pip install -e . (README, Performance)
    python benchmarks/fastpath.py --epochs 10 [--systems nn32,lean,floor,torch] [--out FILE]

``--out FILE`` (or ``--json FILE``) writes the figures as JSON too (benchmarks/record.py), as
benchmarks/run_all.py, which runs every benchmark and writes the README's table, asks.

``--baseline SRC`` adds ``nn32-base``: nn32 with the nnscratch found in SRC (another checkout's
``src/``, e.g. a ``git worktree`` of the commit before a change), interleaved with the others.
"""

import argparse
import contextlib
import multiprocessing as mp
import os
import resource
import time

import numpy as np

SEED = 0
SIZES = (784, 50, 10)


def _data(dtype):
    from nnscratch import load_dataset

    d = load_dataset("fashion-mnist", dtype=dtype)
    return d.x_train, d.t_train, d.x_test, d.t_test


def _initial_weights(dtype):
    from nnscratch.nets import TwoLayerNet

    return {k: v.astype(dtype) for k, v in TwoLayerNet(*SIZES, seed=SEED).params.items()}


PAUSE = float(os.environ.get("BENCH_PAUSE", 0.5))  # s between turns (interleaved_epochs)


def serve(conn, epoch, accuracy):
    """Answer the parent: "epoch" → (wall s, CPU s) of one epoch; "acc" → test accuracy."""
    conn.send("ready")
    while True:
        cmd = conn.recv()
        if cmd == "epoch":
            wall, cpu = time.perf_counter(), time.process_time()
            epoch()
            conn.send((time.perf_counter() - wall, time.process_time() - cpu))
        elif cmd == "acc":
            conn.send((accuracy(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
        else:
            return


def blas_step_threads(trainer):
    """The BLAS threads ``trainer``'s steps run with (``engine.blas``; a baseline's
    ``nnscratch.blas``; before that, `nnscratch train`'s 1 thread)."""
    try:
        from nnscratch.engine.blas import RunThreads
    except ImportError:
        RunThreads = None
    if RunThreads is not None:
        return RunThreads(trainer.blas_threads, trainer.net, trainer.batch_size).steps
    try:
        from nnscratch.engine.blas import run_threads
    except ImportError:
        try:
            from nnscratch.blas import run_threads
        except ImportError:
            return 1
    return run_threads(trainer.blas_threads, trainer.net, trainer.batch_size)[0]


def load_kernels(net, steps):
    """What a Trainer's run of ``steps`` steps does first (``Trainer.run``): load the engine's
    compiled kernels where they pay for their loading. Returns ``use``: ``with use():`` the
    worker's steps run on them (or on NumPy's, where they do not pay), as inside the run; a
    worker that calls ``Trainer.step`` itself must ask. (An nnscratch from before them has
    none: ``use`` does nothing.)"""
    try:
        from nnscratch.engine import compiled
    except ImportError:
        return contextlib.nullcontext
    pays = compiled.pays(sum(p.size for p in net.params.values()), steps)
    on = pays and compiled.kernels() is not None
    print(f"nnscratch: {compiled.status() if on else 'the NumPy engine (a run this short)'}")
    return lambda: compiled.using(on)


def worker_nnscratch(conn, dtype, threads, src=None):
    if src is not None:  # another checkout's nnscratch (--baseline): before/after in one run
        import sys

        sys.path.insert(0, src)
        import nnscratch

        print(f"nn32-base: nnscratch from {os.path.dirname(nnscratch.__file__)}", flush=True)
    from nnscratch import Trainer
    from nnscratch.nets import TwoLayerNet
    from nnscratch.optim import SGD

    x, t, x_test, t_test = _data(dtype)
    net = TwoLayerNet(*SIZES, seed=SEED, dtype=dtype)
    # the Trainer puts the network on the fast engine (a baseline's networks were fast already)
    trainer = Trainer(net, x, t, epochs=10**6, batch_size=100, optimizer=SGD(0.1), seed=SEED)
    trainer.blas_threads = threads
    use_kernels = load_kernels(net, 10 * trainer.iter_per_epoch)  # a 10-epoch `nnscratch train`
    steps_threads = blas_step_threads(trainer)
    batches = trainer.batches
    from threadpoolctl import threadpool_limits

    def epoch():
        with threadpool_limits(steps_threads, user_api="blas"), use_kernels():
            for batch in batches():
                trainer.step(batch)

    serve(conn, epoch, lambda: net.accuracy(x_test, t_test))


def worker_torch(conn, dtype, threads):
    import torch

    torch.set_num_threads(threads)
    x, t, x_test, t_test = torch_tensors(*_data(np.float32))
    w = _initial_weights(np.float32)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 50), torch.nn.Sigmoid(), torch.nn.Linear(50, 10)
    )
    with torch.no_grad():  # nn.Linear keeps W as (out, in): the transpose of ours
        model[0].weight.copy_(torch.from_numpy(w["W1"].T.copy()))
        model[0].bias.zero_()
        model[2].weight.copy_(torch.from_numpy(w["W2"].T.copy()))
        model[2].bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(SEED)
    n = len(x)

    def epoch():
        order = torch.from_numpy(rng.permutation(n))
        for first in range(0, n, 100):
            idx = order[first : first + 100]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), t[idx])
            loss.backward()
            optimizer.step()

    def accuracy():
        with torch.no_grad():
            return (model(x_test).argmax(1) == t_test).double().mean().item()

    serve(conn, epoch, accuracy)


def _lean_setup(dtype):
    x, t, x_test, t_test = _data(dtype)
    w = _initial_weights(dtype)
    return x, t.astype(np.intp), x_test, t_test, w["W1"], w["b1"], w["W2"], w["b2"]


def worker_lean(conn, dtype, threads):
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    x, t, x_test, t_test, W1, b1, W2, b2 = _lean_setup(dtype)
    rng, n, batch, classes = np.random.default_rng(SEED), len(x), 100, SIZES[2]
    scale = dtype(0.1 / batch)  # lr / N, folded into δ2 so that the products are the steps
    rows = np.arange(batch) * classes
    z1 = np.empty((batch, SIZES[1]), dtype)
    a2 = np.empty((batch, classes), dtype)
    row_max, row_sum = np.empty((batch, 1), dtype), np.empty((batch, 1), dtype)
    d1, one_minus = np.empty_like(z1), np.empty_like(z1)
    step_W1, step_W2 = np.empty_like(W1), np.empty_like(W2)

    def epoch():
        nonlocal z1, a2, d1  # updated in place (z1 += b1 ...), never rebound
        order = rng.permutation(n)
        for first in range(0, n, batch):
            idx = order[first : first + batch]
            xb, where = x.take(idx, axis=0), rows + t.take(idx)
            np.matmul(xb, W1, out=z1)
            z1 += b1
            z1 *= 0.5
            np.tanh(z1, out=z1)
            z1 += 1.0
            z1 *= 0.5  # σ(a) = ½ (1 + tanh(a / 2))
            np.matmul(z1, W2, out=a2)
            a2 += b2
            np.maximum.reduce(a2, axis=1, keepdims=True, out=row_max)
            a2 -= row_max
            np.exp(a2, out=a2)
            np.add.reduce(a2, axis=1, keepdims=True, out=row_sum)
            a2 /= row_sum  # y
            a2.ravel()[where] -= 1.0
            a2 *= scale  # lr · δ2 = lr (y - t) / N
            np.matmul(z1.T, a2, out=step_W2)
            np.matmul(a2, W2.T, out=d1)
            np.subtract(W2, step_W2, out=W2)
            np.subtract(b2, np.add.reduce(a2, axis=0), out=b2)
            d1 *= z1
            np.subtract(1.0, z1, out=one_minus)
            d1 *= one_minus  # lr · δ1
            np.subtract(b1, np.add.reduce(d1, axis=0), out=b1)
            np.matmul(xb.T, d1, out=step_W1)
            np.subtract(W1, step_W1, out=W1)

    def accuracy():
        z = 0.5 * (1.0 + np.tanh(0.5 * (x_test @ W1 + b1)))
        return float(np.mean(np.argmax(z @ W2 + b2, axis=1) == t_test))

    serve(conn, epoch, accuracy)


def worker_floor(conn, dtype, threads):
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    x, t, _, _, W1, _, W2, _ = _lean_setup(dtype)
    rng, n, batch = np.random.default_rng(SEED), len(x), 100
    a1, a2 = np.empty((batch, SIZES[1]), dtype), np.empty((batch, SIZES[2]), dtype)
    d1, g1, g2 = np.empty_like(a1), np.empty_like(W1), np.empty_like(W2)

    def epoch():
        order = rng.permutation(n)
        for first in range(0, n, batch):
            idx = order[first : first + batch]
            xb, _ = x.take(idx, axis=0), t.take(idx)
            np.matmul(xb, W1, out=a1)
            np.matmul(a1, W2, out=a2)
            np.matmul(a1.T, a2, out=g2)
            np.matmul(a2, W2.T, out=d1)
            np.matmul(xb.T, d1, out=g1)

    serve(conn, epoch, lambda: float("nan"))


SYSTEMS = {
    "nn32": (worker_nnscratch, np.float32, "auto"),
    "nn64": (worker_nnscratch, np.float64, "auto"),
    "nn32-1t": (worker_nnscratch, np.float32, 1),
    "nn32-2t": (worker_nnscratch, np.float32, 2),
    "torch": (worker_torch, np.float32, 2),
    "torch-1t": (worker_torch, np.float32, 1),
    "lean": (worker_lean, np.float32, 1),
    "floor": (worker_floor, np.float32, 1),
}


def receive(worker, name):
    """The worker's next answer; an error (not a hang) when the worker process has died."""
    process, conn = worker
    while not conn.poll(1.0):
        if not process.is_alive():
            raise SystemExit(
                f"worker {name} died (exit code {process.exitcode}); see its traceback above"
            )
    return conn.recv()


def start_workers(systems, names):
    """{name: (process, parent's end of its pipe)} for each of ``names``, ``systems[name]`` being
    (worker function, *its arguments after the pipe); each has said "ready" when this returns."""
    workers = {}
    for name in names:
        fn, *options = systems[name]
        parent, child = mp.Pipe()
        process = mp.Process(target=fn, args=(child, *options))
        process.start()
        workers[name] = (process, parent)
        assert receive(workers[name], name) == "ready"
    return workers


def interleaved_epochs(workers, epochs, pause=PAUSE):
    """Ask each worker for an epoch in turn, ``epochs`` rounds, the order rotated from round to
    round (A B C, B C A, C A B, ...: no system always follows the same one), printing each
    round's wall seconds: ({name: [(wall s, CPU s) of each epoch]}, 1-minute load averages).
    ``pause`` seconds before each epoch: a worker's idle threads (OpenBLAS's, OpenMP's) spin
    for a while after its epoch, and would take a core from the next worker's."""
    answers, loads = {name: [] for name in workers}, [os.getloadavg()[0]]
    names = list(workers)
    for e in range(epochs):
        for name in names[e % len(names) :] + names[: e % len(names)]:
            worker = workers[name]
            time.sleep(pause)
            worker[1].send("epoch")
            answers[name].append(receive(worker, name))
        loads.append(os.getloadavg()[0])
        print(
            f"epoch {e + 1}: "
            + "  ".join(f"{n} {a[-1][0]:.3f}" for n, a in answers.items())
            + f"  load {loads[-1]:.1f}",
            flush=True,
        )
    return answers, loads


def final_answers(workers):
    """{name: (test accuracy, peak RSS MB)} of each worker, which is then told to quit."""
    final = {}
    for name, (process, conn) in workers.items():
        conn.send("acc")
        final[name] = receive((process, conn), name)
        conn.send("quit")
        process.join()
    return final


def torch_tensors(x, t, x_test, t_test):
    """The data as torch tensors: images as they are (shared memory), labels int64."""
    import torch

    return (
        torch.from_numpy(x),
        torch.from_numpy(t.astype(np.int64)),
        torch.from_numpy(x_test),
        torch.from_numpy(t_test.astype(np.int64)),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--systems", default="nn32,lean,floor,torch")
    parser.add_argument(
        "--out",
        "--json",
        default=None,
        metavar="PATH",
        help="write the figures as JSON here too (benchmarks/record.py: rows, machine, loads)",
    )
    parser.add_argument(
        "--baseline",
        default=None,
        metavar="SRC",
        help="also time nn32 with the nnscratch package found in SRC",
    )
    args = parser.parse_args()
    mp.set_start_method("spawn")  # no torch in the nnscratch workers, fresh processes
    names = args.systems.split(",")
    systems = {name: SYSTEMS[name] for name in names}
    if args.baseline:
        names.insert(0, "nn32-base")
        systems["nn32-base"] = (
            worker_nnscratch,
            np.float32,
            "auto",
            os.path.abspath(args.baseline),
        )
    workers = start_workers(systems, names)
    answers, loads = interleaved_epochs(workers, args.epochs)
    results = {}
    for name, (acc, rss) in final_answers(workers).items():
        wall, cpu = [w for w, _ in answers[name]], [c for _, c in answers[name]]
        results[name] = {
            "wall_median": float(np.median(wall)),
            "wall": wall,
            "cpu_median": float(np.median(cpu)),
            "cpu": cpu,
            "test_acc": acc,
            "peak_rss_mb": rss,
        }
    ref2 = results.get("torch", {}).get("wall_median")
    ref1 = results.get("torch-1t", {}).get("wall_median")
    print(
        f"\n| system | wall s/epoch (median of {args.epochs}) | × PyTorch 2 threads | "
        f"× PyTorch 1 thread | CPU s/epoch | test acc | peak RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        ratio2 = f"{r['wall_median'] / ref2:.2f}" if ref2 else "–"
        ratio1 = f"{r['wall_median'] / ref1:.2f}" if ref1 else "–"
        print(
            f"| {name} | {r['wall_median']:.3f} | {ratio2} | {ratio1} | {r['cpu_median']:.3f} "
            f"| {r['test_acc']:.4f} | {r['peak_rss_mb']:.0f} |"
        )
    print(f"load average (1 min) during the run: {min(loads):.1f} – {max(loads):.1f}")
    if args.out:
        write_record(args, loads, results, ref2)


def write_record(args, loads, results, ref):
    """The run as benchmarks/record.py's JSON, with the figures as before ("results") too; the
    NumPy GEMM rate measured now, after the run."""
    from record import numpy_gemm_rates, write_json

    write_json(
        args.out,
        benchmark="fastpath",
        title=f"784-50-10 sigmoid, SGD 0.1, batch 100, Fashion-MNIST, {args.epochs} epochs",
        unit="epoch",
        settings={"epochs": args.epochs, "systems": args.systems, "baseline": args.baseline},
        rows=[
            {
                "system": name,
                "seconds": r["wall_median"],
                "ratio_torch": r["wall_median"] / ref if ref else None,
                "test_acc": r["test_acc"],
                "peak_rss_mb": r["peak_rss_mb"],
                "cpu_seconds": r["cpu_median"],
            }
            for name, r in results.items()
        ],
        loads=loads,
        gemm=numpy_gemm_rates(),
        results=results,
    )


if __name__ == "__main__":
    main()
