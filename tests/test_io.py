"""Model files and checkpoints: roundtrips, refusals with clear messages, atomic writes."""

import io
import json
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnscratch import NnscratchError, TwoLayerNet, __version__, load_dataset, train
from nnscratch.io import (
    CHECKPOINT_NAME,
    FORMAT_VERSION,
    META_KEY,
    _meta_array,
    describe_architecture,
    load_checkpoint,
    load_model,
    read_model,
    restore_rng,
    rng_state,
    save_checkpoint,
    save_model,
)


@pytest.fixture(scope="module")
def trained():
    data = load_dataset("digits")
    net = TwoLayerNet(64, 30, 10, seed=0)
    train(net, data.x_train, data.t_train, epochs=3, batch_size=32, lr=0.5, seed=0)
    return net, data


def write_npz(path, arrays, meta=None):
    """An .npz written by hand (meta: a dict stored like ours, or None for no metadata)."""
    if meta is not None:
        arrays = {**arrays, META_KEY: _meta_array(meta)}
    np.savez(path, **arrays)
    return path


def valid_meta(net, **changes):
    meta = {
        "format": "nnscratch-model",
        "format_version": FORMAT_VERSION,
        "nnscratch_version": __version__,
        "architecture": describe_architecture(net),
        "dtype": "float64",
        "params": list(net.params),
        "buffers": [],
        "config": {},
    }
    return {**meta, **changes}


def param_arrays(net):
    return {f"param.{k}": v for k, v in net.params.items()}


# ---------------------------------------------------------------------------- roundtrip


def test_model_roundtrip_gives_identical_parameters_and_predictions(trained, tmp_path):
    net, data = trained
    path = save_model(tmp_path / "model.npz", net, config={"dataset": "digits", "lr": 0.5})
    loaded = load_model(path)
    assert type(loaded) is TwoLayerNet
    for key in net.params:
        assert loaded.params[key].dtype == net.params[key].dtype
        np.testing.assert_array_equal(loaded.params[key], net.params[key])
    np.testing.assert_array_equal(loaded.predict(data.x_test), net.predict(data.x_test))


def test_metadata_records_format_architecture_dtype_version_and_config(trained, tmp_path):
    net, _ = trained
    meta = read_model(save_model(tmp_path / "m.npz", net, config={"lr": 0.5})).meta
    assert meta["format"] == "nnscratch-model"
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["nnscratch_version"] == __version__
    assert meta["architecture"] == {
        "class": "TwoLayerNet",
        "kwargs": {
            "input_size": 64,
            "hidden_size": 30,
            "output_size": 10,
            "activation": "sigmoid",
            "weight_init_std": 0.01,
            "dtype": "float64",
        },
    }
    assert meta["dtype"] == "float64"
    assert meta["config"] == {"lr": 0.5}


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_activation_survives_the_roundtrip(tmp_path, activation):
    net = TwoLayerNet(5, 4, 3, weight_init_std=1.0, seed=1, activation=activation)
    loaded = load_model(save_model(tmp_path / "m.npz", net))
    x = np.random.default_rng(0).standard_normal((7, 5))
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


def test_file_is_a_plain_zip_of_npy_arrays_without_pickle(trained, tmp_path):
    net, _ = trained
    path = save_model(tmp_path / "m.npz", net)
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
    assert names == sorted(
        ["__meta__.npy", "param.W1.npy", "param.b1.npy", "param.W2.npy", "param.b2.npy"]
    )
    with np.load(path, allow_pickle=False) as npz:  # numpy itself can read it without pickle
        meta = json.loads(npz[META_KEY].tobytes())
    assert meta["format"] == "nnscratch-model"


def test_save_leaves_no_temp_file_and_overwrites_atomically(trained, tmp_path):
    net, _ = trained
    save_model(tmp_path / "m.npz", net)
    save_model(tmp_path / "m.npz", TwoLayerNet(64, 30, 10, seed=5))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


# ---------------------------------------------------------------------------- refusals


class Boom:
    """Unpickling this runs code: it would create the file named ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_npz_holding_a_pickled_object_is_refused_and_never_run(trained, tmp_path):
    net, _ = trained
    marker = tmp_path / "pwned"
    evil = np.array([Boom(str(marker))], dtype=object)
    path = tmp_path / "evil.npz"
    np.savez(path, **param_arrays(net), **{META_KEY: _meta_array(valid_meta(net))}, extra=evil)
    with pytest.raises(NnscratchError, match="object") as exc:
        load_model(path)
    assert "evil.npz" in str(exc.value)
    assert not marker.exists()
    # the same object where a parameter should be
    path2 = write_npz(
        tmp_path / "evil2.npz", {**param_arrays(net), "param.W1": evil}, valid_meta(net)
    )
    with pytest.raises(NnscratchError, match="refusing"):
        load_model(path2)
    assert not marker.exists()


def test_pickle_file_is_refused(tmp_path):
    import pickle

    path = tmp_path / "weights.pkl"
    path.write_bytes(pickle.dumps({"W1": np.zeros(3)}))
    with pytest.raises(NnscratchError, match="weights.pkl.*cannot be read"):
        load_model(path)


def test_missing_file(tmp_path):
    with pytest.raises(NnscratchError, match="does not exist"):
        load_model(tmp_path / "nope.npz")


def test_file_that_is_not_ours(tmp_path):
    (tmp_path / "text.npz").write_text("hello, I am not a zip")
    with pytest.raises(NnscratchError, match="cannot be read as an nnscratch .npz"):
        load_model(tmp_path / "text.npz")
    other = write_npz(tmp_path / "other.npz", {"a": np.arange(3)})  # an .npz, not ours
    with pytest.raises(NnscratchError, match="no nnscratch metadata"):
        load_model(other)


def test_truncated_file_at_every_tenth_of_its_length(trained, tmp_path):
    net, _ = trained
    data = save_model(tmp_path / "m.npz", net).read_bytes()
    for k in range(10):
        cut = tmp_path / f"cut{k}.npz"
        cut.write_bytes(data[: len(data) * k // 10])
        with pytest.raises(NnscratchError, match=f"cut{k}.npz"):
            load_model(cut)


def test_newer_format_version_asks_to_upgrade(trained, tmp_path):
    net, _ = trained
    path = write_npz(
        tmp_path / "new.npz",
        param_arrays(net),
        valid_meta(net, format_version=FORMAT_VERSION + 1, nnscratch_version="9.0"),
    )
    with pytest.raises(NnscratchError, match=r"format version 2, newer.*upgrade nnscratch"):
        load_model(path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.pop("param.b2"), r"missing \['param.b2'\]"),
        (lambda a: a.update({"param.W3": np.zeros(2)}), r"unexpected \['param.W3'\]"),
        (
            lambda a: a.update({"param.W1": np.zeros((64, 31))}),
            r"param.W1 is float64 \(64, 31\).*"
            r"needs float64 \(64, 30\)",
        ),
        (lambda a: a.update({"param.b1": np.zeros(30, np.float32)}), "float32"),
    ],
)
def test_arrays_not_matching_the_architecture(trained, tmp_path, change, message):
    net, _ = trained
    arrays = param_arrays(net)
    change(arrays)
    path = write_npz(tmp_path / "m.npz", arrays, valid_meta(net))
    with pytest.raises(NnscratchError, match=message):
        load_model(path)


@pytest.mark.parametrize(
    "architecture, message",
    [
        ({"class": "os.system", "kwargs": {}}, "unknown network class 'os.system'"),
        (
            {
                "class": "TwoLayerNet",
                "kwargs": {"input_size": 64, "hidden_size": -1, "output_size": 10},
            },
            "hidden_size must be a positive",
        ),
        ({"class": "TwoLayerNet", "kwargs": {"evil": 1}}, "cannot rebuild the TwoLayerNet"),
        # a value of the wrong type: the constructor's own check names it
        (
            {
                "class": "TwoLayerNet",
                "kwargs": {
                    "input_size": 64,
                    "hidden_size": 30,
                    "output_size": 10,
                    "activation": [],
                },
            },
            r"cannot rebuild the TwoLayerNet it describes: activation must be one of sigmoid, "
            r"relu, tanh, got \[\]",
        ),
        (
            {
                "class": "TwoLayerNet",
                "kwargs": {
                    "input_size": 64,
                    "hidden_size": 30,
                    "output_size": 10,
                    "weight_init_std": "x",
                },
            },
            r"cannot rebuild the TwoLayerNet it describes: weight_init_std must be a number",
        ),
        # what Python raises before any check of ours: caught at the boundary
        ({"class": "TwoLayerNet", "kwargs": {"evil": 1}}, r"TwoLayerNet.*\(TypeError"),
        (
            {
                "class": "TwoLayerNet",
                "kwargs": {
                    "input_size": 64,
                    "hidden_size": 30,
                    "output_size": 10,
                    "weight_init_std": -(10**400),
                },
            },
            r"TwoLayerNet.*\(OverflowError",
        ),
        ("TwoLayerNet", "not written by nnscratch"),
    ],
)
def test_architecture_that_cannot_be_built(trained, tmp_path, architecture, message):
    net, _ = trained
    path = write_npz(
        tmp_path / "m.npz", param_arrays(net), valid_meta(net, architecture=architecture)
    )
    with pytest.raises(NnscratchError, match=message):
        load_model(path)


def test_architecture_asking_for_a_huge_network_is_refused_before_building(trained, tmp_path):
    net, _ = trained
    kwargs = {"input_size": 64, "hidden_size": 10**9, "output_size": 10}
    path = write_npz(
        tmp_path / "m.npz",
        param_arrays(net),
        valid_meta(net, architecture={"class": "TwoLayerNet", "kwargs": kwargs}),
    )
    with pytest.raises(
        NnscratchError,
        match=r"asks for size 1000000000 but its largest "
        r"parameter holds 1920 values",
    ):
        load_model(path)


def lie_about_shape(data, shape):
    """A .npy (format 1.0) whose header claims ``shape``; the data stays as it was."""
    length = int.from_bytes(data[8:10], "little")
    header = data[10 : 10 + length].decode("latin1")
    start = header.index("'shape': ") + len("'shape': ")
    end = header.index(")", start) + 1
    new = (header[:start] + repr(shape) + header[end:]).rstrip()
    assert len(new) < length
    return data[:10] + (new.ljust(length - 1) + "\n").encode("latin1") + data[10 + length :]


@pytest.mark.parametrize(
    "shape, message",
    [
        ((10**12, 30), "declares shape \\(1000000000000, 30\\).*different amount of data"),
        ((64, 29), "different amount of data"),
    ],
)
def test_declared_shape_not_matching_the_data_is_refused_before_allocating(
    trained, tmp_path, shape, message
):
    net, _ = trained
    path = save_model(tmp_path / "m.npz", net)
    fake_path = tmp_path / "fake.npz"
    # rewrite through zipfile so the CRCs match and only the shape lies
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(fake_path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "param.W1.npy":
                data = lie_about_shape(data, shape)
            dst.writestr(info, data)
    with pytest.raises(NnscratchError, match=message):
        load_model(fake_path)


def test_decompression_bomb_is_not_unpacked(trained, tmp_path, monkeypatch):
    net, _ = trained
    path = tmp_path / "bomb.npz"
    np.savez_compressed(
        path,
        **param_arrays(net),
        zeros=np.zeros(4_000_000),
        **{META_KEY: _meta_array(valid_meta(net))},
    )
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("zeros.npy")
        assert info.file_size > 900 * info.compress_size  # deflate packs zeros ~1000:1
    monkeypatch.setattr("nnscratch.npz.MAX_COMPRESSION_RATIO", 100)
    with pytest.raises(NnscratchError, match="zeros.npy declares 32000128 bytes: refusing"):
        load_model(path)


def test_checkpoint_is_not_a_model_and_model_is_not_a_checkpoint(trained, tmp_path):
    net, _ = trained
    save_checkpoint(tmp_path, net, epoch=1)
    with pytest.raises(
        NnscratchError, match="checkpoint file, not a nnscratch-model.*load_checkpoint"
    ):
        load_model(tmp_path / CHECKPOINT_NAME)
    model = save_model(tmp_path / "m.npz", net)
    with pytest.raises(NnscratchError, match="not a nnscratch-checkpoint.*load_model"):
        load_checkpoint(model)


def test_saving_an_unknown_network_class_says_what_can_be_saved(tmp_path):
    class MyNet(TwoLayerNet):
        pass

    with pytest.raises(
        NnscratchError,
        match="cannot save a MyNet: nnscratch can save "
        "DeepConvNet, GPT, MultiLayerNet, RNNLM, SimpleConvNet, "
        "TwoLayerNet$",
    ):
        save_model(tmp_path / "m.npz", MyNet(2, 2, 2))
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------------- checkpoints


def test_checkpoint_roundtrip_of_every_field(trained, tmp_path):
    net, _ = trained
    rng = np.random.default_rng(123)
    rng.random(10)  # advance: the state must be the current one, not the seed's
    velocity = {k: np.full_like(v, 0.5) for k, v in net.params.items()}
    history = {"train_loss": [2.3, 1.1, float("nan")], "train_acc": [0.5], "test_acc": [0.4]}
    path = save_checkpoint(
        tmp_path / "run",
        net,
        optimizer_state={"v": velocity, "iter": 7, "lr": 0.1},
        rng=rng,
        epoch=3,
        iteration=135,
        history=history,
        config={"seed": 0},
        extra={"order": np.arange(5)},
    )
    assert path == tmp_path / "run" / CHECKPOINT_NAME
    ckpt = load_checkpoint(tmp_path / "run")
    for key in net.params:
        np.testing.assert_array_equal(ckpt.net.params[key], net.params[key])
        np.testing.assert_array_equal(ckpt.optimizer_state["v"][key], velocity[key])
    assert ckpt.optimizer_state["iter"] == 7 and ckpt.optimizer_state["lr"] == 0.1
    assert (ckpt.epoch, ckpt.iteration, ckpt.config) == (3, 135, {"seed": 0})
    assert ckpt.history["train_loss"][:2] == [2.3, 1.1] and np.isnan(ckpt.history["train_loss"][2])
    assert ckpt.history["test_acc"] == [0.4]
    np.testing.assert_array_equal(ckpt.extra["order"], np.arange(5))
    # the restored generator continues exactly where the saved one was
    np.testing.assert_array_equal(ckpt.rng().random(20), rng.random(20))


@pytest.mark.parametrize(
    "bit_generator", [np.random.PCG64, np.random.MT19937, np.random.Philox, np.random.SFC64]
)
def test_rng_state_roundtrip_through_json(bit_generator):
    rng = np.random.Generator(bit_generator(99))
    rng.standard_normal(3)
    state = json.loads(json.dumps(rng_state(rng)))  # PCG64's 128-bit ints survive JSON exactly
    np.testing.assert_array_equal(
        restore_rng(state).integers(0, 2**62, 50), rng.integers(0, 2**62, 50)
    )


def test_rng_state_naming_an_unknown_generator_is_refused():
    with pytest.raises(NnscratchError, match="names 'os'"):
        restore_rng({"bit_generator": "os", "state": {}})


def test_checkpoint_loads_into_a_given_network_of_the_same_architecture(trained, tmp_path):
    net, _ = trained
    save_checkpoint(tmp_path, net, epoch=2)
    fresh = TwoLayerNet(64, 30, 10, seed=9)
    W1 = fresh.params["W1"]
    ckpt = load_checkpoint(tmp_path, net=fresh)
    assert ckpt.net is fresh and fresh.params["W1"] is W1  # filled in place
    np.testing.assert_array_equal(W1, net.params["W1"])
    with pytest.raises(NnscratchError, match="build the network the file describes"):
        load_checkpoint(tmp_path, net=TwoLayerNet(64, 31, 10))


def test_checkpoint_with_damaged_epoch_is_refused(trained, tmp_path):
    net, _ = trained
    path = save_checkpoint(tmp_path, net, epoch=2)
    with np.load(path) as npz:
        arrays = dict(npz)
    meta = json.loads(arrays.pop(META_KEY).tobytes())
    meta["epoch"] = -1
    write_npz(path, arrays, meta)
    with pytest.raises(NnscratchError, match="epoch -1.*damaged"):
        load_checkpoint(tmp_path)


def test_failed_write_leaves_the_previous_checkpoint_and_no_temp_file(
    trained, tmp_path, monkeypatch
):
    net, _ = trained
    save_checkpoint(tmp_path, net, epoch=1, history={"train_acc": [0.3]})
    real_savez = np.savez

    def savez_then_fail(f, **arrays):
        real_savez(f, **arrays)
        f.truncate(f.tell() // 2)  # half the new file is on disk when the failure hits
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", savez_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path, TwoLayerNet(64, 30, 10, seed=4), epoch=2)
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT_NAME]
    ckpt = load_checkpoint(tmp_path)
    assert ckpt.epoch == 1 and ckpt.history == {"train_acc": [0.3]}
    np.testing.assert_array_equal(ckpt.net.params["W1"], net.params["W1"])


KILLED_WRITER = textwrap.dedent("""
    import os, sys
    import numpy as np
    from nnscratch import TwoLayerNet
    import nnscratch.io as nio

    directory, where = sys.argv[1], sys.argv[2]
    net = TwoLayerNet(64, 30, 10, seed=1)
    nio.save_checkpoint(directory, net, epoch=1)            # the good, previous checkpoint
    if where == "mid-write":     # the process dies with half the temp file written
        real = np.savez
        def half(f, **arrays):
            buf = __import__("io").BytesIO(); real(buf, **arrays)
            f.write(buf.getvalue()[: len(buf.getvalue()) // 2]); f.flush()
            os._exit(137)
        np.savez = half
    else:                        # dies after fsync, just before the rename
        os.replace = lambda *a: os._exit(137)
    nio.save_checkpoint(directory, TwoLayerNet(64, 30, 10, seed=2), epoch=2)
""")


@pytest.mark.slow
@pytest.mark.parametrize("where", ["mid-write", "before-rename"])
def test_process_killed_while_writing_leaves_the_previous_checkpoint_loadable(tmp_path, where):
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path), where],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 137, proc.stderr
    temps = [p for p in tmp_path.iterdir() if p.name != CHECKPOINT_NAME]
    assert len(temps) == 1 and temps[0].name.endswith(".tmp")  # killed: nothing cleaned up
    ckpt = load_checkpoint(tmp_path)
    assert ckpt.epoch == 1
    np.testing.assert_array_equal(
        ckpt.net.params["W1"], TwoLayerNet(64, 30, 10, seed=1).params["W1"]
    )
    # the next successful save removes the dead temp file
    save_checkpoint(tmp_path, ckpt.net, epoch=3)
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT_NAME]


LOOPING_WRITER = textwrap.dedent("""
    import sys
    from nnscratch import TwoLayerNet
    from nnscratch.io import save_checkpoint
    net = TwoLayerNet(784, 300, 10, seed=0)          # ~2 MB per checkpoint: writes take a while
    epoch = 0
    while True:
        epoch += 1
        net.params["b2"][:] = epoch
        save_checkpoint(sys.argv[1], net, epoch=epoch)
        print(epoch, flush=True)
""")


@pytest.mark.slow
def test_real_sigkill_at_random_moments_never_breaks_the_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    for _ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", LOOPING_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        proc.stdout.readline()  # one checkpoint is complete
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        ckpt = load_checkpoint(tmp_path)
        assert ckpt.epoch >= 1
        np.testing.assert_array_equal(ckpt.net.params["b2"], np.full(10, ckpt.epoch, float))


def test_npz_in_memory_is_what_gets_written(trained, tmp_path):
    """save_model's bytes are np.savez of the arrays + metadata (nothing else in the zip)."""
    net, _ = trained
    path = save_model(tmp_path / "m.npz", net)
    with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as npz:
        assert set(npz.files) == {"param.W1", "param.b1", "param.W2", "param.b2", META_KEY}
        np.testing.assert_array_equal(npz["param.W2"], net.params["W2"])


def test_float32_networks_round_trip_in_float32(tmp_path):
    from nnscratch.io import load_model, save_model
    from nnscratch.nets import MultiLayerNet, TwoLayerNet

    x = np.random.default_rng(0).random((5, 6))
    for net in (
        TwoLayerNet(6, 4, 3, seed=0, dtype=np.float32),
        MultiLayerNet(6, [4], 3, use_batchnorm=True, seed=0, dtype=np.float32),
    ):
        path = tmp_path / f"{type(net).__name__}.npz"
        save_model(path, net)
        loaded = load_model(path)
        assert all(v.dtype == np.float32 for v in loaded.params.values())
        np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


def test_numpy_numbers_in_the_architecture_are_saved_as_plain_json(tmp_path):
    from nnscratch.io import load_model, save_model
    from nnscratch.nets import MultiLayerNet

    net = MultiLayerNet(
        np.int64(6), np.array([5]), np.int64(3), weight_init=np.float32(0.1), seed=0
    )
    save_model(tmp_path / "m.npz", net)
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.config() == net.config() and loaded.weight_init == pytest.approx(0.1)
    x = np.random.default_rng(0).random((4, 6))
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))
