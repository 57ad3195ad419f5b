"""Downloading dataset files so that nothing partial or unverified is ever where the loader reads.

Each file is streamed to a temp file in ``<folder>`` (:func:`nnscratch.atomic.atomic_open`) while
its SHA-256 (and MD5) are computed, and renamed to ``<folder>/<name>`` only when its size and
checksums are the official ones; on any failure the temp file is removed. Mirrors are tried in
order; a dropped connection or a timeout is retried on the same mirror with exponential backoff;
a wrong checksum, an HTTP error, a host name that does not resolve or a refused connection moves
on to the next mirror at once. When every mirror fails, a :class:`DownloadError` says in two short
lines what went wrong and where to put the file by hand; its ``attempts`` hold every try in full
(``nnscratch data download --verbose`` prints them).

Only the standard library speaks HTTP here (``urllib``), so proxies set in ``$https_proxy`` /
``$http_proxy`` are honoured.
"""

import errno
import hashlib
import http.client
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_open
from ..errors import NnscratchError
from .sources import download_dir, find_file

CHUNK = 1 << 16
USER_AGENT = "nnscratch (https://github.com/; dataset downloader)"


@dataclass(frozen=True)
class Attempt:
    """One failed try of one mirror.

    ``detail`` is the failure in full, ``kind`` the same in a few words (what the error's summary
    lists), ``reached`` whether the mirror answered at all, ``tries`` ("2/3") set when the failure
    was one worth retrying. ``str()`` is one line: the URL, the try and the detail.
    """

    url: str
    detail: str
    kind: str
    reached: bool = True
    tries: str = ""

    def __str__(self):
        where = f"{self.url} (try {self.tries})" if self.tries else self.url
        return f"{where}: {self.detail}"


class DownloadError(NnscratchError):
    """No mirror served a file. The message is two short lines: ``failed`` (what failed, summed
    up) and ``by_hand`` (where to put the file by hand; then ``hint``, the command that shows
    every try, where one is known). ``attempts`` lists every try (:class:`Attempt`, one line each),
    ``file`` is the :class:`~nnscratch.datasets.sources.FileSpec` and ``folder`` the target."""

    def __init__(self, failed, by_hand, attempts=(), file=None, folder=None, hint=""):
        super().__init__(f"{failed}\n{by_hand}{'; ' + hint if hint else ''}")
        self.failed, self.by_hand, self.hint = failed, by_hand, hint
        self.attempts = tuple(attempts)
        self.file = file
        self.folder = folder

    def hinted(self, hint):
        """The same error, its second line ending in ``hint`` (none for ``""``)."""
        return DownloadError(self.failed, self.by_hand, self.attempts, self.file, self.folder, hint)


class _Failure(Exception):
    """A failed try: the message in full, ``kind`` in a few words, ``reached`` False when no
    connection was made at all."""

    retry = False

    def __init__(self, kind, detail, reached=True):
        super().__init__(detail)
        self.kind = kind
        self.reached = reached


class _Retry(_Failure):
    """A failure worth trying again on the same mirror (connection dropped, timeout)."""

    retry = True


class _NextMirror(_Failure):
    """A failure this mirror will repeat (HTTP 4xx/5xx, wrong size or checksum, a host name that
    does not resolve, nothing listening)."""


def _cannot_connect(reason):
    """The failure for a connection that could not be made; ``reason`` is what urllib wrapped."""
    detail = f"cannot connect: {reason}"
    if isinstance(reason, socket.gaierror):
        # no DNS answer (offline, or a typo): it will not resolve a second later either
        return _NextMirror("name resolution failed", detail, reached=False)
    if isinstance(reason, ConnectionRefusedError):
        # nothing listens there (or the proxy is down): a retry 1-2 s later finds the same
        return _NextMirror("connection refused", detail, reached=False)
    if isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        # no route (offline without DNS failing first): a second later there is none either
        return _NextMirror("network unreachable", detail, reached=False)
    if isinstance(reason, TimeoutError):
        return _Retry("timed out", detail, reached=False)
    return _Retry("cannot connect", detail, reached=False)


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
                        raise _NextMirror(
                            "wrong size", f"served more than the official {limit} bytes"
                        )
                    sha256.update(chunk)
                    md5.update(chunk)
                    out.write(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as exc:
        raise _NextMirror(f"HTTP {exc.code}", f"HTTP {exc.code} {exc.reason}") from None
    except http.client.IncompleteRead as exc:
        closed = f"connection closed after {received + len(exc.partial)} bytes"
        raise _Retry("connection closed", closed) from None
    except TimeoutError as exc:
        raise _Retry("timed out", f"timed out after {timeout} s ({exc})") from None
    except urllib.error.URLError as exc:
        raise _cannot_connect(exc.reason) from None
    except (ConnectionError, http.client.HTTPException, OSError) as exc:
        raise _Retry("connection failed", f"connection failed: {exc}") from None
    if fspec.size is not None and received < fspec.size:
        if length is not None and length.isdigit() and received >= int(length):
            raise _NextMirror(
                "wrong size", f"served {received} bytes, not the official {fspec.size}"
            )
        raise _Retry(
            "connection closed", f"connection closed after {received} of {fspec.size} bytes"
        )
    if fspec.sha256 and sha256.hexdigest() != fspec.sha256:
        raise _NextMirror(
            "wrong SHA-256", f"wrong SHA-256 {sha256.hexdigest()} (expected {fspec.sha256})"
        )
    if fspec.md5 and md5.hexdigest() != fspec.md5:
        raise _NextMirror("wrong MD5", f"wrong MD5 {md5.hexdigest()} (expected {fspec.md5})")
    if not (fspec.sha256 or fspec.md5):
        raise _NextMirror(
            "no official checksum",
            "no official checksum is known for this file, so it cannot be trusted",
        )


def _summary(attempts):
    """What went wrong on every mirror, in a few words: "no mirror could be reached (name
    resolution failed: no network?)", "no mirror served it (HTTP 404, wrong SHA-256)"."""
    if not attempts:
        return "no mirror is known for it"
    kinds = list(dict.fromkeys(attempt.kind for attempt in attempts))
    if any(attempt.reached for attempt in attempts):
        return f"no mirror served it ({', '.join(kinds)})"
    if kinds == ["name resolution failed"]:
        kinds = ["name resolution failed: no network?"]
    return f"no mirror could be reached ({', '.join(kinds)})"


def download_file(fspec, mirrors, folder, *, timeout=30.0, retries=3, backoff=1.0, progress=True):
    """Download ``fspec.filename`` from the first mirror that serves the official file.

    ``mirrors`` are base URLs (ending in ``/``); each is tried up to ``retries`` times when the
    connection drops or times out, waiting ``backoff · 2^k`` seconds between tries; a host name
    that does not resolve, a refused connection, an HTTP error or a wrong file moves on to the
    next mirror at once. Returns the path of the verified file in ``folder``; raises
    :class:`DownloadError` (an :class:`NnscratchError`: two short lines, every try in its
    ``attempts``) when no mirror served it. Only a verified file ever appears at its name; on any
    failure (disk full, Ctrl-C too) nothing is left.
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
            except _Failure as exc:
                tries = f"{attempt + 1}/{retries}" if exc.retry else ""
                tried.append(Attempt(url, str(exc), exc.kind, exc.reached, tries))
                if not exc.retry:
                    break
                if attempt + 1 < retries and backoff > 0:
                    time.sleep(backoff * 2**attempt)
                continue
            return final
    size = f"{fspec.size} bytes, " if fspec.size is not None else ""
    raise DownloadError(
        f"could not download {fspec.filename}: {_summary(tried)}",
        f"by hand: put it ({size}.gz or not) in {folder} (or --data-dir, $NNSCRATCH_DATA)",
        tried,
        fspec,
        folder,
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
        try:
            paths[role] = existing or download_file(fspec, spec.mirrors, folder, **options)
        except DownloadError as exc:  # train, data info: say where every try can be seen
            hint = f"each try: `nnscratch data download {spec.name} --verbose`"
            raise exc.hinted(hint) from None
    return paths
