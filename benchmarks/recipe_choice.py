"""How the README's "Default recipe" was chosen: candidate runs trained on a validation split of
the training data of Fashion-MNIST and of digits; the test set is touched only with ``--test``
for the final choice. Each candidate is a set of options of the run table (``nnscratch train``'s),
built by ``run.build``; one JSON line per candidate.

    OPENBLAS_NUM_THREADS=1 python benchmarks/recipe_choice.py --dataset fashion-mnist
    OPENBLAS_NUM_THREADS=1 python benchmarks/recipe_choice.py --dataset digits
    OPENBLAS_NUM_THREADS=1 python benchmarks/recipe_choice.py --dataset fashion-mnist \
        --only recipe --test
"""

import argparse
import json
import time

import numpy as np

from nnscratch.run.build import build

#: what every candidate shares: a 256-128 ReLU MultiLayerNet trained by Adam at its own rate, in
#: float64, at a constant rate, no batch norm
BASE = {
    "model": "mlp",
    "hidden": (256, 128),
    "activation": "relu",
    "optimizer": "adam",
    "batchnorm": False,
    "lr_schedule": "none",
    "dtype": "float64",
}
#: name → options beyond BASE; "recipe" is the README's default recipe
CANDIDATES = {
    "notebook": {
        "model": "two-layer",
        "hidden": (50,),
        "activation": "sigmoid",
        "optimizer": "sgd",
        "lr": 0.1,
    },
    "adam": {},
    "adam+cosine": {"lr_schedule": "cosine"},
    "adam+bn": {"batchnorm": True},
    "adam+dropout0.2": {"dropout": 0.2},
    "adam+bn+dropout0.2": {"batchnorm": True, "dropout": 0.2},
    "adam+wd1e-4": {"weight_decay": 1e-4},
    "recipe": {"batchnorm": True, "lr_schedule": "cosine"},
    "adam+bn+dropout0.2+cosine": {"batchnorm": True, "dropout": 0.2, "lr_schedule": "cosine"},
}
SETTINGS = {
    "fashion-mnist": {"epochs": 10, "batch_size": 100, "val": 0.1, "seeds": (0,)},
    "digits": {"epochs": 40, "batch_size": 32, "val": 0.2, "seeds": (0, 1, 2)},
}


def run(dataset, name, options, test):
    s = SETTINGS[dataset]
    val_acc, test_acc, seconds = [], [], []
    for seed in s["seeds"]:
        # the final choice is trained on all training data; candidates on 1 - val of it
        spec = {
            **BASE,
            **options,
            "dataset": dataset,
            "epochs": s["epochs"],
            "batch_size": s["batch_size"],
            "seed": seed,
            "validation_split": None if test else s["val"],
        }
        run = build(spec)
        start = time.perf_counter()
        history = run.trainer.train()
        seconds.append(time.perf_counter() - start)
        if test:
            test_acc.append(run.net.accuracy(run.data.x_test, run.data.t_test))
        else:
            val_acc.append(history["val_acc"][-1])
    result = {
        "dataset": dataset,
        "config": name,
        "options": {**BASE, **options},
        **s,
        "seconds_median": round(float(np.median(seconds)), 1),
    }
    if test:
        result["test_acc"] = test_acc
    else:
        result["val_acc"] = val_acc
        result["val_acc_mean"] = round(float(np.mean(val_acc)), 4)
    print(json.dumps(result, default=list), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=tuple(SETTINGS), required=True)
    parser.add_argument("--only", choices=tuple(CANDIDATES), default=None)
    parser.add_argument(
        "--test",
        action="store_true",
        help="train on all training data and report the test accuracy",
    )
    args = parser.parse_args()
    for name, options in CANDIDATES.items():
        if args.only in (None, name):
            run(args.dataset, name, options, args.test)


if __name__ == "__main__":
    main()
