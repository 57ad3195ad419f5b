"""``nnscratch train``: train a network on a dataset, with a progress bar, and save what it learned."""

import argparse
import sys
import time
from pathlib import Path

from .args import positive_float, positive_int

DEFAULTS = {"dataset": "digits", "hidden": 100, "lr": 0.5, "batch_size": 32, "epochs": 40,
            "grad": "backprop", "seed": 0}


def add_parser(sub):
    p = sub.add_parser("train", help="train a network and report its accuracy",
                       description="Train a TwoLayerNet by mini-batch gradient descent.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", default=DEFAULTS["dataset"], help="dataset to learn")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder to look in first for the dataset's files (and to download into)")
    p.add_argument("--hidden", type=positive_int, default=DEFAULTS["hidden"],
                   help="hidden layer size")
    p.add_argument("--lr", type=positive_float, default=DEFAULTS["lr"], help="learning rate")
    p.add_argument("--batch-size", type=positive_int, default=DEFAULTS["batch_size"],
                   help="mini-batch size")
    p.add_argument("--epochs", type=positive_int, default=DEFAULTS["epochs"],
                   help="passes over the training data")
    p.add_argument("--grad", choices=("backprop", "numerical"), default=DEFAULTS["grad"],
                   help="how gradients are computed (numerical: the notebook's slow method)")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="random seed")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for history.json and curves.png")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    p.set_defaults(func=cmd_train)


def cmd_train(args):
    import numpy as np

    from ..datasets import load_dataset
    from ..io import save_json
    from ..nets import TwoLayerNet
    from ..train import ProgressBar, Trainer

    data = load_dataset(args.dataset, data_dir=args.data_dir)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(args.seed).spawn(2)
    net = TwoLayerNet(data.n_features, args.hidden, data.n_classes, seed=seeds[0])
    config = {"dataset": args.dataset, "model": "two-layer", "input_size": data.n_features,
              "hidden_size": args.hidden, "output_size": data.n_classes,
              "activation": "sigmoid", "weight_init_std": 0.01, "optimizer": "sgd",
              "lr": args.lr, "batch_size": args.batch_size, "epochs": args.epochs,
              "grad": args.grad, "seed": args.seed}
    callbacks = [] if args.quiet else [ProgressBar()]
    print(f"training {net.__class__.__name__} {data.n_features}-{args.hidden}-{data.n_classes} "
          f"on {args.dataset} ({len(data.x_train)} train, {len(data.x_test)} test images), "
          f"{args.grad} gradients", flush=True)
    trainer = Trainer(net, data.x_train, data.t_train, data.x_test, data.t_test,
                      epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, grad=args.grad,
                      seed=seeds[1], callbacks=callbacks)
    start = time.perf_counter()
    history = trainer.train()
    seconds = time.perf_counter() - start
    print(f"done: {args.epochs} epochs, {trainer.iteration} iterations in {seconds:.1f} s; "
          f"final train acc {history['train_acc'][-1]:.4f}, test acc {history['test_acc'][-1]:.4f}")
    if args.out is not None:
        from ..plots import save_figure, training_curves

        save_json(args.out / "history.json", {"config": config, **history})
        save_figure(training_curves(history), args.out / "curves.png")
        print(f"wrote {args.out / 'history.json'} and {args.out / 'curves.png'}")
    return 0
