"""``build``: a run specification and data → network, optimizer, schedule and trainer.

The one place where settings become objects: the command line, the playground, the search,
``NNClassifier``, the experiments and the figures all resolve their options into a
:class:`~nnscratch.run.options.Spec` and call :func:`build` (or one of its parts: :func:`network`,
:func:`optimizer`, :func:`schedule`, :func:`load_data`).

Seeds: ``SeedSequence(seed)`` spawns two independent streams, the weights' and the batch order's,
so that a change to one (another batch size, say) leaves the other as it was.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import TYPE_CHECKING, Any

import numpy as np

from ..datasets import Dataset, load_dataset
from ..datasets.toy2d import TOY_DATASETS
from ..optim import OPTIMIZERS, CosineLR, StepLR, WarmupCosineLR
from .defaults import STEP_GAMMA, STEP_PARTS
from .options import CONV_MODELS, LANGUAGE_MODELS, MODELS, OPTIONS, Spec, resolve
from .trainer import Trainer

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from ..io import SavableNet
    from ..optim import Optimizer
    from .callbacks import Callback


@dataclasses.dataclass
class Run:
    """What :func:`build` returns: the spec, the data, and the trainer with the run's network,
    optimizer and schedule."""

    spec: Spec
    data: Dataset
    trainer: Trainer

    @property
    def net(self) -> SavableNet:
        return self.trainer.net

    @property
    def optimizer(self) -> Optimizer:
        return self.trainer.optimizer

    @property
    def schedule(self) -> Callable[[float, int], float] | None:
        return self.trainer.lr_schedule

    def description(self) -> dict[str, Any]:
        """The run as history.json and model.npz record it: the dataset, the network's
        ``{"model": ..., **net.config()}``, and the training settings; a language model's
        tokenizer too (its file is of no use without it)."""
        tokenizer = self.data.info.get("tokenizer")
        extra = {} if tokenizer is None else {"tokenizer": tokenizer.to_config()}
        return {**description(self.spec, self.net), **extra}


def as_spec(spec: Spec | Mapping[str, object]) -> Spec:
    """``spec`` as a :class:`Spec`: a Spec as it is, a dict of options resolved."""
    return spec if isinstance(spec, Spec) else resolve(spec)


def seeds(seed: int | None) -> list[np.random.SeedSequence]:
    """(the weights' seed, the batch order's seed): two independent streams of
    ``np.random.SeedSequence(seed)``."""
    return np.random.SeedSequence(seed).spawn(2)


#: ``load_dataset``'s options that :func:`data_options` gives (a model file records them as its
#: "dataset_options", and ``nnscratch evaluate`` and ``plot boundary`` draw its data again)
LOAD_OPTIONS = ("seed", *(n for n, o in OPTIONS.items() if o.target == "data" and n != "data_seed"))


def data_options(spec: Spec | Mapping[str, object]) -> tuple[str, dict[str, Any]]:
    """``(name, options)``: the ``load_dataset`` call of ``spec``'s data: its data options, and
    for a 2-D set its points' seed (``data_seed``, else the run's ``seed``)."""
    spec = as_spec(spec)
    options = {name: spec[name] for name in LOAD_OPTIONS[1:] if spec[name] is not None}
    if spec["dataset"] in TOY_DATASETS:
        options["seed"] = spec["seed"] if spec["data_seed"] is None else spec["data_seed"]
    return spec["dataset"], options


def load_data(
    spec: Spec | Mapping[str, object], data_dir: str | os.PathLike[str] | None = None
) -> Dataset:
    """The dataset ``spec`` names (:func:`data_options`), as the model takes it: images
    (N, C, H, W) for the convolutional nets, rows (N, D) otherwise, in the spec's dtype."""
    spec = as_spec(spec)
    name, options = data_options(spec)
    return load_dataset(
        name,
        data_dir=data_dir,
        dtype=spec["dtype"],
        flatten=spec["model"] not in CONV_MODELS,
        **options,
    )


def network(
    spec: Spec | Mapping[str, object],
    input_shape: Sequence[int],
    n_classes: int,
    seed: int | np.random.SeedSequence | np.random.Generator | None = None,
) -> SavableNet:
    """The network ``spec`` asks for, for inputs of ``input_shape`` (one sample's: (D,) or images'
    (C, H, W)) and ``n_classes`` classes, its weights drawn from ``seed``."""
    spec = as_spec(spec)
    cls, arguments, images = MODELS[spec["model"]]
    kwargs = {argument: spec[name] for name, argument in arguments.items()}
    if spec["model"] in LANGUAGE_MODELS:  # n_classes: the vocabulary
        if spec["model"] == "rnnlm":
            kwargs["hidden_size"] = spec["hidden"][0]
            kwargs["stateful"] = False  # random windows: each starts from h = 0
        return cls(n_classes, **kwargs, seed=seed, dtype=spec["dtype"])
    if arguments["hidden"] != "hidden_sizes":
        kwargs[arguments["hidden"]] = spec["hidden"][0]
    if images:
        kwargs.update(input_dim=tuple(input_shape), output_size=n_classes)
        return cls(**kwargs, seed=seed, dtype=spec["dtype"])
    return cls(input_shape[0], output_size=n_classes, **kwargs, seed=seed, dtype=spec["dtype"])


def optimizer(spec: Spec | Mapping[str, object]) -> Optimizer:
    """The optimizer ``spec`` names, at its rate, with the options of its own class that the spec
    sets (the others at the class's defaults)."""
    spec = as_spec(spec)
    cls = OPTIMIZERS[spec["optimizer"]]
    own = {
        name: spec[name]
        for name in inspect.signature(cls).parameters
        if name != "lr" and name in spec and spec[name] is not None
    }
    return cls(lr=spec["lr"], **own)


def schedule(spec: Spec | Mapping[str, object]) -> StepLR | CosineLR | None:
    """The learning-rate schedule ``spec`` names over :meth:`Spec.schedule_length` epochs (step:
    halved ``STEP_PARTS`` times; cosine: to 0; warmup-cosine: up from 0 over the share
    ``warmup``, then cosine to 0, step by step), or None for a constant rate."""
    spec = as_spec(spec)
    length = spec.schedule_length()
    if spec["lr_schedule"] == "warmup-cosine":
        return WarmupCosineLR(length, spec["warmup"] * length)
    if spec["lr_schedule"] == "step":
        return StepLR(max(length // STEP_PARTS, 1), STEP_GAMMA)
    if spec["lr_schedule"] == "cosine":
        return CosineLR(length)
    return None


def trainer(
    spec: Spec | Mapping[str, object],
    net: Any,
    opt: Optimizer,
    data: Dataset,
    seed: int | np.random.SeedSequence | np.random.Generator | None,
    callbacks: Iterable[Callback] = (),
) -> Trainer:
    """A :class:`Trainer` of ``net`` by ``opt`` on ``data``'s training set, test set and
    validation set (or the spec's validation split), with the spec's length, batches, gradient,
    schedule and engine; the batch order from ``seed`` (a seed or a Generator)."""
    spec = as_spec(spec)
    return Trainer(
        net,
        data.x_train,
        data.t_train,
        data.x_test,
        data.t_test,
        x_val=data.x_val,
        t_val=data.t_val,
        epochs=spec["epochs"],
        batch_size=spec["batch_size"],
        optimizer=opt,
        grad=spec["grad"],
        sampling=spec["sampling"],
        seed=seed,
        callbacks=callbacks,
        validation_split=spec["validation_split"] or None,
        early_stopping=spec["early_stopping"],
        lr_schedule=schedule(spec),
        engine=spec["engine"],
        clip_norm=spec["clip_norm"],
        epoch_size=data.info.get("epoch_size"),
        x_train_eval=data.info.get("x_train_eval"),
        t_train_eval=data.info.get("t_train_eval"),
    )


def build(
    spec: Spec | Mapping[str, object],
    data: Dataset | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    callbacks: Iterable[Callback] = (),
) -> Run:
    """The :class:`Run` of ``spec`` (a :class:`Spec`, or a dict of options to resolve) on ``data``
    (a :class:`Dataset`; None: :func:`load_data`): network, optimizer, schedule and
    :func:`trainer`, the weights and the batch order from two streams of the spec's seed."""
    spec = as_spec(spec)
    data = load_data(spec, data_dir) if data is None else data
    weights_seed, order_seed = seeds(spec["seed"])
    net = network(spec, data.x_train.shape[1:], data.n_classes, weights_seed)
    opt = optimizer(spec)
    run_trainer = trainer(spec, net, opt, data, order_seed, callbacks)
    return Run(spec, data, run_trainer)


def description(spec: Spec, net: SavableNet) -> dict[str, Any]:
    """The run as history.json and model.npz record it: the dataset and the ``load_dataset``
    options that draw it again (:func:`data_options`), the network's ``{"model": ...,
    **net.config()}``, and every training option the run takes (``validation_split`` 0.0 for
    none, as earlier files have it)."""
    training = {
        name: spec[name]
        for name, option in OPTIONS.items()
        if option.group == "training" and spec[name] is not None
    }
    return {
        "dataset": spec["dataset"],
        "dataset_options": data_options(spec)[1],
        "model": spec["model"],
        **net.config(),
        **training,
        "validation_split": spec["validation_split"] or 0.0,
        "early_stopping": spec["early_stopping"],
        "dtype": spec["dtype"],
        "engine": spec["engine"],
    }
