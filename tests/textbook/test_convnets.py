"""SimpleConvNet and DeepConvNet: backprop against the numerical gradient on tiny images, the
book's shapes and initialisation, float32 from end to end, image-shaped data checked at the
boundary, saving and loading, a checkpoint that resumes bit-identically, and learning digits."""

import json

import numpy as np
import pytest

from nnscratch import functions as F
from nnscratch.conv import Convolution, Pooling
from nnscratch.convnets import DeepConvNet, SimpleConvNet
from nnscratch.datasets import load_dataset
from nnscratch.engine import numgrad as numgrad_fast
from nnscratch.errors import NnscratchError
from nnscratch.gradcheck import gradient_check
from nnscratch.io import build_network, describe_architecture, load_model, save_model
from nnscratch.layers import Dropout, Relu
from nnscratch.nets import MultiLayerNet
from nnscratch.optim import Adam
from nnscratch.run.callbacks import CheckpointSaver
from nnscratch.run.interrupt import TrainingInterrupted
from nnscratch.run.trainer import Trainer
from nnscratch.validation import check_inputs, input_size, output_size
from tests.helpers import StopAt

H = 1e-5  # float64 central differences; see the kink margin below
TINY_SIMPLE = dict(
    input_dim=(1, 8, 8),
    conv_param={"filter_num": 3, "filter_size": 3},
    hidden_size=6,
    output_size=4,
    weight_init_std=0.3,
)
TINY_DEEP = dict(input_dim=(2, 7, 9), filter_nums=(2, 2, 3, 3, 4, 4), hidden_size=5, output_size=3)


def kink_margin(net, x):
    """How far the data is from the kinks the numerical gradient must not straddle: the smallest
    |input| of any ReLU, and the smallest gap between the largest and second largest value of
    any max-pooling window whose maximum is positive (where the maximum changes hands; a window of
    ReLU's zeros has no gradient to hand on), in the current mode."""
    margin = np.inf
    for layer in net.layers:
        if isinstance(layer, Relu):
            margin = min(margin, float(np.min(np.abs(x))))
        if isinstance(layer, Pooling):
            N, C, oh, ow = layer.output_shape(x.shape)  # 2×2, stride 2: crop, then windows
            windows = x[:, :, : 2 * oh, : 2 * ow].reshape(N, C, oh, 2, ow, 2)
            top = np.sort(windows.transpose(0, 1, 2, 4, 3, 5).reshape(N, C, oh, ow, 4), axis=-1)
            gap = np.where(top[..., -1] > 0, top[..., -1] - top[..., -2], np.inf)
            margin = min(margin, float(np.min(gap)))
        x = layer.forward(x)
    return margin


def fix_dropout_masks(net, x):
    """Draw each Dropout layer's mask once, then hold it: the loss becomes a fixed function."""
    for layer in net.layers:
        if isinstance(layer, Dropout):
            layer.fixed_mask = layer.rng.random(x.shape) >= layer.ratio
        x = layer.forward(x)


def data_away_from_kinks(make_net, shape, n_classes, n=3):
    """(net, x, t) for the first seed whose data keeps every kink more than 10·h away."""
    for seed in range(50):
        net = make_net(seed)
        rng = np.random.default_rng(seed)
        x, t = rng.standard_normal((n, *shape)), rng.integers(0, n_classes, n)
        fix_dropout_masks(net, x)
        if kink_margin(net, x) > 10 * H:
            return net, x, t
    pytest.fail("no seed with the data away from every kink")


@pytest.mark.parametrize(
    "kwargs",
    [
        TINY_SIMPLE,
        dict(
            TINY_SIMPLE,
            input_dim=(2, 7, 9),
            conv_param={"filter_num": 2, "filter_size": 3, "pad": 1, "stride": 1},
        ),
        dict(
            TINY_SIMPLE,
            input_dim=(3, 9, 8),
            conv_param={"filter_num": 2, "filter_size": 2, "pad": 1, "stride": 2},
        ),
    ],
)
def test_simple_convnet_gradient_check(kwargs):
    net, x, t = data_away_from_kinks(
        lambda seed: SimpleConvNet(**kwargs, seed=seed), kwargs["input_dim"], kwargs["output_size"]
    )
    errors = gradient_check(net, x, t, h=H)
    assert set(errors) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.slow
@pytest.mark.parametrize("dropout", [0.0, 0.4])
@pytest.mark.parametrize("input_dim", [(1, 8, 8), (2, 7, 9)])
def test_deep_convnet_gradient_check(input_dim, dropout):
    kwargs = dict(TINY_DEEP, input_dim=input_dim, dropout=dropout)
    net, x, t = data_away_from_kinks(
        lambda seed: DeepConvNet(**kwargs, seed=seed), input_dim, kwargs["output_size"]
    )
    errors = gradient_check(net, x, t, h=H)
    assert set(errors) == {f"{p}{i}" for p in "Wb" for i in range(1, 9)}
    assert max(errors.values()) < 1e-7, errors


def test_simple_convnet_shapes_and_initialisation():
    net = SimpleConvNet(seed=0)  # the book's: 30 filters 5×5 on 28×28, 100 hidden, 10 classes
    shapes = {key: value.shape for key, value in net.params.items()}
    assert shapes == {
        "W1": (30, 1, 5, 5),
        "b1": (30,),
        "W2": (30 * 12 * 12, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    assert 0.009 < net.params["W2"].std() < 0.011 and not net.params["b1"].any()
    x = np.random.default_rng(0).random((2, 1, 28, 28))
    assert net.predict(x).shape == (2, 10)
    # stride 2, pad 2 on (3, 10, 12): conv (10 + 4 − 5) // 2 + 1 = 5 by 6, pooled 2 by 3
    other = SimpleConvNet(
        input_dim=(3, 10, 12), conv_param={"filter_num": 4, "stride": 2, "pad": 2}, hidden_size=7
    )
    assert other.params["W1"].shape == (4, 3, 5, 5) and other.params["W2"].shape == (4 * 6, 7)


def test_simple_convnet_is_the_books_conv_relu_pool():
    net = SimpleConvNet(**TINY_SIMPLE, seed=3)
    assert [type(layer).__name__ for layer in net.layers] == [
        "Convolution",
        "Relu",
        "Pooling",
        "Flatten",
        "Affine",
        "Relu",
        "Affine",
    ]


def test_deep_convnet_is_the_books_architecture():
    net = DeepConvNet(seed=0)
    shapes = {key: value.shape for key, value in net.params.items() if key.startswith("W")}
    assert shapes == {
        "W1": (16, 1, 3, 3),
        "W2": (16, 16, 3, 3),
        "W3": (32, 16, 3, 3),
        "W4": (32, 32, 3, 3),
        "W5": (64, 32, 3, 3),
        "W6": (64, 64, 3, 3),
        "W7": (64 * 4 * 4, 50),
        "W8": (50, 10),
    }  # 28 → 14 → 16 (pad 2) → 8 → 4
    assert [layer.pad for layer in net.layers if isinstance(layer, Convolution)] == [
        1,
        1,
        1,
        2,
        1,
        1,
    ]
    # He: std √(2 / fan_in), fan_in = C·3·3 for a convolution (the book's pre_node_nums)
    for key, fan_in in (("W2", 16 * 9), ("W6", 64 * 9), ("W7", 1024)):
        assert abs(net.params[key].std() / np.sqrt(2 / fan_in) - 1) < 0.05, key
    assert all(not net.params[f"b{i}"].any() for i in range(1, 9))
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds[-5:] == ["Affine", "Relu", "Dropout", "Affine", "Dropout"]
    assert kinds.count("Pooling") == 3 and kinds.count("Relu") == 7
    assert all(layer.ratio == 0.5 for layer in net.layers if isinstance(layer, Dropout))


def test_dropout_masks_change_no_weight_draw():
    a, b = DeepConvNet(**TINY_DEEP, seed=5), DeepConvNet(**TINY_DEEP, dropout=0.0, seed=5)
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])


@pytest.mark.parametrize(
    "make",
    [
        lambda dtype: SimpleConvNet(**TINY_SIMPLE, seed=0, dtype=dtype),
        lambda dtype: DeepConvNet(**TINY_DEEP, seed=0, dtype=dtype),
    ],
)
def test_float32_networks_compute_in_float32(make):
    net32, net64 = make(np.float32), make(np.float64)
    x = np.random.default_rng(6).standard_normal((4, *net32.input_dim))
    t = np.array([0, 1, 2, 0])
    a = x.astype(np.float32)
    for layer in net32.layers:
        a = layer.forward(a)
        assert a.dtype == np.float32, type(layer).__name__
    loss, grads = net32.loss_gradient(x, t)  # float64 data is cast on the way in
    assert all(g.dtype == np.float32 for g in grads.values())
    assert net32.predict(x).dtype == np.float32
    # the same weights, rounded: the same function up to float32's precision
    net64.eval(), net32.eval()
    np.testing.assert_allclose(net32.predict(x), net64.predict(x), rtol=1e-4, atol=1e-5)


def test_input_and_output_size_and_the_fast_numerical_gradient():
    net = SimpleConvNet(**TINY_SIMPLE)
    assert input_size(net) == (1, 8, 8) and output_size(net) == 4
    assert input_size(DeepConvNet(**TINY_DEEP)) == (2, 7, 9)
    assert not numgrad_fast.supports(net)  # Trainer's grad="numerical" takes the naive loop
    with pytest.raises(NnscratchError, match="Convolution.* not supported by the fast numerical"):
        numgrad_fast.fast_numerical_gradient(net, np.zeros((2, 1, 8, 8)), [0, 1])


def test_flat_data_for_a_conv_net_and_images_for_a_dense_net_are_clear_errors():
    conv = SimpleConvNet(**TINY_SIMPLE)
    t = np.zeros(5, int)
    with pytest.raises(
        NnscratchError,
        match=r"x_train has shape \(5, 64\) but the model is "
        r"convolutional: it takes images \(N, 1, 8, 8\) "
        r"\(load the data with flatten=False",
    ):
        Trainer(conv, np.zeros((5, 64)), t)
    with pytest.raises(
        NnscratchError,
        match=r"x_train holds images of shape \(1, 8, 9\) but the "
        r"model takes \(1, 8, 8\)",
    ):
        Trainer(conv, np.zeros((5, 1, 8, 9)), t)
    with pytest.raises(
        NnscratchError,
        match=r"x_test has shape \(5, 1, 8, 8\): give an \(N, D\) "
        r"array.* flatten=True",
    ):
        Trainer(MultiLayerNet(64, [4], 4), np.zeros((5, 64)), t, np.zeros((5, 1, 8, 8)), t)
    with pytest.raises(NnscratchError, match="x holds NaN in 1 of 3 samples"):
        check_inputs(np.where(np.arange(192).reshape(3, 1, 8, 8) == 70, np.nan, 0.0), (1, 8, 8))
    assert check_inputs(np.zeros((1, 8, 8)), (1, 8, 8)).shape == (1, 1, 8, 8)  # one image
    with pytest.raises(NnscratchError, match="Convolution W1 takes images"):
        conv.predict(np.zeros((5, 64)))  # past the boundary too: the layer names itself


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(input_dim=(28, 28)), r"input_dim must be the image shape \(C, H, W\)"),
        (dict(input_dim=(1, 0, 28)), "every size of input_dim must be a positive integer, got 0"),
        (dict(conv_param={"filters": 3}), "conv_param must be a dict with keys among filter_num"),
        (dict(conv_param={"pad": -1}), "conv_param pad must be an integer ≥ 0, got -1"),
        (
            dict(conv_param={"filter_size": 29}),
            "Convolution W1: an image height of 28 with padding "
            "0 is 28, smaller than the window's 29",
        ),
        (dict(hidden_size=0), "hidden_size must be a positive integer"),
        (dict(weight_init_std=-1), r"weight_init_std must be a number in \[0, ∞\)"),
        (dict(dtype=np.int32), "dtype must be float32 or float64"),
    ],
)
def test_simple_convnet_bad_arguments(kwargs, match):
    with pytest.raises(NnscratchError, match=match):
        SimpleConvNet(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            dict(filter_nums=(16, 16)),
            r"filter_nums must be the six convolutions' numbers of "
            r"filters, e.g. the book's \(16, 16, 32, 32, 64, 64\)",
        ),
        (dict(dropout=1.0), r"dropout must be a number in \[0, 1\)"),
        (dict(input_dim=(1, 1, 1)), "Pooling: an image height of 1"),
    ],
)
def test_deep_convnet_bad_arguments(kwargs, match):
    with pytest.raises(NnscratchError, match=match):
        DeepConvNet(**kwargs)


# --- saving, loading, resuming --------------------------------------------------------------

NETS = {
    "simple": lambda seed, dtype=np.float64: SimpleConvNet(
        input_dim=(1, 8, 8),
        conv_param={"filter_num": 4, "filter_size": 3},
        hidden_size=16,
        seed=seed,
        dtype=dtype,
    ),
    "deep-dropout": lambda seed, dtype=np.float64: DeepConvNet(
        input_dim=(1, 8, 8),
        filter_nums=(4, 4, 6, 6, 8, 8),
        hidden_size=16,
        dropout=0.3,
        seed=seed,
        dtype=dtype,
    ),
}


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits", flatten=False)
    assert data.x_train.shape[1:] == (1, 8, 8)
    return data


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NETS)
def test_model_file_roundtrip_gives_identical_predictions(name, dtype, digits, tmp_path):
    net = NETS[name](seed=1, dtype=dtype)
    Trainer(
        net,
        digits.x_train[:200],
        digits.t_train[:200],
        epochs=1,
        batch_size=50,
        optimizer=Adam(0.01),
        seed=0,
    ).train()
    config = net.config()
    assert build_network(describe_architecture(net)).config() == config  # cls(**config, seed=0)
    path = save_model(tmp_path / "model.npz", net)
    loaded = load_model(path)
    assert type(loaded) is type(net) and loaded.config() == config
    assert loaded.params["W1"].dtype == dtype
    np.testing.assert_array_equal(loaded.predict(digits.x_test), net.predict(digits.x_test))


#: networks whose largest parameter is smaller than their image's side (28 > 16 values of W7,
#: 28 > 25 values of W1), and one with every option of SimpleConvNet away from its default
SMALL_NETS = [
    (DeepConvNet, dict(filter_nums=(1,) * 6, hidden_size=1)),
    (
        SimpleConvNet,
        dict(conv_param={"filter_num": 1, "filter_size": 5, "stride": 4}, hidden_size=1),
    ),
    (
        SimpleConvNet,
        dict(
            input_dim=(2, 11, 7),
            conv_param={"filter_num": 2, "filter_size": 3, "pad": 2, "stride": 2},
            hidden_size=3,
            output_size=4,
        ),
    ),
    (DeepConvNet, dict(TINY_DEEP)),
]


@pytest.mark.parametrize("cls, kwargs", SMALL_NETS)
def test_array_sides_are_the_sides_of_the_built_networks_arrays(cls, kwargs):
    net = cls(**kwargs, seed=0)
    sides = cls.array_sides(net.config())
    assert max(sides) <= max(p.size for p in net.params.values())
    *sizes, h, w = sides
    # the maps Flatten hands on, found by running the network: (N, C, h, w)
    x = np.zeros((1, *net.input_dim))
    for layer in net.layers:
        if type(layer).__name__ == "Flatten":
            assert x.shape[2:] == (h, w)
            break
        x = layer.forward(x)
    shapes = {side for p in net.params.values() for side in p.shape}
    assert set(sizes) <= shapes


@pytest.mark.parametrize("cls, kwargs", SMALL_NETS)
def test_a_small_conv_net_saves_and_loads(cls, kwargs, tmp_path):
    # the size check once refused a valid DeepConvNet of one filter per layer as damaged: its
    # 28×28 images are larger than its largest parameter
    net = cls(**kwargs, seed=2)
    loaded = load_model(save_model(tmp_path / "small.npz", net))
    x = np.random.default_rng(0).standard_normal((3, *net.input_dim))
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


@pytest.mark.parametrize(
    "edit, size",
    [
        ({"input_dim": [1, 10**6, 10**6]}, 125000),  # W7 would be 64·125000²·50 values
        ({"hidden_size": 10**9}, 10**9),
        ({"filter_nums": [16, 16, 32, 32, 64, 10**7]}, 10**7),
    ],
)
def test_a_conv_net_file_asking_for_a_huge_network_is_refused_before_building(edit, size, tmp_path):
    net = DeepConvNet(seed=0, filter_nums=(2,) * 6, hidden_size=3)
    path = save_model(tmp_path / "m.npz", net)
    with np.load(path) as data:
        arrays = dict(data)
    meta = json.loads(arrays["__meta__"].tobytes())
    meta["architecture"]["kwargs"].update(edit)
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(NnscratchError, match=f"asks for size {size} but its largest parameter"):
        load_model(path)


def _run(name, digits, net_seed=1, callbacks=()):
    return Trainer(
        NETS[name](net_seed),
        digits.x_train[:120],
        digits.t_train[:120],
        digits.x_test[:60],
        digits.t_test[:60],
        epochs=3,
        batch_size=32,
        optimizer=Adam(0.005),
        seed=2,
        validation_split=0.2,
        callbacks=callbacks,
    )


@pytest.mark.parametrize("name", NETS)
def test_checkpoint_resumes_bit_identically(name, digits, tmp_path):
    whole = _run(name, digits)
    whole.train()
    stop = whole.iter_per_epoch + 2  # mid-epoch: the batch order and dropout masks must carry
    with pytest.raises(TrainingInterrupted):
        _run(name, digits, callbacks=[StopAt(stop), CheckpointSaver(tmp_path)]).train()
    resumed = _run(name, digits, net_seed=99, callbacks=[CheckpointSaver(tmp_path)])
    resumed.load_checkpoint(tmp_path)  # every weight must come from the checkpoint
    resumed.train()
    for key in whole.net.params:
        np.testing.assert_array_equal(resumed.net.params[key], whole.net.params[key], err_msg=key)
    for key in whole.history:
        if key != "epoch_seconds":
            np.testing.assert_array_equal(resumed.history[key], whole.history[key], err_msg=key)


def test_evaluation_in_chunks_equals_one_pass(digits, monkeypatch):
    net = NETS["deep-dropout"](seed=0)
    x, t = digits.x_test[:103], digits.t_test[:103]
    with net.evaluating():
        scores = net.scores(x)
    monkeypatch.setattr(net, "eval_batch", 10)  # 11 chunks, the last one of 3 images
    np.testing.assert_allclose(net.predict(x), F.softmax(scores), rtol=1e-13, atol=0)
    assert net.accuracy(x, t) == F.accuracy(scores, t)
    assert net.training  # the mode is put back


def test_simple_convnet_learns_digits(digits):
    net = SimpleConvNet(
        input_dim=(1, 8, 8),
        conv_param={"filter_num": 16, "filter_size": 3},
        hidden_size=64,
        seed=0,
        dtype=np.float32,
    )
    history = Trainer(
        net,
        digits.x_train,
        digits.t_train,
        digits.x_test,
        digits.t_test,
        epochs=5,
        batch_size=50,
        optimizer=Adam(0.01),
        seed=0,
    ).train()
    assert history["test_acc"][-1] > 0.85  # chance is 0.1


def test_numerical_gradient_training_step_runs_on_a_conv_net(digits):
    net = SimpleConvNet(
        input_dim=(1, 8, 8),
        conv_param={"filter_num": 2, "filter_size": 3},
        hidden_size=4,
        weight_init_std=0.3,
        seed=0,
    )
    before = {key: value.copy() for key, value in net.params.items()}
    Trainer(
        net,
        digits.x_train[:8],
        digits.t_train[:8],
        epochs=1,
        batch_size=4,
        grad="numerical",
        lr=0.1,
        seed=0,
    ).train()
    assert all(not np.array_equal(before[key], net.params[key]) for key in ("W1", "W3"))
