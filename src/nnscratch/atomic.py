"""Atomic writes of the files a user keeps (models, checkpoints, figures, history, datasets).

Write to a temp file in the same folder, flush it to disk (fsync), then rename it over the target:
a crash, even SIGKILL, leaves either the old file or the new one, never half of one. The rename
is atomic only within one file system, hence the same folder.

An ``OSError`` while writing (a full disk, a failing drive) names the target: ``write`` and
``fsync`` on an open file raise errors without a file name, which would leave a user guessing
which file could not be written.
"""

import contextlib
import json
import os
import tempfile
from pathlib import Path


def _umask():
    mask = os.umask(0)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path):
    """Open a temp file next to ``path`` for binary writing; on success fsync it and rename it to
    ``path``. On any exception the temp file is removed and ``path`` is untouched; an OS error
    (one with an ``errno``) that names no file gets ``path`` as its ``filename``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a saved file gets open()'s mode
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename is None:
            exc.filename = str(path)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory):
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename)."""
    with atomic_open(path) as f:
        f.write(data)


def save_json(path, obj):
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, allow_nan=True) + "\n").encode())
