"""Files written by earlier nnscratch versions still load, rebuilt from the file and into a given
network. The files are crafted here byte for byte as those versions wrote them (np.savez of the
arrays and the sorted JSON metadata), so no binary fixture is needed."""

import json

import numpy as np
import pytest

from nnscratch import MultiLayerNet, NnscratchError, TwoLayerNet
from nnscratch.io import (
    _load_network,
    _read_meta,
    load_checkpoint,
    load_model,
    read_model,
    save_model,
)
from nnscratch.npz import read_npz


def old_two_layer_kwargs(net, with_dtype=True):
    """TwoLayerNet's kwargs as io wrote them before TwoLayerNet.config(): no weight_init_std,
    and before float32 networks no dtype either."""
    kwargs = {
        "input_size": net.input_size,
        "hidden_size": net.hidden_size,
        "output_size": net.output_size,
        "activation": net.activation,
    }
    return {**kwargs, "dtype": net.dtype.name} if with_dtype else kwargs


def write_old_file(path, net, kwargs, checkpoint=None):
    """A model file (or, with ``checkpoint`` = its extra metadata and state arrays, a
    checkpoint) in the format of nnscratch's FORMAT_VERSION 1 as first released."""
    arrays = {f"param.{k}": v for k, v in net.params.items()}
    arrays.update({f"buffer.{k}": v for k, v in net.buffers.items()})
    meta = {
        "format": "nnscratch-model",
        "architecture": {"class": type(net).__name__, "kwargs": kwargs},
        "dtype": net.dtype.name,
        "params": list(net.params),
        "buffers": list(net.buffers),
        "config": {"lr": 0.1},
        "format_version": 1,
        "nnscratch_version": "0.1.0",
    }
    if checkpoint is not None:
        extra_meta, state = checkpoint
        meta.update({"format": "nnscratch-checkpoint", **extra_meta})
        arrays.update(state)
    text = json.dumps(meta, allow_nan=True, sort_keys=True)
    arrays["__meta__"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    np.savez(path, **arrays)
    return path


def trained_like(net, seed=7):
    """``net`` with every parameter and buffer set to values no constructor would draw."""
    rng = np.random.default_rng(seed)
    for group in (net.params, net.buffers):
        for value in group.values():
            value[...] = rng.uniform(0.5, 1.5, value.shape)
    return net


OLD_TWO_LAYER = [
    pytest.param(dict(dtype=np.float64), True, id="two-layer, kwargs with dtype"),
    pytest.param(dict(dtype=np.float32), True, id="two-layer float32"),
    pytest.param(dict(dtype=np.float64), False, id="two-layer, before dtype"),
]


@pytest.mark.parametrize("options, with_dtype", OLD_TWO_LAYER)
def test_old_model_file_loads_rebuilt_and_into_a_given_network(tmp_path, options, with_dtype):
    saved = trained_like(TwoLayerNet(5, 4, 3, seed=0, activation="tanh", **options))
    path = write_old_file(tmp_path / "old.npz", saved, old_two_layer_kwargs(saved, with_dtype))
    x = np.random.default_rng(1).random((6, 5))

    rebuilt = load_model(path)
    assert type(rebuilt) is TwoLayerNet and rebuilt.activation == "tanh"
    assert rebuilt.dtype == saved.dtype
    for key, value in saved.params.items():
        assert rebuilt.params[key].dtype == value.dtype
        np.testing.assert_array_equal(rebuilt.params[key], value)
    np.testing.assert_array_equal(rebuilt.predict(x), saved.predict(x))
    assert read_model(path).config == {"lr": 0.1}

    # into a network built as the run was (its weight_init_std is not in the file)
    given = TwoLayerNet(5, 4, 3, weight_init_std=0.5, seed=3, activation="tanh", **options)
    W1 = given.params["W1"]
    arrays = read_npz(path)
    meta = _read_meta(arrays, "old model", "nnscratch-model")
    assert _load_network(arrays, meta, "old model", given) is given
    assert given.params["W1"] is W1  # filled in place
    np.testing.assert_array_equal(given.predict(x), saved.predict(x))


def old_checkpoint(net):
    velocity = {k: np.full_like(v, 0.25) for k, v in net.params.items()}
    state = {f"state.{i}": v for i, v in enumerate(velocity.values())}
    meta = {
        "optimizer_state": {"v": {k: {"__array__": f"state.{i}"} for i, k in enumerate(velocity)}},
        "rng_state": np.random.default_rng(5).bit_generator.state,
        "epoch": 2,
        "iteration": 40,
        "history": {"train_loss": [1.5, 0.75]},
        "config": {"seed": 0},
        "extra": {"epoch_position": 0},
    }
    return (meta, state), velocity


@pytest.mark.parametrize("options, with_dtype", OLD_TWO_LAYER)
def test_old_checkpoint_loads_rebuilt_and_into_a_given_network(tmp_path, options, with_dtype):
    saved = trained_like(TwoLayerNet(5, 4, 3, seed=0, **options))
    checkpoint, velocity = old_checkpoint(saved)
    write_old_file(
        tmp_path / "checkpoint.npz", saved, old_two_layer_kwargs(saved, with_dtype), checkpoint
    )

    for given in (None, TwoLayerNet(5, 4, 3, seed=3, **options)):
        ckpt = load_checkpoint(tmp_path, given)
        if given is not None:
            assert ckpt.net is given
        for key, value in saved.params.items():
            assert ckpt.net.params[key].dtype == value.dtype
            np.testing.assert_array_equal(ckpt.net.params[key], value)
            np.testing.assert_array_equal(ckpt.optimizer_state["v"][key], velocity[key])
        assert (ckpt.epoch, ckpt.iteration, ckpt.history) == (2, 40, {"train_loss": [1.5, 0.75]})
        np.testing.assert_array_equal(ckpt.rng().random(3), np.random.default_rng(5).random(3))


def test_old_multilayer_checkpoint_with_batchnorm_buffers_loads_both_ways(tmp_path):
    saved = trained_like(MultiLayerNet(5, [4, 3], 2, use_batchnorm=True, seed=0))
    checkpoint, _ = old_checkpoint(saved)
    write_old_file(tmp_path / "checkpoint.npz", saved, saved.config(), checkpoint)
    x = np.random.default_rng(1).random((6, 5))
    for given in (None, MultiLayerNet(5, [4, 3], 2, use_batchnorm=True, seed=9)):
        net = load_checkpoint(tmp_path, given).net
        for key, value in saved.buffers.items():
            np.testing.assert_array_equal(net.buffers[key], value)
        np.testing.assert_array_equal(net.predict(x), saved.predict(x))


def test_an_old_file_still_refuses_a_network_of_another_shape_or_dtype(tmp_path):
    saved = trained_like(TwoLayerNet(5, 4, 3, seed=0))
    checkpoint, _ = old_checkpoint(saved)
    write_old_file(tmp_path / "checkpoint.npz", saved, old_two_layer_kwargs(saved), checkpoint)
    with pytest.raises(NnscratchError, match="build the network the file describes"):
        load_checkpoint(tmp_path, TwoLayerNet(5, 6, 3))
    with pytest.raises(NnscratchError, match="build the network the file describes"):
        load_checkpoint(tmp_path, TwoLayerNet(5, 4, 3, activation="relu"))
    # a file from before dtype: its arrays' dtype is checked one by one
    write_old_file(
        tmp_path / "checkpoint.npz", saved, old_two_layer_kwargs(saved, False), checkpoint
    )
    with pytest.raises(
        NnscratchError,
        match=r"param.W1 is float64 \(5, 4\) but the "
        r"architecture needs float32",
    ):
        load_checkpoint(tmp_path, TwoLayerNet(5, 4, 3, dtype=np.float32))


def test_a_new_file_holds_every_argument_of_config(tmp_path):
    net = TwoLayerNet(5, 4, 3, weight_init_std=0.5, seed=0)
    kwargs = read_model(save_model(tmp_path / "m.npz", net)).meta["architecture"]["kwargs"]
    assert kwargs == {
        "input_size": 5,
        "hidden_size": 4,
        "output_size": 3,
        "activation": "sigmoid",
        "weight_init_std": 0.5,
        "dtype": "float64",
    }
    assert load_model(tmp_path / "m.npz").weight_init_std == 0.5


def test_a_file_from_before_input_features_loads_into_a_plain_network_only(tmp_path):
    """A file without "features" is of a network that takes the inputs as they are: it loads
    into such a network, never into one with features, even of the same shapes."""
    plain = MultiLayerNet(2, [3], 2, seed=0)
    kwargs = {k: v for k, v in plain.config().items() if k != "features"}
    path = write_old_file(tmp_path / "old.npz", plain, kwargs)
    arrays = read_npz(path, "model")
    meta = _read_meta(arrays, "old", "nnscratch-model")
    assert _load_network(arrays, meta, "old", MultiLayerNet(2, [3], 2, seed=1)).features is None
    swapped = MultiLayerNet(2, [3], 2, features=["x2", "x1"], seed=1)  # W1 (2, 3) too
    with pytest.raises(NnscratchError, match="build the network the file describes"):
        _load_network(arrays, meta, "old", swapped)
