"""The state a resume needs, saved and restored in one place: :func:`save` writes a trainer's
state to ``directory/checkpoint.npz``, :func:`restore` puts it back into a trainer built like the
saved one, which then continues bit-identically (same batches, same dropout masks, same weights).

What a checkpoint holds (the file format is :func:`nnscratch.io.save_checkpoint`'s):
the network's params and buffers, the optimizer's ``state_dict()``, the batch generator, ``epoch``,
``iteration``, ``history`` and, in ``extra``: ``epoch_position`` (mini-batches done in the epoch
under way, 0 ≤ position < iter_per_epoch), ``epoch_elapsed`` (its seconds so far), ``lr`` (the
rate now, which a schedule may have changed), ``callbacks`` (each callback's ``state_dict()`` by
:func:`callback_keys`) and ``layer_rngs`` (the generators of the layers that draw, e.g. Dropout).

Mid-epoch, the batch generator is saved as it was when the epoch began: replaying the epoch's
first ``epoch_position`` draws gives the same batches for the rest of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import NnscratchError
from ..io import (
    Checkpoint,
    describe_architecture,
    load_checkpoint,
    restore_rng,
    rng_state,
    save_checkpoint,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from ..io import SavableNet
    from .callbacks import Callback
    from .trainer import Trainer


def callback_keys(callbacks: Iterable[Callback]) -> Iterator[tuple[str, Callback]]:
    """(key, callback) pairs with stable keys: the class name, numbered when repeated
    ("EarlyStopping", "EarlyStopping2", ...)."""
    seen: dict[str, int] = {}
    for cb in callbacks:
        name = type(cb).__name__
        seen[name] = seen.get(name, 0) + 1
        yield (name if seen[name] == 1 else f"{name}{seen[name]}"), cb


def layers_with_rng(net: Any) -> list[Any]:
    """Layers that draw random numbers while training (Dropout), in network order."""
    return [
        layer
        for layer in getattr(net, "layers", ())
        if isinstance(getattr(layer, "rng", None), np.random.Generator)
    ]


def state(trainer: Trainer) -> dict[str, Any]:
    """Everything needed to continue exactly from here, as the keyword arguments of
    :func:`nnscratch.io.save_checkpoint` (without the folder, the network and config)."""
    optimizer = trainer.optimizer
    optimizer_state = optimizer.state_dict() if hasattr(optimizer, "state_dict") else {}
    rng = (
        trainer.rng.bit_generator.state if trainer.epoch_position == 0 else trainer.epoch_rng_state
    )
    callbacks: dict[str, Any] = {}
    for key, cb in callback_keys(trainer.callbacks):
        cb_state = cb.state_dict()
        if cb_state is not None:
            callbacks[key] = cb_state
    layer_rngs = [rng_state(layer.rng) for layer in layers_with_rng(trainer.net)]
    extra = {
        "epoch_position": trainer.epoch_position,
        "epoch_elapsed": trainer.epoch_elapsed,
        "lr": optimizer.lr,
        "callbacks": callbacks,
        "layer_rngs": layer_rngs,
    }
    return {
        "optimizer_state": optimizer_state,
        "rng": rng,
        "epoch": trainer.epoch,
        "iteration": trainer.iteration,
        "history": trainer.history,
        "extra": extra,
    }


def save(
    trainer: Trainer, directory: str | os.PathLike[str], config: dict[str, Any] | None = None
) -> Path:
    """Write ``directory/checkpoint.npz`` (atomically) with ``trainer``'s state and the run's
    settings ``config``; returns its path."""
    return save_checkpoint(directory, trainer.net, config=config, **state(trainer))


def restore(trainer: Trainer, checkpoint: Checkpoint | str | os.PathLike[str]) -> Trainer:
    """Put ``checkpoint`` (an :class:`nnscratch.io.Checkpoint`, or a folder/path to load into
    the trainer's network) back into ``trainer``: parameters, buffers, optimizer, generators,
    counters, history and callback state; ``trainer.resumed_from`` is its path. The trainer must
    be built exactly as the saved run was (same data, seed, options). Returns the trainer."""
    if not isinstance(checkpoint, Checkpoint):
        checkpoint = load_checkpoint(checkpoint, trainer.net)
    elif checkpoint.net is not trainer.net:
        _copy_network(checkpoint, trainer.net)
    source = f"checkpoint {str(checkpoint.path)!r}"
    extra = checkpoint.extra
    try:
        if hasattr(trainer.optimizer, "load_state_dict"):
            trainer.optimizer.load_state_dict(checkpoint.optimizer_state)
        lr = float(extra["lr"])
        position = int(extra["epoch_position"])
        elapsed = float(extra["epoch_elapsed"])
        layer_rngs = extra["layer_rngs"]
        callbacks = extra["callbacks"]
        history = checkpoint.history
        if set(history) != set(trainer.history):
            raise NnscratchError(
                f"its history has {sorted(history)}, this run records {sorted(trainer.history)}"
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise NnscratchError(
            f"{source} does not fit this run ({type(exc).__name__}: {exc}):"
            " resume with the options it was saved with"
        ) from None
    if not 0 <= position < trainer.iter_per_epoch or checkpoint.epoch > trainer.epochs:
        raise NnscratchError(
            f"{source} stopped at epoch {checkpoint.epoch}, batch "
            f"{position}, which this run ({trainer.epochs} epochs of "
            f"{trainer.iter_per_epoch} batches) does not have: resume with "
            "the options it was saved with"
        )
    layers = layers_with_rng(trainer.net)
    if len(layer_rngs) != len(layers):
        raise NnscratchError(
            f"{source} holds {len(layer_rngs)} layer generators, the "
            f"network has {len(layers)}: it is another network"
        )
    for layer, layer_state in zip(layers, layer_rngs):
        layer.rng.bit_generator.state = restore_rng(layer_state, source).bit_generator.state
    for key, cb in callback_keys(trainer.callbacks):
        if key in callbacks:
            cb.load_state_dict(callbacks[key])
    trainer.optimizer.lr = lr
    if checkpoint.rng_state is not None:
        trainer.rng = checkpoint.rng()  # type: ignore[assignment]  # not None: a state was saved
    trainer.epoch_rng_state = trainer.rng.bit_generator.state
    trainer.epoch, trainer.iteration = checkpoint.epoch, checkpoint.iteration
    trainer.epoch_position, trainer.epoch_elapsed = position, elapsed
    trainer.history = {k: list(v) for k, v in history.items()}
    trainer.resumed_from = checkpoint.path
    trainer.stop_requested = None
    return trainer


def _copy_network(checkpoint: Checkpoint, net: SavableNet) -> None:
    """Copy the parameters and buffers of a checkpoint read with its own network into ``net``
    (in place: the layers and the optimizer refer to ``net``'s arrays)."""
    if describe_architecture(checkpoint.net) != describe_architecture(net):
        raise NnscratchError(
            f"checkpoint {str(checkpoint.path)!r} holds a "
            f"{describe_architecture(checkpoint.net)} but the network "
            f"given is a {describe_architecture(net)}"
        )
    for key, value in checkpoint.net.params.items():
        net.params[key][...] = value
    for key, value in getattr(checkpoint.net, "buffers", {}).items():
        net.buffers[key] = value.copy()
