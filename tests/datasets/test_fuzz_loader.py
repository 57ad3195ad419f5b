"""Fuzzing the model and checkpoint loaders: random bytes, mutated valid files and random metadata
must end in a model or an NnscratchError — never another exception, never a hang.

Hypothesis example counts are chosen so the whole file runs in well under 30 s on 2 cores.
"""

import json
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnscratch import NnscratchError, TwoLayerNet
from nnscratch.io import (
    CHECKPOINT_NAME,
    META_KEY,
    _meta_array,
    load_checkpoint,
    load_model,
    save_checkpoint,
    save_model,
)
from nnscratch.npz import read_npz

FUZZ = settings(
    max_examples=150, deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def model_bytes(folder):
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0, seed=0)
    return save_model(folder / "valid.npz", net, config={"lr": 0.1}).read_bytes()


@pytest.fixture(scope="module")
def checkpoint_bytes(folder):
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0, seed=0)
    path = save_checkpoint(
        folder / "ckpt",
        net,
        optimizer_state={"v": {"W1": np.ones((4, 3))}},
        rng=np.random.default_rng(0),
        epoch=1,
        iteration=5,
        history={"train_loss": [1.0, 0.5]},
    )
    return path.read_bytes()


def load_or_refuse(path, data, loader=load_model):
    """Write ``data`` and load it: a network (the bytes happened to stay valid) or our error."""
    path.write_bytes(data)
    try:
        result = loader(path)
    except NnscratchError as exc:
        assert str(path.name) in str(exc)  # the message names the file
        return None
    return result


@st.composite
def mutated(draw, original):
    """``original`` with 1-4 random edits: flip bits, overwrite, insert, delete or truncate."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "overwrite", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at : at + len(chunk)] = chunk
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        else:
            del data[at:]
    return bytes(data)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_are_refused(folder, data):
    assert load_or_refuse(folder / "random.npz", data) is None


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_model_files_load_or_are_refused(folder, model_bytes, data):
    load_or_refuse(folder / "mutated.npz", data.draw(mutated(model_bytes)))


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_checkpoints_load_or_are_refused(folder, checkpoint_bytes, data):
    load_or_refuse(folder / CHECKPOINT_NAME, data.draw(mutated(checkpoint_bytes)), load_checkpoint)


@pytest.fixture(scope="module")
def compressed_bytes(folder):
    path = folder / "compressed.npz"  # deflated members: zlib's and EOFError's paths too
    np.savez_compressed(path, a=np.arange(50.0), b=np.ones((3, 4), np.float32), c=np.zeros(200))
    return path.read_bytes()


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_compressed_npz_reads_or_is_refused(folder, compressed_bytes, data):
    load_or_refuse(
        folder / "compressed_mutated.npz", data.draw(mutated(compressed_bytes)), read_npz
    )


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
META_KEYS = [
    "format",
    "format_version",
    "architecture",
    "dtype",
    "params",
    "config",
    "optimizer_state",
    "rng_state",
    "epoch",
    "iteration",
    "history",
    "extra",
]


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_valid_zip_with_random_metadata_loads_or_is_refused(folder, checkpoint_bytes, data):
    """Bit flips mostly break the zip's CRCs; this reaches the code behind them: a well-formed
    file whose JSON metadata has random values in random places."""
    path = folder / "meta" / CHECKPOINT_NAME
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(checkpoint_bytes)
    with np.load(path) as npz:
        arrays = dict(npz)
    meta = json.loads(arrays.pop(META_KEY).tobytes())
    for key in data.draw(st.lists(st.sampled_from(META_KEYS), min_size=1, max_size=3)):
        meta[key] = data.draw(JSON)
    if data.draw(st.booleans()):  # sometimes also a near-valid architecture
        meta["architecture"] = {
            "class": "TwoLayerNet",
            "kwargs": data.draw(
                st.dictionaries(
                    st.sampled_from(
                        ["input_size", "hidden_size", "output_size", "activation", "seed"]
                    ),
                    st.integers(-3, 5) | st.text(max_size=5),
                    max_size=4,
                )
            ),
        }
    np.savez(path, **arrays, **{META_KEY: _meta_array(meta)})
    for loader in (load_checkpoint, load_model):
        try:
            ckpt = loader(path)
        except NnscratchError:
            continue
        if loader is load_checkpoint and ckpt.rng_state is not None:
            try:
                ckpt.rng()
            except NnscratchError:
                pass
