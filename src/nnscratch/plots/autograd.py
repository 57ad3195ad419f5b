"""The figures of computational graphs and automatic differentiation: the book's shopping graph
(figure 5-17), the graph that ``backward(create_graph=True)`` builds for tanh's second
derivative, the loss graph of a TwoLayerNet, and tanh with its first derivatives — each gradient
a graph of its own, differentiated again (the book's third volume draws the same)."""

import numpy as np
from matplotlib.figure import Figure

from ..autograd import Variable
from ..autograd import functions as F
from ..autograd.nets import loss_variable, parameters
from ..layer_naive import buy_apple_orange
from ..run.build import network
from .graph import from_variable, graph_figure
from .lang import localized, strings_for


def derivatives(f, x, n):
    """[f(x), f'(x), ..., f⁽ⁿ⁾(x)] at the points ``x``, by differentiating the gradient's graph
    again and again; and the last derivative's graph (a Variable) to draw."""
    x = Variable(np.asarray(x, dtype=np.float64), name="x")
    y = f(x)
    y.name = "y"
    values = [y.data]
    for k in range(1, n + 1):
        x.cleargrad()
        y.backward(create_graph=True)
        y = x.grad
        y.name = f"gx{k}"
        values.append(y.data)
    return values, y


@localized
def tanh_derivatives(n=3, *, s):
    """tanh and its first ``n`` derivatives on [−4, 4], every curve from the graph."""
    x = np.linspace(-4, 4, 200)
    values, _ = derivatives(F.tanh, x, n)
    fig = Figure(figsize=(7.5, 4.8))
    ax = fig.subplots()
    for k, y in enumerate(values):
        label = s["derivatives.function"] if k == 0 else s["derivatives.label"].format(k=k)
        ax.plot(x, y, lw=2.2 if k == 0 else 1.6, label=label)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set(xlabel="x", ylabel=s["derivatives.ylabel"], ylim=(-2.5, 2.5))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=10)
    ax.set_title(s["derivatives.title"].format(n=n))
    return fig


def shopping_graph(lang="en"):
    """The book's figure 5-17: 2 apples at 100, 3 oranges at 150, tax 1.1; the values above the
    arrows, the derivatives of the price below (MulLayer and AddLayer's backward)."""
    return graph_figure(buy_apple_orange().graph(), lang=lang)


def tanh_graph(n=2, lang="en"):
    """The graph of tanh's ``n``-th derivative at x = 1: what ``backward(create_graph=True)``
    recorded while computing the derivatives before it."""
    _, y = derivatives(F.tanh, np.array(1.0), n)
    title = strings_for(lang)["graph.tanh"].format(n=n)
    return graph_figure(from_variable(y), title, lang=lang)


def loss_graph(sizes=(2, 3, 2), lang="en"):
    """The loss graph of a small TwoLayerNet: the forward pass x → linear → sigmoid → linear →
    softmax_cross_entropy, each parameter a leaf, with every value (its shape, its range) and
    the gradient ``loss.backward()`` gave it."""
    spec = {"model": "two-layer", "hidden": sizes[1:2]}
    net = network(spec, sizes[:1], sizes[2], seed=0)
    x = np.random.default_rng(0).standard_normal((4, sizes[0]))
    loss = loss_variable(net, x, np.array([0, 1, 1, 0]) % sizes[2], parameters(net))
    loss.backward(retain_grad=True)  # every variable's gradient, shown under its shape
    title = strings_for(lang)["graph.loss"].format(sizes="-".join(map(str, sizes)))
    return graph_figure(from_variable(loss, values=True, grads=True), title, lang=lang)
