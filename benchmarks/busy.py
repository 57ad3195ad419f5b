"""``nnscratch train`` on a busy machine: quiet and beside 1 and 2 CPU-bound processes, against
``OPENBLAS_NUM_THREADS=1`` and against PyTorch's twin under the same load.

What a user waits for, measured by the parent from start to exit: each run is a whole fresh
process, started while ``--loads`` other processes spin (``while True: pass``, started
``--settle`` seconds before the run so that the load is real, killed when it ends). Workloads:

- digits: ``nnscratch train --quiet --out TMP`` with every default (MultiLayerNet 64-256-128-10,
  BatchNorm, ReLU, He initialisation, Adam 0.001, cosine schedule, batch 32, 40 epochs,
  float64: the README's recipe);
- fashion-mnist: ``nnscratch train --quiet --out TMP --dataset fashion-mnist --epochs E``
  (``--fashion-epochs``, 2 by default; 784-256-128-10, batch 100, float32).

Variants, taking turns within each repeat (the order rotated from one repeat to the next), so
that drift and the machine's other users fall on all alike:

- default: the environment as it is, without OPENBLAS_NUM_THREADS, OMP_NUM_THREADS,
  MKL_NUM_THREADS (BLAS's own thread count: every core);
- openblas1: the same with ``OPENBLAS_NUM_THREADS=1``;
- pytorch: PyTorch's twin of the run (this file, ``--worker pytorch``) with torch's own threads
  (``torch.get_num_threads()``: every core), the twin a user would write; pytorch1: with
  ``torch.set_num_threads(1)`` (not in the default list);
- baseline (with ``--baseline SRC``): default with the nnscratch found in SRC (another checkout's
  ``src/``, e.g. ``git worktree add ../before <commit>`` then ``--baseline ../before/src``):
  "no slower than today" in one run.

The twin: the options ``nnscratch train`` resolves for the run (``nnscratch.run.options.resolve``:
hidden sizes, batch size, epochs, learning rate, schedule, seed) as ``nn.Sequential`` of
``Linear → BatchNorm1d(eps 1e-5, momentum 0.1, which is nnscratch's 0.9) → ReLU`` per hidden
layer and a last ``Linear``; weights ``kaiming_normal_`` (He: N(0, 2/fan_in)), biases 0,
``torch.manual_seed(seed)``; ``CrossEntropyLoss``, ``torch.optim.Adam(lr)``,
``CosineAnnealingLR(T_max=epochs)`` stepped once an epoch; each epoch a ``torch.randperm`` of
the training set in batches (the last one short, as nnscratch's), then the accuracy on the whole
training and test sets in evaluation mode (what ``nnscratch train`` computes at each epoch's
end), and the final accuracies after. Data: digits from scikit-learn's ``load_digits`` / 16 with
nnscratch's stratified split (``train_test_split``, test 0.2, stratified, the seed's
``SeedSequence`` state); Fashion-MNIST from ``nnscratch.datasets.load_dataset``. float32
(``--torch-dtype same``: nnscratch's dtype, float64 on the digits).

Reported: the machine, BLAS and torch; per dataset and load the median wall seconds of each
variant over ``--repeats`` and the ratios default ÷ each other variant; a second table with the
training seconds each run reports itself ("done: ... in X s": the epochs with their end-of-epoch
evaluation and checkpoints, no start-up, no saving); the raw runs (every time, the run's CPU
seconds, test accuracy, load average) in ``--out`` (JSON, rewritten after every run). The issue's
checks: default ÷ openblas1 ≤ 1 with 2 loads, and default ÷ baseline ≤ 1 with none. Run by hand,
never in CI (torch only in the benchmark's environment):

    python benchmarks/busy.py        # 3 repeats, loads 0,1,2, both sets: 54 runs, 15-30 min on
                                     # 2 cores, most of it PyTorch's 2 threads under load
    python benchmarks/busy.py --baseline ../before/src --variants default,openblas1,baseline
    python benchmarks/busy.py --repeats 1 --loads 0,1 --datasets digits   # a quick look
"""

import argparse
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from convnet import machine

HERE = os.path.dirname(os.path.abspath(__file__))
DATASETS = ("digits", "fashion-mnist")
#: variant → its column's heading
VARIANTS = {
    "default": "default s",
    "openblas1": "OPENBLAS=1 s",
    "pytorch": "PyTorch s",
    "pytorch1": "PyTorch 1 thread s",
    "baseline": "baseline s",
}
LABELS = {
    "openblas1": "OPENBLAS=1",
    "pytorch": "PyTorch",
    "pytorch1": "PyTorch 1t",
    "baseline": "baseline",
}
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: the load: one CPU-bound process
SPINNER = "while True: pass"
DONE = re.compile(r"iterations in ([0-9.]+) s; final train acc ([0-9.]+), test acc ([0-9.]+)")


# --- the twin (runs in its own process: --worker pytorch) ------------------------------------


def digits_data(test_size, seed):
    """scikit-learn's digits / 16, split as ``nnscratch.datasets.load_digits`` splits them."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    state = int(np.random.SeedSequence(seed).generate_state(1)[0])
    x_train, x_test, t_train, t_test = train_test_split(
        bunch.data / 16.0,
        bunch.target,
        test_size=test_size,
        stratify=bunch.target,
        random_state=state,
    )
    return x_train, t_train, x_test, t_test


def twin(spec, threads, dtype):
    """Train PyTorch's twin of the run ``spec`` (the resolved options, a dict); returns its
    record: the training seconds (the epochs with their evaluation) and the final accuracies."""
    import torch
    from torch import nn

    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(spec["seed"])
    if spec["dataset"] == "digits":
        arrays = digits_data(spec["test_size"], spec["seed"])
    else:
        from nnscratch.datasets import load_dataset

        d = load_dataset(spec["dataset"], dtype=dtype)
        arrays = d.x_train, d.t_train, d.x_test, d.t_test
    torch_dtype = getattr(torch, dtype)
    x, t, x_test, t_test = (
        torch.from_numpy(np.ascontiguousarray(a, dtype=dtype if i % 2 == 0 else np.int64))
        for i, a in enumerate(arrays)
    )
    sizes = [x.shape[1], *spec["hidden"], int(t.max()) + 1]
    layers = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(d_in, d_out, dtype=torch_dtype)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")  # He: N(0, 2 / fan_in)
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < len(sizes) - 2:
            if spec["batchnorm"]:
                layers.append(nn.BatchNorm1d(d_out, eps=1e-5, momentum=0.1, dtype=torch_dtype))
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=spec["schedule_epochs"] or spec["epochs"]
    )
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(spec["seed"])
    batch, n = spec["batch_size"], len(x)

    def accuracy(inputs, labels):
        model.eval()
        with torch.no_grad():
            return (model(inputs).argmax(1) == labels).double().mean().item()

    start = time.perf_counter()
    for _ in range(spec["epochs"]):
        model.train()
        order = torch.randperm(n, generator=generator)
        for first in range(0, n, batch):
            idx = order[first : first + batch]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), t[idx]).backward()
            optimizer.step()
        schedule.step()
        accuracy(x, t), accuracy(x_test, t_test)  # as nnscratch's trainer at each epoch's end
    seconds = time.perf_counter() - start
    return {
        "train_s": seconds,
        "train_acc": accuracy(x, t),
        "test_acc": accuracy(x_test, t_test),
        "threads": torch.get_num_threads(),
        "dtype": dtype,
        "torch": torch.__version__,
    }


# --- the parent: loads, runs, tables ---------------------------------------------------------


def resolved(dataset, fashion_epochs):
    """The options ``nnscratch train`` runs with on ``dataset``, and its command's arguments."""
    from nnscratch.run.options import resolve

    given = {} if dataset == "digits" else {"dataset": dataset, "epochs": fashion_epochs}
    spec = resolve(given).saved()
    wrong = {
        name: spec[name]
        for name, want in (("model", "mlp"), ("activation", "relu"), ("optimizer", "adam"))
        if spec[name] != want
    }
    if wrong or spec["lr_schedule"] not in ("cosine",) or spec["weight_init"] != "he":
        raise SystemExit(f"the twin is an mlp/relu/he/adam/cosine run; the defaults now: {spec}")
    args = [] if dataset == "digits" else ["--dataset", dataset, "--epochs", str(fashion_epochs)]
    return spec, args


def base_environment():
    """This process's environment without the thread-count variables."""
    return {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}


def command(variant, dataset, spec, args, out_dir, torch_dtype, baseline):
    """(argv, environment) of one run."""
    env = base_environment()
    if variant.startswith("pytorch"):
        worker = ["--worker", "pytorch", "--spec", json.dumps(spec)]
        worker += ["--torch-dtype", spec["dtype"] if torch_dtype == "same" else torch_dtype]
        worker += ["--torch-threads", "1"] if variant == "pytorch1" else []
        return [sys.executable, os.path.join(HERE, "busy.py"), *worker], env
    if variant == "openblas1":
        env["OPENBLAS_NUM_THREADS"] = "1"
    if variant == "baseline":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [baseline, env.get("PYTHONPATH")]))
    argv = [sys.executable, "-m", "nnscratch", "train", "--quiet", *args]
    return argv + (["--out", out_dir] if out_dir else []), env


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


LIBC = _libc()


def die_with_parent():
    """In a child before it runs: SIGKILL it when this process dies (Linux's PR_SET_PDEATHSIG,
    1), so that no load or run outlives a benchmark killed with SIGKILL."""
    if LIBC is not None and sys.platform.startswith("linux"):
        LIBC.prctl(1, signal.SIGKILL)


def start_load(count):
    return [
        subprocess.Popen(
            [sys.executable, "-c", SPINNER],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        for _ in range(count)
    ]


def stop(processes):
    for p in processes:
        if p.poll() is None:
            p.kill()
    for p in processes:
        p.wait()


def cpu_seconds(pid):
    """User + system CPU seconds of a running process so far (from /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def measure(argv, env, load, settle):
    """Run ``argv`` beside ``load`` spinning processes; returns (wall s, CPU s of the run, CPU s
    the spinners got meanwhile, exit code, stdout, stderr)."""
    spinners = start_load(load)
    run = None
    try:
        time.sleep(settle if load else 0.0)
        before = [cpu_seconds(p.pid) for p in spinners]
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            start = time.perf_counter()
            run = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                preexec_fn=die_with_parent,
            )
            _, status, usage = os.wait4(run.pid, 0)
            wall = time.perf_counter() - start
            run.returncode = os.waitstatus_to_exitcode(status)
            after = [cpu_seconds(p.pid) for p in spinners]
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        spun = sum(b - a for a, b in zip(before, after) if a is not None and b is not None)
        cpu = usage.ru_utime + usage.ru_stime
        return wall, cpu, spun, run.returncode, stdout, stderr
    finally:
        if run is not None and run.returncode is None:
            run.kill()
            run.wait()
        stop(spinners)


def blas_info():
    from threadpoolctl import threadpool_info

    return [
        {k: pool.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
        for pool in threadpool_info()
        if pool.get("user_api") == "blas"
    ]


def torch_version():
    """torch's version and default thread count, asked of a fresh process (None: no torch)."""
    out = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.__version__, torch.get_num_threads())"],
        env=base_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() if out.returncode == 0 else None


def nnscratch_from(env):
    out = subprocess.run(
        [sys.executable, "-c", "import nnscratch, os; print(os.path.dirname(nnscratch.__file__))"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or out.stderr.strip().splitlines()[-1:]


def save(path, data):
    """Write ``data`` as JSON to ``path`` by a temporary file renamed over it."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def table(runs, datasets, loads, variants, key, repeats):
    """Markdown: per dataset and load the median ``key`` of each variant, and default ÷ the
    others."""
    others = [v for v in variants if v != "default"] if "default" in variants else []
    head = ["dataset", "load", *(VARIANTS[v] for v in variants)]
    head += [f"default ÷ {LABELS[v]}" for v in others]
    rows = [
        f"| {' | '.join(head)} |",
        "|---|---:|" + "---:|" * (len(variants) + len(others)),
    ]
    for dataset in datasets:
        for load in loads:
            med = {}
            cells = [dataset, str(load)]
            for v in variants:
                mine = [
                    r for r in runs if (r["dataset"], r["load"], r["variant"]) == (dataset, load, v)
                ]
                times = [r[key] for r in mine if r.get(key) is not None and not r.get("error")]
                med[v] = float(np.median(times)) if times else None
                failed = sum(1 for r in mine if r.get("error"))
                cell = "–" if med[v] is None else f"{med[v]:.2f}"
                if repeats > 1 and times:
                    cell = f"**{cell}** ({', '.join(f'{s:.2f}' for s in times)})"
                cells.append(cell)
                cells[-1] += f" {failed} failed" if failed else ""
            for v in others:
                ok = med["default"] is not None and med[v]
                cells.append(f"{med['default'] / med[v]:.2f}" if ok else "–")
            rows.append(f"| {' | '.join(cells)} |")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each cell (median)")
    parser.add_argument("--loads", default="0,1,2", help="spinning processes beside each run")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument(
        "--variants",
        default="default,openblas1,pytorch",
        help=f"of {', '.join(VARIANTS)}; baseline needs --baseline",
    )
    parser.add_argument("--fashion-epochs", type=int, default=2)
    parser.add_argument(
        "--baseline", default=None, metavar="SRC", help="the baseline variant's nnscratch: SRC"
    )
    parser.add_argument(
        "--settle", type=float, default=0.5, help="seconds the load spins before a run starts"
    )
    parser.add_argument(
        "--torch-dtype",
        choices=["float32", "float64", "same"],
        default="float32",
        help="the twin's dtype (same: nnscratch's, float64 on the digits)",
    )
    parser.add_argument(
        "--no-save", action="store_true", help="nnscratch train without --out (writes nothing)"
    )
    parser.add_argument("--out", default="runs/busy.json")
    parser.add_argument("--worker", choices=["pytorch"], help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--torch-threads", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(twin(json.loads(args.spec), args.torch_threads, args.torch_dtype)))
        return

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the loads die in `finally`
    loads = [int(n) for n in args.loads.split(",")]
    datasets = args.datasets.split(",")
    variants = args.variants.split(",")
    for name, known in (("dataset", DATASETS), ("variant", VARIANTS)):
        bad = set(datasets if name == "dataset" else variants) - set(known)
        if bad:
            parser.error(f"unknown {name} {', '.join(sorted(bad))}: choose from {', '.join(known)}")
    if "baseline" in variants and not args.baseline:
        parser.error("the baseline variant needs --baseline SRC")
    if args.baseline and "baseline" not in variants:
        variants.append("baseline")
    baseline = os.path.abspath(args.baseline) if args.baseline else None
    torch = torch_version()
    if torch is None and any(v.startswith("pytorch") for v in variants):
        print("torch is not installed here (pip install torch==2.13.0): no pytorch variant")
        variants = [v for v in variants if not v.startswith("pytorch")]
    runs_of = {d: resolved(d, args.fashion_epochs) for d in datasets}

    env = {
        "machine": machine(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": blas_info(),
        "torch (version, default threads)": torch,
        "nnscratch": nnscratch_from(base_environment()),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "removed from the environment": {
            k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ
        },
    }
    if baseline:
        env["baseline nnscratch"] = nnscratch_from({**base_environment(), "PYTHONPATH": baseline})
    print(
        f"machine: {env['machine']}; Python {env['python']}, NumPy {env['numpy']}, BLAS "
        f"{env['blas']}; torch {torch}; nnscratch from {env['nnscratch']}"
        + (f"; baseline from {env['baseline nnscratch']}" if baseline else ""),
        flush=True,
    )
    for d, (spec, cli) in runs_of.items():
        shown = ["nnscratch train --quiet", *cli, *([] if args.no_save else ["--out TMP"])]
        print(
            f"{d}: {' '.join(shown)}"
            f" → mlp {spec['hidden']}, batchnorm {spec['batchnorm']}, adam {spec['lr']:g}, "
            f"cosine, batch {spec['batch_size']}, {spec['epochs']} epochs, {spec['dtype']}",
            flush=True,
        )
    record = {
        "environment": env,
        "args": vars(args),
        "specs": {d: s for d, (s, _) in runs_of.items()},
    }
    record["runs"] = runs = []
    record["load_average_start"] = os.getloadavg()
    begun = time.perf_counter()
    for repeat in range(args.repeats):
        order = variants[repeat % len(variants) :] + variants[: repeat % len(variants)]
        for dataset in datasets:
            spec, cli = runs_of[dataset]
            for load in loads:
                for variant in order:
                    with tempfile.TemporaryDirectory(prefix="busy-") as tmp:
                        out_dir = None if args.no_save else os.path.join(tmp, "run")
                        argv, child_env = command(
                            variant, dataset, spec, cli, out_dir, args.torch_dtype, baseline
                        )
                        wall, cpu, spun, code, stdout, stderr = measure(
                            argv, child_env, load, args.settle
                        )
                    run = {
                        "repeat": repeat + 1,
                        "dataset": dataset,
                        "load": load,
                        "variant": variant,
                        "wall_s": wall,
                        "cpu_s": cpu,
                        "load_cpu_s": spun,
                        "load_average": os.getloadavg()[0],
                        "argv": argv[1:],
                    }
                    if code:
                        run["error"] = f"exit {code}: {stderr.strip().splitlines()[-4:]}"
                    elif variant.startswith("pytorch"):
                        run.update(json.loads(stdout.strip().splitlines()[-1]))
                    else:
                        done = DONE.search(stdout)
                        if done:
                            run["train_s"] = float(done.group(1))
                            run["train_acc"], run["test_acc"] = map(float, done.groups()[1:])
                    runs.append(run)
                    save(args.out, record)
                    print(
                        f"repeat {repeat + 1}/{args.repeats} {dataset} load {load} {variant}: "
                        + (
                            run["error"]
                            if "error" in run
                            else f"{wall:.2f} s wall, {run.get('train_s', float('nan')):.2f} s "
                            f"training, {cpu:.2f} s CPU, test acc "
                            f"{run.get('test_acc', float('nan')):.4f}; the load got "
                            f"{spun / wall:.2f} cores"
                        ),
                        flush=True,
                    )
    record["load_average_end"] = os.getloadavg()
    record["seconds"] = time.perf_counter() - begun
    heading = (
        f"\nmachine: {env['machine']}; {args.repeats} repeat(s), median"
        + (" (every time in brackets)" if args.repeats > 1 else "")
        + f"; load: that many `while True: pass` processes; Fashion-MNIST {args.fashion_epochs} "
        f"epoch(s); the twin {args.torch_dtype}"
    )
    record["table_wall"] = table(runs, datasets, loads, variants, "wall_s", args.repeats)
    record["table_train"] = table(runs, datasets, loads, variants, "train_s", args.repeats)
    print(heading)
    print("\nwall seconds, start to exit (what a user waits for):\n")
    print(record["table_wall"])
    print("\ntraining seconds each run reports (its epochs and their evaluation):\n")
    print(record["table_train"])
    print(
        f"\nthe issue's checks: default ÷ OPENBLAS=1 ≤ 1.00 with 2 loads; default ÷ baseline ≤ "
        f"1.00 with none. Took {record['seconds'] / 60:.1f} min; load average (1 min) "
        f"{record['load_average_start'][0]:.1f} at the start, "
        f"{record['load_average_end'][0]:.1f} at the end; raw runs in {args.out}"
    )
    save(args.out, record)


if __name__ == "__main__":
    main()
