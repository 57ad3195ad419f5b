"""Random search of hyperparameters on a validation split (the book's ch06/hyperparameter_
optimization.py): draw each setting from its range, train a MultiLayerNet briefly, keep the best
by validation accuracy. The test set is looked at once, by :func:`retrain_best`, for the winner.

A search space (``space``) maps a name of :data:`~nnscratch.experiments.space.PARAMS` (the options
of the run table that a search can vary) to a range ``{"scale": "log"|"linear", "low", "high"}``
(log: 10^u, u ~ U(log10 low, log10 high)) or ``{"values": [...]}`` (one drawn). Trial ``i`` draws
its seed and setting from its own ``default_rng([seed, i])`` and trains with BLAS on one thread: its
numbers do not depend on ``n_jobs``. Trials run through joblib (processes, or a ``parallel_backend``
such as Dask's or Ray's); each is saved as it ends, and a rerun skips it.
"""

import contextlib
import dataclasses
import itertools
import json
import os
import signal
import threading
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from joblib.parallel import get_active_backend

from ..atomic import save_json
from ..datasets import load_dataset, stratified_split
from ..errors import NnscratchError
from ..run.build import build
from ..run.trainer import train_or_diverge
from ..validation import default_of
from .space import N_JOBS, TRIALS, applies, sample_params, search_settings

__all__ = ["best_trials", "load_trials", "random_search", "retrain_best", "run_trial"]

TRIAL_FILE = "trials/{:04d}.json"  # trial i's record, in the search's folder
#: what every trial of a search is, beside what the space and the settings give: the book's
#: plain MultiLayerNet (no batch norm) at a constant rate
TRIAL_OPTIONS = {"model": "mlp", "batchnorm": False, "lr_schedule": "none"}


def _load(settings, data_dir, validation=True):
    """The search's data as a Dataset: the first ``train_size`` training images split into
    training and validation sets (``val_size``, stratified, from the seed), no test set; without
    ``validation``, all of them as the training set and the test set kept."""
    data = load_dataset(settings["dataset"], data_dir=data_dir, seed=settings["seed"])
    data = data.first(settings["train_size"])
    if not validation:
        return data
    x, x_val, t, t_val = stratified_split(
        data.x_train, data.t_train, settings["val_size"], settings["seed"]
    )
    return dataclasses.replace(data.without_test(), x_train=x, t_train=t, x_val=x_val, t_val=t_val)


def _trainer(params, seed, settings, data):
    """The Trainer of one setting on ``data``: the search's fixed options, then ``params``,
    resolved and built (weights and batch order from two streams of ``seed``), BLAS on one
    thread."""
    fixed = {name: settings[name] for name in ("dataset", "epochs", "optimizer", "batch_size")}
    spec = {
        **TRIAL_OPTIONS,
        **fixed,
        "hidden": tuple(settings["hidden"]),
        **params,
        "seed": seed,
        "dtype": data.x_train.dtype.name,
    }
    trainer = build(spec, data).trainer
    trainer.blas_threads = 1  # one thread: the same numbers in a worker as in the parent
    return trainer


def run_trial(index, settings, data, parent_pid=None):
    """Train trial ``index`` of the search ``settings`` on ``data`` (a Dataset: the training and
    validation sets) and return its record: index, params, seed, per-epoch train_acc, val_acc,
    val_loss, final val_acc (None if it diverged: then ``diverged`` says how), seconds."""
    if (
        parent_pid not in (None, os.getpid())
        and threading.main_thread().ident == threading.get_ident()
    ):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a worker: Ctrl-C is the parent's to handle
    start = time.perf_counter()
    rng = np.random.default_rng([settings["seed"], index])  # this trial's own stream
    seed = int(rng.integers(2**63))
    params = sample_params(settings["space"], rng)
    optimizer = params.get("optimizer", settings["optimizer"])
    # an option the trial's optimizer does not take (momentum of an SGD trial) is left out
    params = {n: v for n, v in params.items() if applies(n, optimizer)}
    trainer = _trainer(params, seed, settings, data)
    history, diverged = train_or_diverge(trainer)
    return {
        "index": index,
        "params": params,
        "seed": seed,  # the history's lists of epochs:
        **{k: [float(v) for v in history[k]] for k in ("train_acc", "val_acc", "val_loss")},
        "final_val_acc": None if diverged else float(history["val_acc"][-1]),
        "diverged": diverged,
        "seconds": time.perf_counter() - start,
    }


class _DeferInterrupt:
    """``with _DeferInterrupt() as guard:`` SIGINT is ignored (workers started now inherit it)
    until ``guard.arm()``, then KeyboardInterrupt, held back in ``guard.writing_file()``."""

    def __init__(self):
        self.writing = self.pending = False
        self.main = threading.current_thread() is threading.main_thread()

    def __call__(self, signum, frame):
        self.pending = self.writing
        if not self.writing:
            raise KeyboardInterrupt

    def __enter__(self):
        self.before = signal.signal(signal.SIGINT, signal.SIG_IGN) if self.main else None
        return self

    def arm(self):
        if self.main:
            signal.signal(signal.SIGINT, self)

    def __exit__(self, *exc):
        if self.main:
            signal.signal(signal.SIGINT, self.before)

    @contextlib.contextmanager
    def writing_file(self):
        self.writing = True
        try:
            yield
        finally:
            self.writing = False
        if self.pending:
            raise KeyboardInterrupt


def load_trials(out, settings, trials):
    """The trials of 0..trials-1 already in ``out`` (written by a search with ``settings``;
    other settings there: an NnscratchError); ``settings`` saved there if none was."""
    saved = Path(out) / "search.json"
    settings = json.loads(json.dumps(settings))  # as JSON reads it back: lists, not tuples
    if saved.exists():
        there = json.loads(saved.read_text())
        if there != settings:
            diff = ", ".join(
                f"{k} {there.get(k)!r} there, {v!r} here"
                if k != "space"
                else "the range of "
                + ", ".join(n for n in sorted({*there[k], *v}) if there[k].get(n) != v.get(n))
                for k, v in settings.items()
                if there.get(k) != v
            )
            raise NnscratchError(
                f"{out} holds a search with other settings ({diff}): choose "
                "another --out, or delete that folder to start again"
            )
    else:
        (saved.parent / "trials").mkdir(parents=True, exist_ok=True)
        save_json(saved, settings)
    done = {}
    for index in range(trials):
        path = saved.parent / TRIAL_FILE.format(index)
        if path.exists():
            try:
                done[index] = record = json.loads(path.read_text())
            except json.JSONDecodeError:
                record = {}
            if not isinstance(record, dict) or record.get("index") != index:
                raise NnscratchError(
                    f"{path} is not trial {index}'s record: delete it to run that trial again"
                )
    return done


def random_search(
    dataset=default_of(search_settings, "dataset"),  # noqa: B008 - one default, search_settings'
    *,
    trials=TRIALS,
    n_jobs=N_JOBS,
    out=None,
    data_dir=None,
    on_trial=None,
    **settings,
):
    """Run trials 0..trials-1 of a random search (settings: :func:`search_settings`'s keywords)
    on ``n_jobs`` joblib workers, calling ``on_trial(record)`` here as each ends. With ``out``:
    each written to ``out/trials/NNNN.json`` as it ends (``out/trials.log`` gets "queued i",
    "done i"), those already there skipped. Returns the records by index (:func:`run_trial`)."""
    settings = search_settings(dataset, **settings)
    if int(trials) < 1 or int(n_jobs) == 0:
        raise NnscratchError("trials must be ≥ 1 and n_jobs ≥ 1 (or -1: every core)")
    data = _load(settings, data_dir)  # first: a bad dataset leaves no folder behind
    done = load_trials(out, settings, int(trials)) if out is not None else {}

    def tasks():
        for index in (i for i in range(int(trials)) if i not in done):
            _log(out, f"queued {index}")
            yield delayed(run_trial)(index, settings, data, os.getpid())

    with _DeferInterrupt() as guard:
        results = _finished(tasks(), int(n_jobs))  # starts the workers (and the first trials)
        guard.arm()
        try:
            for record in results:
                if out is not None:
                    with guard.writing_file():
                        save_json(Path(out) / TRIAL_FILE.format(record["index"]), record)
                        _log(out, f"done {record['index']}")
                done[record["index"]] = record
                if on_trial is not None:
                    on_trial(record)
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # joblib's note that it cancelled the rest
                results.close()  # stop joblib's workers on Ctrl-C or an error
    return [done[i] for i in sorted(done)]


def _finished(tasks, n_jobs):
    """joblib ``tasks``' results as each ends; in rounds where the backend cannot (Ray's can't)."""
    backend = get_active_backend()[0]
    if backend.supports_return_generator:
        return Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)
    size = backend.effective_n_jobs(n_jobs)
    return (
        result
        for calls in iter(lambda: list(itertools.islice(tasks, size)), [])
        for result in Parallel(n_jobs=n_jobs)(calls)
    )


def _log(out, line):  # a line appended to out/trials.log (when there is an out)
    if out is not None:
        with open(Path(out) / "trials.log", "a", encoding="utf-8") as f:
            f.write(line + "\n")


def best_trials(trials, top=5):
    """The ``top`` trials by final validation accuracy (diverged last; ties: lower index first)."""
    return sorted(
        trials, key=lambda r: (1 if r["final_val_acc"] is None else -r["final_val_acc"], r["index"])
    )[:top]


def retrain_best(
    trials,
    dataset=default_of(search_settings, "dataset"),  # noqa: B008 - one default, search_settings'
    *,
    data_dir=None,
    **settings,
):
    """Train the best of ``trials`` again (its params and seed) on all the search's training data
    (train + validation), then test it once: {index, params, seed, epochs, test_acc, ...}."""
    settings = search_settings(dataset, **settings)
    best = (best_trials(trials, 1) or [{"final_val_acc": None}])[0]
    if best["final_val_acc"] is None:
        raise NnscratchError("no trial finished without diverging: nothing to retrain")
    start = time.perf_counter()
    data = _load(settings, data_dir, validation=False)
    trainer = _trainer(best["params"], best["seed"], settings, data.without_test())
    trainer.train()
    return {
        **{k: best[k] for k in ("index", "params", "seed")},
        "epochs": settings["epochs"],
        "train_images": len(data.x_train),
        "train_acc": float(trainer.history["train_acc"][-1]),
        "test_acc": float(trainer.net.accuracy(data.x_test, data.t_test)),
        "seconds": time.perf_counter() - start,
    }
