"""One training session: the network, optimizer and Trainer of one browser tab.

The learning is the library's: ``Trainer.run(n)`` takes n steps of the trainer's own loop (draw
a mini-batch, W ← update(W, ∂L/∂W), end an epoch when its batches are done); the session only
decides how many steps a request takes, within bounds. The history is the trainer's
(``train_loss`` per iteration, ``train_acc`` and ``test_acc`` per epoch, ``lr`` with a
schedule), plus ``test_loss`` and ``epoch_loss`` per epoch for the page's curves
(:class:`EpochLosses`, a callback).
"""

import math
import threading
import time

import numpy as np

from ..errors import NnscratchError
from ..run.build import build, data_options, load_data
from ..run.callbacks import Callback
from ..run.interrupt import TrainingDiverged
from ..run.options import resolve
from ..run.trainer import evaluation_loss
from . import views
from .settings import applies, spec_options, validate

#: the most iterations one request may ask for, and the most epochs
MAX_ITERATIONS = 2000
MAX_EPOCHS = 20
#: seconds of learning one request may take: it stops after the step that passes them and says
#: how many it took, so a large network (a 6×64 digits net: 2,000 steps were 2 minutes) never
#: holds the machine, and the page keeps its pace
REQUEST_SECONDS = 0.25
#: the per-step losses a session keeps (a rolling window: play may go on for a lesson; the curves
#: are per epoch, and the history download holds the window)
LOSS_WINDOW = 100_000
#: digits of the curves' values sent to the page (the history download keeps them all), and the
#: most epochs a curve sends (evenly spaced, the last always among them)
CURVE_DECIMALS = 5
CURVE_POINTS = 500


class RequestError(NnscratchError):
    """A request the session cannot do; ``status`` is the HTTP status to answer it with."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class EpochLosses(Callback):
    """After each epoch, for the page's loss curves: the epoch's mean training loss
    (``epoch_loss``) and the loss on the test set in evaluation mode (``test_loss``)."""

    def __init__(self, x_test, t_test):
        self.x_test, self.t_test = x_test, t_test

    def on_epoch_end(self, trainer, record):
        trainer.history["test_loss"].append(evaluation_loss(trainer.net, self.x_test, self.t_test))
        trainer.history["epoch_loss"].append(record["loss"])


class Session:
    """A network learning the settings' data; ``lock`` serialises the requests of one tab.

    ``last_used`` (time.monotonic) is when a request last touched it, for expiry."""

    def __init__(self, settings):
        self.lock = threading.Lock()
        self.last_used = time.monotonic()
        self.reset(settings)

    def reset(self, settings):
        """Start again from scratch with ``settings`` (validated here): the same settings and
        seed give the same data, the same initial weights and the same batches."""
        s = validate(settings)
        spec = resolve(spec_options(s))
        data = load_data(spec)
        run = build(spec, data, callbacks=[EpochLosses(data.x_test, data.t_test)])
        net, trainer = run.net, run.trainer
        trainer.history.update(test_loss=[], epoch_loss=[])
        # BLAS's thread count is one setting of the process, and two sessions step at once
        trainer.blas_threads = None
        self.settings, self.spec, self.data, self.net, self.trainer = s, spec, data, net, trainer
        self.grid = views.Grid.around(data) if data.n_features == 2 else None
        self.diverged = None

    @property
    def last_batch(self):
        """The samples of the last step (before any, the first ``batch_size``): the batch the
        gradient check uses."""
        batch = self.trainer.batch
        return np.arange(self.trainer.batch_size) if batch is None else batch

    # --- learning ---------------------------------------------------------------------------
    def step(self, iterations=1, seconds=None):
        """Run up to ``iterations`` mini-batch steps (1..MAX_ITERATIONS) of the trainer's own
        loop (``Trainer.run``), ending epochs as they come, and stop after the step that passes
        ``seconds`` (default :data:`REQUEST_SECONDS`); returns the steps taken (at least one).
        Only the last :data:`LOSS_WINDOW` per-step losses are kept, so a session learns as long
        as the lesson lasts."""
        if not (isinstance(iterations, int) and 1 <= iterations <= MAX_ITERATIONS):
            raise RequestError(
                f"iterations must be an integer from 1 to {MAX_ITERATIONS}, got {iterations!r}"
            )
        if self.diverged:
            raise RequestError(f"{self.diverged} — press reset", status=409)
        deadline = time.monotonic() + (REQUEST_SECONDS if seconds is None else seconds)
        done, chunk = 0, 1
        try:
            while done < iterations:
                # chunks that double while they stay well inside the time: few calls, no overshoot
                start = time.monotonic()
                take = min(chunk, iterations - done)
                self.trainer.run(take)
                done += take
                spent = time.monotonic() - start
                if time.monotonic() >= deadline:
                    break
                if spent * 4 < deadline - time.monotonic():
                    chunk *= 2
        except TrainingDiverged as exc:
            self.diverged = str(exc)
            raise RequestError(f"{exc} — press reset", status=409) from None
        finally:
            losses = self.trainer.history["train_loss"]
            if len(losses) > LOSS_WINDOW:
                del losses[: len(losses) - LOSS_WINDOW]
        return done

    def epochs(self, count=1):
        """Run to the end of the current epoch, and ``count - 1`` whole epochs more."""
        if not (isinstance(count, int) and 1 <= count <= MAX_EPOCHS):
            raise RequestError(f"epochs must be an integer from 1 to {MAX_EPOCHS}, got {count!r}")
        steps = count * self.trainer.iter_per_epoch - self.trainer.epoch_position
        if steps > MAX_ITERATIONS:  # a request's work is bounded by steps, not by epochs
            raise RequestError(
                f"{count} epochs are {steps} steps at this batch size; at most "
                f"{MAX_ITERATIONS} a request: ask for fewer epochs or use a larger "
                "batch"
            )
        return self.step(steps, seconds=math.inf)  # asked for by the epoch: all of it

    def classify_drawing(self, pixels):
        """The network's class probabilities for a digit drawn on the page: ``pixels`` rows of
        gray levels 0 (ink) … 255 (paper), prepared as ``nnscratch predict`` prepares a photo
        (``images.prepare_image``, the digits' recipe). Returns {"probabilities", "prepared"}."""
        if self.settings.get("dataset") != "digits":
            raise RequestError("draw a digit on a digits network: choose the digits dataset")
        gray = _drawing(pixels)
        from ..images import prepare_image

        x = prepare_image(gray, "digits")
        with self.net.evaluating():
            probabilities = self.net.predict(x[np.newaxis])[0]
        return {"probabilities": views.rounded(probabilities, 6), "prepared": views.rounded(x)}

    def gradient_check(self):
        """Backprop against the numerical gradient on the last batch learned from (the first
        one, before any step): {"errors": {parameter: relative error}, ...}."""
        x = self.trainer.x_train.take(self.last_batch, axis=0)
        t = self.trainer.t_train.take(self.last_batch, axis=0)
        return views.gradient_errors(self.net, x, t)

    # --- what the page shows ----------------------------------------------------------------
    def state(self):
        """Everything the page draws after a step: counters, curves, boundary, units, weights,
        confusion matrix."""
        trainer, history = self.trainer, self.trainer.history
        state = {
            "iteration": trainer.iteration,
            "epoch": trainer.epoch,
            "iter_per_epoch": trainer.iter_per_epoch,
            "lr": float(trainer.optimizer.lr),
            "curves": curves(history),
            "last_loss": history["train_loss"][-1] if history["train_loss"] else None,
            "confusion": views.confusion(self.net, self.data),
            "diverged": self.diverged,
        }
        if self.grid is not None:
            state["boundary"] = self.grid.boundary(self.net)
            state["network"] = self.grid.network(self.net)
        else:
            state["weights"] = views.weight_images(self.net, self.data)
        return _finite(state)

    def config(self):
        """The run as the downloaded model and history record it (:func:`views.model_config`)."""
        return views.model_config(self.settings, *data_options(self.spec))

    def setup(self):
        """What changes only on reset: the settings, the classes and the data points."""
        out = {
            "settings": self.settings,
            "applies": applies(self.settings),
            "n_classes": self.data.n_classes,
            "n_train": len(self.data.t_train),
            "n_test": len(self.data.t_test),
        }
        if self.grid is not None:
            out["grid"] = self.grid.extent()
            out["points"] = views.points(self.data)
        return out


#: the sides a drawing may have, in pixels
DRAWING_SIDES = (8, 256)


def _drawing(pixels):
    """``pixels`` (rows of numbers 0..255) as a gray image in [0, 1] (0 black), checked."""
    low, high = DRAWING_SIDES
    if not (
        isinstance(pixels, list)
        and low <= len(pixels) <= high
        and all(isinstance(row, list) and len(row) == len(pixels[0]) for row in pixels)
        and low <= len(pixels[0]) <= high
    ):
        raise RequestError(
            f"pixels must be {low} to {high} rows of as many gray levels each, a square or not"
        )
    if not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 255
        for row in pixels
        for v in row
    ):
        raise RequestError("pixels must be gray levels from 0 (ink) to 255 (paper)")
    gray = np.asarray(pixels, dtype=np.float64) / 255
    if gray.min() > 0.9:
        raise RequestError("nothing is drawn yet: draw a digit")
    return gray


def curves(history, points=CURVE_POINTS):
    """The per-epoch curves for the page: ``epoch`` (1-based numbers) and the four series at
    those epochs, at most ``points`` of them: every epoch while there are few, then evenly
    spaced ones with the last always kept (what a line ``points`` pixels wide can show)."""
    n = len(history["train_acc"])
    shown = (
        np.unique(np.linspace(0, n - 1, points).round().astype(int)) if n > points else np.arange(n)
    )
    out = {"epoch": (shown + 1).tolist()}
    for key in ("epoch_loss", "test_loss", "train_acc", "test_acc"):
        out[key] = views.rounded(np.asarray(history[key], dtype=float)[shown], CURVE_DECIMALS)
    return out


def _finite(obj):
    """``obj`` with NaN and ±∞ as None: JSON has no NaN."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj
