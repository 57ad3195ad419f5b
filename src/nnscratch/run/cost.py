"""What one gradient costs by each method: the lesson of chapter 5 in three numbers.

- backpropagation: one forward and one backward pass (``net.gradient``);
- the engine's numerical gradient (``engine.numgrad``): the notebook's central differences, two
  loss evaluations per weight, computed with far fewer passes;
- the textbook's naive loop (``net.numerical_gradient`` on the book's classes): two whole forward
  passes for every one of the network's weights, as the book's code does it.

Each is timed on copies of the network (the run's own is left as it is), on the same mini-batch.
The naive loop is timed in full where it fits :data:`NAIVE_BUDGET`; beyond that it is estimated
from the time of its loss evaluations, 2 · (number of weights) · (one loss), which is what it is
made of.
"""

import copy
import time

#: Seconds the naive loop may be timed in full; a larger network's is estimated instead.
NAIVE_BUDGET = 3.0


def _seconds(compute, budget, most=7):
    """The median seconds of ``compute()`` over calls for about ``budget`` seconds (1 to
    ``most`` calls)."""
    times = []
    while len(times) < most and (not times or sum(times) < budget):
        start = time.perf_counter()
        compute()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def gradient_costs(net, x, t, budget=0.5):
    """``{"backprop": s, "numerical": s, "naive": s, "naive_estimated": bool}``: seconds per
    gradient of the mini-batch ``(x, t)`` of ``net`` by backpropagation and the engine's
    numerical gradient (each timed for about ``budget`` seconds), and by the textbook's naive
    loop (timed once, or estimated: see the module)."""
    from .. import engine
    from ..engine import numgrad

    fast, book = copy.deepcopy(net), copy.deepcopy(net)
    engine.use("fast", fast)
    engine.use("book", book)
    costs = {
        "backprop": _seconds(lambda: fast.gradient(x, t), budget),
        "numerical": _seconds(lambda: numgrad.numerical_gradient(fast, x, t), budget),
    }
    n_weights = sum(p.size for p in book.params.values())
    estimate = 2 * n_weights * _seconds(lambda: book.loss(x, t), budget / 5)
    costs["naive_estimated"] = estimate > NAIVE_BUDGET
    costs["naive"] = (
        estimate if costs["naive_estimated"] else _seconds(lambda: book.numerical_gradient(x, t), 0)
    )
    return costs
