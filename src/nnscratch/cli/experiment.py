"""``nnscratch experiment NAME``: run one of chapter 6's experiments, write its figure(s) and the
numbers behind them to ``--out`` (default ``runs/experiments``, beside the runs of ``nnscratch
train``), named by experiment and dataset (``overfit-fashion-mnist.png``,
``overfit-fashion-mnist.json``) so that one experiment's figure never replaces another's; a file
that an earlier run of the same experiment wrote is replaced, and the command says so."""

import time
from pathlib import Path

from ..atomic import save_json
from ..errors import NnscratchError
from .args import add_lang_argument, add_listed_parser, option_type

#: name → what it shows (``--list``); the functions are in nnscratch.experiments.chapter6
EXPERIMENTS = {
    "activations": "histograms of each layer's activations of a 5-layer, 100-unit network on "
    "random input, for std 1, std 0.01, Xavier and He, with sigmoid, tanh, ReLU",
    "init": "training loss curves from std 0.01, Xavier and He weights (ReLU, 5 layers)",
    "batchnorm": "train accuracy with and without batch norm across 16 initial weight scales",
    "overfit": "train and test accuracy of a 7-layer network on 300 images: plain, weight "
    "decay λ = 0.1, dropout",
    "search": "random search of the learning rate and weight decay on a validation split "
    "(nnscratch search, with its defaults)",
}
DATASETS = ("digits", "mnist", "fashion-mnist")
#: where the figures go by default: beside the runs, never a checkout's own folders
OUT = Path("runs") / "experiments"


def add_parser(sub):
    p = add_listed_parser(
        sub,
        "experiment",
        "experiments",
        EXPERIMENTS,
        12,
        help="run one of chapter 6's experiments",
        description="Run an experiment of chapter 6; write its figure(s) and the numbers "
        "behind them (NAME-DATASET.png, NAME-DATASET.json) to --out.",
    )
    p.add_argument(
        "name",
        metavar="NAME",
        nargs="?",
        choices=list(EXPERIMENTS),
        help="the experiment (listed below)",
    )
    p.add_argument("--list", action="store_true", help="say what each experiment shows")
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        default="digits",
        help="the images to learn (default digits: each experiment in under a minute)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=OUT,
        help=f"folder for the figures and JSON (default {OUT})",
    )
    p.add_argument(
        "--seed",
        type=option_type("seed"),
        default=0,
        help="seeds weights, batches and the random input (default 0)",
    )
    add_lang_argument(p)
    p.set_defaults(func=run)


def run(args):
    if args.list:
        for name, desc in EXPERIMENTS.items():
            print(f"{name:<12} {desc}")
        return 0
    if args.name is None:
        raise NnscratchError(
            "name an experiment (nnscratch experiment --list says what each shows)"
        )
    if args.name == "search":  # `nnscratch search` with its defaults, into --out/search-DATASET
        import argparse

        from . import search

        parser = argparse.ArgumentParser(prog="nnscratch")
        search.add_parser(parser.add_subparsers())
        argv = [
            "search",
            "--dataset",
            args.dataset,
            "--seed",
            str(args.seed),
            "--out",
            str(args.out / file_stem("search", args.dataset, args.seed)),
            "--lang",
            args.lang,
        ]
        search_args = parser.parse_args(argv)
        return search_args.func(search_args)
    args.out.mkdir(parents=True, exist_ok=True)  # a bad --out fails now, not after the run
    start = time.perf_counter()
    numbers, figures = _run(args.name, args.dataset, args.seed, args.lang)
    from ..plots.common import save_figure

    stem = file_stem(args.name, args.dataset, args.seed)
    paths = {f"{stem}{suffix}.png": fig for suffix, fig in figures.items()}
    replaced = [p for p in [*paths, f"{stem}.json"] if (args.out / p).exists()]
    for name, fig in paths.items():
        save_figure(fig, args.out / name)
    save_json(
        args.out / f"{stem}.json",
        {"experiment": args.name, "dataset": args.dataset, "seed": args.seed, "results": numbers},
    )
    written = [str(args.out / p) for p in [*paths, f"{stem}.json"]]
    what = "random input" if args.name == "activations" else args.dataset
    print(f"{args.name} on {what} in {time.perf_counter() - start:.1f} s: " + ", ".join(written))
    if replaced:
        print(f"  (replaced the earlier {', '.join(replaced)})")
    return 0


def file_stem(name, dataset, seed):
    """``NAME-DATASET`` (``-seedS`` added for a seed other than 0): the start of every file an
    experiment writes. The activations are measured on random input: no dataset in their name."""
    stem = name if name == "activations" else f"{name}-{dataset}"
    return stem if seed == 0 else f"{stem}-seed{seed}"


def _run(name, dataset, seed, lang="en"):
    """(numbers, {what follows the file stem: Figure}) of experiment ``name``, its figures in
    ``lang``."""
    from ..experiments import chapter6
    from ..plots import experiments as figures

    if name == "activations":  # random input: no dataset
        numbers = chapter6.activation_distributions(seed=seed)
        return numbers, {
            f"-{a}": figures.activation_histograms(numbers, a, lang=lang) for a in numbers
        }
    if name == "init":
        numbers = chapter6.init_comparison(dataset, seed=seed)
        return numbers, {"": figures.init_loss_curves(numbers, lang=lang)}
    if name == "batchnorm":
        numbers = chapter6.batchnorm_comparison(dataset, seed=seed)
        return numbers, {"": figures.batchnorm_grid(numbers, lang=lang)}
    numbers = chapter6.overfit_comparison(dataset, seed=seed)
    return numbers, {"": figures.overfit_curves(numbers, lang=lang)}
