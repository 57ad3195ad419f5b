"""A run's folder (``nnscratch train --out DIR``): one writer at a time, and whether the run
saved there is over.

The lock is an OS lock (``fcntl.flock``) on ``DIR/.nnscratch-train.lock``, held for the whole
run, --resume included. The operating system drops it when the process ends, however it ends
(SIGKILL and power loss too), so no stale lock is ever left to clean up: the file that stays
behind only names the last run that held it. Where ``fcntl`` does not exist (Windows), runs
take no lock: two runs on one folder there are not detected.
"""

import contextlib
import os
import time

from ..errors import NnscratchError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_NAME = ".nnscratch-train.lock"


@contextlib.contextmanager
def run_lock(folder):
    """``with run_lock(folder):`` this process is the only `nnscratch train` writing to
    ``folder`` (an existing directory); a second one gets an NnscratchError naming the first
    (its pid and start time, read from the lock file)."""
    if fcntl is None:
        yield
        return
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            raise NnscratchError(f"{folder} is in use by another `nnscratch train` "
                                 f"({holder or 'it is just starting'}): wait for it to end, "
                                 "or give another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
                  .encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def finished(checkpoint, config, folder):
    """The line to print when the run saved in ``checkpoint`` is over (all ``config.epochs``
    done, or stopped early by its patience), else None."""
    test_acc = checkpoint.history.get("test_acc") or []
    if checkpoint.epoch >= config.epochs:
        acc = f" (test acc {test_acc[-1]:.4f})" if test_acc else ""
        return f"{folder}: the run finished all {config.epochs} epochs{acc}; nothing to resume"
    # early stopping's saved state (callback state is kept under the callback's class name)
    stopper = checkpoint.extra.get("callbacks", {}).get("EarlyStopping")
    if config.early_stopping is None or not stopper or stopper["wait"] < config.early_stopping:
        return None
    best = int(stopper["best_epoch"])
    acc = f", test acc {test_acc[best - 1]:.4f}" if len(test_acc) >= best > 0 else ""
    return (f"{folder}: the run stopped early at epoch {checkpoint.epoch} of {config.epochs} "
            f"(best epoch {best}{acc}); nothing to resume")
