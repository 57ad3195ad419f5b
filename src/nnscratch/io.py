"""Files a user keeps: model files and checkpoints, written atomically, read without pickle.

Written atomically (see :mod:`nnscratch.atomic`): a crash leaves the old file or the new one.

A model file is one ``.npz`` (NumPy's zip of ``.npy`` arrays) holding

* ``param.<name>``  every parameter of the network (``net.params``), e.g. ``param.W1``;
* ``buffer.<name>`` arrays the network needs that are not trained (e.g. BatchNorm running
  statistics), when the network has any;
* ``__meta__``      the JSON metadata as a uint8 array of UTF-8 bytes: ``format``,
  ``format_version``, ``nnscratch_version``, ``architecture`` ``{"class": name, "kwargs": {...}}``
  (enough to rebuild the network, see :data:`ARCHITECTURES`), ``dtype``, the training ``config``.

A checkpoint (``DIR/checkpoint.npz``) is the same file with more in it: optimizer state, the random
generator's state, epoch, iteration and history. Arrays anywhere in those go into the zip as
``state.<i>`` and the JSON holds ``{"__array__": "state.<i>"}`` in their place.

Reading never unpickles: every ``.npy`` header is checked first (numeric dtype only, declared size
equal to the stored size), then arrays are read with ``allow_pickle=False``. Anything wrong with a
file — not a zip, truncated, not ours, a newer format, object arrays, names/shapes/dtypes that do
not match the architecture — is an :class:`NnscratchError` naming the file.
"""

import json
import math
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_open
from .errors import NnscratchError

MODEL_FORMAT = "nnscratch-model"
CHECKPOINT_FORMAT = "nnscratch-checkpoint"
#: bumped when a file written now could not be read by an older nnscratch
FORMAT_VERSION = 1
CHECKPOINT_NAME = "checkpoint.npz"
META_KEY = "__meta__"

#: limits that keep a hostile or damaged file from costing much: members in the zip, bytes one
#: member may unpack to (bytes ≤ this and ≤ 1000 × its compressed size: no decompression bomb)
MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 2 ** 31
MAX_COMPRESSION_RATIO = 1000
#: dtype kinds a file may hold: bool, signed/unsigned int, float. Never "O" (pickled objects).
ALLOWED_KINDS = "biuf"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: What a broken file can make zipfile/numpy/json raise; turned into NnscratchError at the boundary.
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, OverflowError,
                MemoryError, RuntimeError, NotImplementedError, UnicodeError, struct.error,
                zlib.error, zipfile.BadZipFile, zipfile.LargeZipFile, RecursionError,
                AttributeError)


# --------------------------------------------------------------------------- architectures

@dataclass(frozen=True)
class Architecture:
    """How to save and rebuild one network class.

    ``kwargs_of(net)`` gives the JSON-able keyword arguments that rebuild ``net``'s shape
    (``cls(**kwargs)``); ``buffers_of(net)`` the dict of its non-parameter arrays (the arrays
    themselves, so that loading can fill them in place).
    """

    cls: type
    kwargs_of: callable
    buffers_of: callable = staticmethod(lambda net: getattr(net, "buffers", None) or {})


def _two_layer_kwargs(net):
    from .layers import ACTIVATIONS

    activation = next((name for layer in net.layers for name, cls in ACTIVATIONS.items()
                       if type(layer) is cls), None)
    if activation is None:
        raise NnscratchError("cannot save this TwoLayerNet: its activation layer is not one of "
                             f"{', '.join(ACTIVATIONS)}")
    return {"input_size": int(net.params["W1"].shape[0]),
            "hidden_size": int(net.params["W1"].shape[1]),
            "output_size": int(net.params["W2"].shape[1]), "activation": activation,
            "dtype": net.dtype.name}


def _buffers_of(net):
    """The network's non-trained arrays (MultiLayerNet: BatchNorm's running mean and variance)."""
    return getattr(net, "buffers", None) or {}


def _registry():
    from .nets import MultiLayerNet, TwoLayerNet

    return {"TwoLayerNet": Architecture(TwoLayerNet, _two_layer_kwargs),
            "MultiLayerNet": Architecture(MultiLayerNet, lambda net: net.config(), _buffers_of)}


#: class name → Architecture; a new network class slots in with one entry here.
ARCHITECTURES = {}


def architectures():
    """The registry of buildable network classes (filled on first use: nets imports io lazily)."""
    if not ARCHITECTURES:
        ARCHITECTURES.update(_registry())
    return ARCHITECTURES


def describe_architecture(net):
    """``{"class": name, "kwargs": {...}}`` that rebuilds ``net`` (without its trained values)."""
    name = type(net).__name__
    arch = architectures().get(name)
    if arch is None or type(net) is not arch.cls:
        raise NnscratchError(f"cannot save a {name}: nnscratch can save "
                             f"{', '.join(sorted(architectures()))}")
    return {"class": name, "kwargs": arch.kwargs_of(net)}


def build_network(architecture, source="the file"):
    """A fresh network of ``architecture`` (as :func:`describe_architecture` returns it)."""
    if not (isinstance(architecture, dict) and isinstance(architecture.get("class"), str)
            and isinstance(architecture.get("kwargs"), dict)):
        raise NnscratchError(f"{source}: its architecture is not "
                             '{"class": name, "kwargs": {...}}: it was not written by nnscratch')
    name = architecture["class"]
    arch = architectures().get(name)
    if arch is None:
        raise NnscratchError(f"{source}: unknown network class {name!r}; this nnscratch builds "
                             f"{', '.join(sorted(architectures()))} (a newer nnscratch may "
                             "read it)")
    try:
        return arch.cls(**architecture["kwargs"], seed=0)
    except NnscratchError as exc:
        raise NnscratchError(f"{source}: cannot rebuild the {name} it describes: {exc}") from None
    except (TypeError, ValueError, OverflowError, MemoryError) as exc:
        raise NnscratchError(f"{source}: cannot rebuild the {name} it describes "
                             f"({type(exc).__name__}: {exc})") from None


# --------------------------------------------------------------------------- writing

def _meta_array(meta):
    text = json.dumps(meta, allow_nan=True, sort_keys=True)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _check_array_for_file(name, array):
    array = np.asarray(array)
    if array.dtype.kind not in ALLOWED_KINDS:
        raise NnscratchError(f"{name} has dtype {array.dtype}: only bool, integer and float "
                             "arrays can be saved")
    return array


def _network_arrays(net):
    """(arrays for the zip, metadata for them) of ``net``'s parameters and buffers."""
    architecture = describe_architecture(net)  # refuses classes it cannot rebuild
    arch = architectures()[architecture["class"]]
    arrays = {}
    for prefix, group in (("param", net.params), ("buffer", arch.buffers_of(net))):
        for key, value in group.items():
            if not _NAME.match(key):
                raise NnscratchError(f"cannot save {prefix} {key!r}: names must be identifiers")
            arrays[f"{prefix}.{key}"] = _check_array_for_file(key, value)
    dtypes = {str(a.dtype) for k, a in arrays.items() if k.startswith("param.")}
    return arrays, {"architecture": architecture,
                    "dtype": dtypes.pop() if len(dtypes) == 1 else sorted(dtypes),
                    "params": list(net.params), "buffers": list(arch.buffers_of(net))}


def _write_npz(path, arrays, meta):
    from . import __version__

    meta = {**meta, "format_version": FORMAT_VERSION, "nnscratch_version": __version__}
    arrays = {**arrays, META_KEY: _meta_array(meta)}
    with atomic_open(path) as f:
        np.savez(f, **arrays)


def save_model(path, net, config=None):
    """Write ``net`` to ``path`` (``.npz``, atomically): its parameters, buffers and metadata.

    ``config`` is any JSON-able dict (e.g. the training settings) kept in the metadata.
    Returns the path written.
    """
    path = Path(path)
    arrays, meta = _network_arrays(net)
    _write_npz(path, arrays, {"format": MODEL_FORMAT, **meta, "config": config or {}})
    return path


# --------------------------------------------------------------------------- reading

def _read_header(f, source, member):
    """(shape, fortran_order, dtype, header_length) of the .npy stream ``f``, checked."""
    major, minor = np.lib.format.read_magic(f)
    if (major, minor) == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif (major, minor) == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise NnscratchError(f"{source}: {member} has .npy format {major}.{minor}; "
                             "nnscratch writes 1.0")
    if dtype.hasobject or dtype.kind not in ALLOWED_KINDS or dtype.fields is not None:
        raise NnscratchError(f"{source}: {member} holds {dtype} data (object arrays are pickled "
                             "Python objects, which could run code): refusing to load it; "
                             "only numeric arrays are allowed")
    return shape, fortran, dtype, f.tell()


def read_npz(path, what="file"):
    """Every array of the ``.npz`` at ``path``, read safely (no pickle, sizes checked).

    Returns ``{name: array}``. Raises NnscratchError for anything that is not such a file.
    """
    path = Path(path)
    source = f"{what} {str(path)!r}"
    if not path.is_file():
        raise NnscratchError(f"{source} does not exist (or is not a file): check the path")
    try:
        # one open file for the checks and the read: what is checked is what is read
        with open(path, "rb") as file:
            with zipfile.ZipFile(file) as zf:
                infos = zf.infolist()
                if len(infos) > MAX_MEMBERS:
                    raise NnscratchError(f"{source} holds {len(infos)} entries: not an "
                                         "nnscratch file")
                for info in infos:
                    if not info.filename.endswith(".npy"):
                        raise NnscratchError(f"{source} holds {info.filename!r}, which is not an "
                                             "array: not an nnscratch file")
                    if (info.file_size > MAX_MEMBER_BYTES or info.file_size
                            > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
                        raise NnscratchError(f"{source}: {info.filename} declares "
                                             f"{info.file_size} bytes: refusing to unpack it")
                    with zf.open(info) as f:
                        shape, _, dtype, header = _read_header(f, source, info.filename)
                    nbytes = math.prod(shape) * dtype.itemsize
                    if header + nbytes != info.file_size:
                        raise NnscratchError(f"{source}: {info.filename} declares shape {shape} "
                                             "but holds a different amount of data: the file "
                                             "is damaged")
            file.seek(0)
            with np.load(file, allow_pickle=False) as npz:
                return {name: npz[name] for name in npz.files}
    except NnscratchError:
        raise
    except _READ_ERRORS as exc:
        raise NnscratchError(f"{source} cannot be read as an nnscratch .npz file "
                             f"({type(exc).__name__}: {exc}); is it truncated or something "
                             "else?") from None


def _read_meta(arrays, source, expected_format):
    raw = arrays.pop(META_KEY, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise NnscratchError(f"{source} has no nnscratch metadata: it was not written by "
                             "nnscratch's save_model/save_checkpoint")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise NnscratchError(f"{source}: its metadata is not valid JSON: the file is "
                             "damaged") from None
    if not isinstance(meta, dict) or meta.get("format") not in (MODEL_FORMAT, CHECKPOINT_FORMAT):
        raise NnscratchError(f"{source} is not an nnscratch model or checkpoint")
    if meta["format"] != expected_format:
        hint = ("load_checkpoint / --resume" if meta["format"] == CHECKPOINT_FORMAT
                else "load_model")
        raise NnscratchError(f"{source} is a {meta['format']} file, not a {expected_format}: "
                             f"read it with {hint}")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise NnscratchError(f"{source}: format version {version!r} is not valid: the file "
                             "is damaged")
    if version > FORMAT_VERSION:
        raise NnscratchError(f"{source} has format version {version}, newer than this nnscratch "
                             f"reads ({FORMAT_VERSION}; written by nnscratch "
                             f"{meta.get('nnscratch_version')}): upgrade nnscratch")
    return meta


def _fill_network(net, arrays, source, meta):
    """Check that the file's arrays are exactly ``net``'s parameters and buffers, then copy
    them in (in place, so layers and optimizers that hold the arrays see them)."""
    arch = architectures()[type(net).__name__]
    expected = {**{f"param.{k}": v for k, v in net.params.items()},
                **{f"buffer.{k}": v for k, v in arch.buffers_of(net).items()}}
    stored = {k: v for k, v in arrays.items() if k.startswith(("param.", "buffer."))}
    if set(stored) != set(expected):
        missing = sorted(set(expected) - set(stored))
        extra = sorted(set(stored) - set(expected))
        raise NnscratchError(f"{source} does not match its architecture "
                             f"{meta['architecture']['class']}: missing {missing or 'nothing'}, "
                             f"unexpected {extra or 'nothing'}")
    for key, target in expected.items():
        value = stored[key]
        if value.shape != target.shape or value.dtype != target.dtype:
            raise NnscratchError(f"{source}: {key} is {value.dtype} {value.shape} but the "
                                 f"architecture needs {target.dtype} {target.shape}: the file is "
                                 "damaged or edited")
        target[...] = value
    return net


def _ints(obj):
    if isinstance(obj, bool):
        return
    if isinstance(obj, int):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _ints(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _ints(value)


def _check_sizes(architecture, arrays, source):
    """Refuse before building: a layer size larger than every array in the file cannot be right,
    and building it could take gigabytes (a few edited digits would be enough)."""
    largest = max((a.size for k, a in arrays.items() if k.startswith("param.")), default=0)
    kwargs = architecture.get("kwargs") if isinstance(architecture, dict) else None
    too_big = [n for n in _ints(kwargs) if n > max(largest, 1)]
    if too_big:
        raise NnscratchError(f"{source}: its architecture asks for size {too_big[0]} but its "
                             f"largest parameter holds {largest} values: the file is damaged "
                             "or edited")


def _load_network(arrays, meta, source, net=None):
    if net is None:
        _check_sizes(meta.get("architecture"), arrays, source)
        net = build_network(meta.get("architecture"), source)
    else:
        mine = describe_architecture(net)
        if mine != meta.get("architecture"):
            raise NnscratchError(f"{source} holds a {meta.get('architecture')} but the network "
                                 f"given is a {mine}: build the network the file describes")
    return _fill_network(net, arrays, source, meta)


@dataclass
class ModelFile:
    """What :func:`read_model` returns: the network and the file's metadata."""

    net: object
    meta: dict
    path: Path

    @property
    def config(self):
        return self.meta.get("config") or {}


def read_model(path):
    """Read a model file: a :class:`ModelFile` (``net``, ``meta``, ``path``)."""
    source = f"model file {str(path)!r}"
    arrays = read_npz(path, "model file")
    meta = _read_meta(arrays, source, MODEL_FORMAT)
    return ModelFile(_load_network(arrays, meta, source), meta, Path(path))


def load_model(path):
    """The network saved at ``path`` by :func:`save_model`, rebuilt with its trained values."""
    return read_model(path).net


# --------------------------------------------------------------------------- checkpoints

def _encode_tree(obj, arrays, where):
    """JSON-able copy of ``obj`` with every array moved into ``arrays`` (as ``state.<i>``)."""
    if isinstance(obj, np.ndarray):
        name = f"state.{len(arrays)}"
        arrays[name] = _check_array_for_file(where, obj)
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
    raise NnscratchError(f"{where}: cannot save a {type(obj).__name__} in a checkpoint "
                         "(arrays, numbers, strings, lists and dicts only)")


def _decode_tree(obj, arrays, source):
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            try:
                return arrays.pop(obj["__array__"])
            except (KeyError, TypeError):
                raise NnscratchError(f"{source}: array {obj['__array__']!r} is missing or "
                                     "used twice: the file is damaged") from None
        return {k: _decode_tree(v, arrays, source) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_tree(v, arrays, source) for v in obj]
    return obj


@dataclass
class Checkpoint:
    """Everything a run needs to continue: see :func:`save_checkpoint`."""

    net: object
    optimizer_state: dict
    rng_state: dict | None
    epoch: int
    iteration: int
    history: dict
    config: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    path: Path | None = None

    def rng(self):
        """A ``np.random.Generator`` in exactly the saved state (None if none was saved)."""
        return None if self.rng_state is None else restore_rng(self.rng_state, self.path)


#: bit generators whose state a checkpoint may name (never getattr with a name from a file)
BIT_GENERATORS = {cls.__name__: cls for cls in (np.random.PCG64, np.random.PCG64DXSM,
                                                np.random.MT19937, np.random.Philox,
                                                np.random.SFC64)}


def rng_state(rng):
    """The JSON-able state of a Generator (PCG64's ints exceed 64 bits: JSON keeps them exact)."""
    state = rng.bit_generator.state
    return json.loads(json.dumps(state, default=lambda a: a.tolist()))


def restore_rng(state, source="checkpoint"):
    """A ``np.random.Generator`` whose bit generator is in ``state`` (from :func:`rng_state`)."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in BIT_GENERATORS:
        raise NnscratchError(f"{source}: random generator state names {name!r}; "
                             f"expected one of {', '.join(BIT_GENERATORS)}")
    bit_generator = BIT_GENERATORS[name]()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise NnscratchError(f"{source}: its random generator state is damaged "
                             f"({type(exc).__name__}: {exc})") from None
    return np.random.Generator(bit_generator)


def checkpoint_path(directory):
    """``directory/checkpoint.npz``."""
    return Path(directory) / CHECKPOINT_NAME


def save_checkpoint(directory, net, *, optimizer_state=None, rng=None, epoch=0, iteration=0,
                    history=None, config=None, extra=None):
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
    state_arrays = {}
    if rng is not None and not isinstance(rng, dict):
        rng = rng_state(rng)
    meta = {"format": CHECKPOINT_FORMAT, **net_meta,
            "optimizer_state": _encode_tree(optimizer_state or {}, state_arrays, "optimizer"),
            "rng_state": rng, "epoch": int(epoch), "iteration": int(iteration),
            "history": _encode_tree(history or {}, state_arrays, "history"),
            "config": config or {}, "extra": _encode_tree(extra or {}, state_arrays, "extra")}
    path = checkpoint_path(directory)
    _write_npz(path, {**arrays, **state_arrays}, meta)
    # temp files of earlier writes that were killed before their rename: never read, now gone
    for stale in directory.glob(f".{CHECKPOINT_NAME}.*.tmp"):
        stale.unlink(missing_ok=True)
    return path


def load_checkpoint(directory, net=None):
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
    except RecursionError:
        raise NnscratchError(f"{source}: its metadata is nested too deeply: damaged") from None
    epoch, iteration = meta.get("epoch"), meta.get("iteration")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
               for v in (epoch, iteration)):
        raise NnscratchError(f"{source}: epoch {epoch!r} / iteration {iteration!r} are not "
                             "counts: the file is damaged")
    return Checkpoint(net, optimizer_state, meta.get("rng_state"), epoch, iteration, history,
                      meta.get("config") or {}, extra, path)
