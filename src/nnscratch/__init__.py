"""nnscratch: how a neural network learns, from scratch in NumPy."""

from importlib.metadata import PackageNotFoundError, version

from .conv import Convolution, Flatten, Pooling, col2im, im2col
from .convnets import DeepConvNet, SimpleConvNet
from .datasets import load_dataset, one_hot
from .errors import NnscratchError
from .functions import (accuracy, cross_entropy_error, log_softmax, mean_squared_error, relu,
                        sigmoid, softmax, softmax_cross_entropy, tanh)
from .gradcheck import gradient_check, relative_error
from .io import load_checkpoint, load_model, save_checkpoint, save_model
from .nets import MultiLayerNet, TwoLayerNet
from .numgrad import numerical_diff, numerical_gradient
from .optim import (SGD, AdaGrad, Adam, CosineLR, Momentum, Nesterov, RMSprop, StepLR,
                    gradient_descent)
from .train import CheckpointSaver, Trainer, TrainingDiverged, TrainingInterrupted, train

try:
    __version__ = version("nnscratch")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "AdaGrad", "Adam", "CheckpointSaver", "Convolution", "CosineLR", "DeepConvNet", "Flatten",
    "Momentum", "MultiLayerNet", "Nesterov", "NnscratchError", "Pooling", "RMSprop", "SGD",
    "SimpleConvNet", "StepLR", "Trainer", "TrainingDiverged", "TrainingInterrupted",
    "TwoLayerNet", "accuracy", "col2im", "cross_entropy_error", "gradient_check",
    "gradient_descent", "im2col", "load_checkpoint", "load_dataset", "load_model", "log_softmax",
    "mean_squared_error", "numerical_diff", "numerical_gradient", "one_hot", "relative_error",
    "relu", "save_checkpoint", "save_model", "sigmoid", "softmax", "softmax_cross_entropy",
    "tanh", "train", "__version__",
]
