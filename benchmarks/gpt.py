"""nnscratch's GPT against a PyTorch twin on the CPU: nanoGPT's CPU recipe on 全唐诗, side by side.

The model and the recipe are nanoGPT's "on a CPU" run of its shakespeare_char example
(README: ``--device=cpu --compile=False --block_size=64 --batch_size=12 --n_layer=4 --n_head=4
--n_embd=128 --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0``, with
``config/train_shakespeare_char.py``'s learning_rate 1e-3, beta2 0.99, warmup_iters 100, min_lr
1e-4 and train.py's weight_decay 0.1, beta1 0.9, grad_clip 1.0), on 全唐诗 (character tokens,
about 9,500 of them) instead of Shakespeare:

- GPT: 4 Transformer blocks, 4 heads, width 128, context 64, GELU (tanh approximation),
  LayerNorm ε 1e-5, untied head with a bias (nnscratch's ``GPT``); float32;
- AdamW, lr 1e-3, β (0.9, 0.99), ε 1e-8, weight decay 0.1 on the matrices (ndim ≥ 2: the
  weights and both embeddings) only, gradients clipped to a global norm of 1.0, the rate
  warmed up linearly over 100 iterations and then cosine-decayed to 1e-4 at the last iteration
  (nanoGPT's ``get_lr``: ``lr·(it + 1)/(warmup + 1)``, then
  ``min_lr + ½(1 + cos(π·(it − warmup)/(iters − warmup)))·(lr − min_lr)``);
- batches of 12 random windows of 64 tokens (``get_batch``).

The two systems:

- nnscratch: ``GPT(dtype=float32)`` on the fast engine, ``loss_gradient``, the engine's
  ``clip_by_global_norm`` (what the Trainer uses there), ``AdamW``; NumPy's BLAS limited to
  ``--threads`` threads (threadpoolctl);
- torch: PyTorch 2.13 CPU, a small ``nn.Module`` of the same architecture (``nn.Linear``,
  ``nn.LayerNorm``, ``F.scaled_dot_product_attention(is_causal=True)``,
  ``F.gelu(approximate="tanh")``, ``F.cross_entropy``), ``torch.optim.AdamW`` with two parameter
  groups (decay on ndim ≥ 2 only), ``clip_grad_norm_``; ``torch.set_num_threads(--threads)``.

Both start from the same weights (nnscratch's seed-0 draw, copied into the twin) and train on the
same batches: the parent draws every training batch and the validation windows once, from one
generator, and sends them to both. Each system runs in its own process; the parent has them take
their iterations in turns, ``--chunk`` iterations at a time (A B, B A, ...: the order swapped
from turn to turn, a ``--pause`` between turns), so that the load of a shared machine falls on
both alike. Reported: seconds per iteration (batch, forward, backward, clipping, update: the
median over the timed chunks), its ratio to the twin's, the validation loss after the last
iteration (mean cross-entropy over ``--val-batches`` fixed batches of validation windows, the
same for both), the mean training loss of the last 100 iterations, each process's peak resident
memory, and the share of the machine's matrix-product rate the iteration reaches: the
iteration's matrix-product FLOPs (counted from the shapes: forward, ∂W and ∂x of every product,
the attention's two batched products per head included) divided by its time, as a fraction of
the GFLOP/s of a 2000×2000 float32 product measured in each process with its threads (the
better of a measurement before the run and one after it).
``--repeats`` runs the whole comparison that many times (fresh processes, same weights and
batches) and reports each run. Run by hand, never in CI (torch only in the benchmark's
environment):

    python benchmarks/gpt.py --data-dir ../shared/data/chinese-poetry/quan-tang-shi
    python benchmarks/gpt.py --quick          # 60 iterations, a smoke run

``--json FILE`` writes the figures as JSON too (benchmarks/record.py), for benchmarks/run_all.py.
"""

import argparse
import math
import multiprocessing as mp
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convnet import gemm_gflops, machine  # noqa: E402 - the house's machine line and GEMM rate
from fastpath import load_kernels, receive  # noqa: E402 - the worker's answer, or an error

SEED = 0
CONTEXT, BATCH, N_LAYERS, N_HEADS, WIDTH = 64, 12, 4, 4, 128
LR, MIN_LR, WARMUP = 1e-3, 1e-4, 100
BETA1, BETA2, EPS, WEIGHT_DECAY, GRAD_CLIP = 0.9, 0.99, 1e-8, 0.1, 1.0
LN_EPS = 1e-5
GEMM_SIZE = 2000


def lr_at(it, iters):
    """nanoGPT's ``get_lr(it)`` with lr_decay_iters = iters: linear warm-up over WARMUP
    iterations, then cosine from LR down to MIN_LR at the last iteration."""
    warmup = min(WARMUP, max(iters // 10, 1))  # a --quick run keeps a warm-up and a decay
    if it < warmup:
        return LR * (it + 1) / (warmup + 1)
    ratio = min(1.0, (it - warmup) / max(iters - warmup, 1))
    return MIN_LR + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (LR - MIN_LR)


def draw_batches(data, iters, val_batches, seed=SEED):
    """Every training batch and the validation windows, from one generator: (x, t) (iters, B, T)
    and (vx, vt) (val_batches, B, T), int32."""
    from nnscratch.datasets.text import get_batch

    rng = np.random.default_rng(seed)
    train = [get_batch(data.train, BATCH, CONTEXT, rng) for _ in range(iters)]
    val = [get_batch(data.val, BATCH, CONTEXT, rng) for _ in range(val_batches)]

    def stack(pairs, i):
        return np.stack([p[i] for p in pairs]).astype(np.int32)

    return stack(train, 0), stack(train, 1), stack(val, 0), stack(val, 1)


def step_flops(V, C=WIDTH, L=N_LAYERS, T=CONTEXT, B=BATCH):
    """Matrix-product FLOPs of one training iteration: each product of the forward (per block
    x·W_qkv, Q·Kᵀ, A·V, Y·W_out, the MLP's two; the head) costs 2·m·k·n, and its backward twice
    that (∂W and ∂x; the attention's ∂Q, ∂K, ∂A, ∂V alike): 3× the forward's in all."""
    rows = B * T
    block = 2 * rows * C * (3 * C + C + 4 * C + 4 * C) + 2 * 2 * B * T * T * C
    return 3 * (L * block + 2 * rows * C * V)


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def serve(conn, run, evaluate, gflops, library):
    """Answer the parent: ("run", start, k) takes iterations start..start+k-1 → (seconds, their
    losses), ("eval",) → (seconds, validation loss), ("stats",) → (peak RSS MB, GEMM GFLOP/s,
    ``library()``: which matrix-product library and kernels). The GEMM rate is the better of
    one measured before the first iteration and one at the end (a shared machine's load
    varies)."""
    rate = gflops()
    conn.send("ready")
    while True:
        cmd = conn.recv()
        if cmd[0] == "run":
            losses = []
            seconds = _timed(lambda: losses.extend(run(cmd[1], cmd[2])))  # noqa: B023
            conn.send((seconds, losses))
        elif cmd[0] == "eval":
            start = time.perf_counter()
            loss = evaluate()
            conn.send((time.perf_counter() - start, loss))
        elif cmd[0] == "stats":
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            conn.send((rss, max(rate, gflops()), library()))
        else:
            return


def nnscratch_model(V):
    from nnscratch.gpt import GPT

    return GPT(V, CONTEXT, N_LAYERS, N_HEADS, WIDTH, seed=SEED, dtype=np.float32)


def worker_nnscratch(conn, V, batches, iters, threads):
    from threadpoolctl import threadpool_limits

    from nnscratch import engine
    from nnscratch.engine.optim import clip_by_global_norm  # the Trainer's on the fast engine
    from nnscratch.optim import AdamW

    x, t, vx, vt = batches
    net = nnscratch_model(V)
    optimizer = AdamW(LR, BETA1, BETA2, EPS, WEIGHT_DECAY)
    engine.use("fast", net, optimizer)
    use_kernels = load_kernels(net, iters)

    def run(start, k):
        losses = []
        with threadpool_limits(threads, user_api="blas"), use_kernels():
            for it in range(start, start + k):
                optimizer.lr = lr_at(it, iters)
                loss, grads = net.loss_gradient(x[it], t[it])
                optimizer.update(net.params, clip_by_global_norm(grads, GRAD_CLIP))
                losses.append(float(loss))
        return losses

    def evaluate():
        with threadpool_limits(threads, user_api="blas"):
            return float(np.mean([net.evaluation_loss(a, b) for a, b in zip(vx, vt)]))

    def gflops():
        with threadpool_limits(threads, user_api="blas"):
            rng = np.random.default_rng(0)
            return gemm_gflops(
                np.matmul, lambda: rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(np.float32)
            )

    def library():
        from threadpoolctl import threadpool_info

        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        return ", ".join(
            f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')} kernels)"
            for i in blas
        )

    serve(conn, run, evaluate, gflops, library)


def torch_twin(params, V):
    """The same GPT in PyTorch, holding nnscratch's ``params`` (copied)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    C, H = WIDTH, N_HEADS

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(C, eps=LN_EPS)
            self.qkv = nn.Linear(C, 3 * C)
            self.out = nn.Linear(C, C)
            self.ln2 = nn.LayerNorm(C, eps=LN_EPS)
            self.fc1 = nn.Linear(C, 4 * C)
            self.fc2 = nn.Linear(4 * C, C)

        def forward(self, x):
            B, T, _ = x.shape
            q, k, v = (
                z.view(B, T, H, C // H).transpose(1, 2)
                for z in self.qkv(self.ln1(x)).split(C, dim=2)
            )
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.out(y.transpose(1, 2).reshape(B, T, C))
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))

    class TwinGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(V, C)
            self.wpe = nn.Embedding(CONTEXT, C)
            self.blocks = nn.ModuleList(Block() for _ in range(N_LAYERS))
            self.ln_f = nn.LayerNorm(C, eps=LN_EPS)
            self.head = nn.Linear(C, V)

        def forward(self, ids, targets):
            T = ids.shape[1]
            x = self.wte(ids) + self.wpe.weight[:T]
            for block in self.blocks:
                x = block(x)
            logits = self.head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, V), targets.reshape(-1))

    model = TwinGPT()

    def copy(param, array):
        param.copy_(torch.from_numpy(np.ascontiguousarray(array)))

    def linear(layer, W, b):  # nn.Linear keeps (out, in): the transpose of ours
        copy(layer.weight, params[W].T)
        copy(layer.bias, params[b])

    with torch.no_grad():
        copy(model.wte.weight, params["wte"])
        copy(model.wpe.weight, params["wpe"])
        for i, block in enumerate(model.blocks):
            p = f"h{i}_"
            for ln, name in ((block.ln1, "ln1"), (block.ln2, "ln2")):
                copy(ln.weight, params[p + name + "_gamma"])
                copy(ln.bias, params[p + name + "_beta"])
            linear(block.qkv, p + "attn_W_qkv", p + "attn_b_qkv")
            linear(block.out, p + "attn_W_out", p + "attn_b_out")
            linear(block.fc1, p + "mlp_W1", p + "mlp_b1")
            linear(block.fc2, p + "mlp_W2", p + "mlp_b2")
        copy(model.ln_f.weight, params["lnf_gamma"])
        copy(model.ln_f.bias, params["lnf_beta"])
        linear(model.head, "W_head", "b_head")
    return model


def worker_torch(conn, V, batches, iters, threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(SEED)
    x, t, vx, vt = (torch.from_numpy(a.astype(np.int64)) for a in batches)
    model = torch_twin(nnscratch_model(V).params, V)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0}],
        lr=LR,
        betas=(BETA1, BETA2),
        eps=EPS,
    )

    def run(start, k):
        losses = []
        model.train()
        for it in range(start, start + k):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(it, iters)
            loss = model(x[it], t[it])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
            optimizer.step()
            losses.append(loss.item())
        return losses

    def evaluate():
        model.eval()
        with torch.no_grad():
            return float(np.mean([float(model(a, b)) for a, b in zip(vx, vt)]))

    def gflops():
        return gemm_gflops(torch.mm, lambda: torch.randn(GEMM_SIZE, GEMM_SIZE))

    def library():
        return f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()} kernels)"

    serve(conn, run, evaluate, gflops, library)


WORKERS = {"nnscratch": worker_nnscratch, "torch": worker_torch}


def compare(V, batches, iters, args):
    """One comparison: fresh workers, the iterations in alternated chunks; {system: results}."""
    workers = {}
    for name, fn in WORKERS.items():
        parent, child = mp.Pipe()
        process = mp.Process(target=fn, args=(child, V, batches, iters, args.threads))
        process.start()
        workers[name] = (process, parent)
    for name, worker in workers.items():
        assert receive(worker, name) == "ready"
    chunk_s = {name: [] for name in workers}
    losses = {name: [] for name in workers}
    names = list(workers)
    loads = [os.getloadavg()[0]]
    starts = list(range(0, iters, args.chunk))
    for turn, start in enumerate(starts):
        k = min(args.chunk, iters - start)
        for name in names if turn % 2 == 0 else names[::-1]:
            process, conn = workers[name]
            conn.send(("run", start, k))
            seconds, chunk_losses = receive((process, conn), name)
            if k == args.chunk:  # a short last chunk is not timed
                chunk_s[name].append(seconds / k)
            losses[name] += chunk_losses
            time.sleep(args.pause)
        if (turn + 1) % max(1, len(starts) // 10) == 0 or turn == len(starts) - 1:
            loads.append(os.getloadavg()[0])
            print(
                f"  iteration {start + k}: "
                + "  ".join(
                    f"{n} {np.median(chunk_s[n][-5:]):.3f} s/it loss {losses[n][-1]:.3f}"
                    for n in names
                )
                + f"  load {loads[-1]:.1f}",
                flush=True,
            )
    results = {}
    for name, (process, conn) in workers.items():
        conn.send(("eval",))
        eval_s, val = receive((process, conn), name)
        conn.send(("stats",))
        rss, gflops, library = receive((process, conn), name)
        conn.send(("quit",))
        process.join()
        results[name] = {
            "s_per_it": float(np.median(chunk_s[name])),
            "val": val,
            "train": float(np.mean(losses[name][-100:])),
            "first": losses[name][0],
            "eval_s": eval_s,
            "rss": rss,
            "gflops": gflops,
            "library": library,
        }
    results["loads"] = (min(loads), max(loads))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=2000, help="training iterations (2000)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 60 iterations, 5 validation batches"
    )
    parser.add_argument("--repeats", type=int, default=1, help="whole comparisons to run (1)")
    parser.add_argument(
        "--data-dir", default=None, help="where 全唐诗's 58 files are (default: the cache)"
    )
    parser.add_argument(
        "--chunk", type=int, default=50, help="iterations per turn, each turn timed (50)"
    )
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between turns (0.2)")
    parser.add_argument(
        "--val-batches", type=int, default=100, help="validation batches of 12 windows (100)"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch and NumPy's BLAS threads (2)")
    parser.add_argument(
        "--json",
        default=None,
        metavar="PATH",
        help="write the figures as JSON here too (benchmarks/record.py: rows, machine, loads)",
    )
    args = parser.parse_args()
    if args.quick:
        args.iters, args.val_batches, args.chunk = 60, 5, min(args.chunk, 10)
    from nnscratch.datasets.text import load_tang

    data = load_tang(args.data_dir)
    V = data.tokenizer.vocab_size
    batches = draw_batches(data, args.iters, args.val_batches)
    mp.set_start_method("spawn")  # fresh processes: no torch in nnscratch's
    print(data.description, flush=True)
    runs = []
    for r in range(args.repeats):
        print(f"run {r + 1} of {args.repeats}:", flush=True)
        runs.append(compare(V, batches, args.iters, args))
    flops = step_flops(V)
    print(
        f"\nGPT {N_LAYERS} layers, {N_HEADS} heads, width {WIDTH}, context {CONTEXT}, vocabulary "
        f"{V:,} (全唐诗), batch {BATCH}, float32, AdamW lr {LR:g} (warm-up {WARMUP}, cosine to "
        f"{MIN_LR:g}), β ({BETA1}, {BETA2}), weight decay {WEIGHT_DECAY}, clip {GRAD_CLIP}, "
        f"{args.iters} iterations, timed in chunks of {args.chunk}; {args.threads} threads each; "
        f"machine: {machine()}; the iteration's matrix products: {flops / 1e9:.2f} GFLOP; "
        f"validation loss over {args.val_batches * BATCH} windows of {CONTEXT} tokens"
    )
    print(
        "\n| run | system | s per iteration | × torch | val loss | Δ val | train loss (last 100) "
        "| peak RSS MB | GEMM GFLOP/s | share of it |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r, results in enumerate(runs, start=1):
        ref = results["torch"]
        for name in WORKERS:
            res = results[name]
            share = flops / res["s_per_it"] / 1e9 / res["gflops"]
            print(
                f"| {r} | {name} | {res['s_per_it']:.4f} | {res['s_per_it'] / ref['s_per_it']:.2f} "
                f"| {res['val']:.4f} | {res['val'] - ref['val']:+.4f} | {res['train']:.4f} "
                f"| {res['rss']:.0f} | {res['gflops']:.0f} | {share:.0%} |"
            )
    for name in WORKERS:
        print(f"{name}'s matrix products: {runs[0][name]['library']}")
    for r, results in enumerate(runs, start=1):
        low, high = results["loads"]
        print(
            f"run {r}: first loss nnscratch {results['nnscratch']['first']:.4f}, torch "
            f"{results['torch']['first']:.4f} (ln V = {math.log(V):.4f}); load average "
            f"(1 min) {low:.1f} – {high:.1f}"
        )
    if args.json:
        write_record(args, V, runs, flops)


def write_record(args, V, runs, flops):
    """The runs as benchmarks/record.py's JSON: a row per run and system (``run``: 1, 2, ...),
    seconds per iteration; NumPy's GEMM rate as nnscratch's process measured it (run 1)."""
    from record import write_json

    rows = []
    for r, results in enumerate(runs, start=1):
        ref = results["torch"]
        for name in WORKERS:
            res = results[name]
            rows.append(
                {
                    "system": name,
                    "run": r,
                    "seconds": res["s_per_it"],
                    "ratio_torch": res["s_per_it"] / ref["s_per_it"],
                    "val_loss": res["val"],
                    "peak_rss_mb": res["rss"],
                    "gemm_share": flops / res["s_per_it"] / 1e9 / res["gflops"],
                    "train_loss": res["train"],
                    "first_loss": res["first"],
                    "eval_s": res["eval_s"],
                    "gemm_gflops": res["gflops"],
                    "library": res["library"],
                }
            )
    write_json(
        args.json,
        benchmark="gpt",
        title=f"GPT {N_LAYERS} layers, {N_HEADS} heads, width {WIDTH}, context {CONTEXT}, "
        f"vocabulary {V:,} (全唐诗), batch {BATCH}, AdamW, {args.iters} iterations",
        unit="step",
        settings={
            "iters": args.iters,
            "repeats": args.repeats,
            "chunk": args.chunk,
            "pause": args.pause,
            "val_batches": args.val_batches,
            "threads": args.threads,
            "data_dir": args.data_dir,
        },
        rows=rows,
        loads=[load for results in runs for load in results["loads"]],
        gemm={args.threads: runs[0]["nnscratch"]["gflops"]},
        step_gflop=flops / 1e9,
    )


if __name__ == "__main__":
    main()
