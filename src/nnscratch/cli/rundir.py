"""A run's folder (``nnscratch train --out DIR``): one writer at a time, nothing left behind by a
run that failed before writing there, and whether the run saved there is over.

The lock is an OS lock (``fcntl.flock``) on the folder itself, held for the whole run, --resume
included. The operating system drops it when the process ends, however it ends (SIGKILL and
power loss too), so no stale lock is ever left to clean up. A run that goes on to train names
itself (pid, start time) in ``DIR/.nnscratch-train.lock`` for a second writer's error; a
--resume that finds nothing to do writes nothing at all. Where ``fcntl`` does not exist
(Windows) or the filesystem refuses flock (some network filesystems), runs take no lock: two runs
on one folder there are not detected.
"""

import contextlib
import errno
import os
import sys
import time
from pathlib import Path

from ..errors import NnscratchError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]  # the module, or None where there is none

#: the file in which the run holding a folder names itself
LOCK_NAME = ".nnscratch-train.lock"
#: what the results of a finished run are: written by ``train.save_results`` after its last
#: checkpoint
RESULTS = ("model.npz", "history.json", "curves.png")
#: flock's errors on a filesystem that has no such locks (not another holder's)
NO_FLOCK = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP}


@contextlib.contextmanager
def run_folder(folder):
    """``with run_folder(folder) as announce:`` ``folder`` exists (made with its parents if
    missing) and this process is its only writer (:func:`run_lock`, whose ``announce`` it
    gives). If the block fails and the folder, made here, holds nothing but the lock file, what
    was made here is removed again."""
    folder = Path(folder)
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with run_lock(folder) as announce:
            yield announce
    except BaseException:
        if made and {p.name for p in folder.iterdir()} <= {LOCK_NAME}:
            (folder / LOCK_NAME).unlink(missing_ok=True)
            for path in made:  # the deepest first; one someone else wrote into stays
                with contextlib.suppress(OSError):
                    path.rmdir()
        raise


@contextlib.contextmanager
def run_lock(folder):
    """``with run_lock(folder) as announce:`` this process is the only `nnscratch train` writing
    to ``folder`` (an existing directory); a second one gets an NnscratchError naming the first
    (its pid and start time, which ``announce()`` writes, once the run is going to write)."""
    if fcntl is None:
        yield _nothing
        return
    fd = os.open(folder, os.O_RDONLY)  # flock works on a directory's descriptor: no file to make
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise NnscratchError(
                f"{folder} is in use by another `nnscratch train` "
                f"({_holder(folder) or 'it is just starting'}): wait for it to "
                "end, or give another --out"
            ) from None
        except OSError as exc:
            if exc.errno not in NO_FLOCK:
                raise
            print(
                f"nnscratch: warning: {folder} is on a filesystem without file locks "
                f"({exc.strerror}): it is not protected against a second `nnscratch train` "
                "writing there",
                file=sys.stderr,
                flush=True,
            )
            yield _nothing
            return
        yield lambda: (Path(folder) / LOCK_NAME).write_text(
            f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
        )
    finally:
        os.close(fd)  # releases the lock


def _nothing():
    """``announce`` where there is no lock to name."""


def _holder(folder):
    """What the running holder of ``folder`` wrote about itself, or '' (not yet, or unreadable)."""
    try:
        return (Path(folder) / LOCK_NAME).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def missing_results(folder):
    """The results (:data:`RESULTS`) not in ``folder``, in that order."""
    return [name for name in RESULTS if not (Path(folder) / name).is_file()]


def finished(checkpoint, spec, folder):
    """What to say when the run saved in ``checkpoint`` is over (all ``spec["epochs"]`` done, or
    stopped early by its patience), else None: '{folder}: the run finished all 40 epochs (test
    acc 0.9800)'."""
    history = checkpoint.history if isinstance(checkpoint.history, dict) else {}
    if checkpoint.epoch >= spec["epochs"]:
        acc = _test_acc(history, -1)
        return f"{folder}: the run finished all {spec['epochs']} epochs{f' ({acc})' if acc else ''}"
    if spec["early_stopping"] is None:
        return None
    wait, best = _early_stopping_state(checkpoint)
    if wait is None or wait < spec["early_stopping"]:
        return None
    acc = _test_acc(history, best - 1) if best > 0 else None
    return (
        f"{folder}: the run stopped early at epoch {checkpoint.epoch} of {spec['epochs']} "
        f"(best epoch {best}{f', {acc}' if acc else ''})"
    )


def _test_acc(history, index):
    """'test acc 0.9800' for epoch ``index`` (from 0; -1 the last) of ``history``, or None."""
    test_acc = history.get("test_acc")
    if not isinstance(test_acc, list) or not -len(test_acc) <= index < len(test_acc):
        return None
    value = test_acc[index]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return f"test acc {value:.4f}"


def _early_stopping_state(checkpoint):
    """(wait, best_epoch) of the EarlyStopping state in ``checkpoint`` (callback state is kept
    under the callback's class name), (None, None) if it has none."""
    damaged = NnscratchError(
        f"checkpoint {str(checkpoint.path)!r}: its early-stopping state is "
        "damaged: start the run again (or resume it from Python with "
        "Trainer.load_checkpoint)"
    )
    extra = checkpoint.extra
    callbacks = extra.get("callbacks", {}) if isinstance(extra, dict) else None
    if not isinstance(callbacks, dict):
        raise damaged
    stopper = callbacks.get("EarlyStopping")
    if not stopper:
        return None, None
    try:
        wait, best = stopper["wait"], stopper["best_epoch"]
    except (KeyError, TypeError):
        raise damaged from None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (wait, best)):
        raise damaged
    try:
        return int(wait), int(best)
    except (ValueError, OverflowError):  # nan, inf
        raise damaged from None
