"""The options of one ``nnscratch train`` run, resolved once into a :class:`RunConfig`.

    the parsed command line (None for every option left out)
    + with --resume, the options saved in the checkpoint (a different value given on the
      command line is an error: the run continues as it was started)
    + for every option still left out, its default: the networks' own signatures
      (MultiLayerNet, TwoLayerNet) but the recipe's documented choices (``RECIPE``), the tables
      below, and each optimizer's own default rate (``optim.default_lr``)
    → RunConfig, frozen.

Nothing rewrites the parsed arguments. The options saved in a checkpoint (its config's "args")
are :meth:`RunConfig.saved`: the same keys and JSON types as every earlier `nnscratch train`
wrote, so that their checkpoints resume.
"""

import dataclasses
import inspect

from ..convnets import DeepConvNet, SimpleConvNet
from ..errors import NnscratchError
from ..nets import MultiLayerNet, TwoLayerNet
from ..validation import default_of

#: options every model shares
DEFAULTS = {"dataset": "digits", "model": "mlp", "batch_size": 32, "epochs": 40,
            "grad": "backprop", "seed": 0}
#: The recipe's batch size and length for the 60,000-image sets (the README's "Default recipe");
#: the small digits set takes DEFAULTS' 40 epochs of 32.
DATASET_DEFAULTS = {"mnist": {"batch_size": 100, "epochs": 10},
                    "fashion-mnist": {"batch_size": 100, "epochs": 10}}
#: Where a model's length on those sets departs from DATASET_DEFAULTS': DeepConvNet, with its two
#: Dropout layers, is still learning after 10 epochs (README, "Convolutional networks").
MODEL_EPOCHS = {"deep-cnn": 20}
#: The README's default recipe (chosen on validation splits of Fashion-MNIST and digits), where
#: it departs from the classes' own defaults:
RECIPE = {
    "hidden": (256, 128),     # MultiLayerNet has no default width; two layers fit 784 inputs well
    "optimizer": "adam",      # Trainer's SGD needs a rate tuned per dataset; Adam's own one works
    "lr_schedule": "cosine",  # Trainer's rate is constant; annealed, the last epochs settle
    "batchnorm": True,        # MultiLayerNet's off is the book's plain net; on trains faster
}
#: the mlp options that are MultiLayerNet's parameters: option → parameter
NET_PARAMETERS = {"activation": "activation", "weight_init": "weight_init",
                  "weight_decay": "weight_decay_lambda", "dropout": "dropout",
                  "batchnorm": "use_batchnorm"}


def _own_defaults(cls, parameters):
    """{option: the default of ``cls``'s parameter it is passed to}."""
    signature = inspect.signature(cls).parameters
    return {option: signature[name].default for option, name in parameters.items()}


#: What an option left out means for each model: for mlp MultiLayerNet's own defaults but the
#: recipe's choices, for two-layer the notebook's network as TwoLayerNet builds it by default;
#: for the convolutional nets their classes' (the book's) sizes, with the recipe's training.
CONV_RECIPE = {"activation": "relu", "optimizer": "adam", "lr_schedule": "cosine"}
MODEL_DEFAULTS = {
    "mlp": {**_own_defaults(MultiLayerNet, NET_PARAMETERS), **RECIPE},
    "two-layer": {"hidden": (100,),  # the notebook's width (TwoLayerNet has no default)
                  **_own_defaults(TwoLayerNet, {"activation": "activation"}),
                  "optimizer": "sgd", "lr_schedule": "none"},
    "cnn": {"hidden": (default_of(SimpleConvNet, "hidden_size"),),
            "weight_init": default_of(SimpleConvNet, "weight_init_std"), **CONV_RECIPE},
    "deep-cnn": {"hidden": (default_of(DeepConvNet, "hidden_size"),),
                 "dropout": default_of(DeepConvNet, "dropout"), **CONV_RECIPE},
}
#: the models whose inputs are images (N, C, H, W): the data is loaded with flatten=False
CONV_MODELS = ("cnn", "deep-cnn")
MODELS = tuple(MODEL_DEFAULTS)
#: the options a model takes beyond --hidden (one size for all but mlp) and --activation (fixed
#: relu for the convolutional nets); the others must be left out (None in its RunConfig)
MODEL_OPTIONS = {"mlp": ("weight_init", "weight_decay", "dropout", "batchnorm"),
                 "two-layer": (), "cnn": ("weight_init",), "deep-cnn": ("dropout",)}
OPTIONAL = ("weight_init", "weight_decay", "dropout", "batchnorm")
#: The notebook trains its TwoLayerNet by SGD at this rate.
NOTEBOOK_SGD_LR = 0.5
#: (model, optimizer) → the rate a run starts at without --lr where it is not the optimizer's own
#: default: the notebook's SGD, and Adam at 0.003 for SimpleConvNet (chosen on a validation
#: split of Fashion-MNIST: README, "Convolutional networks"); every other pairing starts at the
#: optimizer's own default rate.
MODEL_LR = {("two-layer", "sgd"): NOTEBOOK_SGD_LR, ("cnn", "adam"): 0.003}
#: --lr-schedule step: the rate is multiplied by STEP_GAMMA every epochs // STEP_PARTS epochs
#: (not StepLR's own γ 0.1: over four levels that ends at 1/1000 of the rate; halving, at 1/8)
STEP_PARTS, STEP_GAMMA = 4, 0.5
#: the fraction of the training data held out for validation when --early-stopping is given
#: without --validation-split
EARLY_STOPPING_SPLIT = 0.1


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Every option of a run, resolved (see the module docstring). ``hidden`` is a tuple of
    widths; ``lr`` the base rate; ``validation_split`` None for none; the options a model does
    not take (``MODEL_OPTIONS``) are None in its run (unless given as their no-op values)."""

    dataset: str
    model: str
    hidden: tuple
    activation: str
    weight_init: object
    optimizer: str
    lr: float
    lr_schedule: str
    weight_decay: object
    dropout: object
    batchnorm: object
    batch_size: int
    epochs: int
    validation_split: object
    early_stopping: object
    grad: str
    seed: int
    dtype: str

    def saved(self):
        """The options as the checkpoint keeps them (its config's "args"): JSON, widths a list."""
        return {**dataclasses.asdict(self), "hidden": list(self.hidden)}

    def schedule(self):
        """The learning-rate schedule ``--lr-schedule`` names, for this run's length."""
        from ..optim import CosineLR, StepLR

        if self.lr_schedule == "step":
            return StepLR(max(self.epochs // STEP_PARTS, 1), STEP_GAMMA)
        if self.lr_schedule == "cosine":
            return CosineLR(self.epochs)
        return None

    def description(self, net_config):
        """The run as history.json and model.npz record it: the dataset, the network's
        ``{"model": ..., **net.config()}``, and the training settings."""
        return {"dataset": self.dataset, **net_config, "optimizer": self.optimizer,
                "lr": self.lr, "lr_schedule": self.lr_schedule, "batch_size": self.batch_size,
                "epochs": self.epochs, "validation_split": self.validation_split or 0.0,
                "early_stopping": self.early_stopping, "grad": self.grad, "seed": self.seed,
                "dtype": self.dtype}


#: the options that define a run: saved in its checkpoint, and taken from there by --resume
RUN_OPTIONS = tuple(field.name for field in dataclasses.fields(RunConfig))


def default_lr(model, optimizer):
    """The rate a run starts at without --lr: ``MODEL_LR``'s for the pairing, else the optimizer
    class's own default (``optim.default_lr``)."""
    from ..optim import default_lr as optimizer_default

    return MODEL_LR.get((model, optimizer)) or optimizer_default(optimizer)


def resolve(args, checkpoint=None):
    """The run's :class:`RunConfig` from argparse's ``args`` and, with --resume, the
    ``checkpoint`` (``io.Checkpoint``) whose saved options it continues."""
    from ..validation import parse_hidden

    given = {name: getattr(args, name) for name in RUN_OPTIONS}
    if given["hidden"] is not None:
        given["hidden"] = parse_hidden(given["hidden"])
    options = given if checkpoint is None else _saved_options(given, checkpoint)
    return _with_defaults(options)


def _saved_options(given, checkpoint):
    """The checkpoint's saved options; one given on the command line that differs is an error."""
    saved = checkpoint.config.get("args")
    if not isinstance(saved, dict) or set(saved) != set(RUN_OPTIONS):
        raise NnscratchError(f"{checkpoint.path} was not written by `nnscratch train`: resume it "
                             "from Python with Trainer.load_checkpoint")
    saved = {**saved, "hidden": tuple(saved["hidden"] or ())}
    for name in RUN_OPTIONS:
        if given[name] is not None and given[name] != saved[name]:
            flag = _flag(name)
            raise NnscratchError(f"{flag} {shown(given[name])} conflicts with the checkpoint's "
                                 f"{shown(saved[name])}: --resume continues the saved run with "
                                 f"its options; leave {flag} out (or start a new run with "
                                 "another --out)")
    return saved


def _with_defaults(options):
    """Options with None for those left out → the RunConfig (and errors for options that
    contradict each other)."""
    from ..datasets import DATASETS
    from ..optim import OPTIMIZERS, check_optimizer_lr
    from ..validation import check_choice

    o = dict(options)
    dataset = o["dataset"] if o["dataset"] is not None else DEFAULTS["dataset"]
    check_choice(dataset, sorted(DATASETS), "dataset")  # a typo stops before any file is made
    model = o["model"] or DEFAULTS["model"]
    if dataset in DATASET_DEFAULTS and model in MODEL_EPOCHS:
        _fill(o, {"epochs": MODEL_EPOCHS[model]})
    _fill(o, {**DEFAULTS, **DATASET_DEFAULTS.get(dataset, {})})
    _check_model_options(o)
    _fill(o, MODEL_DEFAULTS[o["model"]])
    if o["model"] != "mlp" and len(o["hidden"]) != 1:
        raise NnscratchError(f"--model {o['model']} has one hidden layer, got --hidden "
                             f"{shown(o['hidden'])}: use --model mlp for several")
    if o["lr"] is None:
        o["lr"] = default_lr(o["model"], o["optimizer"])
    else:
        check_optimizer_lr(OPTIMIZERS[o["optimizer"]], o["lr"])
    if o["dtype"] is None:  # float32: as accurate and faster, on the 60,000-image sets
        o["dtype"] = ("float32" if o["grad"] == "backprop" and (
            o["model"] in CONV_MODELS or o["model"] == "mlp" and o["dataset"] in DATASET_DEFAULTS)
            else "float64")
    if o["validation_split"] is None and o["early_stopping"] is not None:
        o["validation_split"] = EARLY_STOPPING_SPLIT
    if o["early_stopping"] is not None and not o["validation_split"]:
        raise NnscratchError(f"--early-stopping {o['early_stopping']} watches the validation "
                             f"loss, but --validation-split {o['validation_split']:g} holds no "
                             f"data out: give --validation-split {EARLY_STOPPING_SPLIT:g} (or "
                             "leave it out), or drop --early-stopping")
    if o["dropout"] and o["grad"] == "numerical":
        raise NnscratchError("--dropout draws a new mask at every forward pass, so the numerical "
                             "gradient would differentiate noise: use --grad backprop")
    return RunConfig(**o)


def _check_model_options(o):
    """The options the model does not take must be left out (or given as their no-op value)."""
    model = o["model"] or DEFAULTS["model"]
    given = [name for name in OPTIONAL if name not in MODEL_OPTIONS[model]
             and o[name] not in (None, 0, 0.0, False)]
    if given:
        takers = [m for m in MODELS if all(name in MODEL_OPTIONS[m] for name in given)]
        raise NnscratchError(f"{', '.join(map(_flag, given))} {'is' if len(given) == 1 else 'are'}"
                             f" not an option of --model {model}: "
                             f"{'use --model ' + ' or '.join(takers) if takers else 'leave it out'}")
    if model in CONV_MODELS:
        if o["activation"] not in (None, "relu"):
            raise NnscratchError(f"--model {model} is the book's network with ReLU: leave "
                                 f"--activation out (or use --model mlp for {o['activation']})")
        if isinstance(o["weight_init"], str):
            raise NnscratchError(f"--model {model} takes --weight-init as a standard deviation "
                                 f"such as the book's {MODEL_DEFAULTS['cnn']['weight_init']}, "
                                 f"not {o['weight_init']}")


def _fill(options, defaults):
    for name, value in defaults.items():
        if options[name] is None:
            options[name] = value


def _flag(name):
    return "--" + name.replace("_", "-")


def shown(value):
    """An option's value as it is typed or shown in --help: (256, 128) → 256,128; True → on;
    0.0 → 0."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)
