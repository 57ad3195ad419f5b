"""``nnscratch train``: train a network on a dataset, with a progress bar, and save what it learned."""

import argparse
import sys
import time
from pathlib import Path

from .args import (non_negative_float, non_negative_int, positive_float, positive_int,
                   probability)

DEFAULTS = {"dataset": "digits", "model": "mlp", "batch_size": 32, "epochs": 40,
            "grad": "backprop", "seed": 0}
#: the options that define a run: saved in its checkpoint, and taken from there by --resume
RUN_OPTIONS = ("dataset", "model", "hidden", "activation", "weight_init", "optimizer", "lr",
               "lr_schedule", "weight_decay", "dropout", "batchnorm", "batch_size", "epochs",
               "validation_split", "early_stopping", "grad", "seed", "dtype")
#: What an option left out means for each model: for mlp the README's default recipe (chosen on
#: validation splits of Fashion-MNIST and digits), for two-layer the notebook's network.
MODEL_DEFAULTS = {
    "mlp": {"hidden": [256, 128], "activation": "relu", "weight_init": "he", "optimizer": "adam",
            "lr_schedule": "cosine", "weight_decay": 0.0, "dropout": 0.0, "batchnorm": True},
    "two-layer": {"hidden": [100], "activation": "sigmoid", "optimizer": "sgd", "lr": 0.5,
                  "lr_schedule": "none"},
}
#: The recipe's batch size and length for the 60,000-image sets (the README's "Default recipe");
#: the small digits set takes DEFAULTS' 40 epochs of 32.
DATASET_DEFAULTS = {"mnist": {"batch_size": 100, "epochs": 10},
                    "fashion-mnist": {"batch_size": 100, "epochs": 10}}
MLP_ONLY = ("weight_init", "weight_decay", "dropout", "batchnorm")


def hidden_sizes(text):
    """'256,128' → [256, 128]: the hidden layers' widths (``validation.parse_hidden``; a
    malformed value is an NnscratchError, printed as one line)."""
    from ..validation import parse_hidden

    return list(parse_hidden(text))


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


def add_parser(sub):
    from ..layers import ACTIVATIONS
    from ..optim import OPTIMIZERS

    p = sub.add_parser("train", help="train a network and report its accuracy",
                       description="Train a network by mini-batch gradient descent. The defaults "
                                   "are the README's default recipe; --model two-layer is the "
                                   "notebook's network.",
                       formatter_class=_HelpFormatter)
    p.add_argument("--dataset", default=None, help="dataset to learn (default: digits)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder to look in first for the dataset's files (and to download into)")
    p.add_argument("--model", choices=("two-layer", "mlp"), default=None,
                   help="the notebook's TwoLayerNet or a MultiLayerNet of any depth "
                        "(default: mlp)")
    p.add_argument("--hidden", default=None,
                   help="hidden layer sizes, comma-separated (two-layer: one size) "
                        "(default: mlp: 256,128; two-layer: 100)")
    p.add_argument("--activation", choices=tuple(ACTIVATIONS), default=None,
                   help="hidden activation (default: mlp: relu; two-layer: sigmoid)")
    p.add_argument("--weight-init", type=weight_init, default=None,
                   help="mlp: initial weight std: he (√(2/n)), xavier (√(1/n)) or a number "
                        "(default: he)")
    p.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default=None,
                   help="update rule (default: mlp: adam; two-layer: sgd)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: two-layer with sgd: 0.5; else sgd 0.1, "
                        "momentum/nesterov/adagrad 0.01, rmsprop/adam 0.001)")
    p.add_argument("--lr-schedule", choices=("none", "step", "cosine"),
                   default=None, help="learning rate per epoch: constant, halved every epochs/4, "
                                      "or cosine to 0 (default: mlp: cosine; two-layer: none)")
    p.add_argument("--weight-decay", type=non_negative_float, default=None,
                   help="mlp: L2 penalty λ (adds ½λΣ‖W‖² to the loss) (default: 0)")
    p.add_argument("--dropout", type=probability, default=None,
                   help="mlp: dropout probability after each hidden activation (default: 0)")
    p.add_argument("--batchnorm", action=argparse.BooleanOptionalAction,
                   default=None, help="mlp: batch norm before each activation (default: on)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="mini-batch size, 1 to the number of training samples (default: 32; "
                        "100 on mnist and fashion-mnist)")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="passes over the training data (at most, with --early-stopping) "
                        "(default: 40; 10 on mnist and fashion-mnist)")
    p.add_argument("--validation-split", type=probability, default=None,
                   help="fraction of the training data held out for validation "
                        "(default: 0.1 with --early-stopping, else none)")
    p.add_argument("--early-stopping", type=positive_int, default=None, metavar="PATIENCE",
                   help="stop after PATIENCE epochs without a better validation loss and keep "
                        "the best weights")
    p.add_argument("--grad", choices=("backprop", "numerical"), default=None,
                   help="how gradients are computed (numerical: the notebook's central "
                        "differences, by the fast engine where it applies) (default: backprop)")
    p.add_argument("--seed", type=non_negative_int, default=None, help="random seed (default: 0)")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help="float type of the data and the network (default: float32 for mlp on "
                        "MNIST and Fashion-MNIST with backprop, else float64)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for checkpoint.npz (after every epoch and on Ctrl-C), and at "
                        "the end model.npz, history.json and curves.png")
    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the run whose checkpoint is DIR/checkpoint.npz, with its saved "
                        "options (writes to DIR unless --out is given)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    p.set_defaults(func=cmd_train)


def resolve_defaults(args):
    """Fill the options left out with the model's defaults (``MODEL_DEFAULTS``); the mlp-only
    options given with --model two-layer are an error."""
    from ..errors import NnscratchError

    dataset = args.dataset if args.dataset is not None else DEFAULTS["dataset"]
    for name, value in {**DEFAULTS, **DATASET_DEFAULTS.get(dataset, {})}.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if isinstance(args.hidden, str):
        args.hidden = hidden_sizes(args.hidden)
    if args.model == "two-layer":
        given = [name for name in MLP_ONLY if getattr(args, name) not in (None, 0, 0.0, False)]
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise NnscratchError(f"{flags} need --model mlp (TwoLayerNet is the notebook's "
                                 "network, without them)")
    for name, value in MODEL_DEFAULTS[args.model].items():
        if name != "lr" and getattr(args, name, None) is None:
            setattr(args, name, value)


def build_net(args, n_features, n_classes, seed):
    """The network the arguments ask for, and its description for history.json."""
    from ..errors import NnscratchError
    from ..nets import MultiLayerNet, TwoLayerNet

    if args.model == "two-layer":
        if len(args.hidden) != 1:
            raise NnscratchError(f"--model two-layer has one hidden layer, got --hidden "
                                 f"{','.join(map(str, args.hidden))}: use --model mlp")
        net = TwoLayerNet(n_features, args.hidden[0], n_classes, seed=seed,
                          activation=args.activation, dtype=args.dtype)
        return net, {"model": "two-layer", "input_size": n_features, "hidden_size": args.hidden[0],
                     "output_size": n_classes, "activation": args.activation,
                     "weight_init_std": 0.01}
    if args.dropout and args.grad == "numerical":
        raise NnscratchError("--dropout draws a new mask at every forward pass, so the numerical "
                             "gradient would differentiate noise: use --grad backprop")
    net = MultiLayerNet(n_features, args.hidden, n_classes, activation=args.activation,
                        weight_init=args.weight_init, weight_decay_lambda=args.weight_decay,
                        dropout=args.dropout, use_batchnorm=args.batchnorm, seed=seed,
                        dtype=args.dtype)
    return net, {"model": "mlp", **net.config()}


def resume_options(args):
    """With ``--resume DIR``: the checkpoint, and ``args`` set to the options it was saved with.
    An option given on the command line that differs from the saved one is an error."""
    from ..errors import NnscratchError
    from ..io import load_checkpoint

    checkpoint = load_checkpoint(args.resume)
    saved = checkpoint.config.get("args")
    if not isinstance(saved, dict) or set(saved) != set(RUN_OPTIONS):
        raise NnscratchError(f"{checkpoint.path} was not written by `nnscratch train`: resume it "
                             "from Python with Trainer.load_checkpoint")
    if isinstance(args.hidden, str):
        args.hidden = hidden_sizes(args.hidden)
    for name in RUN_OPTIONS:
        given = getattr(args, name)
        if given is not None and given != saved[name]:
            flag = "--" + name.replace("_", "-")
            raise NnscratchError(f"{flag} {_shown(given)} conflicts with the checkpoint's "
                                 f"{_shown(saved[name])}: "
                                 f"--resume continues the saved run with its options; leave "
                                 f"{flag} out (or start a new run with another --out)")
        setattr(args, name, saved[name])
    if args.out is None:
        args.out = args.resume
    return checkpoint


def _shown(value):
    """An option's value as it is typed: [256, 128] → 256,128."""
    return ",".join(map(str, value)) if isinstance(value, list) else value


def cmd_train(args):
    import numpy as np

    from ..datasets import load_dataset
    from ..atomic import save_json
    from ..io import save_model
    from ..optim import OPTIMIZERS, CosineLR, StepLR, check_optimizer_lr, default_lr, make_optimizer
    from ..train import (CheckpointSaver, EarlyStopping, ProgressBar, Trainer,
                         TrainingInterrupted)

    checkpoint = resume_options(args) if args.resume is not None else None
    resolve_defaults(args)
    if args.lr is not None:
        check_optimizer_lr(OPTIMIZERS[args.optimizer], args.lr)
    if args.dtype is None:  # float32: as accurate and faster, where the data is large
        args.dtype = ("float32" if args.model == "mlp" and args.grad == "backprop"
                      and args.dataset != "digits" else "float64")
    data = load_dataset(args.dataset, data_dir=args.data_dir, dtype=args.dtype)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(args.seed).spawn(2)
    net, net_config = build_net(args, data.n_features, data.n_classes, seeds[0])
    lr = args.lr
    if lr is None:
        lr = MODEL_DEFAULTS[args.model].get("lr") if args.optimizer == "sgd" else None
        lr = lr if lr is not None else default_lr(args.optimizer)
    schedule = {"none": None, "step": StepLR(max(args.epochs // 4, 1), 0.5),
                "cosine": CosineLR(args.epochs)}[args.lr_schedule]
    validation_split = args.validation_split
    if validation_split is None and args.early_stopping is not None:
        validation_split = 0.1
    args.lr, args.validation_split = lr, validation_split  # saved resolved: resume needs no guess
    config = {"dataset": args.dataset, **net_config, "optimizer": args.optimizer, "lr": lr,
              "lr_schedule": args.lr_schedule, "batch_size": args.batch_size,
              "epochs": args.epochs, "validation_split": validation_split or 0.0,
              "early_stopping": args.early_stopping, "grad": args.grad, "seed": args.seed,
              "dtype": args.dtype}
    callbacks = [] if args.quiet else [ProgressBar()]
    if args.out is not None:
        callbacks.append(CheckpointSaver(args.out, {
            **config, "args": {name: getattr(args, name) for name in RUN_OPTIONS}}))
    sizes = "-".join(str(s) for s in [data.n_features, *args.hidden, data.n_classes])
    print(f"training {net.__class__.__name__} {sizes} ({args.activation}, {args.optimizer} "
          f"lr {lr:g}) on {args.dataset} ({len(data.x_train)} train, {len(data.x_test)} test "
          f"images), {args.grad} gradients", flush=True)
    trainer = Trainer(net, data.x_train, data.t_train, data.x_test, data.t_test,
                      epochs=args.epochs, batch_size=args.batch_size,
                      optimizer=make_optimizer(args.optimizer, lr), grad=args.grad,
                      seed=seeds[1], callbacks=callbacks, validation_split=validation_split or None,
                      early_stopping=args.early_stopping, lr_schedule=schedule)
    trainer.blas_threads = 1  # faster for mini-batches (README, Training speed and memory)
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
            what = f"resume with: nnscratch train --resume {args.out}"
        else:
            what = "no checkpoint without --out DIR: give it to be able to resume"
        print(f"nnscratch: {exc}; {what}", file=sys.stderr, flush=True)
        return 130 if exc.signal_name in (None, "SIGINT") else 128 + signal_number(exc)
    seconds = time.perf_counter() - start
    stopper = next((cb for cb in trainer.callbacks if isinstance(cb, EarlyStopping)), None)
    stopped = (f" (early stop; best epoch {stopper.best_epoch} restored)"
               if stopper is not None and trainer.epoch < args.epochs else "")
    test_acc = net.accuracy(data.x_test, data.t_test)
    print(f"done: {trainer.epoch} epochs{stopped}, {trainer.iteration} iterations in "
          f"{seconds:.1f} s; final train acc {net.accuracy(trainer.x_train, trainer.t_train):.4f}, "
          f"test acc {test_acc:.4f}")
    if args.out is not None:
        from ..plots import save_figure, training_curves

        save_model(args.out / "model.npz", net, config)
        save_json(args.out / "history.json", {"config": config, **history})
        save_figure(training_curves(history), args.out / "curves.png")
        print(f"wrote {args.out / 'model.npz'}, {args.out / 'history.json'} and "
              f"{args.out / 'curves.png'} (checkpoint: {args.out / 'checkpoint.npz'})")
    return 0


def signal_number(exc):
    import signal

    try:
        return int(signal.Signals[exc.signal_name])
    except KeyError:
        return 2
