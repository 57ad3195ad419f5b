"""``nnscratch compare-optimizers``: the six optimizers side by side, on a 2-D function and on a
dataset (chapter 6's comparison)."""

import argparse
from pathlib import Path

from .args import option_type, positive_int

#: learning rates of the 2-D comparison (the book's for SGD, Momentum, AdaGrad and Adam)
PATH_LR = {
    "sgd": 0.95,
    "momentum": 0.1,
    "nesterov": 0.1,
    "adagrad": 1.5,
    "rmsprop": 0.15,
    "adam": 0.3,
}
START = (-7.0, 2.0)


def f(x, y):
    """f(x, y) = x²/20 + y²: a valley 20 times flatter along x than along y."""
    return x**2 / 20 + y**2


def grad_f(p):
    """∇f = (x/10, 2y)."""
    import numpy as np

    return np.array([p[0] / 10, 2 * p[1]])


def add_parser(sub):
    p = sub.add_parser(
        "compare-optimizers",
        help="compare the six optimizers (two figures)",
        description="Paths of SGD, Momentum, Nesterov, AdaGrad, RMSprop and Adam "
        "on f(x, y) = x²/20 + y² from (-7, 2), and their training "
        "loss on a dataset, each with its default learning rate.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--steps", type=positive_int("steps"), default=30, help="updates on f(x, y)")
    p.add_argument(
        "--dataset",
        type=option_type("dataset"),
        default="digits",
        help="dataset for the loss curves",
    )
    p.add_argument("--hidden", default="100,100,100,100", help="MultiLayerNet hidden sizes")
    p.add_argument("--epochs", type=option_type("epochs"), default=5, help="epochs per optimizer")
    p.add_argument(
        "--batch-size", type=option_type("batch_size"), default=32, help="mini-batch size"
    )
    p.add_argument(
        "--seed",
        type=option_type("seed"),
        default=0,
        help="random seed (the same for every optimizer)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("runs/compare-optimizers"),
        help="folder for optimizer_paths.png and optimizer_losses.png",
    )
    p.set_defaults(func=cmd_compare)


def cmd_compare(args):
    import numpy as np

    from ..optim import OPTIMIZERS, optimizer_path
    from ..plots import save_figure
    from ..plots.optimizers import optimizer_losses, optimizer_paths
    from ..run.build import build, load_data, optimizer
    from ..run.options import OPTIONS

    hidden = OPTIONS["hidden"].parse(args.hidden)
    args.out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in PATH_LR:  # AdamW's path is Adam's: a point has no matrix to decay
        path = optimizer_path(
            optimizer({"optimizer": name, "lr": PATH_LR[name]}), grad_f, START, args.steps
        )
        paths[f"{OPTIMIZERS[name].__name__} (lr {PATH_LR[name]:g})"] = path
        print(
            f"{name:>9}: after {args.steps} steps at ({path[-1, 0]:+.4f}, {path[-1, 1]:+.4f}), "
            f"f = {f(*path[-1]):.3g}"
        )
    save_figure(optimizer_paths(paths, f), args.out / "optimizer_paths.png")

    losses = {}
    common = {
        "dataset": args.dataset,
        "model": "mlp",
        "hidden": hidden,
        "batchnorm": False,
        "lr_schedule": "none",
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
    }
    data = load_data(common)  # once: the same for every optimizer
    for name in OPTIMIZERS:  # the same weights and batches for all, each at its own default rate
        run = build({**common, "optimizer": name}, data)
        history = run.trainer.train()
        losses[f"{type(run.optimizer).__name__} (lr {run.optimizer.lr:g})"] = history["train_loss"]
        last = np.mean(history["train_loss"][-10:])
        print(
            f"{name:>9}: {args.dataset} loss over the last 10 batches {last:.4f}, "
            f"test acc {history['test_acc'][-1]:.4f}"
        )
    save_figure(
        optimizer_losses(
            losses, f"Training loss on {args.dataset}, MultiLayerNet {args.hidden} ReLU"
        ),
        args.out / "optimizer_losses.png",
    )
    print(f"wrote {args.out / 'optimizer_paths.png'} and {args.out / 'optimizer_losses.png'}")
    return 0
