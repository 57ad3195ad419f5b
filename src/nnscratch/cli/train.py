"""``nnscratch train``: train a network on a dataset, with a progress bar, and save what it learned.

The options are resolved once into a run configuration (``runconfig``); the run folder takes
one writer at a time (``rundir``).
"""

import argparse
import sys
import time
from pathlib import Path

from .args import (non_negative_float, non_negative_int, positive_float, positive_int,
                   probability)
from .runconfig import (CONV_MODELS, DATASET_DEFAULTS, DEFAULTS, EARLY_STOPPING_SPLIT,
                        MODEL_DEFAULTS, MODEL_EPOCHS, MODEL_LR, MODELS, STEP_GAMMA, STEP_PARTS,
                        resolve, shown)


def weight_init(text):
    if text in ("he", "xavier"):
        return text
    try:
        return positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected he, xavier or a standard deviation such as 0.01, got {text!r}") from None


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows argparse's defaults, except None: those options say their per-model default."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def _per_model(name):
    """What ``name`` left out means: 'mlp: relu; two-layer: sigmoid' (or one value)."""
    values = [(model, table[name]) for model, table in MODEL_DEFAULTS.items() if name in table]
    if len(values) == 1:
        return shown(values[0][1])
    return "; ".join(f"{model}: {shown(value)}" for model, value in values)


def _per_dataset(name):
    """'32; 100 on mnist and fashion-mnist': DEFAULTS, and where the larger sets differ (for
    epochs, and the models whose length on them differs: '; deep-cnn: 20 on them')."""
    by_value = {}
    for dataset, table in DATASET_DEFAULTS.items():
        by_value.setdefault(table[name], []).append(dataset)
    parts = [str(DEFAULTS[name])] + [f"{value} on {' and '.join(names)}"
                                     for value, names in by_value.items()]
    if name == "epochs":
        parts += [f"{model}: {epochs} on them" for model, epochs in MODEL_EPOCHS.items()]
    return "; ".join(parts)


def _lr_help():
    from ..optim import OPTIMIZERS, default_lr

    by_rate = {}
    for name in OPTIMIZERS:
        by_rate.setdefault(default_lr(name), []).append(name)
    rates = ", ".join(f"{'/'.join(names)} {rate:g}" for rate, names in by_rate.items())
    pairs = "; ".join(f"{model} with {optimizer}: {rate:g}"
                      for (model, optimizer), rate in MODEL_LR.items())
    return f"learning rate (default: {pairs}; else {rates})"


def add_parser(sub):
    from ..layers import ACTIVATIONS
    from ..optim import OPTIMIZERS

    p = sub.add_parser("train", help="train a network and report its accuracy",
                       description="Train a network by mini-batch gradient descent. The defaults "
                                   "are the README's default recipe; --model two-layer is the "
                                   "notebook's network.",
                       formatter_class=_HelpFormatter)
    p.add_argument("--dataset", default=None,
                   help=f"dataset to learn (default: {DEFAULTS['dataset']})")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder to look in first for the dataset's files (and to download into)")
    p.add_argument("--model", choices=MODELS, default=None,
                   help="the notebook's TwoLayerNet, a MultiLayerNet of any depth, the book's "
                        "chapter-7 SimpleConvNet (cnn) or chapter-8 DeepConvNet (deep-cnn) "
                        f"(default: {DEFAULTS['model']})")
    p.add_argument("--hidden", default=None,
                   help="hidden layer sizes, comma-separated (all but mlp: one size, the "
                        f"fully connected layer's) (default: {_per_model('hidden')})")
    p.add_argument("--activation", choices=tuple(ACTIVATIONS), default=None,
                   help=f"hidden activation (default: {_per_model('activation')})")
    p.add_argument("--weight-init", type=weight_init, default=None,
                   help="mlp: initial weight std: he (√(2/n)), xavier (√(1/n)) or a number; "
                        f"cnn: a number (default: {_per_model('weight_init')})")
    p.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default=None,
                   help=f"update rule (default: {_per_model('optimizer')})")
    p.add_argument("--lr", type=float, default=None, help=_lr_help())
    p.add_argument("--lr-schedule", choices=("none", "step", "cosine"), default=None,
                   help=f"learning rate per epoch: constant, multiplied by {STEP_GAMMA:g} every "
                        f"epochs/{STEP_PARTS}, or cosine to 0 "
                        f"(default: {_per_model('lr_schedule')})")
    p.add_argument("--weight-decay", type=non_negative_float, default=None,
                   help="mlp: L2 penalty λ (adds ½λΣ‖W‖² to the loss) "
                        f"(default: {_per_model('weight_decay')})")
    p.add_argument("--dropout", type=probability, default=None,
                   help="mlp: dropout probability after each hidden activation; deep-cnn: "
                        f"of its two Dropout layers (default: {_per_model('dropout')})")
    p.add_argument("--batchnorm", action=argparse.BooleanOptionalAction, default=None,
                   help=f"mlp: batch norm before each activation "
                        f"(default: {_per_model('batchnorm')})")
    p.add_argument("--batch-size", type=int, default=None,
                   help="mini-batch size, 1 to the number of training samples "
                        f"(default: {_per_dataset('batch_size')})")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="passes over the training data (at most, with --early-stopping) "
                        f"(default: {_per_dataset('epochs')})")
    p.add_argument("--validation-split", type=probability, default=None,
                   help="fraction of the training data held out for validation "
                        f"(default: {EARLY_STOPPING_SPLIT:g} with --early-stopping, else none)")
    p.add_argument("--early-stopping", type=positive_int, default=None, metavar="PATIENCE",
                   help="stop after PATIENCE epochs without a better validation loss and keep "
                        "the best weights")
    p.add_argument("--grad", choices=("backprop", "numerical"), default=None,
                   help="how gradients are computed (numerical: the notebook's central "
                        "differences, by the fast engine where it applies) "
                        f"(default: {DEFAULTS['grad']})")
    p.add_argument("--seed", type=non_negative_int, default=None,
                   help=f"random seed (default: {DEFAULTS['seed']})")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help="float type of the data and the network (default: float32 for mlp on "
                        "MNIST and Fashion-MNIST with backprop, else float64)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for checkpoint.npz (after every epoch and on Ctrl-C), and at "
                        "the end model.npz, history.json and curves.png; one run at a time "
                        "writes there")
    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the run whose checkpoint is DIR/checkpoint.npz, with its saved "
                        "options (writes to DIR unless --out is given)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    p.set_defaults(func=cmd_train)


def build_net(config, input_shape, n_classes, seed):
    """The network ``config`` (a RunConfig) asks for, for inputs of ``input_shape`` (one sample's:
    (D,) or images' (C, H, W)), and its description for history.json."""
    from ..convnets import DeepConvNet, SimpleConvNet
    from ..nets import MultiLayerNet, TwoLayerNet

    if config.model == "two-layer":
        net = TwoLayerNet(input_shape[0], config.hidden[0], n_classes, seed=seed,
                          activation=config.activation, dtype=config.dtype)
    elif config.model == "cnn":
        net = SimpleConvNet(input_shape, hidden_size=config.hidden[0], output_size=n_classes,
                            weight_init_std=config.weight_init, seed=seed, dtype=config.dtype)
    elif config.model == "deep-cnn":
        net = DeepConvNet(input_shape, hidden_size=config.hidden[0], output_size=n_classes,
                          dropout=config.dropout, seed=seed, dtype=config.dtype)
    else:
        net = MultiLayerNet(input_shape[0], config.hidden, n_classes,
                            activation=config.activation, weight_init=config.weight_init,
                            weight_decay_lambda=config.weight_decay, dropout=config.dropout,
                            use_batchnorm=config.batchnorm, seed=seed, dtype=config.dtype)
    return net, {"model": config.model, **net.config()}


def run_seeds(seed):
    """(the weights' seed, the batch order's seed) of a run with ``--seed seed``: two independent
    streams of ``np.random.SeedSequence(seed)``."""
    import numpy as np

    return np.random.SeedSequence(seed).spawn(2)


def cmd_train(args):
    from ..io import load_checkpoint
    from .rundir import finished, missing_results, run_folder

    out = args.out if args.out is not None else args.resume
    if args.resume is None:
        config = resolve(args)  # bad options stop here, before any folder is made
        if out is None:
            return run(config, None, None, args.data_dir, args.quiet)
    # the checkpoint is read under the lock: a running writer is named, never read mid-run
    with run_folder(out) as announce:
        checkpoint = load_checkpoint(args.resume) if args.resume is not None else None
        if checkpoint is not None:
            config = resolve(args, checkpoint)
            over = finished(checkpoint, config, args.resume)
            missing = missing_results(out)
            if over is not None and not missing:  # nothing to do, and nothing written
                print(f"{over}; nothing to resume")
                return 0
            if over is not None:  # stopped after its last checkpoint, before its results
                print(f"{over}; {' and '.join(missing)} missing: writing the results from its "
                      "checkpoint", flush=True)
        announce()  # from here on this run writes to the folder: name it for a second writer
        return run(config, checkpoint, out, args.data_dir, args.quiet)


def run(config, checkpoint, out, data_dir=None, quiet=False):
    """Train the run ``config`` (from ``checkpoint`` when resuming), writing to ``out`` (a
    folder, or None); returns the exit code."""
    from ..datasets import load_dataset
    from ..optim import make_optimizer
    from ..train import (CheckpointSaver, EarlyStopping, ProgressBar, Trainer,
                         TrainingInterrupted)

    data = load_dataset(config.dataset, data_dir=data_dir, dtype=config.dtype,
                        flatten=config.model not in CONV_MODELS)
    seeds = run_seeds(config.seed)
    net, net_config = build_net(config, data.x_train.shape[1:], data.n_classes, seeds[0])
    description = config.description(net_config)
    callbacks = [] if quiet else [ProgressBar()]
    if out is not None:
        callbacks.append(CheckpointSaver(out, {**description, "args": config.saved()}))
    sizes = "×".join(map(str, data.x_train.shape[1:])) + "-" + "-".join(
        str(s) for s in [*config.hidden, data.n_classes])
    print(f"training {net.__class__.__name__} {sizes} ({config.activation}, {config.optimizer} "
          f"lr {config.lr:g}) on {config.dataset} ({len(data.x_train)} train, "
          f"{len(data.x_test)} test images), {config.grad} gradients", flush=True)
    trainer = Trainer(net, data.x_train, data.t_train, data.x_test, data.t_test,
                      epochs=config.epochs, batch_size=config.batch_size,
                      optimizer=make_optimizer(config.optimizer, config.lr), grad=config.grad,
                      seed=seeds[1], callbacks=callbacks,
                      validation_split=config.validation_split or None,
                      early_stopping=config.early_stopping, lr_schedule=config.schedule())
    if checkpoint is not None:
        trainer.load_checkpoint(checkpoint)
        print(f"resuming from {checkpoint.path} at epoch {trainer.epoch + 1}, iteration "
              f"{trainer.iteration}", flush=True)
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
    stopped = (f" (early stop; best epoch {stopper.best_epoch} restored)"
               if stopper is not None and trainer.epoch < config.epochs else "")
    print(f"done: {trainer.epoch} epochs{stopped}, {trainer.iteration} iterations in "
          f"{seconds:.1f} s; final train acc {net.accuracy(trainer.x_train, trainer.t_train):.4f}, "
          f"test acc {net.accuracy(data.x_test, data.t_test):.4f}")
    if out is not None:
        save_results(out, net, description, history)
    return 0


def save_results(out, net, description, history):
    """model.npz, history.json and curves.png in ``out``."""
    from ..atomic import save_json
    from ..io import save_model
    from ..plots import save_figure, training_curves

    save_model(out / "model.npz", net, description)
    save_json(out / "history.json", {"config": description, **history})
    save_figure(training_curves(history), out / "curves.png")
    print(f"wrote {out / 'model.npz'}, {out / 'history.json'} and {out / 'curves.png'} "
          f"(checkpoint: {out / 'checkpoint.npz'})")


def signal_number(exc):
    import signal

    try:
        return int(signal.Signals[exc.signal_name])
    except KeyError:
        return 2
