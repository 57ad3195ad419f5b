"""nnscratch: how a neural network learns, from scratch in NumPy.

The public names are loaded when first used (a lazy attribute table, PEP 562): ``import nnscratch``
imports nothing heavy, and ``nnscratch.Trainer`` imports what the Trainer needs.

- the textbook: ``functions``, ``numgrad``, ``layers``, ``conv``, ``optim``, ``nets``,
  ``convnets``, ``loop`` (the book's learning loop, :func:`learn`);
- the engine: ``nnscratch.engine`` (the same interfaces, computed fast, tested equal);
- a run: ``nnscratch.run`` (the option table, :func:`build`, :class:`Trainer`, callbacks,
  checkpoints); model files: ``io``; data: ``datasets``; figures: ``plots``.
"""

import importlib
from typing import TYPE_CHECKING, Any

#: public name → the module that defines it
_EXPORTS = {
    **dict.fromkeys(
        (
            "accuracy",
            "cross_entropy_error",
            "log_softmax",
            "mean_squared_error",
            "relu",
            "sigmoid",
            "softmax",
            "softmax_cross_entropy",
            "tanh",
        ),
        "functions",
    ),
    **dict.fromkeys(("numerical_diff", "numerical_gradient"), "numgrad"),
    **dict.fromkeys(("gradient_check", "relative_error"), "gradcheck"),
    **dict.fromkeys(("Convolution", "Flatten", "Pooling", "col2im", "im2col"), "conv"),
    **dict.fromkeys(
        (
            "SGD",
            "AdaGrad",
            "Adam",
            "CosineLR",
            "Momentum",
            "Nesterov",
            "RMSprop",
            "StepLR",
            "gradient_descent",
        ),
        "optim",
    ),
    **dict.fromkeys(("MultiLayerNet", "TwoLayerNet"), "nets"),
    **dict.fromkeys(("DeepConvNet", "SimpleConvNet"), "convnets"),
    "learn": "loop",
    **dict.fromkeys(("load_dataset", "one_hot"), "datasets"),
    **dict.fromkeys(("load_checkpoint", "load_model", "save_checkpoint", "save_model"), "io"),
    "NnscratchError": "errors",
    **dict.fromkeys(("Trainer", "train"), "run.trainer"),
    "CheckpointSaver": "run.callbacks",
    **dict.fromkeys(("TrainingDiverged", "TrainingInterrupted"), "run.interrupt"),
    "build": "run.build",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("nnscratch")
        except PackageNotFoundError:  # running from a source tree that is not installed
            return "0+unknown"
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value  # the next lookup does not come here
        return value
    raise AttributeError(f"module 'nnscratch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # what the table loads, for type checkers and editors
    from .conv import Convolution, Flatten, Pooling, col2im, im2col
    from .convnets import DeepConvNet, SimpleConvNet
    from .datasets import load_dataset, one_hot
    from .errors import NnscratchError
    from .functions import (
        accuracy,
        cross_entropy_error,
        log_softmax,
        mean_squared_error,
        relu,
        sigmoid,
        softmax,
        softmax_cross_entropy,
        tanh,
    )
    from .gradcheck import gradient_check, relative_error
    from .io import load_checkpoint, load_model, save_checkpoint, save_model
    from .loop import learn
    from .nets import MultiLayerNet, TwoLayerNet
    from .numgrad import numerical_diff, numerical_gradient
    from .optim import (
        SGD,
        AdaGrad,
        Adam,
        CosineLR,
        Momentum,
        Nesterov,
        RMSprop,
        StepLR,
        gradient_descent,
    )
    from .run.build import build
    from .run.callbacks import CheckpointSaver
    from .run.interrupt import TrainingDiverged, TrainingInterrupted
    from .run.trainer import Trainer, train

    __version__: str
