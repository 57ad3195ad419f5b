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
#: the language-model figures (plots.language), drawn from 唐诗三百首: name → what it shows
LANGUAGE = {
    "attention": "a GPT's attention weights, every head, for --prompt (--model, else a quick GPT)",
    "samples": "what a small GPT writes after --iterations of training (default 0,100,500,2000)",
    "lm-curves": "loss curves of language-model runs (--runs DIR ...), else a quick RNNLM vs GPT",
}
#: the quick language models' runs on 唐诗三百首: a small GPT and an RNNLM of about its size,
#: batches of 16 windows of 32 characters at a constant rate of 3e-3 (the rest: the table's)
QUICK_LM = {
    "gpt": {"model": "gpt", "layers": 2, "heads": 4, "width": 64},
    "rnnlm": {"model": "rnnlm", "width": 64, "hidden": (64,)},
}
QUICK_TRAINING = {
    "dataset": "tang300",
    "context": 32,
    "batch_size": 16,
    "lr": 3e-3,
    "lr_schedule": "none",
}
#: the iterations each language figure trains for, where no --model or --runs is given
LM_ITERATIONS = {"attention": (300,), "samples": (0, 100, 500, 2000), "lm-curves": (500,)}
#: the language figures' options: option → the figures that take it
LANGUAGE_OPTIONS = {
    "prompt": ("attention", "samples"),
    "layer": ("attention",),
    "runs": ("lm-curves",),
    "iterations": ("attention", "samples", "lm-curves"),
}
#: the default prompts: the attention figure's (a whole line), the samples' (a start)
ATTENTION_PROMPT, SAMPLES_PROMPT = "床前明月光，疑是地上霜。", "床前"


def iteration_list(text):
    """--iterations: one number, or several separated by commas (0,100,500,2000)."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(
            f"expected iterations as whole numbers ≥ 0 separated by commas, e.g. 0,100,500,2000, "
            f"got {text!r}"
        )
    return tuple(values)


def add_parser(sub):
    listing = "\n".join(
        [f"  {name:<14} {desc}" for name, (_, desc) in NAMES.items()]
        + [f"  {name:<14} {desc}" for name, desc in LANGUAGE.items()]
    )
    p = sub.add_parser(
        "plot",
        help="draw the chapter's figures",
        description="Write a figure of the chapter to DIR/NAME.FORMAT (one figure: to "
        "FILE.FORMAT).",
        epilog=f"figures:\n{listing}\n  {'graph':<14} the three graphs above\n  {'all':<14} "
        "every figure above but the language models'; curves only with --history, filters and "
        "feature-maps only with --model",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "name",
        metavar="NAME",
        choices=[*NAMES, *LANGUAGE, "graph", "all"],
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
    p.add_argument(
        "--prompt",
        default=None,
        help=f"attention: the text whose attention is drawn (default: {ATTENTION_PROMPT}); "
        f"samples: the start the GPT writes on from (default: {SAMPLES_PROMPT})",
    )
    p.add_argument(
        "--layer",
        type=non_negative_int("layer"),
        default=None,
        help="attention: draw this layer's heads only (default: every layer)",
    )
    p.add_argument(
        "--runs",
        type=Path,
        nargs="+",
        default=None,
        metavar="DIR",
        help="lm-curves: runs of `nnscratch train --out DIR` (their history.json) to compare",
    )
    p.add_argument(
        "--iterations",
        type=iteration_list,
        default=None,
        help="the quick language models' training: samples, after which iterations to write "
        "(default: 0,100,500,2000, about 3 minutes); attention and lm-curves, how many "
        "(default: 300 and 500)",
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


def quick_lm(kind, seed=0):
    """The run (``run.build``) of an untrained quick language model on 唐诗三百首, a GPT or an
    RNNLM (:data:`QUICK_LM`), float32, on the fast engine, as ``nnscratch train`` builds it."""
    from ..run.build import build

    # epochs: the figures take the steps they need (Trainer.run), whatever the run's length
    return build({**QUICK_TRAINING, **QUICK_LM[kind], "epochs": 1, "seed": seed})


def language_model(path):
    """``(net, tokenizer)`` of the GPT saved at ``path`` with its tokenizer (the train
    command's model file of a language model)."""
    from ..gpt import GPT
    from . import generate

    net, tokenizer, _ = generate.language_model(path)
    if not isinstance(net, GPT):
        raise NnscratchError(
            f"{path} holds a {type(net).__name__}, not a GPT: the attention figure needs "
            "a GPT's model file"
        )
    return net, tokenizer


def read_lm_history(path):
    """The history.json of a language-model run (a folder holding one, or the file)."""
    path = Path(path)
    file = path / "history.json" if path.is_dir() else path
    try:
        history = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NnscratchError(
            f"no history file at {file}: pass the folder of a `nnscratch train --out DIR` run"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NnscratchError(f"cannot read {file} as a run's history.json: {exc}") from None
    if not isinstance(history, dict) or not isinstance(history.get("train_loss"), list):
        raise NnscratchError(f"{file} is not a run's history.json: it lacks train_loss")
    return history


def lm_runs(paths):
    """``(label → history, vocab_size or None)`` of the runs at ``paths``: each labelled by
    its model's name where the names differ, else by its folder."""
    histories = [read_lm_history(path) for path in paths]
    configs = [h.get("config") if isinstance(h.get("config"), dict) else {} for h in histories]
    labels = [str(c.get("model") or "") for c in configs]
    if "" in labels or len(set(labels)) < len(labels):
        labels = [
            (Path(p).name if Path(p).is_dir() else Path(p).parent.name) or str(p) for p in paths
        ]
    if len(set(labels)) < len(labels):
        labels = [str(p) for p in paths]
    sizes = {c.get("vocab_size") for c in configs} - {None}
    vocab_size = sizes.pop() if len(sizes) == 1 else None
    return dict(zip(labels, histories, strict=True)), vocab_size


def language_figure(
    name, model_file=None, prompt=None, layer=None, runs=None, iterations=None, seed=0, lang="en"
):
    """The language-model figure ``name`` (:data:`LANGUAGE`)."""
    from ..plots import language

    iterations = iterations or LM_ITERATIONS[name]
    if name == "attention":
        if model_file is not None:
            net, tokenizer = language_model(model_file)
        else:
            run = quick_lm("gpt", seed)
            net, tokenizer = run.net, run.data.info["tokenizer"]
            language.check_prompt(net, tokenizer, prompt or ATTENTION_PROMPT)  # before training
            language.train_lm(run.trainer, max(iterations))
        return language.attention_heads(
            net, tokenizer, prompt or ATTENTION_PROMPT, layer=layer, lang=lang
        )
    if name == "samples":
        prompt = prompt or SAMPLES_PROMPT
        samples, _ = language.train_and_sample(
            quick_lm("gpt", seed), iterations, prompt=prompt, seed=seed
        )
        return language.samples_over_training(samples, prompt=prompt, lang=lang)
    if runs:
        histories, vocab_size = lm_runs(runs)
    else:
        histories = {}
        for kind, label in (("rnnlm", "RNNLM"), ("gpt", "GPT")):
            run = quick_lm(kind, seed)
            histories[label] = language.train_lm(run.trainer, max(iterations))
        vocab_size = run.data.n_classes
    return language.loss_curves(histories, vocab_size=vocab_size, lang=lang)


def check_language_options(args):
    """One-line errors for a language figure's option given to a figure that takes none."""
    for option in ("prompt", "layer", "runs", "iterations"):
        if getattr(args, option) is None or args.name in LANGUAGE_OPTIONS[option]:
            continue
        users = " and ".join(LANGUAGE_OPTIONS[option])
        plural = "s" if len(LANGUAGE_OPTIONS[option]) > 1 else ""
        raise NnscratchError(f"--{option} is for the {users} figure{plural} only")
    if args.name == "attention" and args.model is not None and args.iterations is not None:
        raise NnscratchError("--iterations trains a quick GPT: give it or --model, not both")
    if args.name == "lm-curves" and args.runs and args.iterations is not None:
        raise NnscratchError("--iterations trains quick models: give it or --runs, not both")
    if args.name in ("samples", "lm-curves") and args.model is not None:
        raise NnscratchError(f"the {args.name} figure takes no --model")


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
    language_options=None,
):
    """Yield ``(name, Figure)`` for each name; the model figures draw ``model_file``'s network on
    its test set, or share one quick training run; boundary draws ``model_file``'s network, or a
    quick run's on ``dataset``."""
    from .. import plots
    from ..plots.lang import strings_for
    from .plot_model import model_figure, saved_model

    model = None
    for name in names:
        if name in LANGUAGE:
            yield (
                name,
                language_figure(name, model_file, seed=seed, lang=lang, **(language_options or {})),
            )
            continue
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

    check_language_options(args)
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
        {
            "prompt": args.prompt,
            "layer": args.layer,
            "runs": args.runs,
            "iterations": args.iterations,
        },
    ):
        path = args.out if out_file else args.out / f"{name}.{args.format}"
        save_figure(fig, path)
        print(f"wrote {path}")
    return 0
