"""Every setting of the playground in ONE table, and its validation.

Like scikit-learn's parameter constraints: each setting has a kind (int, float, choice, bool,
sizes), a default and a range or a list of choices; :func:`validate` checks a whole request
against the table and turns a bad value into an NnscratchError that names the setting, the value
and what to give (the server answers it with 400). The page builds its form from this table
(``GET /api/settings``), so a default or a bound is written here and nowhere else.

The bounds keep one browser tab from exhausting the machine: at most ``MAX_SAMPLES`` points,
``MAX_LAYERS`` hidden layers of at most ``MAX_WIDTH`` units.
"""

from dataclasses import asdict, dataclass

from ..datasets.toy2d import DEFAULT_NOISE, K_CLASSES, TOY_DATASETS
from ..errors import NnscratchError
from ..layers import ACTIVATIONS
from ..nets import WEIGHT_INITS
from ..optim import OPTIMIZERS
from ..validation import check_choice, check_number, parse_hidden

MAX_SAMPLES = 2000
MAX_LAYERS = 6
MAX_WIDTH = 64
MAX_BATCH = 512
SCHEDULES = ("constant", "step", "cosine")
DATASET_CHOICES = (*TOY_DATASETS, "digits")


@dataclass(frozen=True)
class Setting:
    """One setting: ``kind`` is "int", "float", "choice", "bool" or "sizes" (hidden layer widths
    as text "16,16"); ``low``/``high`` bound numbers (and the sizes), ``choices`` list choices."""

    name: str
    kind: str
    default: object
    label: str
    group: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    help: str = ""


#: the table: the defaults are a setup that learns spiral in a few seconds
SETTINGS = {s.name: s for s in (
    Setting("dataset", "choice", "spiral", "dataset", "data", choices=DATASET_CHOICES),
    Setting("classes", "int", 3, "classes", "data", 2, 6, help="spiral and gaussians only"),
    Setting("n_samples", "int", 400, "points", "data", 40, MAX_SAMPLES, help="2-D sets only"),
    Setting("noise", "float", None, "noise", "data", 0.0, 1.0,
            help="empty: the set's own default " + ", ".join(
                f"{k} {v}" for k, v in DEFAULT_NOISE.items())),
    Setting("test_size", "float", 0.2, "test share", "data", 0.05, 0.9,
            help="the fraction of points kept for testing"),
    Setting("hidden", "sizes", "16,16", "hidden layers", "network", 1, MAX_WIDTH,
            help=f"widths separated by commas, at most {MAX_LAYERS} layers of {MAX_WIDTH}"),
    Setting("activation", "choice", "tanh", "activation", "network", choices=tuple(ACTIVATIONS)),
    Setting("weight_init", "choice", "xavier", "weight init", "network", choices=WEIGHT_INITS),
    Setting("batchnorm", "bool", False, "batch norm", "network"),
    Setting("dropout", "float", 0.0, "dropout", "network", 0.0, 0.9),
    Setting("weight_decay", "float", 0.0, "weight decay λ", "network", 0.0, 1.0),
    Setting("optimizer", "choice", "adam", "optimizer", "training", choices=tuple(OPTIMIZERS)),
    Setting("lr", "float", 0.01, "learning rate", "training", 1e-6, 10.0),
    Setting("schedule", "choice", "constant", "schedule", "training", choices=SCHEDULES),
    Setting("schedule_epochs", "int", 100, "schedule epochs", "training", 1, 100_000,
            help="step: epochs between two halvings; cosine: epochs to anneal over"),
    Setting("batch_size", "int", 32, "batch size", "training", 1, MAX_BATCH),
    Setting("seed", "int", 0, "seed", "training", 0, 2 ** 31 - 1),
)}

#: StepLR's decay factor in the playground: halve the rate every ``schedule_epochs``
STEP_GAMMA = 0.5


def _check_int(setting, value):
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not (isinstance(value, int) and not isinstance(value, bool)
            and setting.low <= value <= setting.high):
        raise NnscratchError(f"{setting.name} must be an integer from {setting.low} to "
                             f"{setting.high}, got {value!r}")
    return value


def _check_float(setting, value):
    if value is None or value == "":
        if setting.default is None:
            return None
        value = setting.default
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise NnscratchError(f"{setting.name} must be a number, got {value!r}") from None
    return check_number(value, setting.name, setting.low, setting.high)


def _check_bool(setting, value):
    table = {True: True, False: False, "true": True, "false": False, "1": True, "0": False}
    if isinstance(value, (int, str)) and not isinstance(value, float) and value in table:
        return table[value]
    raise NnscratchError(f"{setting.name} must be true or false, got {value!r}")


def _check_sizes(setting, value):
    sizes = parse_hidden(value, setting.label)
    if len(sizes) > MAX_LAYERS or max(sizes) > setting.high:
        raise NnscratchError(f"hidden {value!r}: at most {MAX_LAYERS} layers of at most "
                             f"{setting.high} units each")
    return ",".join(map(str, sizes))


CHECKS = {"int": _check_int, "float": _check_float, "bool": _check_bool, "sizes": _check_sizes,
          "choice": lambda s, v: check_choice(v, s.choices, s.name)}


def validate(request):
    """A complete, checked settings dict from ``request`` (a dict of some settings, values as
    JSON types or as the text of a query string); missing ones take the table's default."""
    if not isinstance(request, dict):
        raise NnscratchError("the settings must be a JSON object of name: value")
    unknown = sorted(set(request) - set(SETTINGS))
    if unknown:
        raise NnscratchError(f"unknown setting {', '.join(unknown)}: the settings are "
                             f"{', '.join(SETTINGS)}")
    out = {}
    for name, setting in SETTINGS.items():
        value = request.get(name, setting.default)
        out[name] = CHECKS[setting.kind](setting, value)
    if out["dataset"] not in K_CLASSES:
        out["classes"] = 2 if out["dataset"] in TOY_DATASETS else 10
    return out


def table():
    """The table as JSON-able dicts, for the page's form."""
    return [{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(s).items()}
            for s in SETTINGS.values()]
