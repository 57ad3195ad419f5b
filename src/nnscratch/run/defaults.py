"""What a training option left out means: the rules by model and by dataset that
:func:`nnscratch.run.options.resolve` applies (:func:`defaults`), one source for each default
the option table (``run.options.OPTIONS``) leaves to the run's context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..convnets import DeepConvNet, SimpleConvNet
from ..datasets.digits import load_digits
from ..datasets.toy2d import TOY_DATASETS, load_toy
from ..nets import MultiLayerNet, TwoLayerNet
from ..validation import default_of

#: The notebook trains its TwoLayerNet on the digits by SGD at this rate.
NOTEBOOK_LR = 0.5

#: what an option left out means for each model: for mlp the README's default recipe, for
#: two-layer the notebook's network, for the convolutional nets the book's sizes with the
#: recipe's training; an option a model does not take (``MODELS``) is None in its runs
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "mlp": {
        "hidden": (256, 128),
        "activation": default_of(MultiLayerNet, "activation"),
        "weight_init": default_of(MultiLayerNet, "weight_init"),
        "weight_decay": default_of(MultiLayerNet, "weight_decay_lambda"),
        "dropout": default_of(MultiLayerNet, "dropout"),
        "batchnorm": True,
        "optimizer": "adam",
        "lr_schedule": "cosine",
    },
    "two-layer": {
        "hidden": (100,),
        "activation": default_of(TwoLayerNet, "activation"),
        "optimizer": "sgd",
        "lr_schedule": "none",
    },
    "cnn": {
        "hidden": (default_of(SimpleConvNet, "hidden_size"),),
        "activation": "relu",
        "weight_init": default_of(SimpleConvNet, "weight_init_std"),
        "optimizer": "adam",
        "lr_schedule": "cosine",
    },
    "deep-cnn": {
        "hidden": (default_of(DeepConvNet, "hidden_size"),),
        "activation": "relu",
        "dropout": default_of(DeepConvNet, "dropout"),
        "optimizer": "adam",
        "lr_schedule": "cosine",
    },
    # nanoGPT's recipe for a small model on a CPU (its shakespeare_char config)
    "gpt": {
        "layers": 4,
        "heads": 4,
        "width": 128,
        "dropout": 0.0,
        "optimizer": "adamw",
        "beta2": 0.99,
        "decay": 0.1,
        "lr_schedule": "warmup-cosine",
        "warmup": 0.05,
        "clip_norm": 1.0,
    },
    # the book's SimpleRnnlm sizes, trained as the GPT is (Adam: the book's SGD at lr 20 with
    # clipping 0.25 is tuned to its sequential batches)
    "rnnlm": {
        "width": 100,
        "hidden": (100,),
        "optimizer": "adam",
        "lr_schedule": "cosine",
        "clip_norm": 1.0,
    },
}
#: (model, optimizer) → the rate a run starts at where it is not the optimizer's own default:
#: the notebook's SGD, and Adam at 0.003 for SimpleConvNet (chosen on a validation split of
#: Fashion-MNIST: README, "Convolutional networks")
MODEL_LR = {("two-layer", "sgd"): NOTEBOOK_LR, ("cnn", "adam"): 0.003}
#: the digits' batch size and length, and the recipe's for the 60,000-image sets
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "digits": {"batch_size": 32, "epochs": 40},
    "mnist": {"batch_size": 100, "epochs": 10},
    "fashion-mnist": {"batch_size": 100, "epochs": 10},
    # nanoGPT's batch and context. 唐诗三百首 is small: without dropout a GPT's validation loss
    # is lowest after 10 epochs (5.65) and 8.26 after 60, as it learns the poems by heart; with
    # dropout 0.2, 20 epochs (700 steps, 2 minutes) end at 5.70, still falling (README)
    "tang300": {"batch_size": 12, "epochs": 20, "context": 64, "dropout": 0.2},
    "tang": {"batch_size": 12, "epochs": 1, "context": 64},
    "text": {"batch_size": 12, "epochs": 10, "context": 64},
}
#: where a model's length on the 60,000-image sets departs: DeepConvNet, with its two Dropout
#: layers, is still learning after 10 epochs (README, "Convolutional networks")
MODEL_EPOCHS = {"deep-cnn": 20}
LARGE_SETS = ("mnist", "fashion-mnist")
#: the toy sets' own defaults for their data options (``datasets.toy2d.load_toy``)
TOY_DEFAULTS = {name: default_of(load_toy, name) for name in ("classes", "n_samples", "test_size")}
#: step schedule: the rate is halved STEP_PARTS times over the schedule's length
STEP_PARTS, STEP_GAMMA = 4, 0.5
#: the fraction held out for validation when early_stopping is given without validation_split
EARLY_STOPPING_SPLIT = 0.1


def defaults(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The value of every option still None in ``spec`` (dataset, model and optimizer set) that
    the rules give one: the model's, the dataset's, the optimizer's own."""
    model, dataset = spec["model"], spec["dataset"]
    rules = {**MODEL_DEFAULTS[model], **DATASET_DEFAULTS.get(dataset, DATASET_DEFAULTS["digits"])}
    if dataset in LARGE_SETS and model in MODEL_EPOCHS:
        rules["epochs"] = MODEL_EPOCHS[model]
    if dataset in TOY_DATASETS:
        rules.update(TOY_DEFAULTS)
    elif dataset == "digits":
        rules["test_size"] = default_of(load_digits, "test_size")
    return rules
