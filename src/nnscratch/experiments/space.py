"""A search's space and settings: which options of the run table it can vary (:data:`PARAMS`),
their ranges as text ("LOW:HIGH[:log|:linear]" or "a,b,c"), one setting drawn from them, and the
settings that stay fixed (:func:`search_settings`), and where and how the trials run (the
defaults of :data:`BACKENDS`, :data:`ETA`). Running the trials is ``search``'s job.
"""

import math

from ..errors import NnscratchError
from ..optim import OPTIMIZERS
from ..run.options import OPTIONS, takers, takes

#: trials of a search, and the worker processes that run them, unless told otherwise
TRIALS, N_JOBS = 40, 1
#: where the trials run, by joblib's names: "loky" (processes on this machine, the default) or
#: "dask" (the workers of a Dask cluster, given its scheduler's address)
BACKENDS = ("loky", "dask")
#: seconds to wait for a Dask scheduler to answer before giving up
SCHEDULER_TIMEOUT = 10
#: successive halving's reduction factor η: each rung keeps the best 1/η of its trials and trains
#: them η times as many epochs
ETA = 3
#: every option a search can vary (``--param NAME=...``): the network's and the optimizer's, the
#: optimizer itself, its rate and the batch size; their kinds, bounds and scales are the table's
PARAMS = {
    name: option
    for name, option in OPTIONS.items()
    if (option.target in ("network", "optimizer") and option.kind not in ("sizes", "names"))
    or name in ("optimizer", "lr", "batch_size")
}
#: the book's space: learning rate 10^U(-6, -2), weight decay 10^U(-8, -4)
DEFAULT_SPACE = {"lr": "1e-6:1e-2", "weight_decay": "1e-8:1e-4"}


def parse_range(name, text):
    """The dimension ``name`` (a key of :data:`PARAMS`) of ``text``: "LOW:HIGH[:log|:linear]"
    (a range of numbers; the default scale is the option's) or "a,b,c" (values; one value:
    fixed). Each value is checked as the option is everywhere."""
    if name not in PARAMS:
        raise NnscratchError(f"unknown search parameter {name!r}: choose from {', '.join(PARAMS)}")
    text, option = str(text).strip(), PARAMS[name]
    if ":" not in text:
        values = [option.parse(part) for part in text.split(",")]
        if len(set(values)) != len(values):
            raise NnscratchError(f"{name}={text}: give distinct values, e.g. {name}=a,b")
        return {"values": values}
    parts = text.split(":")
    scale = parts.pop() if parts[-1] in ("log", "linear") else option.scale
    if len(parts) != 2:
        raise NnscratchError(f"{name}={text}: write a range as LOW:HIGH[:log|:linear]")
    if option.kind not in ("int", "float"):
        raise NnscratchError(
            f"{name} takes a list of values, not a range: e.g. "
            f"{name}={','.join(map(str, option.choices or ('he', 'xavier')))}"
        )
    low, high = (option.parse(part) for part in parts)
    if not low < high:
        raise NnscratchError(f"{name}={text}: LOW must be below HIGH (give one value to fix it)")
    if scale == "log" and low <= 0:
        raise NnscratchError(
            f"{name}={text}: a log range needs LOW > 0; use e.g. "
            f"{name}={high / 1e4:g}:{high:g}, or {name}={low:g}:{high:g}:linear"
        )
    return {"scale": scale, "low": low, "high": high}


def parse_space(specs):
    """A search space from ``specs``: "NAME=RANGE" strings or a mapping NAME → RANGE text (see
    :func:`parse_range`) or an already parsed dimension. Returns {name: dimension}, sorted."""
    items = specs.items() if isinstance(specs, dict) else [_split(spec) for spec in specs]
    space = {}
    for name, spec in items:
        if name in space:
            raise NnscratchError(f"{name} is given twice: give each search parameter once")
        if isinstance(spec, dict):  # a parsed one (from search.json): as text, checked again
            spec = (
                ",".join(map(str, spec["values"]))
                if "values" in spec
                else f"{spec['low']!r}:{spec['high']!r}:{spec['scale']}"
            )
        space[name] = parse_range(name, spec)
    return dict(sorted(space.items()))


def _split(spec):
    name, sep, text = str(spec).partition("=")
    if not sep or not text:
        raise NnscratchError(
            f"--param {spec!r}: write NAME=LOW:HIGH[:log|:linear] or "
            "NAME=a,b,c, e.g. dropout=0:0.5 or activation=relu,tanh"
        )
    return name.strip(), text


def sample_params(space, rng):
    """One setting {name: value} drawn from ``space`` by ``rng`` (an np.random.Generator), the
    names in sorted order so that the draws do not depend on how the space was written."""
    params = {}
    for name, dim in sorted(space.items()):
        if "values" in dim:
            value = dim["values"][int(rng.integers(len(dim["values"])))]
        elif dim["scale"] == "log":  # 10^u, u ~ U(log10 low, log10 high): each decade alike
            value = float(10 ** rng.uniform(math.log10(dim["low"]), math.log10(dim["high"])))
        else:
            value = float(rng.uniform(dim["low"], dim["high"]))
        if PARAMS[name].kind == "int" and "values" not in dim:
            value = int(min(max(round(value), dim["low"]), dim["high"]))
        params[name] = value
    return params


def applies(name, optimizer):
    """Whether a trial training by ``optimizer`` takes the search parameter ``name``."""
    return OPTIONS[name].target != "optimizer" or takes(name, {"optimizer": optimizer})


def search_settings(
    dataset="digits",
    *,
    space=None,
    seed=0,
    epochs=20,
    hidden=(100, 100, 100),
    batch_size=100,
    optimizer="sgd",
    val_size=0.2,
    train_size=None,
):
    """A search's settings, checked, as JSON values (what a rerun must match): ``space`` (see
    :func:`parse_space`; None: :data:`DEFAULT_SPACE`), the values of what it leaves fixed, and
    ``train_size``: only the first that many training images (the book's 500; None: all)."""
    space = parse_space(DEFAULT_SPACE if space is None else space)
    fixed = {
        name: OPTIONS[name].check(value)
        for name, value in (
            ("dataset", dataset),
            ("seed", seed),
            ("epochs", epochs),
            ("optimizer", optimizer),
            ("batch_size", batch_size),
        )
    }
    optimizers = space.get("optimizer", {"values": [fixed["optimizer"]]}).get("values")
    for name in space:
        if not any(applies(name, o) for o in optimizers):
            first = next(o for o in OPTIMIZERS if applies(name, o))
            raise NnscratchError(
                f"{name} is not an option of {', '.join(optimizers)}: it "
                f"applies to {takers(name)}: add --param optimizer={first}"
            )
    return {
        **fixed,
        "hidden": list(OPTIONS["hidden"].check(hidden)),
        "val_size": OPTIONS["validation_split"].check(val_size),
        "train_size": None
        if train_size is None
        else OPTIONS["batch_size"].interval.check(train_size, "train_size"),
        "space": space,
    }
