"""The fast training path: float32 from end to end (no silent upcasts), the engine's in-place
optimizer updates that give the formulas' numbers exactly, evaluation in chunks, the BLAS thread
limit."""

import json

import numpy as np
import pytest

from nnscratch import functions as F
from nnscratch import nets
from nnscratch.engine import FAST
from nnscratch.engine import functions as engine_functions
from nnscratch.engine.blas import blas_limit
from nnscratch.errors import NnscratchError
from nnscratch.layers import MeanSquaredErrorLoss
from nnscratch.nets import MultiLayerNet, TwoLayerNet
from nnscratch.optim import OPTIMIZERS
from nnscratch.run.trainer import Trainer

F32 = np.dtype(np.float32)


def _data(n=200, d=20, c=4, seed=0, dtype=np.float64):
    """Inputs in [0, 1) labelled by the argmax of a fixed random linear map of x - ½ (learnable,
    classes of similar sizes)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    t = np.argmax((x - 0.5) @ np.random.default_rng(99).standard_normal((d, c)), axis=1)
    return x.astype(dtype), t


def _nets(dtype):
    return [
        TwoLayerNet(20, 8, 4, seed=0, dtype=dtype),
        MultiLayerNet(20, [16, 8], 4, activation="tanh", seed=0, dtype=dtype),
        MultiLayerNet(
            20,
            [16, 8],
            4,
            use_batchnorm=True,
            dropout=0.3,
            weight_decay_lambda=0.01,
            seed=0,
            dtype=dtype,
        ),
    ]


# --- dtype of networks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda dt: TwoLayerNet(20, 8, 4, seed=3, dtype=dt),
        lambda dt: MultiLayerNet(20, [16, 8], 4, use_batchnorm=True, seed=3, dtype=dt),
    ],
)
def test_float32_net_starts_from_the_float64_weights_rounded(make):
    net64, net32 = make(np.float64), make("float32")
    assert net32.dtype == F32 and net64.dtype == np.float64
    for key, value in net64.params.items():
        assert net32.params[key].dtype == F32
        np.testing.assert_array_equal(net32.params[key], value.astype(np.float32))
    for key, value in net64.buffers.items():
        assert net32.buffers[key].dtype == F32
        np.testing.assert_array_equal(net32.buffers[key], value.astype(np.float32))


def test_default_dtype_is_float64_and_other_types_are_refused():
    assert TwoLayerNet(4, 3, 2, seed=0).params["W1"].dtype == np.float64
    assert MultiLayerNet(4, [3], 2, seed=0).params["W1"].dtype == np.float64
    for bad in (np.int32, np.float16, "double precision"):
        with pytest.raises(NnscratchError, match="dtype must be float32 or float64"):
            TwoLayerNet(4, 3, 2, dtype=bad)
        with pytest.raises(NnscratchError, match="dtype must be float32 or float64"):
            MultiLayerNet(4, [3], 2, dtype=bad)


def test_multilayer_config_rebuilds_the_dtype():
    net = MultiLayerNet(20, [16], 4, seed=0, dtype=np.float32)
    assert net.config()["dtype"] == "float32"
    again = MultiLayerNet(**net.config(), seed=0)
    assert again.params["W1"].dtype == F32


@pytest.mark.parametrize("net_index", [0, 1, 2])
@pytest.mark.parametrize("labels", ["index", "one-hot float64"])
@pytest.mark.parametrize("x_dtype", [np.float32, np.float64, np.int64])
def test_float32_net_stays_float32_from_end_to_end(net_index, labels, x_dtype):
    x, t = _data()
    x = (x * 3).astype(x_dtype)  # int inputs too
    if labels != "index":
        t = F.one_hot(t, 4)  # float64 one-hot rows
    net = _nets(np.float32)[net_index]
    loss, grads = net.loss_gradient(x, t)
    assert loss.dtype == F32
    assert set(grads) == set(net.params)
    for key, g in grads.items():
        assert g.dtype == F32, key
    # every array a layer kept from the forward pass is float32 as well
    for layer in net.layers:
        for name, value in vars(layer).items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                assert value.dtype == F32, (type(layer).__name__, name)
    assert net.predict(x).dtype == F32
    assert net.predict(x[0]).dtype == F32
    for key, value in net.buffers.items():
        assert value.dtype == F32, key


def test_float32_gradient_is_the_float64_gradient_to_float32_precision():
    x, t = _data()
    for net32, net64 in zip(_nets(np.float32), _nets(np.float64)):
        for net in (net32, net64):  # the same dropout masks in both (widths 16, then 8)
            dropouts = [layer for layer in net.layers if hasattr(layer, "fixed_mask")]
            for layer, width in zip(dropouts, (16, 8)):
                layer.fixed_mask = np.random.default_rng(width).random((len(x), width)) >= 0.3
        grads64, grads32 = net64.gradient(x, t), net32.gradient(x, t)
        scale = max(np.abs(g).max() for g in grads64.values())
        for key, g64 in grads64.items():
            # float32 carries ~7 digits: differences of 1e-4 of the largest gradient are rounding
            np.testing.assert_allclose(grads32[key], g64, rtol=0, atol=1e-4 * scale, err_msg=key)


def test_mean_squared_error_layer_keeps_float32():
    y = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    layer = MeanSquaredErrorLoss()
    assert layer.forward(y, np.array([0, 3, 1])).dtype == F32
    assert layer.backward().dtype == F32


# --- functions on float32 -------------------------------------------------------------------


def test_functions_keep_float32():
    x = np.linspace(-3, 3, 30, dtype=np.float32).reshape(3, 10)
    t = np.array([1, 0, 9])
    for f in (F.sigmoid, F.relu, F.tanh, F.softmax, F.log_softmax):
        assert f(x).dtype == F32, f.__name__
        assert f(x[0]).dtype == F32, f.__name__
    assert F.softmax_cross_entropy(x, t).dtype == F32
    assert F.cross_entropy_error(F.softmax(x), t).dtype == F32
    assert F.mean_squared_error(F.softmax(x), t).dtype == F32
    assert F.one_hot(t, 10, dtype=np.float32).dtype == F32
    assert F.one_hot(t, 10).dtype == np.float64


def test_sigmoid_in_place_steps_give_the_textbook_formula_exactly():
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        x = (rng.standard_normal((7, 5)) * 10).astype(dtype)
        before = x.copy()
        np.testing.assert_array_equal(F.sigmoid(x), 0.5 * (1.0 + np.tanh(0.5 * x)))
        np.testing.assert_array_equal(x, before)  # the argument is untouched
    s = F.sigmoid(0.0)
    assert s == 0.5 and np.ndim(s) == 0 and not isinstance(s, np.ndarray)
    assert F.sigmoid(np.array(2)) == pytest.approx(1 / (1 + np.exp(-2)))


@pytest.mark.parametrize("classes", [3, 10, 64, 65, 300])
def test_log_softmax_row_max_path_equals_the_plain_formula(classes):
    rng = np.random.default_rng(classes)
    x = rng.standard_normal((50, classes)) * 30
    shifted = x - np.max(x, axis=-1, keepdims=True)
    expected = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    np.testing.assert_array_equal(engine_functions.log_softmax(x), expected)
    np.testing.assert_array_equal(engine_functions.log_softmax(x[3]), expected[3])


# --- optimizers: in place, the formula's numbers ---------------------------------------------


def _reference_step(name, opt, state, param, g):
    """The update as the formula reads (the textbook's expressions, optim.py), with a new array
    for every intermediate."""
    lr = opt.lr
    if name == "sgd":
        return param - lr * g
    if name == "momentum":
        state["v"] = opt.momentum * state["v"] - lr * g
        return param + state["v"]
    if name == "nesterov":
        state["v"] = opt.momentum * state["v"] - lr * g
        return param + (opt.momentum * state["v"] - lr * g)
    if name == "adagrad":
        state["h"] = state["h"] + g * g
        return param - lr * g / (np.sqrt(state["h"]) + opt.eps)
    if name == "rmsprop":
        state["h"] = opt.decay_rate * state["h"] + (1 - opt.decay_rate) * g**2
        return param - lr * g / (np.sqrt(state["h"]) + opt.eps)
    if name == "adam":
        state["t"] += 1
        state["m"] = opt.beta1 * state["m"] + (1 - opt.beta1) * g
        state["v"] = opt.beta2 * state["v"] + (1 - opt.beta2) * g**2
        m_hat = state["m"] / (1 - opt.beta1 ** state["t"])
        v_hat = state["v"] / (1 - opt.beta2 ** state["t"])
        return param - lr * m_hat / (np.sqrt(v_hat) + opt.eps)
    if name == "adamw":  # the matrices shrunk by lr·λ, then Adam's step
        decayed = param * (1 - lr * opt.decay) if param.ndim >= 2 else param
        return _reference_step("adam", opt, state, decayed, g)
    raise AssertionError(name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_in_place_update_gives_the_formula_exactly_and_leaves_grads_alone(name, dtype):
    rng = np.random.default_rng(7)
    opt = FAST[OPTIMIZERS[name]](lr=0.05)
    params = {
        "W": rng.standard_normal((6, 5)).astype(dtype),
        "b": rng.standard_normal(5).astype(dtype),
    }
    arrays = {k: v for k, v in params.items()}  # the very objects: updated in place
    expected = {k: v.copy() for k, v in params.items()}
    states = {k: {"v": 0, "h": 0, "m": 0, "t": 0} for k in params}
    for _ in range(6):
        grads = {k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()}
        saved = {k: g.copy() for k, g in grads.items()}
        expected = {
            k: _reference_step(name, opt, states[k], expected[k], grads[k]).astype(dtype)
            for k in params
        }
        opt.update(params, grads)
        for key in params:
            assert params[key] is arrays[key]
            assert params[key].dtype == dtype
            np.testing.assert_array_equal(params[key], expected[key], err_msg=key)
            np.testing.assert_array_equal(grads[key], saved[key])  # grads never written into


# --- chunked evaluation ----------------------------------------------------------------------


def test_accuracy_and_predict_in_chunks_equal_one_pass(monkeypatch):
    x, t = _data(n=103)
    net = MultiLayerNet(20, [16], 4, use_batchnorm=True, seed=0)
    Trainer(net, x, t, epochs=2, batch_size=10, seed=0).train()  # running statistics ≠ 0, 1
    net.eval()
    scores = net.scores(x)
    whole_predict = F.softmax(scores)
    whole_accuracy = F.accuracy(scores, t)
    net.train()
    monkeypatch.setattr(nets, "EVAL_BATCH", 10)  # 11 chunks, the last one of 3 rows
    calls = []
    original = net.scores
    monkeypatch.setattr(net, "scores", lambda xb: calls.append(len(xb)) or original(xb))
    np.testing.assert_allclose(net.predict(x), whole_predict, rtol=1e-13, atol=0)
    assert calls == [10] * 10 + [3]
    assert net.accuracy(x, t) == whole_accuracy
    assert net.accuracy(x, F.one_hot(t, 4)) == whole_accuracy
    assert net.training  # the mode is put back


# --- training in float32 --------------------------------------------------------------------


def test_float32_training_learns_as_float64_does():
    from nnscratch.optim import Adam

    x, t = _data(n=600, d=30, c=5)
    x_test, t_test = _data(n=300, d=30, c=5, seed=1)
    histories = {}
    for dtype in (np.float64, np.float32):
        net = MultiLayerNet(30, [32], 5, seed=0, dtype=dtype)
        histories[dtype] = Trainer(
            net,
            x.astype(dtype),
            t,
            x_test,
            t_test,
            epochs=8,
            batch_size=50,
            optimizer=Adam(0.01),
            seed=1,
        ).train()
        assert net.params["W1"].dtype == dtype
    h64, h32 = histories[np.float64], histories[np.float32]
    assert h64["test_acc"][-1] > 0.7  # it learned (chance is 0.2): not a comparison of noise
    np.testing.assert_allclose(h32["train_loss"], h64["train_loss"], rtol=1e-4)
    assert abs(h32["test_acc"][-1] - h64["test_acc"][-1]) <= 0.01


def test_blas_threads_limit_holds_during_the_steps_only():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [
            p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"
        ]

    before = blas_threads()
    if not before:
        pytest.skip("no BLAS library that threadpoolctl can see")
    seen = []
    x, t = _data()
    trainer = Trainer(TwoLayerNet(20, 8, 4, seed=0), x, t, epochs=2, batch_size=50, seed=0)
    trainer.blas_threads = 1
    original_step = trainer.step
    trainer.step = lambda batch: seen.append(blas_threads()) or original_step(batch)
    trainer.train()
    assert seen and all(s == [1] * len(before) for s in seen)
    assert blas_threads() == before
    with blas_limit(None):
        assert blas_threads() == before


@pytest.mark.slow
def test_cli_dtype_option(tmp_path, capsys):
    from nnscratch.cli import main

    assert (
        main(
            [
                "train",
                "--model",
                "two-layer",
                "--epochs",
                "1",
                "--quiet",
                "--dtype",
                "float32",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    config = json.loads((tmp_path / "history.json").read_text())["config"]
    assert config["dtype"] == "float32"
    assert (
        main(["train", "--model", "two-layer", "--epochs", "1", "--quiet", "--out", str(tmp_path)])
        == 0
    )
    config = json.loads((tmp_path / "history.json").read_text())["config"]
    assert config["dtype"] == "float64"  # digits' own type
