"""A training step of the default recipe, its gradient from hand-written backward passes against
the same step through the autograd graph (and PyTorch's autograd, where torch is installed).

The step: the README's default recipe on the digits (MultiLayerNet 64-256-128-10, ReLU, batch
norm, He init, Adam 1e-3), one mini-batch of 32: forward, gradient, update. Systems:

- hand-book / hand-fast: ``nnscratch.nets.MultiLayerNet``'s ``loss_gradient`` (the layers'
  backward passes) on the textbook's classes / the engine's;
- graph-book / graph-fast: ``nnscratch.autograd.nets.MultiLayerNet`` (the same network, its
  gradients by ``loss.backward()``), with the textbook's / the engine's Adam;
- torch: PyTorch 2.13's ``nn.Sequential(Linear, BatchNorm1d, ReLU, ...)``, ``torch.optim.Adam``,
  float64 as the others, ``torch.set_num_threads(1)``.

One BLAS thread for all (``threadpoolctl``), the systems taken in turns (A B C D E A B C …) so the
load of a shared machine falls on all alike; each turn times ``--steps`` steps. Reported: the
median µs per step and its ratio to hand-book. Run by hand, never in CI:

    python benchmarks/autograd.py [--rounds 15] [--steps 200]
"""

import argparse
import statistics
import time

import numpy as np
from convnet import machine
from threadpoolctl import threadpool_limits

SIZES = (64, [256, 128], 10)
BATCH = 32


def nnscratch_step(module, engine):
    from nnscratch import engine as engines
    from nnscratch import load_dataset
    from nnscratch.optim import Adam

    data = load_dataset("digits")
    x, t = data.x_train[:BATCH], data.t_train[:BATCH]
    net = module.MultiLayerNet(*SIZES, use_batchnorm=True, seed=0)
    optimizer = Adam(1e-3)
    engines.use(engine, net, optimizer)

    def step():
        _, grads = net.loss_gradient(x, t)
        optimizer.update(net.params, grads)

    return step


def torch_step():
    import torch

    from nnscratch import load_dataset

    torch.set_num_threads(1)
    data = load_dataset("digits")
    x = torch.tensor(data.x_train[:BATCH])
    t = torch.tensor(data.t_train[:BATCH], dtype=torch.long)
    layers, sizes = [], [SIZES[0], *SIZES[1], SIZES[2]]
    for i in range(1, len(sizes)):
        layers.append(torch.nn.Linear(sizes[i - 1], sizes[i]))
        if i < len(sizes) - 1:
            layers += [torch.nn.BatchNorm1d(sizes[i]), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers).double()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss_fn(model(x), t).backward()
        optimizer.step()

    return step


def systems():
    from nnscratch import nets
    from nnscratch.autograd import nets as autograd_nets

    out = {
        "hand-book": nnscratch_step(nets, "book"),
        "hand-fast": nnscratch_step(nets, "fast"),
        "graph-book": nnscratch_step(autograd_nets, "book"),
        "graph-fast": nnscratch_step(autograd_nets, "fast"),
    }
    try:
        out["torch"] = torch_step()
    except ImportError:
        print("torch is not installed: PyTorch left out")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="turns per system")
    parser.add_argument("--steps", type=int, default=200, help="steps per turn")
    args = parser.parse_args()
    print(machine())
    with threadpool_limits(1):
        steps = systems()
        for step in steps.values():  # warm up: first calls, caches, the allocator
            for _ in range(20):
                step()
        times = {name: [] for name in steps}
        for _ in range(args.rounds):
            for name, step in steps.items():
                start = time.perf_counter()
                for _ in range(args.steps):
                    step()
                times[name].append((time.perf_counter() - start) / args.steps)
    base = statistics.median(times["hand-book"])
    print(f"{'system':12} {'µs/step':>9} {'÷ hand-book':>12} {'IQR µs':>9}")
    for name, values in times.items():
        q1, _, q3 = np.percentile(values, [25, 50, 75])
        median = statistics.median(values)
        print(f"{name:12} {median * 1e6:9.0f} {median / base:12.2f} {(q3 - q1) * 1e6:9.0f}")


if __name__ == "__main__":
    main()
