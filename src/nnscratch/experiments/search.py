"""Random search of hyperparameters on a validation split (the book's
``ch06/hyperparameter_optimization.py``): draw each setting from its range, train a
MultiLayerNet briefly, keep the best by validation accuracy. The test set is looked at once, by
:func:`retrain_best`, for the winner.

A search space (``space``) maps a name of :data:`~nnscratch.experiments.space.PARAMS` (the options
of the run table that a search can vary) to a range ``{"scale": "log"|"linear", "low", "high"}``
(log: 10^u, u ~ U(log10 low, log10 high)) or ``{"values": [...]}`` (one drawn). Trial ``i`` draws
its seed and setting from its own ``default_rng([seed, i])`` and trains with BLAS on one thread: its
numbers do not depend on ``n_jobs``. Trials run through joblib: loky's processes, the workers of a
Dask cluster (``backend="dask"``, ``scheduler=ADDRESS``), or any backend of a surrounding
``parallel_config`` (Ray's); each is saved as it ends, and a rerun skips it.

Successive halving (``halving=True``; Jamieson and Talwalkar, 2016) spends fewer epochs on the
same trials: rung 0 trains all n trials for r = epochs / η^s epochs, each later rung continues the
best 1/η of the one before, by validation accuracy, from its checkpoint to η times as many epochs,
up to ``epochs`` (:func:`halving_rungs`).
"""

import contextlib
import dataclasses
import itertools
import json
import os
import re
import signal
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed, parallel_config
from joblib.parallel import get_active_backend

from ..atomic import atomic_write_bytes, save_json
from ..datasets import load_dataset, stratified_split
from ..errors import NnscratchError
from ..run.build import build
from ..run.trainer import train_or_diverge
from ..validation import default_of
from .space import (
    BACKENDS,
    ETA,
    N_JOBS,
    SCHEDULER_TIMEOUT,
    TRIALS,
    applies,
    sample_params,
    search_settings,
)

__all__ = [
    "best_trials",
    "check_backend",
    "halving_epochs",
    "halving_rungs",
    "load_trials",
    "promote",
    "random_search",
    "retrain_best",
    "run_rung",
    "run_trial",
    "scheduler_address",
]

TRIAL_FILE = "trials/{:04d}.json"  # trial i's record, in the search's folder
#: trial i's checkpoint after its last rung, while successive halving may continue it
CHECKPOINT_FILE = "trials/{:04d}.npz"
#: what installs the Dask backend (the package's ``cluster`` extra)
CLUSTER_INSTALL = "pip install 'nnscratch[cluster]'"
#: a Dask scheduler's address: tcp://HOST:PORT or HOST:PORT (HOST a name, IPv4 or [IPv6])
SCHEDULER_ADDRESS = re.compile(
    r"(?:tcp://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d+)"
)
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


def _draw(index, settings):
    """Trial ``index``'s seed and params, from its own stream ``default_rng([seed, index])``;
    an option the trial's optimizer does not take (momentum of an SGD trial) is left out."""
    rng = np.random.default_rng([settings["seed"], index])  # this trial's own stream
    seed = int(rng.integers(2**63))
    params = sample_params(settings["space"], rng)
    optimizer = params.get("optimizer", settings["optimizer"])
    return seed, {n: v for n, v in params.items() if applies(n, optimizer)}


def _ignore_interrupts(parent_pid):
    """In a worker process (not ``parent_pid``), Ctrl-C is the parent's to handle."""
    if (
        parent_pid not in (None, os.getpid())
        and threading.main_thread().ident == threading.get_ident()
    ):
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _record(index, params, seed, history, diverged, start):
    """A trial's record: index, params, seed, the history's per-epoch train_acc, val_acc and
    val_loss, final val_acc (None if it diverged: then ``diverged`` says how), seconds."""
    return {
        "index": index,
        "params": params,
        "seed": seed,  # the history's lists of epochs:
        **{k: [float(v) for v in history[k]] for k in ("train_acc", "val_acc", "val_loss")},
        "final_val_acc": None if diverged else float(history["val_acc"][-1]),
        "diverged": diverged,
        "seconds": time.perf_counter() - start,
    }


def run_trial(index, settings, data, parent_pid=None):
    """Train trial ``index`` of the search ``settings`` on ``data`` (a Dataset: the training and
    validation sets) and return its record: index, params, seed, per-epoch train_acc, val_acc,
    val_loss, final val_acc (None if it diverged: then ``diverged`` says how), seconds."""
    _ignore_interrupts(parent_pid)
    start = time.perf_counter()
    seed, params = _draw(index, settings)
    history, diverged = train_or_diverge(_trainer(params, seed, settings, data))
    return _record(index, params, seed, history, diverged, start)


def run_rung(index, rung, epochs, settings, data, checkpoint=None, parent_pid=None):
    """Trial ``index`` trained to ``epochs`` epochs, rung ``rung`` of successive halving: from
    ``checkpoint`` (the bytes of its ``checkpoint.npz`` from the rung before) on, or from the start
    (also when the checkpoint cannot be read: the same numbers, only slower). Returns ``(record,
    state)``: :func:`run_trial`'s record with ``epochs`` (epochs trained, all rungs) and ``rung``,
    and the bytes of its checkpoint now (None if it diverged)."""
    _ignore_interrupts(parent_pid)
    start = time.perf_counter()
    seed, params = _draw(index, settings)
    settings = {**settings, "epochs": epochs}
    trainer = _trainer(params, seed, settings, data)
    with tempfile.TemporaryDirectory() as folder:
        if checkpoint is not None:
            path = Path(folder) / "checkpoint.npz"
            path.write_bytes(checkpoint)
            try:
                trainer.load_checkpoint(path)
            except NnscratchError:  # damaged: train again from the start
                trainer = _trainer(params, seed, settings, data)
        history, diverged = train_or_diverge(trainer)
        state = None if diverged else trainer.save_checkpoint(folder).read_bytes()
    record = _record(index, params, seed, history, diverged, start)
    return {**record, "epochs": len(history["val_acc"]), "rung": rung}, state


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
                f"{k} {there.get(k)!r} there, {settings.get(k)!r} here"
                if k != "space" or k not in there
                else "the range of "
                + ", ".join(
                    n
                    for n in sorted({*there[k], *settings[k]})
                    if there[k].get(n) != settings[k].get(n)
                )
                for k in [*settings, *(k for k in there if k not in settings)]
                if there.get(k) != settings.get(k)
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
    backend=None,
    scheduler=None,
    halving=False,
    eta=ETA,
    **settings,
):
    """Run trials 0..trials-1 of a random search (settings: :func:`search_settings`'s keywords)
    on ``n_jobs`` joblib workers (-1: every core), calling ``on_trial(record)`` here as each ends.
    With ``out``: each written to ``out/trials/NNNN.json`` as it ends (``out/trials.log`` gets
    "queued i", "done i"; with halving "queued i rung k", "done i rung k"), those already there
    skipped. Returns the records by index (:func:`run_trial`).

    ``backend``: None (joblib's active backend: loky's processes, or a surrounding
    ``parallel_config``'s, e.g. Ray's), "loky", or "dask": the workers of the Dask cluster whose
    scheduler is at ``scheduler`` (tcp://HOST:PORT), as many trials at once as they have threads
    (``n_jobs`` left as it is, or -1). ``halving``: successive halving with reduction factor ``eta``
    (:func:`halving_rungs`; the records get ``epochs`` and ``rung``; each rung is saved, a rerun
    goes on from there)."""
    settings = search_settings(dataset, **settings)
    if int(trials) < 1 or n_jobs == 0:
        raise NnscratchError("trials must be ≥ 1 and n_jobs ≥ 1 (or -1: every core)")
    backend, scheduler, n_jobs = check_backend(backend, scheduler, n_jobs)
    rungs = halving_rungs(int(trials), settings["epochs"], eta) if halving else None
    if halving:  # part of what a rerun must match; a search without it has no such key
        settings["halving"] = {"eta": int(eta), "trials": int(trials)}
    data = _load(settings, data_dir)  # first: a bad dataset leaves no folder behind
    with _parallel_backend(backend, scheduler):  # then the cluster: an unreachable one neither
        done = load_trials(out, settings, int(trials)) if out is not None else {}
        if rungs is not None:
            _successive_halving(rungs, settings, data, n_jobs, out, done, on_trial)
            return [done[i] for i in sorted(done)]

        def tasks():
            for index in (i for i in range(int(trials)) if i not in done):
                _log(out, f"queued {index}")
                yield delayed(run_trial)(index, settings, data, os.getpid())

        def keep(record, writing):
            if out is not None:
                with writing():
                    save_json(Path(out) / TRIAL_FILE.format(record["index"]), record)
                    _log(out, f"done {record['index']}")
            done[record["index"]] = record
            if on_trial is not None:
                on_trial(record)

        _run_tasks(tasks(), n_jobs, keep)
    return [done[i] for i in sorted(done)]


def _run_tasks(tasks, n_jobs, keep):
    """Run the joblib ``tasks`` on ``n_jobs`` workers, calling ``keep(result, writing)`` here as
    each ends (``with writing():`` holds Ctrl-C back while a file is written). Ctrl-C or an
    error stops the workers and cancels the tasks not ended."""
    with _DeferInterrupt() as guard:
        results = _finished(tasks, n_jobs)  # starts the workers (and the first tasks)
        guard.arm()
        try:
            for result in results:
                keep(result, guard.writing_file)
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # joblib's note that it cancelled the rest
                results.close()  # stop joblib's workers on Ctrl-C or an error


# --- where the trials run ----------------------------------------------------------------------
def scheduler_address(text):
    """The Dask scheduler address ``text`` ("tcp://HOST:PORT" or "HOST:PORT") as
    "tcp://HOST:PORT"; anything else: an NnscratchError saying how to write one."""
    match = SCHEDULER_ADDRESS.fullmatch(str(text).strip())
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise NnscratchError(
            f"--scheduler {text!r}: give the Dask scheduler's address as tcp://HOST:PORT or "
            "HOST:PORT, e.g. tcp://127.0.0.1:8786"
        )
    return f"tcp://{match['host']}:{int(match['port'])}"


def check_backend(backend, scheduler, n_jobs):
    """``(backend, scheduler, n_jobs)`` checked: a backend of :data:`BACKENDS` (or None), the
    scheduler's address with "dask" and only there, and ``n_jobs``; with "dask" it is -1 (every
    thread of the cluster's workers: the only count a cluster takes), given as that or left at
    ``N_JOBS``."""
    if backend is not None and backend not in BACKENDS:
        raise NnscratchError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend != "dask":
        if scheduler is not None:
            raise NnscratchError(
                "--scheduler is the address of a Dask scheduler: add --backend dask"
            )
        return backend, None, int(n_jobs)
    if scheduler is None:
        raise NnscratchError(
            "--backend dask needs the address of its scheduler: add --scheduler "
            "tcp://HOST:PORT (what `dask scheduler` prints)"
        )
    if n_jobs not in (N_JOBS, -1):
        raise NnscratchError(
            "with --backend dask the cluster runs as many trials at once as its workers have "
            "threads: leave out --n-jobs"
        )
    return backend, scheduler_address(scheduler), -1


@contextlib.contextmanager
def _parallel_backend(backend, scheduler):
    """``with _parallel_backend(backend, scheduler):`` joblib runs the trials on ``backend``
    (None: leave joblib's active one; "dask": a ``distributed.Client`` of ``scheduler``,
    connected within ``SCHEDULER_TIMEOUT`` seconds, closed after). Dask is imported here only."""
    if backend is None:
        yield
        return
    if backend != "dask":
        with parallel_config(backend=backend):
            yield
        return
    try:
        from distributed import Client
    except ImportError:
        raise NnscratchError(
            f"--backend dask needs Dask's distributed scheduler: {CLUSTER_INSTALL}"
        ) from None
    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError):
        raise NnscratchError(
            f"no Dask scheduler answered at {scheduler} within {SCHEDULER_TIMEOUT} s: start "
            "one (dask scheduler) or check --scheduler"
        ) from None
    with client, parallel_config(backend="dask", client=client):
        yield


# --- successive halving ------------------------------------------------------------------------
def halving_rungs(trials, epochs, eta=ETA):
    """Successive halving's rungs for ``trials`` trials of at most ``epochs`` epochs, reduction
    factor η = ``eta``: ``[(epochs_k, trials_k), ...]`` for k = 0..s, where s = min(⌊log_η n⌋,
    ⌊log_η epochs⌋) (the last rung keeps a trial, the first trains one epoch or more),
    epochs_k = ⌊epochs / η^(s−k)⌋ (the last: ``epochs``) and trials_k = ⌊n / η^k⌋. Each trial is
    continued, not retrained, so the epochs spent are Σ_k trials_k·(epochs_k − epochs_(k−1))."""
    if isinstance(eta, bool) or not isinstance(eta, (int, np.integer)) or eta < 2:
        raise NnscratchError(f"eta must be an integer ≥ 2 (the default is {ETA}), got {eta!r}")
    s = min(_floor_log(trials, eta), _floor_log(epochs, eta))
    return [(epochs // eta ** (s - k), trials // eta**k) for k in range(s + 1)]


def halving_epochs(rungs):
    """The epochs successive halving's ``rungs`` (:func:`halving_rungs`) train in all, each
    trial continued from its rung before: Σ_k trials_k·(epochs_k − epochs_(k−1)), epochs_(−1) = 0
    (fewer when a trial diverges)."""
    return sum(n * (e - before) for (e, n), (before, _) in zip(rungs, [(0, 0), *rungs]))


def _floor_log(n, base):  # ⌊log_base n⌋ for integers n ≥ 1, exactly (no float rounding)
    return next(k for k in itertools.count() if base ** (k + 1) > n)


def _accuracy_after(record, epochs):  # validation accuracy after that many epochs, or None
    return record["val_acc"][epochs - 1] if len(record["val_acc"]) >= epochs else None


def promote(records, epochs, keep):
    """The indices of the ``keep`` best of ``records`` by validation accuracy after ``epochs``
    epochs (ties: the lower index), in index order; a trial that diverged before is never one."""
    ranked = sorted(
        (r for r in records if _accuracy_after(r, epochs) is not None),
        key=lambda r: (-_accuracy_after(r, epochs), r["index"]),
    )
    return sorted(r["index"] for r in ranked[:keep])


def _successive_halving(rungs, settings, data, n_jobs, out, done, on_trial):
    """Run the ``rungs`` (:func:`halving_rungs`) from what ``done`` holds: each rung's trials
    that have not reached it are trained to its epochs from their checkpoints (``out/trials/
    NNNN.npz``, or kept here without ``out``), record and checkpoint saved as each ends; then the
    best 1/η go on. A checkpoint no longer needed is deleted."""
    states = {}  # without out: the checkpoints, by index

    def checkpoint(index):
        if out is None:
            return states.get(index)
        path = Path(out) / CHECKPOINT_FILE.format(index)
        return path.read_bytes() if path.exists() else None

    def forget(indices):
        for index in indices:
            states.pop(index, None)
            if out is not None:
                (Path(out) / CHECKPOINT_FILE.format(index)).unlink(missing_ok=True)

    survivors = list(range(rungs[0][1]))
    for rung, (epochs, _) in enumerate(rungs):
        if rung:
            before = survivors
            survivors = promote([done[i] for i in before], rungs[rung - 1][0], rungs[rung][1])
            forget(set(before) - set(survivors))

        def tasks(rung=rung, epochs=epochs, survivors=survivors):
            for index in survivors:
                if index not in done or done[index]["rung"] < rung:
                    _log(out, f"queued {index} rung {rung}")
                    state = checkpoint(index) if rung else None
                    yield delayed(run_rung)(index, rung, epochs, settings, data, state, os.getpid())

        def keep(result, writing, rung=rung):
            record, state = result
            index = record["index"]
            if index in done:  # the rungs before: their seconds too
                record["seconds"] += done[index]["seconds"]
            if out is not None:
                with writing():
                    if state is not None:
                        atomic_write_bytes(Path(out) / CHECKPOINT_FILE.format(index), state)
                    save_json(Path(out) / TRIAL_FILE.format(index), record)
                    _log(out, f"done {index} rung {rung}")
            elif state is not None:
                states[index] = state
            done[index] = record
            if on_trial is not None:
                on_trial(record)

        _run_tasks(tasks(), n_jobs, keep)
    forget(survivors)  # the last rung's: no rung after it


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
    """The ``top`` trials by final validation accuracy (diverged last; ties: lower index first);
    of successive halving's, those of a later rung first (the others stopped sooner)."""
    return sorted(
        trials,
        key=lambda r: (
            r["final_val_acc"] is None,
            -r.get("rung", 0),
            -(r["final_val_acc"] or 0.0),
            r["index"],
        ),
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
