"""``nnscratch train``: train a network on a dataset, with a progress bar, and save what it learned.

Every option of the run is an option of the table (``run.options``): its flag, help and check
come from there, and ``run.build`` makes the run. The run folder takes one writer at a time
(``rundir``); ``--resume`` continues a run with the options its checkpoint saved.
"""

import argparse
import math
import sys
import time
from pathlib import Path

#: options a --resume may change: how the run is computed, not what it computes
RESUME_MAY_CHANGE = ("engine",)
#: the seed of a 2-D set's points in a checkpoint from before --data-seed (always 0 then)
EARLIER_DATA_SEED = 0


def add_parser(sub):
    from ..run.options import OPTIONS, default_text

    p = sub.add_parser(
        "train",
        help="train a network and report its accuracy",
        description="Train a network by mini-batch gradient descent. The defaults "
        "are the README's default recipe; --model two-layer is the "
        "notebook's network.",
    )
    for option in OPTIONS.values():
        metavar = (
            "{" + ",".join(map(str, option.choices)) + "}"
            if option.kind == "choice"
            else option.name.upper()
        )
        help_text = f"{option.help} (default: {default_text(option.name)})"
        if option.kind == "bool":
            p.add_argument(
                option.flag, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        else:
            p.add_argument(option.flag, default=None, metavar=metavar, help=help_text)
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder to look in first for the dataset's files (and to download into)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for checkpoint.npz (after every epoch and on Ctrl-C), and at "
        "the end model.npz, history.json and curves.png; one run at a time "
        "writes there",
    )
    p.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="DIR",
        help="continue the run whose checkpoint is DIR/checkpoint.npz, with its saved "
        "options (writes to DIR unless --out is given)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    p.set_defaults(func=cmd_train)


def given_options(args):
    """The table's options as the command line gave them (None: left out), as text."""
    from ..run.options import OPTIONS

    return {name: getattr(args, name) for name in OPTIONS}


def resolve_args(args, checkpoint=None):
    """The run's Spec from the command line and, with --resume, the ``checkpoint``
    (``io.Checkpoint``) whose saved options it continues."""
    from ..run.options import check_given, resolve

    given = check_given(given_options(args), parse=True)
    if checkpoint is None:
        return resolve(given)
    saved = saved_options(checkpoint)
    # what the saved run had, its defaults too: a checkpoint of an earlier nnscratch lacks some
    was = resolve(saved)
    for name, value in given.items():
        if name not in RESUME_MAY_CHANGE and was[name] != value:
            raise conflict(name, value, was[name])
    return resolve({**saved, **given})


def saved_options(checkpoint):
    """The options a checkpoint written by `nnscratch train` saved (its config's "args"),
    checked: every version of nnscratch saved the same names or fewer."""
    from ..errors import NnscratchError
    from ..run.options import OPTIONS, check_given, takes

    saved = checkpoint.config.get("args")
    if not isinstance(saved, dict) or not {"dataset", "model"} <= set(saved) <= set(OPTIONS):
        raise NnscratchError(
            f"{checkpoint.path} was not written by `nnscratch train`: resume it "
            "from Python with Trainer.load_checkpoint"
        )
    try:
        saved = check_given(saved)
    except NnscratchError as exc:
        raise NnscratchError(
            f"{checkpoint.path} holds options this nnscratch does not take "
            f"({exc}): start the run again"
        ) from None
    if "data_seed" not in checkpoint.config["args"] and takes("data_seed", saved):
        saved["data_seed"] = EARLIER_DATA_SEED  # its 2-D points, drawn as they were
    return saved


def conflict(name, value, saved):
    from ..errors import NnscratchError
    from ..run.options import OPTIONS

    option = OPTIONS[name]
    return NnscratchError(
        f"{option.flag} {option.shown(value)} conflicts with the checkpoint's "
        f"{option.shown(saved)}: --resume continues the saved run with its "
        f"options; leave {option.flag} out (or start a new run with another "
        "--out)"
    )


def cmd_train(args):
    from ..io import load_checkpoint
    from .rundir import finished, missing_results, run_folder

    out = args.out if args.out is not None else args.resume
    if args.resume is None:
        spec = resolve_args(args)  # bad options stop here, before any folder is made
        if out is None:
            return run(spec, None, None, args.data_dir, args.quiet)
    # the checkpoint is read under the lock: a running writer is named, never read mid-run
    with run_folder(out) as announce:
        checkpoint = load_checkpoint(args.resume) if args.resume is not None else None
        if checkpoint is not None:
            spec = resolve_args(args, checkpoint)
            over = finished(checkpoint, spec, args.resume)
            missing = missing_results(out)
            if over is not None and not missing:  # nothing to do, and nothing written
                print(f"{over}; nothing to resume")
                return 0
            if over is not None:  # stopped after its last checkpoint, before its results
                print(
                    f"{over}; {' and '.join(missing)} missing: writing the results from its "
                    "checkpoint",
                    flush=True,
                )
        announce()  # from here on this run writes to the folder: name it for a second writer
        return run(spec, checkpoint, out, args.data_dir, args.quiet)


def run(spec, checkpoint, out, data_dir=None, quiet=False):
    """Train the run ``spec`` (from ``checkpoint`` when resuming), writing to ``out`` (a folder,
    or None); returns the exit code."""
    from ..run.build import build, load_data
    from ..run.callbacks import CheckpointSaver, EarlyStopping, ProgressBar
    from ..run.interrupt import TrainingInterrupted

    data = load_data(spec, data_dir)
    callbacks = [] if quiet else [ProgressBar()]
    if out is not None:
        callbacks.append(CheckpointSaver(out, None))
    result = build(spec, data, callbacks=callbacks)
    net, trainer = result.net, result.trainer
    description = result.description()
    if out is not None:
        callbacks[-1].config = {**description, "args": spec.saved()}
    print(
        f"training {net.__class__.__name__} {network_sizes(spec, net, data)} "
        f"({spec['optimizer']} lr {spec['lr']:g}) on {spec['dataset']} ({data.describe()}), "
        f"{spec['grad']} gradients, "
        f"{spec['engine']} engine",
        flush=True,
    )
    if checkpoint is not None:
        trainer.load_checkpoint(checkpoint)
        print(
            f"resuming from {checkpoint.path} at epoch {trainer.epoch + 1}, iteration "
            f"{trainer.iteration}",
            flush=True,
        )
    start = time.perf_counter()
    try:
        with trainer.stop_on_signals():
            history = trainer.train()
    except TrainingInterrupted as exc:
        if exc.checkpoint_path is not None:
            what = f"resume with: nnscratch train --resume {out}"
        else:
            what = "no checkpoint without --out DIR: give it to be able to resume"
        print(f"nnscratch: {exc}; {what}", file=sys.stderr, flush=True)
        return 130 if exc.signal_name in (None, "SIGINT") else 128 + signal_number(exc)
    seconds = time.perf_counter() - start
    stopper = next((cb for cb in trainer.callbacks if isinstance(cb, EarlyStopping)), None)
    stopped = (
        f" (early stop; best epoch {stopper.best_epoch} restored)"
        if stopper is not None and trainer.epoch < spec["epochs"]
        else ""
    )
    restored = stopper if stopper is not None and stopper.best_params is not None else None
    done = (
        f"done: {plural(trainer.epoch, 'epoch')}{stopped}, "
        f"{plural(trainer.iteration, 'iteration')} in {seconds:.1f} s; final "
    )
    if "tokenizer" in data.info:  # a language model: the loss on its validation text
        row = (restored.best_epoch if restored is not None else trainer.epoch) - 1
        val_loss = history["val_loss"][row]
        print(
            f"{done}validation loss {val_loss:.4f} (perplexity {math.exp(val_loss):.1f}), "
            f"next-character accuracy {history['val_acc'][row]:.4f}"
        )
    else:
        train_acc, test_acc = final_accuracies(trainer, restored, data)
        print(f"{done}train acc {train_acc:.4f}, test acc {test_acc:.4f}")
    if out is not None:
        save_results(out, net, description, history)
    if spec["grad"] == "numerical":  # after the results are safe: its timing takes seconds
        print_gradient_costs(net, trainer)
    return 0


def network_sizes(spec, net, data):
    """The network in a few words: ``784-256-128-10 (relu)``; a language model's layers,
    width, context and parameters."""
    if "tokenizer" in data.info:
        count = sum(p.size for p in net.params.values())
        shape = (
            f"{spec['layers']} layers × {spec['heads']} heads, width {spec['width']}"
            if spec["model"] == "gpt"
            else f"word vectors {spec['width']}, hidden {spec['hidden'][0]}"
        )
        return (
            f"({shape}, context {spec['context']}, {data.n_classes:,} tokens, "
            f"{count / 1e6:.2f} M parameters)"
        )
    sizes = "-".join(str(s) for s in [*spec["hidden"], data.n_classes])
    return f"{'×'.join(map(str, data.x_train.shape[1:]))}-{sizes} ({spec['activation'] or 'relu'})"


def final_accuracies(trainer, stopper, data):
    """(train, test accuracy) of the network as the run leaves it: the history's row of its last
    epoch (of the best one, where the early ``stopper`` put that epoch's weights back, as it does
    at the end of every run that had one, stopped early or not), measured at
    that epoch's end with these very weights; measured here only where the history lacks one
    (a run without a test set during training). No second pass over the data: on a busy
    machine it cost a large run a second."""
    import math

    row = (stopper.best_epoch if stopper is not None else trainer.epoch) - 1
    history = trainer.history
    train_acc, test_acc = history["train_acc"][row], history["test_acc"][row]
    if math.isnan(train_acc):
        train_acc = trainer.net.accuracy(trainer.x_train, trainer.t_train)
    if math.isnan(test_acc):
        test_acc = trainer.net.accuracy(data.x_test, data.t_test)
    return train_acc, test_acc


def plural(n, noun):
    """``1 epoch``, ``2 epochs``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def duration(seconds):
    """``83.1 µs``, ``9.1 ms``, ``1.21 s``, ``1,234 s``: three significant figures (all of the
    whole seconds)."""
    if float(f"{seconds:.3g}") < 1e-3:  # the unit chosen after rounding: never "1e+03 µs"
        return f"{seconds * 1e6:.3g} µs"
    if float(f"{seconds:.3g}") < 1:
        return f"{seconds * 1000:.3g} ms"
    return f"{seconds:.3g} s" if seconds < 100 else f"{seconds:,.0f} s"


def print_gradient_costs(net, trainer):
    """After a run on numerical gradients: what one gradient of a mini-batch costs by
    backpropagation, by the engine's numerical gradient and by the book's naive loop, and what
    an epoch of the run's steps would take by each (``run.cost``)."""
    from ..run.cost import gradient_costs

    n = min(trainer.batch_size, len(trainer.x_train))
    x, t = trainer.x_train[:n], trainer.t_train[:n]
    costs = gradient_costs(net, x, t)
    back, numerical, naive = costs["backprop"], costs["numerical"], costs["naive"]
    about = "≈ " if costs["naive_estimated"] else ""
    steps = trainer.iter_per_epoch
    print(
        f"one gradient of a batch of {n}: backprop {duration(back)}; numerical "
        f"{duration(numerical)} ({numerical / back:,.0f}× backprop) on the fast engine, "
        f"{about}{duration(naive)} ({naive / back:,.0f}×) by the book's naive loop"
    )
    print(
        f"  an epoch of {plural(steps, 'step')}: {duration(steps * back)} by backprop, "
        f"{duration(steps * numerical)} numerical (fast), {about}{duration(steps * naive)} by the "
        "naive loop: backpropagation is what makes learning feasible"
    )


def save_results(out, net, description, history):
    """model.npz, history.json and curves.png in ``out``."""
    from ..atomic import save_json
    from ..io import save_model
    from ..plots import save_figure, training_curves

    save_model(out / "model.npz", net, description)
    save_json(out / "history.json", {"config": description, **history})
    save_figure(training_curves(history), out / "curves.png")
    print(
        f"wrote {out / 'model.npz'}, {out / 'history.json'} and {out / 'curves.png'} "
        f"(checkpoint: {out / 'checkpoint.npz'})"
    )


def signal_number(exc):
    import signal

    try:
        return int(signal.Signals[exc.signal_name])
    except KeyError:
        return 2
