"""DeZero's way of writing a model: layers that hold their Parameters, no backward written; the
book's optimizers step them in place."""

import numpy as np

from nnscratch.autograd import Variable
from nnscratch.autograd import functions as F
from nnscratch.autograd.layers import MLP, Linear
from nnscratch.gradcheck import relative_error
from nnscratch.numgrad import numerical_gradient
from nnscratch.optim import SGD


def test_linear_by_hand():
    layer = Linear(3, 2, seed=0)
    layer.W.data[...] = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    layer.b.data[...] = [0.5, -1.0]
    y = layer(np.array([[1.0, 0.0, -1.0]]))
    np.testing.assert_array_equal(y.data, [[1 - 5 + 0.5, 2 - 6 - 1.0]])


def test_an_mlp_names_its_parameters_and_gets_their_gradients():
    model = MLP([2, 5, 3], seed=1)
    assert [name for name, _ in model.named_params()] == ["l0.W", "l0.b", "l1.W", "l1.b"]
    x, t = np.random.default_rng(0).standard_normal((4, 2)), np.array([0, 1, 2, 1])
    loss = F.softmax_cross_entropy(model(x), t)
    model.cleargrads()
    loss.backward()
    arrays, grads = model.arrays(), model.grads()
    for name in arrays:
        numeric = numerical_gradient(
            lambda _: float(F.softmax_cross_entropy(model(x), t).data), arrays[name], 1e-5
        )
        assert relative_error(grads[name], numeric) < 1e-6


def test_the_books_optimizer_trains_it_in_place():
    """sin(2πx) from 100 noisy points (DeZero's step 43): a 1-10-1 sigmoid MLP by SGD."""
    rng = np.random.default_rng(0)
    x = rng.random((100, 1))
    y = np.sin(2 * np.pi * x) + 0.1 * rng.random((100, 1))
    model = MLP([1, 10, 1], seed=0)
    optimizer = SGD(lr=0.2)
    first = None
    for _ in range(5000):
        loss = F.mean_squared_error(model(x), y)
        model.cleargrads()
        loss.backward()
        optimizer.update(model.arrays(), model.grads())
        first = float(loss.data) if first is None else first
    assert isinstance(model.l[0].W, Variable)
    # the sine's own variance is ½: a loss of 0.05 is a curve that follows it
    assert float(loss.data) < 0.05 and float(loss.data) < 0.1 * first
