"""The book's learning loop (``loop.learn``): it learns, it stays the book's few lines, and the
Trainer gives the same history on the same seed (batches drawn with replacement, as the book)."""

import ast
import inspect

import numpy as np
import pytest

from nnscratch import loop
from nnscratch.datasets import load_dataset
from nnscratch.loop import learn
from nnscratch.nets import MultiLayerNet, TwoLayerNet
from nnscratch.optim import SGD, Adam
from nnscratch.run.trainer import Trainer

DATA = load_dataset("digits")


def test_the_loop_is_a_few_lines_of_the_book():
    tree = ast.parse(inspect.getsource(loop.learn))
    function = tree.body[0]
    body = function.body[1:]  # the docstring aside
    lines = body[-1].end_lineno - body[0].lineno + 1
    assert lines <= 15, lines
    calls = {
        node.func.attr
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert {"choice", "loss_gradient", "update", "accuracy"} <= calls


def test_the_loop_learns_the_digits():
    net = TwoLayerNet(64, 50, 10, seed=0)
    history = learn(
        net,
        SGD(0.5),
        DATA.x_train,
        DATA.t_train,
        DATA.x_test,
        DATA.t_test,
        epochs=20,
        batch_size=32,
        seed=1,
    )
    assert len(history["train_loss"]) == 20 * 45 and len(history["test_acc"]) == 20
    assert history["test_acc"][-1] > 0.93 and history["test_acc"][-1] > history["test_acc"][0]
    assert np.mean(history["train_loss"][-45:]) < np.mean(history["train_loss"][:45]) / 3


@pytest.mark.parametrize(
    "make, optimizer",
    [
        (lambda: TwoLayerNet(64, 20, 10, seed=3), lambda: SGD(0.5)),
        (
            lambda: MultiLayerNet(64, [30, 20], 10, use_batchnorm=True, dropout=0.2, seed=3),
            lambda: Adam(0.01),
        ),
    ],
)
@pytest.mark.parametrize("engine", ["book", "fast"])
def test_the_trainer_gives_the_loops_history(make, optimizer, engine):
    x, t = DATA.x_train[:500], DATA.t_train[:500]
    book = learn(
        make(), optimizer(), x, t, DATA.x_test, DATA.t_test, epochs=3, batch_size=40, seed=7
    )
    trainer = Trainer(
        make(),
        x,
        t,
        DATA.x_test,
        DATA.t_test,
        epochs=3,
        batch_size=40,
        optimizer=optimizer(),
        sampling="replacement",
        seed=7,
        engine=engine,
    )
    history = trainer.train()
    if engine == "book":  # the same classes: the same numbers, to the bit
        for key in book:
            assert history[key] == book[key], key
    else:  # the engine's: the same within rounding
        np.testing.assert_allclose(history["train_loss"], book["train_loss"], rtol=1e-9)
        assert history["test_acc"] == book["test_acc"]
