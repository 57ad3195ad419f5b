"""The playground's settings: the options of the run table (``run.options``), as a form.

Every field of the page is an option of the table: its kind, allowed values, help (English and
Chinese) and the message of a bad value come from there, so a value refused here is refused with
the same words by the command line, the search and ``NNClassifier``. The playground adds only
what a classroom server needs: a preset that learns a 2-D set in seconds (:data:`PRESET`), and
tighter bounds so that one browser tab cannot exhaust the machine (:data:`LIMITS`), checked after
the table's. The page builds its form from :func:`table` (``GET /api/settings``).

Options the playground does not show: the model (always a MultiLayerNet, so none of the language
models' options), the run's length (it plays until paused), validation and early stopping, the
numerical gradient, the dtype and the engine (fixed: float64, fast).
"""

import dataclasses

from ..datasets.toy2d import TOY_DATASETS
from ..errors import NnscratchError
from ..nets import WEIGHT_INITS
from ..run.options import OPTIONS, check_given, takes
from ..validation import Interval

MAX_SAMPLES = 2000
MAX_LAYERS = 6
MAX_WIDTH = 64
MAX_BATCH = 512
DATASET_CHOICES = (*TOY_DATASETS, "digits")
#: options of the table the playground leaves out, and what it fixes them to
FIXED = {
    "model": "mlp",
    "epochs": 1,
    "validation_split": None,
    "early_stopping": None,
    "grad": "backprop",
    "dtype": "float64",
    "engine": "fast",
    # a text's and a GPT's options: not here (and a server reads no file a visitor names)
    **dict.fromkeys(("text", "context", "layers", "heads", "width")),
}
#: the form's defaults: a setup that learns spiral in a few seconds (the others: the table's)
PRESET = {
    "dataset": "spiral",
    "classes": 3,
    "n_samples": 400,
    "test_size": 0.2,
    "features": "x1,x2",
    "hidden": "16,16",
    "activation": "tanh",
    "weight_init": "xavier",
    "batchnorm": False,
    "dropout": 0.0,
    "weight_decay": 0.0,
    "optimizer": "adam",
    "lr": 0.01,
    "lr_schedule": "none",
    "schedule_epochs": 100,
    "batch_size": 32,
    "seed": 0,
    "sampling": "shuffle",
}
#: the playground's bounds, within the table's: (low, high) of numbers, the choices it offers
LIMITS = {
    "n_samples": Interval(40, MAX_SAMPLES, integer=True),
    "classes": Interval(2, 6, integer=True),
    "noise": Interval(0, 1),
    "test_size": Interval(0.05, 0.9),
    "lr": Interval(1e-6, 10),
    "dropout": Interval(0, 0.9),
    "weight_decay": Interval(0, 1),
    "schedule_epochs": Interval(1, 100_000, integer=True),
    "batch_size": Interval(1, MAX_BATCH, integer=True),
    "seed": Interval(0, 2**31 - 1, integer=True),
    "data_seed": Interval(0, 2**31 - 1, integer=True),
}
CHOICES = {"dataset": DATASET_CHOICES, "weight_init": WEIGHT_INITS}
#: the settings, in the table's order: every option but the fixed ones
SETTINGS = tuple(name for name in OPTIONS if name not in FIXED)
#: the preset as checked values
PRESET_VALUES = check_given({name: PRESET.get(name) for name in SETTINGS}, parse=True)


def offered(name):
    """Option ``name`` as the playground offers it: the table's, within :data:`LIMITS` and
    :data:`CHOICES`."""
    option = OPTIONS[name]
    return dataclasses.replace(
        option,
        kind="choice" if name in CHOICES else option.kind,  # weight_init: no std on the page
        interval=LIMITS.get(name, option.interval),
        choices=CHOICES.get(name, option.choices),
        where=" in the playground",
    )


def _bounded(name, value):
    """A value the table accepted, within the playground's own bounds; else the table's message
    with the playground's bounds: "batch_size must be an integer from 1 to 512 in the
    playground, got 513"."""
    if value is None or name not in (*LIMITS, *CHOICES, "hidden"):
        return value
    option = offered(name)
    if name != "hidden":
        return option.check(value)
    if len(value) > MAX_LAYERS or max(value) > MAX_WIDTH:
        raise NnscratchError(
            f"hidden must be at most {MAX_LAYERS} layers of at most {MAX_WIDTH} units"
            f"{option.where}, got {option.shown(value)!r}"
        )
    return value


def validate(request):
    """A complete, checked settings dict from ``request`` (a dict of some settings, values as
    JSON types or as the text of a query string); missing ones take the preset's (or the
    table's) default; the ones the chosen dataset or optimizer does not take are None."""
    if not isinstance(request, dict):
        raise NnscratchError("the settings must be a JSON object of name: value")
    unknown = sorted(set(request) - set(SETTINGS))
    if unknown:
        raise NnscratchError(
            f"unknown setting {', '.join(unknown)}: the settings are {', '.join(SETTINGS)}"
        )
    # a setting left out or empty takes the preset's value (a schedule of "none" epochs would
    # be the playground's one-epoch run)
    values = dict(PRESET_VALUES)
    given = check_given({name: request.get(name) for name in SETTINGS}, parse=True)
    values.update((name, value) for name, value in given.items() if value is not None)
    values = {name: _bounded(name, values.get(name)) for name in SETTINGS}
    context = {**values, **FIXED}
    settings = {}
    for name in SETTINGS:
        value = values[name] if takes(name, context) else None
        # lists as the form types them: "16,16", "x1,x2"
        settings[name] = OPTIONS[name].shown(value) if isinstance(value, tuple) else value
    return settings


def applies(settings):
    """{name: whether the run of checked ``settings`` takes it} (momentum not for Adam, the
    points and noise not for the digits): the page disables the others."""
    context = {**settings, **FIXED}
    return {name: takes(name, context) for name in SETTINGS}


def spec_options(settings):
    """The run options of checked ``settings``: the settings and the playground's fixed ones."""
    return {**{k: v for k, v in settings.items() if v is not None}, **FIXED}


def table():
    """The settings as JSON-able dicts, for the page's form: name, kind, default, label, group,
    bounds or choices, help (and their Chinese)."""
    rows = []
    for name in SETTINGS:
        option = offered(name)
        bounds = option.interval
        rows.append(
            {
                "name": name,
                "kind": option.kind,
                "default": PRESET.get(name, option.default),
                "label": option.label,
                "label_zh": option.label_zh,
                "group": option.group,
                "low": bounds.low if bounds else None,
                "high": bounds.high if bounds else None,
                "choices": list(option.choices),
                "help": option.help,
                "help_zh": option.help_zh,
            }
        )
    return rows
