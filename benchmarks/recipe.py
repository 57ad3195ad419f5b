"""The default recipe and a deep MLP: nnscratch against PyTorch, epoch by epoch, interleaved.

Two configurations on Fashion-MNIST (60,000 training images, 784 inputs, float32, batch 100):

- recipe: what ``nnscratch train`` trains by default — MultiLayerNet 784-256-128-10, BatchNorm
  before each ReLU, He initialisation, Adam lr 0.001 with a cosine schedule over ``--epochs``;
- deep: the same network without BatchNorm and without the schedule.

Systems, each in its own process:

- nn32: nnscratch ``Trainer.run`` epoch by epoch, with ``--nnscratch-threads`` BLAS threads
  ("auto", as ``nnscratch train``: :func:`nnscratch.engine.blas.step_threads`, unless told);
- nn32-1t / nn32-2t: the same with 1 / 2 BLAS threads, to compare in one run;
- nn32-base (``--baseline SRC``): the same with the nnscratch found in SRC (another checkout's
  ``src/``, e.g. a ``git worktree`` of the commit before a change): before and after in one run;
- torch / torch-1t: PyTorch 2.13 CPU, ``nn.Sequential`` of Linear, BatchNorm1d (momentum 0.1,
  which is nnscratch's 0.9), ReLU, ``CrossEntropyLoss``, ``torch.optim.Adam``,
  ``CosineAnnealingLR`` stepped once an epoch; ``torch.set_num_threads(2)`` / ``(1)``.

Every system starts from the same weights (nnscratch's seed-0 draw) and draws the same
permutations (``np.random.default_rng(0)`` each epoch). Each epoch's time includes what
``nnscratch train`` does at its end: the accuracy on the 60,000 training and the 10,000 test
images, in evaluation mode. The parent asks each system for one epoch in turn (A B C A B C ...),
so that the load of a shared machine falls on all alike. Reported: seconds per epoch (median),
the ratio to PyTorch with 2 threads, test accuracy after the last epoch, peak RSS, and the share
of the machine's float32 matrix-product rate (a 2000² product in NumPy, 1 and 2 threads,
measured first) that the epoch's products reach: 3 products per Affine layer per step, one per
layer for each image evaluated. Run by hand, never in CI:

    python benchmarks/recipe.py --config recipe --epochs 5 [--baseline ../before/src] [--json FILE]

(``--json``: the figures as JSON too, benchmarks/record.py, for benchmarks/run_all.py.)
"""

import argparse
import multiprocessing as mp
import os
import sys

import numpy as np
from convnet import GEMM_SIZE, gemm_gflops, machine
from fastpath import final_answers, interleaved_epochs, serve, start_workers, torch_tensors

SEED, BATCH, LR, SIZES = 0, 100, 0.001, (784, 256, 128, 10)


def _data():
    from nnscratch import load_dataset

    d = load_dataset("fashion-mnist", dtype="float32")
    return d.x_train, d.t_train, d.x_test, d.t_test


def _network(config):
    from nnscratch.nets import MultiLayerNet

    return MultiLayerNet(
        SIZES[0],
        SIZES[1:-1],
        SIZES[-1],
        activation="relu",
        weight_init="he",
        use_batchnorm=config == "recipe",
        seed=SEED,
        dtype=np.float32,
    )


def epoch_flops(n_train, n_eval, batch=BATCH):
    """Matrix-product FLOPs of one epoch: per step x·W, xᵀ·dout and dout·Wᵀ of every Affine
    layer (2·N·D·H each) but the first, whose dout·Wᵀ (the data's gradient) neither system
    computes, and x·W of every layer for each of the ``n_eval`` images evaluated."""
    per_layer = [2 * d * h for d, h in zip(SIZES[:-1], SIZES[1:])]
    per_image = sum(per_layer)
    return (3 * per_image - per_layer[0]) * (n_train // batch) * batch + per_image * n_eval


def worker_nnscratch(conn, config, epochs, threads, src=None):
    if src is not None:
        sys.path.insert(0, src)
    import nnscratch
    from nnscratch import Trainer
    from nnscratch.optim import Adam, CosineLR

    print(f"nnscratch from {os.path.dirname(nnscratch.__file__)}", flush=True)
    x, t, x_test, t_test = _data()
    net = _network(config)
    trainer = Trainer(
        net,
        x,
        t,
        x_test,
        t_test,
        epochs=epochs,
        batch_size=BATCH,
        optimizer=Adam(LR),
        seed=SEED,
        lr_schedule=CosineLR(epochs) if config == "recipe" else None,
    )
    package = os.path.dirname(nnscratch.__file__)
    if threads == "auto" and not any(
        os.path.exists(os.path.join(package, *path))
        for path in (("blas.py",), ("engine", "blas.py"))
    ):
        threads = 1  # a baseline from before nnscratch.blas: what `nnscratch train` set then
    trainer.blas_threads = threads
    records = []

    def epoch():
        records.extend(trainer.run(trainer.iter_per_epoch))

    serve(conn, epoch, lambda: records[-1]["test_acc"])


def torch_model(config, params):
    """PyTorch's layers holding nnscratch's ``params`` (W1, b1, ...; γ, β of BatchNorm 1)."""
    import torch
    from torch import nn

    layers = []
    for i, (d, h) in enumerate(zip(SIZES[:-1], SIZES[1:]), start=1):
        linear = nn.Linear(d, h)
        with torch.no_grad():  # nn.Linear keeps W as (out, in): the transpose of ours
            linear.weight.copy_(torch.from_numpy(params[f"W{i}"].T.copy()))
            linear.bias.copy_(torch.from_numpy(params[f"b{i}"]))
        layers.append(linear)
        if i < len(SIZES) - 1:
            layers += [nn.BatchNorm1d(h, eps=1e-5, momentum=0.1)] if config == "recipe" else []
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def worker_torch(conn, config, epochs, threads):
    import torch

    torch.set_num_threads(threads)
    x, t, x_test, t_test = torch_tensors(*_data())
    model = torch_model(config, _network(config).params)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    schedule = (
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        if config == "recipe"
        else None
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(SEED)
    accuracies = []

    def accuracy(inputs, labels):
        with torch.no_grad():
            return (model(inputs).argmax(1) == labels).double().mean().item()

    def epoch():
        model.train()
        order = torch.from_numpy(rng.permutation(len(x)))
        for first in range(0, len(x), BATCH):
            idx = order[first : first + BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), t[idx]).backward()
            optimizer.step()
        if schedule is not None:
            schedule.step()
        model.eval()
        accuracies.append((accuracy(x, t), accuracy(x_test, t_test)))

    serve(conn, epoch, lambda: accuracies[-1][1])


def _gemm_rates():
    """NumPy's float32 GFLOP/s for a GEMM_SIZE² product with 1 and 2 BLAS threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    rates = {}
    for threads in (1, 2):
        with threadpool_limits(threads, user_api="blas"):
            rates[threads] = gemm_gflops(
                np.matmul, lambda: rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(np.float32)
            )
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=["recipe", "deep"], default="recipe")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--systems", default="nn32,torch")
    parser.add_argument(
        "--baseline",
        default=None,
        metavar="SRC",
        help="also time nn32 with the nnscratch package found in SRC",
    )
    parser.add_argument(
        "--nnscratch-threads",
        type=lambda v: v if v == "auto" else int(v),
        default="auto",
        help="nnscratch's BLAS threads: auto (the default, "
        "as `nnscratch train`: nnscratch.engine.blas.step_threads) or a number",
    )
    parser.add_argument(
        "--json",
        default=None,
        metavar="PATH",
        help="write the figures as JSON here too (benchmarks/record.py: rows, machine, loads)",
    )
    args = parser.parse_args()
    rates = _gemm_rates()
    mp.set_start_method("spawn")  # fresh processes: no torch in nnscratch's
    threads = args.nnscratch_threads
    options = {
        "nn32": (worker_nnscratch, args.config, args.epochs, threads),
        "nn32-1t": (worker_nnscratch, args.config, args.epochs, 1),
        "nn32-2t": (worker_nnscratch, args.config, args.epochs, 2),
        "torch": (worker_torch, args.config, args.epochs, 2),
        "torch-1t": (worker_torch, args.config, args.epochs, 1),
    }
    names = args.systems.split(",")
    if args.baseline:
        names.insert(0, "nn32-base")
        options["nn32-base"] = (
            worker_nnscratch,
            args.config,
            args.epochs,
            threads,
            os.path.abspath(args.baseline),
        )
    workers = start_workers(options, names)
    answers, loads = interleaved_epochs(workers, args.epochs)
    results = {
        name: {"s": float(np.median([wall for wall, _ in answers[name]])), "acc": acc, "rss": rss}
        for name, (acc, rss) in final_answers(workers).items()
    }
    flops = epoch_flops(60000, 70000)
    print(
        f"\n{args.config}: MultiLayerNet {'-'.join(map(str, SIZES))}"
        f"{' BatchNorm, cosine' if args.config == 'recipe' else ''}, Adam {LR}, batch {BATCH}, "
        f"float32, Fashion-MNIST, {args.epochs} epochs, each with its train and test accuracy; "
        f"machine: {machine()}; NumPy GEMM {rates[1]:.0f} GFLOP/s with 1 thread, "
        f"{rates[2]:.0f} with 2; an epoch's products: {flops / 1e9:.1f} GFLOP"
    )
    ref = results.get("torch", {}).get("s")
    print(
        f"\n| system | s/epoch (median of {args.epochs}) | × PyTorch 2 threads | test acc "
        f"| peak RSS MB | share of the 2-thread GEMM rate |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        ratio = f"{r['s'] / ref:.2f}" if ref else "–"
        share = flops / r["s"] / 1e9 / rates[2]
        print(
            f"| {name} | {r['s']:.2f} | {ratio} | {r['acc']:.4f} | {r['rss']:.0f} | {share:.0%} |"
        )
    print(f"\nload average (1 min) during the run: {min(loads):.1f} – {max(loads):.1f}")
    if args.json:
        from record import write_json

        write_json(
            args.json,
            benchmark="recipe",
            title=f"{args.config}: MultiLayerNet {'-'.join(map(str, SIZES))}"
            f"{', BatchNorm, cosine' if args.config == 'recipe' else ''}, Adam {LR}, "
            f"batch {BATCH}, Fashion-MNIST, {args.epochs} epochs",
            unit="epoch",
            settings={
                "config": args.config,
                "epochs": args.epochs,
                "systems": args.systems,
                "baseline": args.baseline,
                "nnscratch_threads": args.nnscratch_threads,
            },
            rows=[
                {
                    "system": name,
                    "seconds": r["s"],
                    "ratio_torch": r["s"] / ref if ref else None,
                    "test_acc": r["acc"],
                    "peak_rss_mb": r["rss"],
                    "gemm_share": flops / r["s"] / 1e9 / rates[2],
                }
                for name, r in results.items()
            ],
            loads=loads,
            gemm=rates,
            epoch_gflop=flops / 1e9,
        )


if __name__ == "__main__":
    main()
