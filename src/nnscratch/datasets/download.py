"""Downloading dataset files so that nothing partial or unverified is ever where the loader reads.

Each file is streamed to a temp file in ``<folder>`` (:func:`nnscratch.atomic.atomic_open`) while
its SHA-256 (and MD5) are computed, and renamed to ``<folder>/<name>`` only when its size and
checksums are the official ones; on any failure the temp file is removed. Mirrors are tried in
order; a dropped connection or a timeout is retried on the same mirror with exponential backoff,
a wrong checksum or an HTTP error moves on to the next mirror. When every mirror fails, one error
lists what was tried and how to place the files by hand.

Only the standard library speaks HTTP here (``urllib``), so proxies set in ``$https_proxy`` /
``$http_proxy`` are honoured.
"""

import hashlib
import http.client
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..atomic import atomic_open
from ..errors import NnscratchError
from .sources import download_dir, find_file

CHUNK = 1 << 16
USER_AGENT = "nnscratch (https://github.com/; dataset downloader)"


class _Retry(Exception):
    """A failure worth trying again on the same mirror (connection dropped, timeout)."""


class _NextMirror(Exception):
    """A failure this mirror will repeat (HTTP 4xx/5xx, wrong size or checksum)."""


def _stream(url, out, fspec, timeout, progress):
    """Stream ``url`` into the open file ``out``; raise _Retry/_NextMirror unless it is the
    official file."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    sha256, md5 = hashlib.sha256(), hashlib.md5()
    received = 0
    length = None  # the Content-Length the server announced, if any
    limit = fspec.size  # never read (much) more than the official size: a wrong file stops early
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            from tqdm.auto import tqdm

            length = response.headers.get("Content-Length")

            with tqdm(
                total=fspec.size,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=fspec.filename,
                disable=not progress,
                leave=False,
                file=sys.stderr,
            ) as bar:
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    received += len(chunk)
                    if limit is not None and received > limit:
                        raise _NextMirror(f"served more than the official {limit} bytes")
                    sha256.update(chunk)
                    md5.update(chunk)
                    out.write(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as exc:
        raise _NextMirror(f"HTTP {exc.code} {exc.reason}") from None
    except http.client.IncompleteRead as exc:
        raise _Retry(f"connection closed after {received + len(exc.partial)} bytes") from None
    except TimeoutError as exc:
        raise _Retry(f"timed out after {timeout} s ({exc})") from None
    except urllib.error.URLError as exc:
        raise _Retry(f"cannot connect: {exc.reason}") from None
    except (ConnectionError, http.client.HTTPException, OSError) as exc:
        raise _Retry(f"connection failed: {exc}") from None
    if fspec.size is not None and received < fspec.size:
        if length is not None and length.isdigit() and received >= int(length):
            raise _NextMirror(f"served {received} bytes, not the official {fspec.size}")
        raise _Retry(f"connection closed after {received} of {fspec.size} bytes")
    if fspec.sha256 and sha256.hexdigest() != fspec.sha256:
        raise _NextMirror(f"wrong SHA-256 {sha256.hexdigest()} (expected {fspec.sha256})")
    if fspec.md5 and md5.hexdigest() != fspec.md5:
        raise _NextMirror(f"wrong MD5 {md5.hexdigest()} (expected {fspec.md5})")
    if not (fspec.sha256 or fspec.md5):
        raise _NextMirror("no official checksum is known for this file, so it cannot be trusted")


def download_file(fspec, mirrors, folder, *, timeout=30.0, retries=3, backoff=1.0, progress=True):
    """Download ``fspec.filename`` from the first mirror that serves the official file.

    ``mirrors`` are base URLs (ending in ``/``); each is tried up to ``retries`` times when the
    connection fails, waiting ``backoff · 2^k`` seconds between tries. Returns the path of the
    verified file in ``folder``; raises :class:`NnscratchError` listing every attempt when no
    mirror served it. Only a verified file ever appears at its name; on any failure (disk full,
    Ctrl-C too) nothing is left.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NnscratchError(
            f"cannot create the data folder {folder}: {exc.strerror or exc}; "
            "choose another with --data-dir or $NNSCRATCH_DATA"
        ) from None
    final = folder / fspec.filename
    tried = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + fspec.filename
        for attempt in range(retries):
            try:
                with atomic_open(final) as out:  # renamed to final only if _stream returns
                    _stream(url, out, fspec, timeout, progress)
            except _Retry as exc:
                tried.append(f"{url} (try {attempt + 1}/{retries}): {exc}")
                if attempt + 1 < retries and backoff > 0:
                    time.sleep(backoff * 2**attempt)
                continue
            except _NextMirror as exc:
                tried.append(f"{url}: {exc}")
                break
            return final
    raise NnscratchError(
        f"could not download {fspec.filename}: every mirror failed. Tried: {'; '.join(tried)}. "
        f"To place the files by hand, get {fspec.filename} ({fspec.size} bytes, SHA-256 "
        f"{fspec.sha256}) from any copy of the dataset and put it, gzipped or not, in {folder} "
        "(or in a folder you pass with --data-dir / $NNSCRATCH_DATA); it is checked before use"
    )


def download_dataset(spec, data_dir=None, *, folder=None, force=False, **options):
    """Download every file of ``spec`` that ``folder`` does not already hold.

    ``folder`` defaults to :func:`~nnscratch.datasets.sources.download_dir` (``data_dir/<name>``,
    ``$NNSCRATCH_DATA/<name>`` or the user cache). Files already there are kept unless ``force``
    (they are verified when loaded). ``options`` go to :func:`download_file`. Returns
    ``{role: path}``.
    """
    folder = Path(folder) if folder is not None else download_dir(spec, data_dir)
    paths = {}
    for role, fspec in spec.files.items():
        existing = None if force else find_file(folder, fspec)
        paths[role] = existing or download_file(fspec, spec.mirrors, folder, **options)
    return paths
