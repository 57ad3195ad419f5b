"""The experiments behind the README's "Default recipe": candidate configurations trained on a
validation split of the training data of Fashion-MNIST and of digits; the test set is touched only
with ``--test`` for the final choice.

    OPENBLAS_NUM_THREADS=1 python experiments/recipe.py --dataset fashion-mnist
    OPENBLAS_NUM_THREADS=1 python experiments/recipe.py --dataset digits
    OPENBLAS_NUM_THREADS=1 python experiments/recipe.py --dataset fashion-mnist --only recipe --test

Fashion-MNIST is read from Debian's ``dataset-fashion-mnist`` IDX files with a few lines of numpy
(a stand-in until the datasets package loads it). One JSON line per configuration.
"""

import argparse
import json
import time

import numpy as np

from nnscratch.datasets import load_dataset
from nnscratch.nets import MultiLayerNet, TwoLayerNet
from nnscratch.optim import CosineLR, make_optimizer
from nnscratch.train import Trainer


#: name → options; "recipe" is the README's default recipe
CANDIDATES = {
    "notebook": dict(model="two-layer", hidden=(50,), activation="sigmoid", optimizer="sgd",
                     lr=0.1),
    "adam": dict(),
    "adam+cosine": dict(schedule="cosine"),
    "adam+bn": dict(bn=True),
    "adam+dropout0.2": dict(dropout=0.2),
    "adam+bn+dropout0.2": dict(bn=True, dropout=0.2),
    "adam+wd1e-4": dict(wd=1e-4),
    "adam+bn+cosine": dict(bn=True, schedule="cosine"),
    "adam+bn+dropout0.2+cosine": dict(bn=True, dropout=0.2, schedule="cosine"),
}
SETTINGS = {"fashion-mnist": dict(epochs=10, batch_size=100, val=0.1, seeds=(0,)),
            "digits": dict(epochs=40, batch_size=32, val=0.2, seeds=(0, 1, 2))}


def load(name):
    d = load_dataset(name, dtype=np.float64)
    return d.x_train, d.t_train, d.x_test, d.t_test


def run(dataset, name, options, test):
    x_train, t_train, x_test, t_test = load(dataset)
    s = SETTINGS[dataset]
    o = {**dict(model="mlp", hidden=(256, 128), activation="relu", optimizer="adam", lr=None,
                wd=0.0, dropout=0.0, bn=False, schedule=None), **options}
    val_acc, test_acc, seconds = [], [], []
    for seed in s["seeds"]:
        if o["model"] == "two-layer":
            net = TwoLayerNet(x_train.shape[1], o["hidden"][0], 10, seed=seed,
                              activation=o["activation"])
        else:
            net = MultiLayerNet(x_train.shape[1], o["hidden"], 10, activation=o["activation"],
                                weight_decay_lambda=o["wd"], dropout=o["dropout"],
                                use_batchnorm=o["bn"], seed=seed)
        start = time.perf_counter()
        # the final choice is trained on all training data; candidates on 1 - val of it
        trainer = Trainer(net, x_train, t_train, epochs=s["epochs"], batch_size=s["batch_size"],
                          optimizer=make_optimizer(o["optimizer"], o["lr"]), seed=seed + 1,
                          validation_split=None if test else s["val"],
                          lr_schedule=CosineLR(s["epochs"]) if o["schedule"] else None)
        history = trainer.train()
        seconds.append(time.perf_counter() - start)
        if test:
            test_acc.append(net.accuracy(x_test, t_test))
        else:
            val_acc.append(history["val_acc"][-1])
    result = {"dataset": dataset, "config": name, "options": o, **s,
              "seconds_median": round(float(np.median(seconds)), 1)}
    if test:
        result["test_acc"] = test_acc
    else:
        result["val_acc"] = val_acc
        result["val_acc_mean"] = round(float(np.mean(val_acc)), 4)
    print(json.dumps(result), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=tuple(SETTINGS), required=True)
    parser.add_argument("--only", choices=tuple(CANDIDATES), default=None)
    parser.add_argument("--test", action="store_true",
                        help="train on all training data and report the test accuracy")
    args = parser.parse_args()
    for name, options in CANDIDATES.items():
        if args.only in (None, name):
            run(args.dataset, name, options, args.test)


if __name__ == "__main__":
    main()
