"""``nnscratch plot NAME``: write one of the chapter's figures (or all of them) to a file."""

import argparse
import json
from pathlib import Path

from ..errors import NnscratchError
from .args import non_negative_int, positive_int

#: figures drawn from nothing but the library: name → (function in plots.chapter4, what it shows)
CHAPTER4 = {
    "loss": ("cross_entropy_loss", "cross-entropy loss vs predicted probability of the true class"),
    "differences": ("difference_tangents", "forward vs central difference against the tangent"),
    "diff-error": ("difference_error", "numerical-derivative error vs h, log-log"),
    "gradient": ("gradient_field", "the 2-D gradient field: arrows of -∇f"),
    "saddle": ("saddle_surface", "the saddle surface z = x² - y²"),
    "descent": ("descent_paths", "gradient-descent paths for three learning rates"),
}
#: figures of a trained network (trained here on digits with --seed, ~1 s)
MODEL = {
    "weights": ("first_layer_weights", "first-layer weights as images"),
    "confusion": ("confusion_heatmap", "confusion matrix on the test set"),
    "mistakes": ("most_confident_mistakes", "the most confident mistakes on the test set"),
}
#: the figure of a run: needs --history
RUN = {"curves": ("training_curves", "training loss and train/test accuracy from history.json")}
NAMES = {**CHAPTER4, **MODEL, **RUN}


def add_parser(sub):
    listing = "\n".join(f"  {name:<12} {desc}" for name, (_, desc) in NAMES.items())
    p = sub.add_parser(
        "plot", help="draw the chapter's figures",
        description="Write a figure of the chapter to DIR/NAME.FORMAT.",
        epilog=f"figures:\n{listing}\n  {'all':<12} every figure above; curves only with --history",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", metavar="NAME", choices=[*NAMES, "all"],
                   help="figure to draw (listed below), or 'all'")
    p.add_argument("--out", type=Path, default=Path("figures"),
                   help="folder to write into (default: figures)")
    p.add_argument("--format", choices=("png", "svg"), default="png",
                   help="image format (default: png)")
    p.add_argument("--history", type=Path, default=None,
                   help="a run's history.json (written by `nnscratch train --out DIR`), for curves")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the quick training run behind weights/confusion/mistakes "
                        "(default: 0)")
    p.add_argument("--epochs", type=positive_int, default=20,
                   help="epochs of that quick run (default: 20)")
    p.set_defaults(func=cmd_plot)


def quick_model(seed=0, epochs=20, hidden=50):
    """A TwoLayerNet trained on digits (about a second) and the data: ``(net, dataset)``."""
    import numpy as np

    from ..datasets import load_dataset
    from ..nets import TwoLayerNet
    from ..train import train

    data = load_dataset("digits")
    seeds = np.random.SeedSequence(seed).spawn(2)
    net = TwoLayerNet(data.n_features, hidden, data.n_classes, seed=seeds[0])
    train(net, data.x_train, data.t_train, epochs=epochs, batch_size=32, lr=0.5, seed=seeds[1])
    return net, data


def read_history(path):
    try:
        history = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise NnscratchError(f"no history file at {path}: write one with "
                             "`nnscratch train --out DIR`, then pass DIR/history.json") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NnscratchError(f"cannot read {path} as a run's history.json: {exc}") from None
    missing = [k for k in ("train_loss", "train_acc", "test_acc")
               if not isinstance(history, dict) or k not in history]
    if missing:
        raise NnscratchError(f"{path} is not a run's history.json: it lacks "
                             f"{', '.join(missing)}")
    return history


def make_figures(names, history=None, seed=0, epochs=20):
    """Yield ``(name, Figure)`` for each name; the model figures share one quick training run."""
    from .. import plots

    model = None
    for name in names:
        func = getattr(plots, NAMES[name][0])
        if name in CHAPTER4:
            yield name, func()
        elif name in MODEL:
            if model is None:
                model = quick_model(seed, epochs)
            net, data = model
            if name == "weights":
                yield name, func(net, data.info.get("image_shape"))
            elif name == "confusion":
                yield name, func(net, data.x_test, data.t_test)
            else:
                yield name, func(net, data.x_test, data.t_test, data.info.get("image_shape"))
        else:
            yield name, func(read_history(history))


def cmd_plot(args):
    from ..plots import save_figure

    if args.name == "curves" and args.history is None:
        raise NnscratchError("the curves figure needs a run: pass --history DIR/history.json "
                             "(written by `nnscratch train --out DIR`)")
    if args.name == "all":
        names = [n for n in NAMES if n not in RUN or args.history is not None]
    else:
        names = [args.name]
    if args.history is not None:
        read_history(args.history)  # fail before drawing anything
    if args.out.exists() and not args.out.is_dir():
        raise NnscratchError(f"--out {args.out} is a file, not a folder: choose a folder")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NnscratchError(f"cannot create the output folder {args.out}: "
                             f"{exc.strerror or exc}") from None
    for name, fig in make_figures(names, args.history, args.seed, args.epochs):
        path = args.out / f"{name}.{args.format}"
        save_figure(fig, path)
        print(f"wrote {path}")
    return 0
