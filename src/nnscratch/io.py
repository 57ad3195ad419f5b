"""Model files and checkpoints: what a trained network and an interrupted run leave on disk.

A model file is one ``.npz`` (:mod:`nnscratch.npz`: numeric arrays, written atomically, read
without pickle) holding

* ``param.<name>``  every parameter of the network (``net.params``), e.g. ``param.W1``;
* ``buffer.<name>`` arrays the network needs that are not trained (``net.buffers``, e.g.
  BatchNorm's running statistics), when the network has any;
* ``__meta__``      the JSON metadata as a uint8 array of UTF-8 bytes: ``format``,
  ``format_version``, ``nnscratch_version``, ``architecture`` ``{"class": name, "kwargs":
  net.config()}`` (enough to rebuild the network, see :data:`ARCHITECTURES`), ``dtype``, the
  training ``config``.

A checkpoint (``DIR/checkpoint.npz``) is the same file with more in it: optimizer state, the random
generator's state, epoch, iteration and history. Arrays anywhere in those go into the zip as
``state.<i>`` and the JSON holds ``{"__array__": "state.<i>"}`` in their place.

Files of earlier versions still load: an argument their ``kwargs`` lack (``weight_init_std``,
``dtype``) only set initial values, which the arrays replace, checked one by one. Anything wrong
with a file — not ours, a newer format, names/shapes/dtypes that do not match the architecture —
is an :class:`NnscratchError` naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .convnets import DeepConvNet, SimpleConvNet, conv_array_sides
from .errors import NnscratchError
from .gpt import GPT
from .nets import MultiLayerNet, TwoLayerNet
from .npz import read_npz, savable, write_npz
from .rnnlm import RNNLM

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping
    from typing import TypeAlias

    from numpy.typing import NDArray

    #: the networks a model file holds: the classes of :data:`ARCHITECTURES`
    SavableNet: TypeAlias = TwoLayerNet | MultiLayerNet | SimpleConvNet | DeepConvNet | GPT | RNNLM

MODEL_FORMAT = "nnscratch-model"
CHECKPOINT_FORMAT = "nnscratch-checkpoint"
#: bumped when a file written now could not be read by an older nnscratch
FORMAT_VERSION = 1
CHECKPOINT_NAME = "checkpoint.npz"
META_KEY = "__meta__"

#: class name → network class; a network is saved as ``net.config()`` and rebuilt as
#: ``cls(**config, seed=0)``. A new network class slots in with one entry here.
ARCHITECTURES: dict[str, type[SavableNet]] = {
    cls.__name__: cls
    for cls in (TwoLayerNet, MultiLayerNet, SimpleConvNet, DeepConvNet, GPT, RNNLM)
}


# --------------------------------------------------------------------------- architectures


def describe_architecture(net: SavableNet) -> dict[str, Any]:
    """``{"class": name, "kwargs": net.config()}``: what rebuilds ``net`` (without its trained
    values)."""
    name = type(net).__name__
    if ARCHITECTURES.get(name) is not type(net):
        raise NnscratchError(
            f"cannot save a {name}: nnscratch can save {', '.join(sorted(ARCHITECTURES))}"
        )
    return {"class": name, "kwargs": net.config()}


def build_network(architecture: Any, source: str = "the file", seed: int = 0) -> SavableNet:
    """A fresh network of ``architecture`` (as :func:`describe_architecture` returns it), its
    weights drawn from ``seed``."""
    if not (
        isinstance(architecture, dict)
        and isinstance(architecture.get("class"), str)
        and isinstance(architecture.get("kwargs"), dict)
    ):
        raise NnscratchError(
            f"{source}: its architecture is not "
            '{"class": name, "kwargs": {...}}: it was not written by nnscratch'
        )
    name = architecture["class"]
    if name not in ARCHITECTURES:
        raise NnscratchError(
            f"{source}: unknown network class {name!r}; this nnscratch builds "
            f"{', '.join(sorted(ARCHITECTURES))} (a newer nnscratch may "
            "read it)"
        )
    try:
        return ARCHITECTURES[name](**architecture["kwargs"], seed=seed)
    except NnscratchError as exc:
        raise NnscratchError(f"{source}: cannot rebuild the {name} it describes: {exc}") from None
    # raised for kwargs {"evil": 1} (TypeError) and {"weight_init_std": -10**400} (OverflowError)
    except (TypeError, OverflowError) as exc:
        raise NnscratchError(
            f"{source}: cannot rebuild the {name} it describes ({type(exc).__name__}: {exc})"
        ) from None


# --------------------------------------------------------------------------- writing


def _meta_array(meta: Mapping[str, Any]) -> NDArray[np.uint8]:
    text = json.dumps(meta, allow_nan=True, sort_keys=True)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _network_arrays(net: SavableNet) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(arrays for the zip, metadata for them) of ``net``'s parameters and buffers."""
    architecture = describe_architecture(net)  # refuses classes it cannot rebuild
    arrays = {}
    for prefix, group in (("param", net.params), ("buffer", net.buffers)):
        for key, value in group.items():
            if not (key.isascii() and key.isidentifier()):
                raise NnscratchError(f"cannot save {prefix} {key!r}: names must be identifiers")
            arrays[f"{prefix}.{key}"] = savable(key, value)
    dtypes = {str(a.dtype) for k, a in arrays.items() if k.startswith("param.")}
    return arrays, {
        "architecture": architecture,
        "dtype": dtypes.pop() if len(dtypes) == 1 else sorted(dtypes),
        "params": list(net.params),
        "buffers": list(net.buffers),
    }


def _write_file(path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
    from . import __version__

    meta = {**meta, "format_version": FORMAT_VERSION, "nnscratch_version": __version__}
    write_npz(path, {**arrays, META_KEY: _meta_array(meta)})


def save_model(
    path: str | os.PathLike[str], net: SavableNet, config: dict[str, Any] | None = None
) -> Path:
    """Write ``net`` to ``path`` (``.npz``, atomically): its parameters, buffers and metadata.

    ``config`` is any JSON-able dict (e.g. the training settings) kept in the metadata.
    Returns the path written.
    """
    path = Path(path)
    arrays, meta = _network_arrays(net)
    _write_file(path, arrays, {"format": MODEL_FORMAT, **meta, "config": config or {}})
    return path


# --------------------------------------------------------------------------- reading


def _read_meta(arrays: dict[str, np.ndarray], source: str, expected_format: str) -> dict[str, Any]:
    raw = arrays.pop(META_KEY, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise NnscratchError(
            f"{source} has no nnscratch metadata: it was not written by "
            "nnscratch's save_model/save_checkpoint"
        )
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8 or not JSON; nested deeper than Python goes
        raise NnscratchError(
            f"{source}: its metadata is not valid JSON: the file is damaged"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") not in (MODEL_FORMAT, CHECKPOINT_FORMAT):
        raise NnscratchError(f"{source} is not an nnscratch model or checkpoint")
    if meta["format"] != expected_format:
        hint = "load_checkpoint / --resume" if meta["format"] == CHECKPOINT_FORMAT else "load_model"
        raise NnscratchError(
            f"{source} is a {meta['format']} file, not a {expected_format}: read it with {hint}"
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise NnscratchError(
            f"{source}: format version {version!r} is not valid: the file is damaged"
        )
    if version > FORMAT_VERSION:
        raise NnscratchError(
            f"{source} has format version {version}, newer than this nnscratch "
            f"reads ({FORMAT_VERSION}; written by nnscratch "
            f"{meta.get('nnscratch_version')}): upgrade nnscratch"
        )
    return meta


def _fill_network(
    net: SavableNet, arrays: Mapping[str, np.ndarray], source: str, meta: Mapping[str, Any]
) -> SavableNet:
    """Check that the file's arrays are exactly ``net``'s parameters and buffers, then copy
    them in (in place, so layers and optimizers that hold the arrays see them)."""
    expected = {
        **{f"param.{k}": v for k, v in net.params.items()},
        **{f"buffer.{k}": v for k, v in net.buffers.items()},
    }
    stored = {k: v for k, v in arrays.items() if k.startswith(("param.", "buffer."))}
    if set(stored) != set(expected):
        missing = sorted(set(expected) - set(stored))
        extra = sorted(set(stored) - set(expected))
        raise NnscratchError(
            f"{source} does not match its architecture "
            f"{meta['architecture']['class']}: missing {missing or 'nothing'}, "
            f"unexpected {extra or 'nothing'}"
        )
    for key, target in expected.items():
        value = stored[key]
        if value.shape != target.shape or value.dtype != target.dtype:
            raise NnscratchError(
                f"{source}: {key} is {value.dtype} {value.shape} but the "
                f"architecture needs {target.dtype} {target.shape}: the file is "
                "damaged or edited"
            )
        target[...] = value
    return net


def _ints(obj: object) -> list[int]:
    """Every int (not bool) in ``obj``'s dicts and lists (a loop: JSON nests deeper than
    Python recurses)."""
    found, todo = [], [obj]
    while todo:
        item = todo.pop()
        if isinstance(item, (dict, list)):
            todo.extend(item.values() if isinstance(item, dict) else item)
        elif isinstance(item, int) and not isinstance(item, bool):
            found.append(item)
    return found


def _check_sizes(architecture: Any, arrays: Mapping[str, np.ndarray], source: str) -> None:
    """Refuse before building: a layer size (a conv net's: an array's side) larger than every
    array in the file cannot be right, and building it could take gigabytes (a few digits)."""
    largest = max((a.size for k, a in arrays.items() if k.startswith("param.")), default=0)
    kwargs = architecture.get("kwargs") if isinstance(architecture, dict) else None
    sides = conv_array_sides(architecture)  # None: not a conv net
    too_big = [n for n in (_ints(kwargs) if sides is None else sides) if n > max(largest, 1)]
    if too_big:
        raise NnscratchError(
            f"{source}: its architecture asks for size {max(too_big)} but its "
            f"largest parameter holds {largest} values: the file is damaged "
            "or edited"
        )


#: arguments an older nnscratch did not save that change what a network computes: a file
#: without one had the value here
UNSAVED_BEFORE = {"features": None}


def _describes(saved: Any, net: SavableNet) -> bool:
    """Whether the architecture ``saved`` in a file is ``net``'s: the same class and every saved
    argument equal to ``net.config()``'s. An argument the file lacks is one an older nnscratch
    did not save: it only set initial values (the arrays are checked one by one after), or it
    had the value of :data:`UNSAVED_BEFORE` (no input features)."""
    mine = describe_architecture(net)
    kwargs = saved.get("kwargs") if isinstance(saved, dict) else None
    return (
        isinstance(kwargs, dict)
        and saved.get("class") == mine["class"]
        and all(k in mine["kwargs"] and mine["kwargs"][k] == v for k, v in kwargs.items())
        and all(
            mine["kwargs"].get(k, default) == default
            for k, default in UNSAVED_BEFORE.items()
            if k not in kwargs
        )
    )


def _load_network(
    arrays: dict[str, np.ndarray],
    meta: dict[str, Any],
    source: str,
    net: SavableNet | None = None,
) -> SavableNet:
    if net is None:
        _check_sizes(meta.get("architecture"), arrays, source)
        net = build_network(meta.get("architecture"), source)
    elif not _describes(meta.get("architecture"), net):
        raise NnscratchError(
            f"{source} holds a {meta.get('architecture')} but the network given "
            f"is a {describe_architecture(net)}: build the network the file "
            "describes"
        )
    return _fill_network(net, arrays, source, meta)


@dataclass
class ModelFile:
    """What :func:`read_model` returns: the network and the file's metadata."""

    net: SavableNet
    meta: dict[str, Any]
    path: Path

    @property
    def config(self) -> dict[str, Any]:
        return self.meta.get("config") or {}


def read_model(path: str | os.PathLike[str]) -> ModelFile:
    """Read a model file: a :class:`ModelFile` (``net``, ``meta``, ``path``)."""
    source = f"model file {str(path)!r}"
    arrays = read_npz(path, "model file")
    meta = _read_meta(arrays, source, MODEL_FORMAT)
    return ModelFile(_load_network(arrays, meta, source), meta, Path(path))


def load_model(path: str | os.PathLike[str]) -> SavableNet:
    """The network saved at ``path`` by :func:`save_model`, rebuilt with its trained values."""
    return read_model(path).net


# --------------------------------------------------------------------------- checkpoints


def _encode_tree(obj: object, arrays: dict[str, np.ndarray], where: str) -> Any:
    """JSON-able copy of ``obj`` with every array moved into ``arrays`` (as ``state.<i>``)."""
    if isinstance(obj, np.ndarray):
        name = f"state.{len(arrays)}"
        arrays[name] = savable(where, obj)
        return {"__array__": name}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise NnscratchError(f"{where}: dict keys must be strings to be saved")
        if "__array__" in obj:
            raise NnscratchError(f"{where}: '__array__' is a reserved key")
        return {k: _encode_tree(v, arrays, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode_tree(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise NnscratchError(
        f"{where}: cannot save a {type(obj).__name__} in a checkpoint "
        "(arrays, numbers, strings, lists and dicts only)"
    )


def _decode_tree(obj: Any, arrays: dict[str, np.ndarray], source: str) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            name = obj["__array__"]
            if not (isinstance(name, str) and name in arrays):
                raise NnscratchError(
                    f"{source}: array {name!r} is missing or used twice: the file is damaged"
                )
            return arrays.pop(name)
        return {k: _decode_tree(v, arrays, source) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_tree(v, arrays, source) for v in obj]
    return obj


@dataclass
class Checkpoint:
    """Everything a run needs to continue: see :func:`save_checkpoint`."""

    net: SavableNet
    optimizer_state: dict[str, Any]
    rng_state: dict[str, Any] | None
    epoch: int
    iteration: int
    history: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def rng(self) -> np.random.Generator | None:
        """A ``np.random.Generator`` in exactly the saved state (None if none was saved)."""
        return None if self.rng_state is None else restore_rng(self.rng_state, self.path)


#: bit generators whose state a checkpoint may name (never getattr with a name from a file)
BIT_GENERATORS: dict[str, type[np.random.BitGenerator]] = {
    cls.__name__: cls
    for cls in (
        np.random.PCG64,
        np.random.PCG64DXSM,
        np.random.MT19937,
        np.random.Philox,
        np.random.SFC64,
    )
}


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """The JSON-able state of a Generator (PCG64's ints exceed 64 bits: JSON keeps them exact)."""
    state = rng.bit_generator.state
    return json.loads(json.dumps(state, default=lambda a: a.tolist()))


def restore_rng(state: Any, source: str | Path | None = "checkpoint") -> np.random.Generator:
    """A ``np.random.Generator`` whose bit generator is in ``state`` (from :func:`rng_state`)."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in BIT_GENERATORS:
        raise NnscratchError(
            f"{source}: random generator state names {name!r}; "
            f"expected one of {', '.join(BIT_GENERATORS)}"
        )
    bit_generator = BIT_GENERATORS[name]()
    try:
        bit_generator.state = state
    # what numpy's setter raises for a damaged state: a key missing, a value of the wrong type
    # or out of range (e.g. {"state": 5}, {"state": {"state": -1, "inc": 1}})
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise NnscratchError(
            f"{source}: its random generator state is damaged ({type(exc).__name__}: {exc})"
        ) from None
    return np.random.Generator(bit_generator)


def checkpoint_path(directory: str | os.PathLike[str]) -> Path:
    """``directory/checkpoint.npz``."""
    return Path(directory) / CHECKPOINT_NAME


def save_checkpoint(
    directory: str | os.PathLike[str],
    net: SavableNet,
    *,
    optimizer_state: dict[str, Any] | None = None,
    rng: np.random.Generator | dict[str, Any] | None = None,
    epoch: int = 0,
    iteration: int = 0,
    history: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``directory/checkpoint.npz`` atomically; the previous checkpoint stays whole until
    the new one is completely on disk (temp file in the same folder, fsync, rename).

    Parameters
    ----------
    net : the network (its params and buffers are saved as in :func:`save_model`).
    optimizer_state : dict of arrays, numbers and nested dicts (e.g. ``{"v": {"W1": ...}}``).
    rng : the run's ``np.random.Generator`` (its state is saved, not the object) or a state dict.
    epoch, iteration : how far the run got. history : the trainer's history dict (lists).
    config : the run's settings; extra : anything else JSON-able (arrays allowed), e.g. the
        batch order of the current epoch.

    Returns the checkpoint's path.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays, net_meta = _network_arrays(net)
    state_arrays: dict[str, np.ndarray] = {}
    if rng is not None and not isinstance(rng, dict):
        rng = rng_state(rng)
    meta = {
        "format": CHECKPOINT_FORMAT,
        **net_meta,
        "optimizer_state": _encode_tree(optimizer_state or {}, state_arrays, "optimizer"),
        "rng_state": rng,
        "epoch": int(epoch),
        "iteration": int(iteration),
        "history": _encode_tree(history or {}, state_arrays, "history"),
        "config": config or {},
        "extra": _encode_tree(extra or {}, state_arrays, "extra"),
    }
    path = checkpoint_path(directory)
    _write_file(path, {**arrays, **state_arrays}, meta)
    # temp files of earlier writes that were killed before their rename: never read, now gone
    for stale in directory.glob(f".{CHECKPOINT_NAME}.*.tmp"):
        stale.unlink(missing_ok=True)
    return path


def load_checkpoint(directory: str | os.PathLike[str], net: SavableNet | None = None) -> Checkpoint:
    """Read ``directory/checkpoint.npz`` (or a checkpoint file path): a :class:`Checkpoint`.

    With ``net`` given, the saved values are copied into it (its architecture must match);
    otherwise the network is rebuilt from the file.
    """
    path = Path(directory)
    if path.is_dir():
        path = checkpoint_path(path)
    source = f"checkpoint {str(path)!r}"
    arrays = read_npz(path, "checkpoint")
    meta = _read_meta(arrays, source, CHECKPOINT_FORMAT)
    net = _load_network(arrays, meta, source, net)
    state = {k: v for k, v in arrays.items() if k.startswith("state.")}
    try:
        optimizer_state = _decode_tree(meta.get("optimizer_state", {}), state, source)
        history = _decode_tree(meta.get("history", {}), state, source)
        extra = _decode_tree(meta.get("extra", {}), state, source)
    except RecursionError:  # JSON nested deeper than _decode_tree can recurse (json.loads can)
        raise NnscratchError(f"{source}: its metadata is nested too deeply: damaged") from None
    epoch, iteration = meta.get("epoch"), meta.get("iteration")
    if not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (epoch, iteration)
    ):
        raise NnscratchError(
            f"{source}: epoch {epoch!r} / iteration {iteration!r} are not "
            "counts: the file is damaged"
        )
    return Checkpoint(
        net,
        optimizer_state,
        meta.get("rng_state"),
        # ints ≥ 0, checked above (a check mypy cannot follow through all())
        epoch,  # type: ignore[arg-type]
        iteration,  # type: ignore[arg-type]
        history,
        meta.get("config") or {},
        extra,
        path,
    )
