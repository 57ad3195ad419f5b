"""Automatic differentiation, define-by-run, in the textbook's plain style (the book's third
volume builds the same, DeZero): :class:`Variable` and :class:`Function` (``core``), the
functions of the graph (``functions``, used as ``F``), and the book's networks differentiated by
the graph instead of by hand-written backward passes (``nets``).

    >>> from nnscratch.autograd import Variable
    >>> x = Variable(3.0)
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> float(x.grad.data)  # 2x + 2
    8.0
"""

from . import functions
from .core import Config, Function, Parameter, Variable, as_variable, no_grad, using_config

__all__ = [
    "Config",
    "Function",
    "Parameter",
    "Variable",
    "as_variable",
    "functions",
    "no_grad",
    "using_config",
]
