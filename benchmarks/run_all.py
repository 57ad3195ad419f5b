"""Every benchmark against PyTorch, one after the other, and the documentation's table of them.

    python benchmarks/run_all.py [--readme docs/guide/performance.md] [--gpt-data DIR] [--quick]

Runs, each in a fresh process of this Python (one with PyTorch: the performance page's
``.venv-bench``),
one after the other with a pause between them:

- notebook: the notebook network, ``fastpath.py --systems nn32,torch --epochs 10``;
- deep-mlp: the deep MLP, ``recipe.py --config deep --epochs 5``;
- recipe: the default recipe, ``recipe.py --config recipe --epochs 5``;
- simpleconvnet: ``convnet.py --net simple --epochs 3``;
- deepconvnet: ``convnet.py --net deep --steps 200`` (a third of an epoch, seconds per step);
- gpt: ``gpt.py --iters 2000 --data-dir DIR``, only with ``--gpt-data DIR`` (全唐诗's files, e.g.
  ``../shared/data/chinese-poetry/quan-tang-shi``).

Each keeps its form (the same weights and batches as PyTorch, turns alternated, pauses between,
accuracy beside time) and prints its own table as it always has; each also writes its figures
(``--json``: benchmarks/record.py), and this collects them into ``runs/benchmarks.json`` and one
Markdown table: a row per network with nnscratch's and PyTorch's (2 threads) seconds, the ratio,
the issue's target for it and whether it is met, and both accuracies (the GPT: validation losses),
under a line with the date, the machine, its NumPy GEMM rate, the load and the command. With
``--readme FILE`` the table replaces what stands between the lines ``<!-- benchmarks:start -->``
and ``<!-- benchmarks:end -->`` of FILE (nothing else in it changes; the file is written whole,
atomically), and only when every benchmark ran; without it the table is printed. ``--only`` runs
some of them (their rows alone make the table). ``--quick`` is a smoke run of a few minutes: one
epoch, 20 steps, 60 GPT iterations — its figures are not to be quoted. The full run takes about
5 minutes on 2 quiet cores, 15 with the GPT. Run by hand, never in CI.
"""

import argparse
import datetime
import importlib.util
import json
import os
import shlex
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


@dataclass(frozen=True)
class Benchmark:
    label: str  # the table's network column
    script: str
    args: tuple  # the options that choose the network
    target: float  # the target: nnscratch ÷ PyTorch at most this


BENCHMARKS = {
    "notebook": Benchmark(
        "the notebook network (784-50-10 sigmoid, SGD)",
        "fastpath.py",
        ("--systems", "nn32,torch"),
        0.5,
    ),
    "deep-mlp": Benchmark(
        "the deep MLP (784-256-128-10 ReLU, Adam)", "recipe.py", ("--config", "deep"), 0.6
    ),
    "recipe": Benchmark(
        "the default recipe (the same with BatchNorm, cosine)",
        "recipe.py",
        ("--config", "recipe"),
        0.6,
    ),
    "simpleconvnet": Benchmark("SimpleConvNet", "convnet.py", ("--net", "simple"), 0.6),
    "deepconvnet": Benchmark("DeepConvNet", "convnet.py", ("--net", "deep"), 1.0),
    "gpt": Benchmark("GPT (nanoGPT's CPU recipe, 全唐诗)", "gpt.py", (), 1.0),
}

# (full run, --quick) defaults of the length options
LENGTHS = {
    "notebook_epochs": (10, 1),
    "mlp_epochs": (5, 1),
    "conv_epochs": (3, 1),
    "conv_steps": (None, 20),
    "deep_conv_steps": (200, 20),
    "gpt_iters": (2000, 60),
}


def length_options(name, lengths, quick):
    """The options of benchmark ``name`` that set how long it runs."""
    if name == "notebook":
        return ["--epochs", str(lengths["notebook_epochs"])]
    if name in ("deep-mlp", "recipe"):
        return ["--epochs", str(lengths["mlp_epochs"])]
    repeat = ["--repeat", "2"] if quick else []  # 20 steps: 2 turns of 10 each
    if name == "simpleconvnet":
        steps = lengths["conv_steps"]
        return ["--epochs", str(lengths["conv_epochs"])] + (
            ["--steps", str(steps)] + repeat if steps else []
        )
    if name == "deepconvnet":
        return ["--steps", str(lengths["deep_conv_steps"])] + repeat
    if name == "gpt":
        return ["--iters", str(lengths["gpt_iters"])] + (
            ["--val-batches", "5", "--chunk", "10"] if quick else []
        )
    raise KeyError(name)


def command(name, lengths, quick, gpt_data, json_path):
    """The argument list that runs benchmark ``name`` and writes its record to ``json_path``."""
    bench = BENCHMARKS[name]
    cmd = [sys.executable, os.path.join(HERE, bench.script), *bench.args]
    cmd += length_options(name, lengths, quick)
    if name == "gpt":
        cmd += ["--data-dir", os.path.abspath(gpt_data)]
    return cmd + ["--json", json_path]


def pick(rows, *systems):
    """The first row of ``rows`` whose system is one of ``systems`` (in that order), or None."""
    for system in systems:
        for row in rows:
            if row.get("system") == system:
                return row
    return None


def summarise(name, record):
    """One network's entry of runs/benchmarks.json from its script's record."""
    bench = BENCHMARKS[name]
    ours = pick(record["rows"], "nn32", "nnscratch")
    theirs = pick(record["rows"], "torch")
    ratio = ours.get("ratio_torch") if ours else None
    return {
        "label": bench.label,
        "target": bench.target,
        "ratio": ratio,
        "met": None if ratio is None else ratio <= bench.target,
        "unit": record["unit"],
        "nnscratch": ours,
        "torch": theirs,
        "record": record,
    }


def _seconds(value):
    if value is None:
        return "–"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def _score(row):
    if row is None:
        return "–"
    if row.get("test_acc") is not None:
        return f"{row['test_acc']:.4f}"
    if row.get("val_loss") is not None:
        return f"{row['val_loss']:.4f}"
    return "–"


def _length(record):
    s = record.get("settings", {})
    if record["benchmark"] == "gpt":
        return f"{s.get('iters')} steps"
    if record["benchmark"] == "convnet" and record["unit"] == "step":
        return f"{s.get('steps')} steps"
    epochs = s.get("epochs")
    return f"{epochs} epoch{'s' if epochs != 1 else ''}"


def _range(values, digits=1):
    low, high = (f"{v:.{digits}f}" for v in (min(values), max(values)))
    return low if low == high else f"{low}–{high}"


def heading(summary):
    """The line above the table: date, machine, NumPy's GEMM rate, load, command."""
    records = [e["record"] for e in summary["benchmarks"].values() if e.get("record")]
    parts = [summary["date"]]
    if records:
        parts.append(records[0]["machine"]["line"])
        rates = {}
        for record in records:
            for threads, rate in record["machine"].get("numpy_gemm_gflops", {}).items():
                if rate is not None:
                    rates.setdefault(int(threads), []).append(rate)
        if rates:
            parts.append(
                "NumPy float32 GEMM (2000²) "
                + ", ".join(
                    f"{_range(rates[t], 0)} GFLOP/s on {t} thread{'s' if t != 1 else ''}"
                    for t in sorted(rates, reverse=True)
                )
            )
        lows = [r["loads"]["min"] for r in records]
        highs = [r["loads"]["max"] for r in records]
        parts.append(f"load average {min(lows):.1f}–{max(highs):.1f}")
    return "; ".join(parts) + f"; `{summary['command']}`:"


def markdown(summary):
    """The Markdown table of ``summary`` (runs/benchmarks.json's form), its heading line above."""
    lines = [
        heading(summary),
        "",
        "| network | nnscratch | PyTorch (2 threads) | nnscratch ÷ PyTorch | target | met "
        "| test accuracy (GPT: validation loss) nnscratch / PyTorch |",
        "|---|---:|---:|---:|---:|:---:|---:|",
    ]
    for entry in summary["benchmarks"].values():
        record = entry.get("record")
        target = f"≤ {entry['target']:.1f}"
        if record is None:
            lines.append(
                f"| {entry['label']} | {entry.get('error', 'failed')} | – | – | {target} | – | – |"
            )
            continue
        unit = f" s/{record['unit']}"
        ours, theirs, ratio = entry["nnscratch"], entry["torch"], entry["ratio"]
        lines.append(
            f"| {entry['label']}, {_length(record)} "
            f"| {_seconds(ours and ours['seconds'])}{unit} "
            f"| {_seconds(theirs and theirs['seconds'])}{unit} "
            f"| {'–' if ratio is None else f'{ratio:.2f}'} | {target} "
            f"| {'–' if entry['met'] is None else 'yes' if entry['met'] else 'no'} "
            f"| {_score(ours)} / {_score(theirs)} |"
        )
    return "\n".join(lines) + "\n"


class MarkersMissing(ValueError):
    pass


def replace_between_markers(text, block):
    """``text`` with what stands between its START and END lines (each once, in that order)
    replaced by ``block``; everything else, those lines included, as it was."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip() == START]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise MarkersMissing
    first, last = starts[0], ends[0]
    newline = "\r\n" if lines[first].endswith("\r\n") else "\n"
    body = newline + block.strip("\n").replace("\n", newline) + newline + newline
    return "".join(lines[: first + 1]) + body + "".join(lines[last:])


def markers_message(path):
    return (
        f"{path}: add the lines {START} and {END} (each once, in that order) "
        "where the benchmarks' table goes"
    )


def check_markers(path):
    """Exit with a one-line message unless ``path`` has the two marker lines."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            replace_between_markers(f.read(), "")
    except OSError as e:
        raise SystemExit(f"{path}: {e.strerror}") from None
    except MarkersMissing:
        raise SystemExit(markers_message(path)) from None


def write_atomic(path, text):
    """Write ``text`` to ``path`` through a temporary file in its folder and ``os.replace``: a
    reader sees the old file or the new one, never a part; the file's mode is kept."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(path):
            mode = stat.S_IMODE(os.stat(path).st_mode)
        else:  # what open() would have given it
            mask = os.umask(0)
            os.umask(mask)
            mode = 0o666 & ~mask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def update_readme(path, table):
    """Put ``table`` between the markers of ``path``, the rest of the file untouched."""
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    try:
        new = replace_between_markers(text, table)
    except MarkersMissing:
        raise SystemExit(markers_message(path)) from None
    if new != text:
        write_atomic(path, new)


def _shown_path(path):
    relative = os.path.relpath(path)
    return os.path.abspath(path) if relative.startswith("..") else relative


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="names: " + ", ".join(BENCHMARKS) + " (gpt only with --gpt-data)",
    )
    parser.add_argument(
        "--only",
        default=None,
        metavar="NAME,...",
        help="run these benchmarks only, in the order given",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 1 epoch, 20 steps, 60 GPT iterations"
    )
    parser.add_argument(
        "--readme",
        default=None,
        metavar="FILE",
        help=f"write the table into FILE between {START} and {END} (else print it)",
    )
    parser.add_argument(
        "--out",
        default=None,
        metavar="PATH",
        help="all results as JSON (default runs/benchmarks.json; --quick: "
        "runs/benchmarks-quick.json)",
    )
    parser.add_argument(
        "--gpt-data", default=None, metavar="DIR", help="全唐诗's files: run the GPT too"
    )
    for key, (full, quick) in LENGTHS.items():
        what = {
            "notebook_epochs": "the notebook network's epochs",
            "mlp_epochs": "the deep MLP's and the default recipe's epochs",
            "conv_epochs": "SimpleConvNet's epochs",
            "conv_steps": "SimpleConvNet's steps per epoch",
            "deep_conv_steps": "DeepConvNet's steps",
            "gpt_iters": "the GPT's iterations",
        }[key]
        parser.add_argument(
            "--" + key.replace("_", "-"),
            type=int,
            default=None,
            metavar="N",
            help=f"{what} ({full if full else 'the whole epoch, 600'}; --quick: {quick})",
        )
    parser.add_argument(
        "--settle",
        type=float,
        default=None,
        metavar="S",
        help="seconds of rest between two benchmarks (10; --quick: 1)",
    )
    args = parser.parse_args(argv)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BENCHMARKS]
        if unknown:
            parser.error(f"unknown benchmark {', '.join(unknown)}; names: {', '.join(BENCHMARKS)}")
        if "gpt" in names and not args.gpt_data:
            parser.error("gpt needs --gpt-data DIR (全唐诗's files)")
    else:
        names = [n for n in BENCHMARKS if n != "gpt" or args.gpt_data]
    args.names = names
    args.lengths = {
        key: getattr(args, key) if getattr(args, key) is not None else defaults[args.quick]
        for key, defaults in LENGTHS.items()
    }
    if args.settle is None:
        args.settle = 1.0 if args.quick else 10.0
    if args.out is None:
        args.out = os.path.join(
            ROOT, "runs", "benchmarks-quick.json" if args.quick else "benchmarks.json"
        )
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.readme:
        check_markers(args.readme)  # before the benchmarks' minutes, not after them
    if importlib.util.find_spec("torch") is None:
        raise SystemExit(
            f"{sys.executable} has no PyTorch: run this in the benchmarks' environment "
            "(the README's Performance section: .venv-bench)"
        )
    shown = shlex.join(
        ["python", _shown_path(sys.argv[0]), *(sys.argv[1:] if argv is None else argv)]
    )
    summary = {
        "date": datetime.date.today().isoformat(),
        "command": shown,
        "quick": args.quick,
        "benchmarks": {},
    }
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryDirectory(prefix="nnscratch-bench-") as tmp:
        for i, name in enumerate(args.names):
            if i:
                time.sleep(args.settle)  # idle threads of the last benchmark wind down
            json_path = os.path.join(tmp, f"{name}.json")
            cmd = command(name, args.lengths, args.quick, args.gpt_data, json_path)
            print(
                f"\n=== {name}: {shlex.join(['python', _shown_path(cmd[1]), *cmd[2:-2]])}",
                flush=True,
            )
            start = time.perf_counter()
            code = subprocess.run(cmd, env=env).returncode
            minutes = (time.perf_counter() - start) / 60
            bench = BENCHMARKS[name]
            if code == 0 and os.path.exists(json_path):
                with open(json_path, encoding="utf-8") as f:
                    entry = summarise(name, json.load(f))
            else:
                error = f"failed (exit {code})" if code else "failed (no --json record)"
                entry = {"label": bench.label, "target": bench.target, "error": error}
            entry["command"] = cmd[:-2]
            entry["minutes"] = minutes
            summary["benchmarks"][name] = entry
            print(f"=== {name}: {entry.get('error', 'done')} in {minutes:.1f} min", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_atomic(args.out, json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    table = markdown(summary)
    failed = [n for n, e in summary["benchmarks"].items() if "error" in e]
    print(f"\nall results: {_shown_path(args.out)}\n")
    if args.readme and not failed:
        update_readme(args.readme, table)
        print(f"{args.readme}: the table between {START} and {END} rewritten:\n")
    print(table, end="")
    if failed:
        note = f"; {args.readme} left as it was" if args.readme else ""
        raise SystemExit(f"failed: {', '.join(failed)}{note}")


if __name__ == "__main__":
    main()
