"""``nnscratch search``: random search of a MultiLayerNet's hyperparameters on a validation split
(the book's ch06/hyperparameter_optimization.py), trials in parallel, resumable.

Each finished trial is written to ``DIR/trials/NNNN.json`` at once; the same command again skips
them. Ctrl-C keeps the finished ones (exit 130). ``--backend dask --scheduler ADDRESS`` runs the
trials on a Dask cluster; ``--halving`` trains them by successive halving (fewer epochs in all).
"""

import inspect
import sys
from pathlib import Path

from ..errors import NnscratchError
from .args import add_lang_argument, option_type, positive_int


def _search_defaults():
    """The library's defaults (search_settings' signature, the space's TRIALS, N_JOBS, BACKENDS
    and ETA): one source."""
    from ..experiments.space import BACKENDS, ETA, N_JOBS, TRIALS, search_settings

    return {
        **{name: p.default for name, p in inspect.signature(search_settings).parameters.items()},
        "trials": TRIALS,
        "n_jobs": N_JOBS,
        "backend": BACKENDS[0],
        "eta": ETA,
    }


#: trials in the figure: the book draws the 20 best
FIGURE_TRIALS = 20


#: how a range of each scale is drawn, in words
DRAWN = {"log": "log-uniform", "linear": "uniform"}


def add_parser(sub):
    from ..experiments.search import CLUSTER_INSTALL
    from ..experiments.space import BACKENDS, DEFAULT_SPACE, PARAMS
    from ..optim import OPTIMIZERS

    defaults = _search_defaults()
    logs = [name for name, option in PARAMS.items() if option.scale == "log"]
    p = sub.add_parser(
        "search",
        help="random search of learning rate, weight decay and other hyperparameters",
        description="Random search on a validation split of the training data (never the test "
        "set): each trial draws its hyperparameters from the ranges given, trains a "
        "MultiLayerNet, and is ranked by validation accuracy. RANGE is LOW:HIGH "
        f"(log-uniform for {', '.join(logs)}, else uniform; append :log or "
        ":linear to choose) or a,b,c (one of the values; one value fixes it).",
    )
    p.add_argument(
        "--dataset",
        type=option_type("dataset"),
        default=defaults["dataset"],
        help=f"dataset to search on (default: {defaults['dataset']})",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder to look in first for the dataset's files",
    )
    p.add_argument(
        "--trials",
        type=positive_int("trials"),
        default=defaults["trials"],
        help=f"trials (default: {defaults['trials']})",
    )
    p.add_argument(
        "--n-jobs",
        type=int,
        default=defaults["n_jobs"],
        help="trials run at once, in worker processes (-1: every core; default: "
        f"{defaults['n_jobs']}; with --backend dask, every worker thread of the cluster); the "
        "results do not depend on it",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default=defaults["backend"],
        help="where the trials run: loky, processes on this machine; dask, the workers of a Dask "
        f"cluster (--scheduler; {CLUSTER_INSTALL}) (default: {defaults['backend']}); the "
        "results do not depend on it",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="the Dask scheduler's address, tcp://HOST:PORT or HOST:PORT (with --backend dask)",
    )
    p.add_argument(
        "--halving",
        action="store_true",
        help="successive halving: train every trial a few epochs, continue the best 1/ETA of "
        "them, and so on up to --epochs (the same trials, fewer epochs in all)",
    )
    p.add_argument(
        "--eta",
        type=int,
        default=None,
        help=f"successive halving's reduction factor, an integer ≥ 2 (default: {defaults['eta']})",
    )
    p.add_argument(
        "--seed",
        type=option_type("seed"),
        default=defaults["seed"],
        help=f"seed of the validation split and of every trial (default: {defaults['seed']})",
    )
    p.add_argument(
        "--lr",
        default=DEFAULT_SPACE["lr"],
        metavar="RANGE",
        help=f"learning rate (default: {DEFAULT_SPACE['lr']}, {DRAWN[PARAMS['lr'].scale]})",
    )
    p.add_argument(
        "--weight-decay",
        default=DEFAULT_SPACE["weight_decay"],
        metavar="RANGE",
        help=f"L2 penalty λ (default: {DEFAULT_SPACE['weight_decay']}, "
        f"{DRAWN[PARAMS['weight_decay'].scale]})",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=RANGE",
        help="another hyperparameter to search or fix, one of "
        f"{', '.join(n for n in PARAMS if n not in DEFAULT_SPACE)} "
        "(repeat the option), e.g. dropout=0:0.5, activation=relu,tanh, "
        "optimizer=sgd,adam, batch_size=32,100",
    )
    p.add_argument(
        "--epochs",
        type=option_type("epochs"),
        default=defaults["epochs"],
        help=f"epochs of every trial (default: {defaults['epochs']})",
    )
    p.add_argument(
        "--hidden",
        default=",".join(map(str, defaults["hidden"])),
        help="hidden layer sizes, comma-separated (default: %(default)s)",
    )
    p.add_argument(
        "--batch-size",
        type=option_type("batch_size"),
        default=defaults["batch_size"],
        help=f"mini-batch size (default: {defaults['batch_size']})",
    )
    p.add_argument(
        "--optimizer",
        default=defaults["optimizer"],
        type=option_type("optimizer"),
        metavar="{" + ",".join(OPTIMIZERS) + "}",
        help=f"update rule, unless --param optimizer=... (default: {defaults['optimizer']})",
    )
    p.add_argument(
        "--val-size",
        type=option_type("validation_split"),
        default=defaults["val_size"],
        help=f"fraction of the training data held out for validation (default: "
        f"{defaults['val_size']})",
    )
    p.add_argument(
        "--train-size",
        type=positive_int("train_size"),
        default=None,
        help="use only the first N training images, e.g. the book's 500 (default: all)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder of the results (default: runs/search-DATASET); the same command "
        "again continues there",
    )
    p.add_argument(
        "--top",
        type=positive_int("top"),
        default=5,
        help="trials in the table of the best (default: 5)",
    )
    p.add_argument(
        "--retrain-best",
        action="store_true",
        help="train the best setting on all the training data (train + validation) "
        "and report its test accuracy, once (DIR/best.json)",
    )
    add_lang_argument(p)
    p.set_defaults(func=cmd_search)


def _settings(args):
    from ..run.options import OPTIONS

    lr_weight_decay = [f"lr={args.lr}", f"weight_decay={args.weight_decay}"]
    given = {spec.partition("=")[0].strip() for spec in args.param}
    clash = sorted(given & {"lr", "weight_decay"})
    if clash:
        flag = OPTIONS[clash[0]].flag
        raise NnscratchError(f"{clash[0]} is set by {flag}: give it there, not in --param")
    return {
        "space": lr_weight_decay + args.param,
        "seed": args.seed,
        "epochs": args.epochs,
        "hidden": OPTIONS["hidden"].parse(args.hidden),
        "batch_size": args.batch_size,
        "optimizer": args.optimizer,
        "val_size": args.val_size,
        "train_size": args.train_size,
    }


def _shown(params):
    return ", ".join(
        f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in params.items()
    )


def _halving(args, defaults):
    """``(eta, rungs)`` of ``--halving`` (checked; rungs None without it)."""
    from ..experiments.search import halving_rungs

    if not args.halving and args.eta is not None:
        raise NnscratchError("--eta is successive halving's reduction factor: add --halving")
    eta = defaults["eta"] if args.eta is None else args.eta
    return eta, halving_rungs(args.trials, args.epochs, eta) if args.halving else None


def cmd_search(args):
    from ..atomic import save_json
    from ..experiments.search import (
        best_trials,
        check_backend,
        halving_epochs,
        random_search,
        retrain_best,
    )
    from ..experiments.space import search_settings
    from ..plots import save_figure
    from ..plots.search import search_figure
    from .rundir import run_folder

    settings = _settings(args)
    checked = search_settings(args.dataset, **settings)  # bad options stop here, before a folder
    check_backend(args.backend, args.scheduler, args.n_jobs)
    eta, rungs = _halving(args, _search_defaults())
    out = args.out if args.out is not None else Path("runs") / f"search-{args.dataset}"

    def report(trial):
        acc = trial["final_val_acc"]
        shown = f"val acc {acc:.4f}" if acc is not None else "diverged"
        epochs = trial.get("epochs")
        rung = f"rung {trial['rung']}, {epochs} epoch{'s' * (epochs != 1)}, " if rungs else ""
        print(
            f"trial {trial['index']}: {shown} | {_shown(trial['params'])} "
            f"({rung}{trial['seconds']:.1f} s)",
            flush=True,
        )

    with run_folder(out) as announce:
        announce()
        if rungs:
            print(
                f"successive halving (eta {eta}): rungs of "
                + ", ".join(str(e) for e, _ in rungs)
                + " epochs for "
                + ", ".join(str(n) for _, n in rungs)
                + f" trials; at most {halving_epochs(rungs)} epochs in all, "
                f"against {args.trials * args.epochs} without halving",
                flush=True,
            )
        try:
            trials = random_search(
                args.dataset,
                trials=args.trials,
                n_jobs=args.n_jobs,
                out=out,
                data_dir=args.data_dir,
                on_trial=report,
                backend=args.backend,
                scheduler=args.scheduler,
                halving=args.halving,
                eta=eta,
                **settings,
            )
        except KeyboardInterrupt:
            done = len(list((out / "trials").glob("[0-9]*.json")))
            print(
                f"nnscratch: search interrupted; {done} finished trials kept in {out}: run "
                "the same command again to run the rest",
                file=sys.stderr,
                flush=True,
            )
            return 130
        ranked = best_trials(trials, len(trials))
        print_table(ranked[: args.top], len(trials))
        if rungs:
            print(
                f"{sum(t['epochs'] for t in trials)} epochs trained in all "
                f"(without halving: {args.trials * args.epochs})"
            )
            checked = {**checked, "halving": {"eta": eta, "rungs": [list(r) for r in rungs]}}
        save_figure(search_figure(ranked[:FIGURE_TRIALS], lang=args.lang), out / "search.png")
        save_json(
            out / "results.json",
            {
                "settings": checked,
                "ranking": [t["index"] for t in ranked],
                "trials": trials,
            },
        )
        print(f"wrote {out / 'results.json'} and {out / 'search.png'}")
        if args.retrain_best:
            best = retrain_best(trials, args.dataset, data_dir=args.data_dir, **settings)
            save_json(out / "best.json", best)
            print(
                f"best trial {best['index']} ({_shown(best['params'])}) retrained on "
                f"{best['train_images']} images (train + validation): test acc "
                f"{best['test_acc']:.4f}; wrote {out / 'best.json'}"
            )
    return 0


def print_table(best, n_trials):
    """The best trials, one row each: rank, trial, validation accuracy, the params."""
    names = sorted({name for trial in best for name in trial["params"]})
    print(f"best {len(best)} of {n_trials} trials by validation accuracy:")
    print("  ".join(["rank", "trial", "val acc ", *[f"{n:>12}" for n in names]]))
    for rank, trial in enumerate(best, 1):
        acc, params = trial["final_val_acc"], trial["params"]
        cells = [
            f"{params[n]:>12.3g}"
            if isinstance(params.get(n), float)
            else f"{str(params.get(n, '-')):>12}"
            for n in names
        ]
        print(
            "  ".join(
                [
                    f"{rank:>4}",
                    f"{trial['index']:>5}",
                    f"{acc:.4f}  " if acc is not None else "diverged",
                    *cells,
                ]
            )
        )
