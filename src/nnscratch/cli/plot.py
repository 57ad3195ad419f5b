"""``nnscratch plot NAME``: write one of the chapter's figures (or all of them) to a file."""

import argparse
import json
from pathlib import Path

from ..datasets.toy2d import TOY_DATASETS
from ..errors import NnscratchError
from .args import add_lang_argument, non_negative_int, option_type
from .figures import AUTOGRAD, BOUNDARY, CHAPTER4, CONV, GRAPHS, MODEL, NAMES, RUN
from .plot_model import model_data
from .predict import open_model

#: image formats; an --out ending in one of them is the file of a single figure
FORMATS = ("png", "svg")
#: the quick digits run: the notebook's network (TwoLayerNet, SGD at the notebook's rate), narrower
QUICK_DIGITS = {"dataset": "digits", "model": "two-layer", "hidden": (50,), "epochs": 20}
#: the quick 2-D run: a MultiLayerNet of tanh units (smooth boundaries), Adam at 0.01
QUICK_2D = {
    "dataset": "spiral",
    "model": "mlp",
    "hidden": (32, 32),
    "activation": "tanh",
    "weight_init": "xavier",
    "batchnorm": False,
    "optimizer": "adam",
    "lr": 0.01,
    "lr_schedule": "none",
    "batch_size": 32,
    "epochs": 150,
}
#: the 2-D sets, for --dataset
TOY_SETS = tuple(TOY_DATASETS)


def add_parser(sub):
    listing = "\n".join(f"  {name:<14} {desc}" for name, (_, desc) in NAMES.items())
    p = sub.add_parser(
        "plot",
        help="draw the chapter's figures",
        description="Write a figure of the chapter to DIR/NAME.FORMAT (one figure: to "
        "FILE.FORMAT).",
        epilog=f"figures:\n{listing}\n  {'graph':<14} the three graphs above\n  {'all':<14} "
        "every figure above; curves only with --history, filters and feature-maps only with "
        "--model",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "name",
        metavar="NAME",
        choices=[*NAMES, "graph", "all"],
        help="figure to draw (listed below), 'graph' (the three graphs) or 'all'",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("figures"),
        help="folder to write into (default: figures); for one figure, a file "
        "name ending in .png or .svg",
    )
    p.add_argument("--format", choices=FORMATS, default="png", help="image format (default: png)")
    p.add_argument(
        "--history",
        type=Path,
        default=None,
        help="a run's history.json (written by `nnscratch train --out DIR`), for curves",
    )
    p.add_argument(
        "--dataset",
        choices=TOY_SETS,
        default=None,
        help="the 2-D set of the boundary figure (default: the --model's own, else spiral)",
    )
    p.add_argument(
        "--model",
        type=Path,
        default=None,
        help="a model file (`nnscratch train --out DIR`: DIR/model.npz) to draw "
        "instead of a quick run: its weights, confusion, mistakes, filters "
        "and feature maps on its dataset's test set, or a 2-input model's "
        "boundary",
    )
    p.add_argument(
        "--index",
        type=non_negative_int("index"),
        default=0,
        help="the test image whose feature maps are drawn (default: 0)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder to look in first for the --model's dataset (as for train)",
    )
    p.add_argument(
        "--seed",
        type=option_type("seed"),
        default=0,
        help="seed of the quick training run behind weights/confusion/mistakes "
        "and boundary (default: 0)",
    )
    p.add_argument(
        "--epochs",
        type=option_type("epochs"),
        default=None,
        help=f"epochs of that quick run (default: {QUICK_DIGITS['epochs']} on "
        f"digits, {QUICK_2D['epochs']} on a 2-D set)",
    )
    add_lang_argument(p)
    p.set_defaults(func=cmd_plot)


def quick(preset, dataset=None, seed=0, epochs=None):
    """The quick run of ``preset`` (:data:`QUICK_DIGITS`, :data:`QUICK_2D`), untrained: a
    :class:`~nnscratch.run.build.Run` on ``dataset`` (None: the preset's) for ``epochs`` (None:
    the preset's)."""
    from ..run.build import build

    given = {"dataset": dataset, "seed": seed, "epochs": epochs}
    return build({**preset, **{k: v for k, v in given.items() if v is not None}})


def quick_digits(seed=0, epochs=None):
    """The quick digits run, untrained (about a second of training): :func:`quick`."""
    return quick(QUICK_DIGITS, seed=seed, epochs=epochs)


def quick_run(seed=0, epochs=None):
    """A TwoLayerNet trained on digits (about a second): ``(net, dataset, history)``."""
    run = quick_digits(seed, epochs)
    history = run.trainer.train()
    return run.net, run.data, history


def quick_model(seed=0, epochs=None):
    """A TwoLayerNet trained on digits (about a second) and the data: ``(net, dataset)``."""
    return quick_run(seed, epochs)[:2]


def quick_2d(dataset=None, seed=0, epochs=None):
    """The quick 2-D run on ``dataset`` (default spiral), untrained: :func:`quick`."""
    return quick(QUICK_2D, dataset, seed, epochs)


def boundary_model(dataset=None, model=None, seed=0, epochs=None):
    """``(net, data)`` for the boundary figure: the 2-input network saved at ``model`` and its
    dataset (``dataset``, else the one it was trained on, else spiral), or a quick run of
    :func:`quick_2d` on ``dataset`` (default spiral)."""
    from ..plots.boundary import check_two_inputs

    if model is not None:
        saved = open_model(model)
        net = check_two_inputs(saved.net)
        name = dataset or saved.config.get("dataset") or "spiral"
        if name not in TOY_SETS:
            raise NnscratchError(
                f"{model} was trained on {name}, not a 2-D set: pass --dataset "
                f"({', '.join(TOY_SETS)})"
            )
        data = model_data(saved, model, name)
        outputs = net.predict(data.x_test[:1]).shape[1]
        if outputs != data.n_classes:
            raise NnscratchError(
                f"{model} has {outputs} outputs but {name} has {data.n_classes} "
                "classes: pass the --dataset it was trained on"
            )
        return net, data
    run = quick_2d(dataset, seed, epochs)
    run.trainer.train()
    return run.net, run.data


def read_history(path):
    try:
        history = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise NnscratchError(
            f"no history file at {path}: write one with "
            "`nnscratch train --out DIR`, then pass DIR/history.json"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NnscratchError(f"cannot read {path} as a run's history.json: {exc}") from None
    missing = [
        k
        for k in ("train_loss", "train_acc", "test_acc")
        if not isinstance(history, dict) or k not in history
    ]
    if missing:
        raise NnscratchError(f"{path} is not a run's history.json: it lacks {', '.join(missing)}")
    return history


def make_figures(
    names,
    history=None,
    seed=0,
    epochs=None,
    dataset=None,
    model_file=None,
    index=0,
    data_dir=None,
    lang="en",
):
    """Yield ``(name, Figure)`` for each name; the model figures draw ``model_file``'s network on
    its test set, or share one quick training run; boundary draws ``model_file``'s network, or a
    quick run's on ``dataset``."""
    from .. import plots
    from ..plots.lang import strings_for
    from .plot_model import model_figure, saved_model

    model = None
    for name in names:
        if name in CONV and model_file is None:
            raise NnscratchError(
                f"the {name} figure draws a saved convolutional network: pass "
                "--model DIR/model.npz (from `nnscratch train --model cnn "
                "--out DIR`)"
            )
        if (name in MODEL or name in CONV) and model_file is not None:
            if model is None:
                model = saved_model(model_file, data_dir)
            yield name, model_figure(name, *model, index, lang=lang)
            continue
        func = getattr(plots, NAMES[name][0])
        if name in CHAPTER4 or name in AUTOGRAD:
            yield name, func(lang=lang)
        elif name in MODEL:
            if model is None:
                model = quick_model(seed, epochs)
            net, data = model
            if name == "weights":
                yield name, func(net, data.info.get("image_shape"), lang=lang)
            elif name == "confusion":
                yield name, func(net, data.x_test, data.t_test, lang=lang)
            else:
                yield (
                    name,
                    func(net, data.x_test, data.t_test, data.info.get("image_shape"), lang=lang),
                )
        elif name in BOUNDARY:
            net, data = boundary_model(dataset, model_file, seed, epochs)
            title = strings_for(lang)["boundary.title_on"].format(name=data.name)
            yield (
                name,
                func(
                    net,
                    data.x_train,
                    data.t_train,
                    data.x_test,
                    data.t_test,
                    n_classes=data.n_classes,
                    title=title,
                    lang=lang,
                ),
            )
        else:
            yield name, func(read_history(history), lang=lang)


def cmd_plot(args):
    from ..plots import save_figure
    from .plot_model import figures_of

    if args.name == "curves" and args.history is None:
        raise NnscratchError(
            "the curves figure needs a run: pass --history DIR/history.json "
            "(written by `nnscratch train --out DIR`)"
        )
    if args.name == "all":
        names = [
            n
            for n in NAMES
            if (n not in RUN or args.history is not None)
            and (n not in CONV or args.model is not None)
        ]
        if args.model is not None:
            names = figures_of(args.model, names)
    elif args.name == "graph":
        names = list(GRAPHS)
    else:
        names = [args.name]
    if args.history is not None:
        read_history(args.history)  # fail before drawing anything
    out_file = args.out.suffix.lower().lstrip(".") in FORMATS
    if out_file and len(names) > 1:
        raise NnscratchError(
            f"--out {args.out} is one file but '{args.name}' draws {len(names)} figures: pass a "
            "folder"
        )
    folder = args.out.parent if out_file else args.out
    if folder.exists() and not folder.is_dir():
        raise NnscratchError(f"--out {folder} is a file, not a folder: choose a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NnscratchError(
            f"cannot create the output folder {folder}: {exc.strerror or exc}"
        ) from None
    for name, fig in make_figures(
        names,
        args.history,
        args.seed,
        args.epochs,
        args.dataset,
        args.model,
        args.index,
        args.data_dir,
        args.lang,
    ):
        path = args.out if out_file else args.out / f"{name}.{args.format}"
        save_figure(fig, path)
        print(f"wrote {path}")
    return 0
