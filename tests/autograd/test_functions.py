"""Every function of the autograd graph against chapter 4's numerical gradient, on shapes drawn by
Hypothesis (broadcasting included), and the ones whose backward is itself a graph against the
numerical derivative of their gradient (second derivatives)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnscratch import functions as book
from nnscratch.autograd import Variable
from nnscratch.autograd import functions as F
from nnscratch.errors import NnscratchError
from nnscratch.gradcheck import relative_error
from nnscratch.numgrad import numerical_gradient

TOL = 1e-6  # central differences with h = 1e-5 in float64: errors ~1e-9 of the gradient's scale


def check(f, *arrays, h=1e-5):
    """Backprop of L = Σ f(x…) · G against central differences of L, for every input: the
    largest relative error."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    G = np.random.default_rng(7).standard_normal(np.shape(f(*[Variable(a) for a in arrays]).data))

    def loss(_):
        return float(np.sum(f(*[Variable(a) for a in arrays]).data * G))

    variables = [Variable(a) for a in arrays]
    F.sum(f(*variables) * G).backward()
    errors = []
    for v, a in zip(variables, arrays, strict=True):
        analytic = np.zeros_like(a) if v.grad is None else v.grad.data
        assert analytic.shape == a.shape
        errors.append(relative_error(analytic, numerical_gradient(loss, a, h)))
    return max(errors)


def second(f, a, h=1e-5):
    """d/dx of Σ ∂(Σ f(x) · G)/∂x · H (create_graph) against central differences of the first
    gradient (G and H random: Σ softmax(x), and the sum of its gradient, are constants)."""
    a = np.asarray(a, dtype=np.float64)
    G = np.random.default_rng(8).standard_normal(np.shape(f(Variable(a)).data))
    H = np.random.default_rng(9).standard_normal(a.shape)

    def first(values):
        x = Variable(values)
        F.sum(f(x) * G).backward()
        return x.grad.data

    x = Variable(a)
    F.sum(f(x) * G).backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    F.sum(gx * H).backward()
    analytic = np.zeros_like(a) if x.grad is None else x.grad.data  # −x: f'' = 0, no graph
    numeric = numerical_gradient(lambda v: float(np.sum(first(v) * H)), a, h)
    return relative_error(analytic, numeric)


shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast: the second drops some leading axes and sets others to 1."""
    a = draw(shapes)
    drop = draw(st.integers(0, len(a) - 1))
    b = tuple(1 if draw(st.booleans()) else n for n in a[drop:])
    return (a, b) if draw(st.booleans()) else (b, a)


def arrays(seed, *shape_list, low=None):
    rng = np.random.default_rng(seed)
    out = [rng.standard_normal(s) for s in shape_list]
    return [np.abs(a) + low for a in out] if low is not None else out


SEEDS = st.integers(0, 2**16)
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("name", list(BINARY))
@settings(max_examples=25, deadline=None)
@given(pair=broadcast_pair(), seed=SEEDS)
def test_arithmetic_with_broadcasting(name, pair, seed):
    a, b = arrays(seed, *pair)
    if name == "div":
        b = np.sign(b) * (np.abs(b) + 0.5)  # away from 0
    assert check(BINARY[name], a, b) < TOL


UNARY = {
    "neg": (lambda x: -x, None),
    "pow": (lambda x: x**3, None),
    "sqrt": (lambda x: x**0.5, 0.5),
    "exp": (F.exp, None),
    "log": (F.log, 0.5),
    "sin": (F.sin, None),
    "cos": (F.cos, None),
    "tanh": (F.tanh, None),
    "sigmoid": (F.sigmoid, None),
    "softmax": (F.softmax, None),
}


@pytest.mark.parametrize("name", list(UNARY))
@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=SEEDS)
def test_elementwise_and_softmax(name, shape, seed):
    f, low = UNARY[name]
    (x,) = arrays(seed, shape, low=low)
    assert check(f, x) < TOL


@pytest.mark.parametrize("name", list(UNARY))
def test_second_derivatives(name):
    f, low = UNARY[name]
    (x,) = arrays(3, (2, 3), low=low)
    assert second(f, x) < 1e-5


@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=SEEDS)
def test_relu_away_from_its_kink(shape, seed):
    (x,) = arrays(seed, shape)
    x = np.where(np.abs(x) < 1e-3, 0.5, x)
    assert check(F.relu, x) < TOL


@settings(max_examples=20, deadline=None)
@given(shape=shapes, seed=SEEDS, data=st.data())
def test_shape_functions(shape, seed, data):
    (x,) = arrays(seed, shape)
    # a permutation with some axes counted from the end (−1 is the last)
    axes = tuple(
        a - len(shape) if data.draw(st.booleans()) else a
        for a in data.draw(st.permutations(range(len(shape))))
    )
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    several = tuple(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)))
    keepdims = data.draw(st.booleans())
    assert check(lambda v: F.reshape(v, (int(np.prod(shape)),)), x) < TOL
    assert check(lambda v: F.transpose(v, axes), x) < TOL
    assert check(lambda v: F.sum(v, axis, keepdims), x) < TOL
    assert check(lambda v: F.sum(v, several, keepdims), x) < TOL
    assert check(lambda v: F.sum(v, np.int64(axis)), x) < TOL  # a NumPy int, as NumPy gives
    assert check(lambda v: F.mean(v, axis, keepdims), x) < TOL
    assert check(lambda v: F.broadcast_to(v, (2, *shape)), x) < TOL
    assert check(lambda v: F.sum_to(v, (1,) * len(shape)), x) < TOL
    # an index met twice receives both gradients
    index = data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5))
    assert check(lambda v: v[np.array(index)], x) < TOL
    assert check(lambda v: v[..., ::2], x) < TOL  # slices and Ellipsis
    assert check(lambda v: v[x > 0], x) < TOL  # a boolean mask


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 5), d=st.integers(1, 5), h=st.integers(1, 5), seed=SEEDS)
def test_products(n, d, h, seed):
    x, W, b = arrays(seed, (n, d), (d, h), (h,))
    assert check(F.matmul, x, W) < TOL
    assert check(lambda a, B: a @ B, x, W) < TOL
    assert check(F.linear, x, W, b) < TOL
    assert second(lambda v: F.matmul(v * v, W), x) < 1e-5


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 6), c=st.integers(2, 5), seed=SEEDS, one_hot=st.booleans())
def test_losses(n, c, seed, one_hot):
    (x,) = arrays(seed, (n, c))
    t = np.random.default_rng(seed).integers(0, c, n)
    labels = book.one_hot(t, c) if one_hot else t
    assert check(lambda v: F.softmax_cross_entropy(v, labels), x) < TOL
    loss = F.softmax_cross_entropy(Variable(x), labels)
    assert loss.data == pytest.approx(book.softmax_cross_entropy(x, t))
    assert check(lambda v: F.mean_squared_error(v, book.one_hot(t, c)), x) < TOL


@pytest.mark.parametrize("training", [True, False])
@settings(max_examples=10, deadline=None)
# from 3 rows: with 2, x̂ = ±1 whatever x is, and ∂L/∂x is ε's round-off alone
@given(n=st.integers(3, 6), d=st.integers(1, 4), seed=SEEDS)
def test_batch_norm(training, n, d, seed):
    x, gamma, beta = arrays(seed, (n, d), (d,), (d,))
    running = {"m": np.full(d, 0.1), "v": np.full(d, 1.5)}

    def f(v, g, b):  # each call on a copy: the running statistics stay where they were
        return F.batch_norm(v, g, b, dict(running), ("m", "v"), training, 0.9, 1e-5)

    assert check(f, x, gamma, beta) < TOL


def test_batch_norm_updates_the_running_statistics_as_the_book():
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    running = {"m": np.zeros(2), "v": np.ones(2)}
    F.batch_norm(x, np.ones(2), np.zeros(2), running, ("m", "v"), True, 0.9, 1e-5)
    np.testing.assert_allclose(running["m"], 0.1 * np.array([2.0, 4.0]))
    np.testing.assert_allclose(running["v"], 0.9 + 0.1 * np.array([1.0, 4.0]))


@settings(max_examples=10, deadline=None)
@given(shape=shapes, seed=SEEDS)
def test_dropout_with_a_fixed_generator(shape, seed):
    (x,) = arrays(seed, shape)
    assert check(lambda v: F.dropout(v, 0.4, np.random.default_rng(seed)), x) < TOL
    assert F.dropout(Variable(x), 0.4, np.random.default_rng(0), training=False).data is x
    mask = np.random.default_rng(seed).random(shape) >= 0.4
    np.testing.assert_array_equal(F.dropout(Variable(x), 0.4, None, mask=mask).data, x * mask / 0.6)


def test_dropout_of_everything_is_refused():
    with pytest.raises(NnscratchError, match=r"dropout ratio must be a number in \[0, 1\)"):
        F.dropout(Variable(np.ones(3)), 1.0, np.random.default_rng(0))


@settings(max_examples=10, deadline=None)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 2),
    side=st.integers(4, 6),
    filters=st.integers(1, 3),
    size=st.integers(1, 3),
    pad=st.integers(0, 1),
    stride=st.integers(1, 2),
    seed=SEEDS,
)
def test_convolution(n, c, side, filters, size, pad, stride, seed):
    x, W, b = arrays(seed, (n, c, side, side), (filters, c, size, size), (filters,))
    assert check(lambda v, w, bb: F.conv2d(v, w, bb, stride, pad), x, W, b) < TOL


@pytest.mark.parametrize("mode", ["max", "average"])
@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 2), side=st.sampled_from([4, 6]), seed=SEEDS)
def test_pooling(mode, n, c, side, seed):
    # distinct values, far apart: no window has a tie within h
    x = np.random.default_rng(seed).permutation(n * c * side * side).reshape(n, c, side, side)
    assert check(lambda v: F.pooling(v, 2, 2, 2, 0, mode), x * 0.1) < TOL
    assert check(lambda v: F.pooling(v, 3, 3, 2, 1, mode), x * 0.1) < TOL  # padded, overlapping
