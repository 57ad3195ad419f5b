"""Text as token ids for a language model: a character tokenizer, 唐诗三百首 and any text file.

A character-level language model reads a text one character (one *token*) at a time and learns
to predict the next one. Its data is one long 1-D int array of token ids; :func:`get_batch` cuts
random windows out of it, the inputs x (B, T) and the targets t (B, T) = x shifted by one.

- :class:`CharTokenizer`: character ↔ id, the vocabulary read off the training text.
- :func:`load_tang300`: the 320 poems of 唐诗三百首, shipped with nnscratch (``data/``, from
  chinese-poetry, traditional characters), split into training and validation poems.
- :func:`load_tang`: 全唐诗, about 57,600 poems (3.67 M characters of verse), downloaded on first
  use from chinese-poetry (58 JSON files, each checked against its SHA-256) and kept in the cache.
- :func:`load_text_file`: the same from any UTF-8 text file of your own.

The loaders return a :class:`TextDataset`.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NnscratchError
from ..validation import PROBABILITY, check_positive_int
from .download import DownloadError, download_file
from .sources import DatasetSpec, FileSpec, download_dir, search_dirs, sha256_hex

#: the token of every character the tokenizer did not see in its training text: id 0
UNKNOWN = "\ufffd"
#: the shipped 唐诗三百首 (see data/README.md for its source and licence)
TANG300_FILE = Path(__file__).with_name("data") / "tang300.json.gz"
#: the 58 files of 全唐诗: name, size and SHA-256 of each, the commit and the URL templates
TANG_FILES = Path(__file__).with_name("data") / "quan-tang-shi.json"


def _code_points(text: str) -> np.ndarray:
    """The code point of every character of ``text``: uint32 (L,), in one pass over it."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


class CharTokenizer:
    """Characters ↔ token ids: id 0 is :data:`UNKNOWN` ("\\ufffd"), ids 1, 2, ... are the
    distinct characters of the training text in sorted (code point) order.

    A character that was not in the training text encodes to 0 and decodes to "\\ufffd".
    ``chars[i]`` is the character of id ``i``.

    >>> tok = CharTokenizer("床前明月光")
    >>> tok.vocab_size
    6
    >>> ids = tok.encode("明月光")
    >>> ids.tolist()
    [4, 5, 1]
    >>> tok.decode(ids)
    '明月光'
    >>> tok.encode("明日").tolist()  # 日 was not in the training text
    [4, 0]
    >>> CharTokenizer.from_config(tok.to_config()) == tok
    True
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise NnscratchError(f"CharTokenizer takes the training text (a str), got {text!r}")
        #: the vocabulary in id order, the unknown token first
        self.chars: str = UNKNOWN + "".join(sorted(set(text) - {UNKNOWN}))
        # the code points of chars[1:], sorted: encode finds a character's id by binary search
        self._codes = _code_points(self.chars[1:])

    @property
    def vocab_size(self) -> int:
        """How many different ids there are, the unknown token included: V."""
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """``text`` (a str of L characters) → its token ids, int64 (L,); 0 for unknown ones."""
        if not isinstance(text, str):
            raise NnscratchError(f"encode takes a str, got {type(text).__name__}")
        codes = _code_points(text)
        where = np.searchsorted(self._codes, codes)  # the id - 1 of each known character
        known = where < len(self._codes)
        known[known] = self._codes[where[known]] == codes[known]
        return np.where(known, where + 1, 0).astype(np.int64)

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """Token ids (L,), each in 0..V-1 → the text of L characters (id 0 gives "\\ufffd")."""
        array = np.asarray(ids)
        if array.size == 0:
            return ""
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
            raise NnscratchError(
                f"decode takes one sequence of int ids (L,), got {array.dtype} of shape "
                f"{array.shape}: decode each row of a batch on its own"
            )
        if array.min() < 0 or array.max() >= self.vocab_size:
            raise NnscratchError(
                f"token ids must be from 0 to {self.vocab_size - 1} (the vocabulary size - 1), "
                f"got {array.min()} to {array.max()}"
            )
        return "".join(self.chars[i] for i in array.tolist())

    def to_config(self) -> dict[str, Any]:
        """The tokenizer as JSON-able data (a model file stores it without pickle):
        ``{"type": "char", "chars": <the vocabulary in id order, unknown first>}``."""
        return {"type": "char", "chars": self.chars}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CharTokenizer:
        """The tokenizer that :meth:`to_config` wrote, with the same ids."""
        chars = config.get("chars") if isinstance(config, Mapping) else None
        kind = config.get("type") if isinstance(config, Mapping) else None
        rest = chars[1:] if isinstance(chars, str) else ""
        if (
            kind != "char"
            or not isinstance(chars, str)
            or not chars.startswith(UNKNOWN)
            or list(rest) != sorted(set(rest) - {UNKNOWN})
        ):
            raise NnscratchError(
                "not a CharTokenizer config: it must be {'type': 'char', 'chars': ...} with "
                "'\\ufffd' first and then distinct characters in sorted order, as to_config "
                "writes it"
            )
        return cls(rest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and other.chars == self.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


@dataclass
class TextDataset:
    """A text as token ids, split into training and validation.

    train (N,) and val (M,) are int64 token ids of ``tokenizer``, built from the training text
    only (a character only in the validation text is id 0, unknown). The split is by whole
    pieces (poems, paragraphs or lines): ``n_train_pieces`` and ``n_val_pieces`` of them.
    """

    name: str
    description: str
    train: np.ndarray
    val: np.ndarray
    tokenizer: CharTokenizer
    n_train_pieces: int
    n_val_pieces: int


def render_poem(poem: Mapping[str, Any]) -> str:
    """One poem as the text a model reads: ``《title》author``, its lines, then a blank line.

    >>> poem = {"title": "靜夜思", "author": "李白",
    ...         "paragraphs": ["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"]}
    >>> print(render_poem(poem), end="")
    《靜夜思》李白
    床前明月光，疑是地上霜。
    舉頭望明月，低頭思故鄉。
    <BLANKLINE>
    """
    return f"《{poem['title']}》{poem['author']}\n" + "\n".join(poem["paragraphs"]) + "\n\n"


def tang300_poems() -> list[dict[str, Any]]:
    """The 320 poems of 唐诗三百首 as nnscratch ships them, in the book's order: each
    ``{"title": str, "author": str, "paragraphs": [line, ...]}``, traditional characters."""
    return json.loads(gzip.decompress(TANG300_FILE.read_bytes()).decode("utf-8"))


def load_tang300(val_poems: float = 0.1, seed: int = 0) -> TextDataset:
    """唐诗三百首 (320 poems, about 23,500 characters of verse) as token ids.

    Each poem is rendered by :func:`render_poem`: ``《title》author``, a newline, its lines
    joined by newlines, and a blank line after it (so "\\n\\n" separates poems). A seeded
    permutation of the poems puts ``round(val_poems × 320)`` of them (32 by default) in the
    validation text, the rest in the training text, each in the book's order: no poem is split
    between the two. The tokenizer is built from the training text only, so a character seen only
    in validation poems encodes to the unknown id 0.

    >>> data = load_tang300()
    >>> data.n_train_pieces, data.n_val_pieces
    (288, 32)
    >>> print(data.tokenizer.decode(data.train[:22]))
    《登鸛雀樓》王之渙
    白日依山盡，黃河入海流。
    """
    fraction = PROBABILITY.check(val_poems, "val_poems", hint="the fraction of poems held out")
    label = "唐诗三百首 (chinese-poetry, traditional characters)"
    return poems_dataset("tang300", label, tang300_poems(), fraction, seed)


def poems_dataset(
    name: str, label: str, poems: Sequence[Mapping[str, Any]], val_poems: float, seed: int
) -> TextDataset:
    """``poems`` as a :class:`TextDataset`: a seeded permutation puts ``round(val_poems × P)``
    of the P poems in the validation text, the rest in the training text, each in the given
    order, every poem rendered by :func:`render_poem`; the tokenizer is read off the training
    text. ``label`` starts the description."""
    n_val = round(val_poems * len(poems))
    order = np.random.default_rng(seed).permutation(len(poems))
    val_index = sorted(order[:n_val].tolist())
    train_index = sorted(order[n_val:].tolist())
    train_text = "".join(render_poem(poems[i]) for i in train_index)
    val_text = "".join(render_poem(poems[i]) for i in val_index)
    tokenizer = CharTokenizer(train_text)
    return TextDataset(
        name=name,
        description=(
            f"{label}: {len(train_index):,} training and {len(val_index):,} validation poems "
            f"(seed {seed}), {len(train_text):,} and {len(val_text):,} characters, "
            f"{tokenizer.vocab_size:,} tokens"
        ),
        train=tokenizer.encode(train_text),
        val=tokenizer.encode(val_text),
        tokenizer=tokenizer,
        n_train_pieces=len(train_index),
        n_val_pieces=len(val_index),
    )


def tang_spec(mirrors: Sequence[str] | None = None) -> DatasetSpec:
    """全唐诗's 58 files (:data:`TANG_FILES`: name, size and SHA-256 of each) as a dataset spec
    named "tang", and where they are downloaded from: ``mirrors`` (base URLs, each file's name
    is appended), by default raw.githubusercontent.com and jsDelivr at the pinned commit."""
    table = json.loads(TANG_FILES.read_text(encoding="utf-8"))
    if mirrors is None:
        folder = urllib.parse.quote(table["directory"] + "/")  # 全唐诗/ → %E5%85%A8...
        mirrors = [
            template.format(commit=table["commit"], path_in_repository=folder)
            for template in table["url_templates"]
        ]
    elif isinstance(mirrors, str):
        mirrors = [mirrors]
    files = {name: FileSpec(name, size, sha256, None) for name, size, sha256 in table["files"]}
    return DatasetSpec(
        name="tang",
        title="全唐诗 (chinese-poetry, traditional characters)",
        files=files,
        mirrors=tuple(mirrors),
        homepage="https://github.com/chinese-poetry/chinese-poetry",
    )


def tang_files(
    data_dir: str | Path | None = None,
    mirrors: Sequence[str] | None = None,
    download: bool = True,
    **options: Any,
) -> list[Path]:
    """The paths of 全唐诗's files, in order, each found on this machine or downloaded.

    Each file is looked for in ``data_dir/tang``, ``data_dir``, ``$NNSCRATCH_DATA/tang``,
    ``$NNSCRATCH_DATA`` and the user cache (``~/.cache/nnscratch/tang``), in that order
    (:func:`~nnscratch.datasets.sources.search_dirs`); the missing ones are downloaded, one
    after the other, into ``data_dir/tang`` (else ``$NNSCRATCH_DATA/tang``, else the cache) by
    :func:`~nnscratch.datasets.download.download_file`, which checks each one's size and SHA-256
    before it appears under its name: a download cut short resumes with the first file it did
    not finish. ``options`` (``timeout``, ``retries``, ``backoff``, ``progress``) go to it.

    Raises :class:`~nnscratch.datasets.download.DownloadError` (two short lines) when a file
    cannot be downloaded, :class:`NnscratchError` when ``download`` is False and files are missing.
    """
    spec = tang_spec(mirrors)
    folders = [folder for _, folder in search_dirs(spec, data_dir)]
    target = download_dir(spec, data_dir)
    found = {}
    for name in spec.files:
        found[name] = next((f / name for f in folders if (f / name).is_file()), None)
    missing = [name for name, path in found.items() if path is None]
    if missing and not download:
        raise NnscratchError(
            f"全唐诗: {len(missing)} of its {len(spec.files)} files are not here ({missing[0]}, "
            f"...): put them in {target} or load with download=True"
        )
    for name in missing:
        fspec = spec.files[name]
        try:
            found[name] = Path(download_file(fspec, spec.mirrors, target, **options))
        except DownloadError as exc:
            by_hand = (
                f"by hand: put it ({fspec.size} bytes) in {target} (or data_dir, "
                "$NNSCRATCH_DATA); the files already downloaded are kept"
            )
            raise DownloadError(exc.failed, by_hand, exc.attempts, fspec, target) from None
    return [path for path in found.values() if path is not None]


def tang_poems(
    data_dir: str | Path | None = None,
    mirrors: Sequence[str] | None = None,
    download: bool = True,
    **options: Any,
) -> list[dict[str, Any]]:
    """The poems of 全唐诗 in the source's order (files in :data:`TANG_FILES`' order), each
    ``{"title": str, "author": str, "paragraphs": [line, ...]}``, traditional characters.

    The files come from :func:`tang_files` (found or downloaded; the arguments are its); each is
    checked against its size and SHA-256 before it is read, so a damaged file in a folder is an
    :class:`NnscratchError` naming it, never poems read from it.
    """
    spec = tang_spec(mirrors)
    poems: list[dict[str, Any]] = []
    for path in tang_files(data_dir, mirrors, download, **options):
        fspec = spec.files[path.name]
        data = path.read_bytes()
        digest = sha256_hex(data)
        if len(data) != fspec.size or digest != fspec.sha256:
            raise NnscratchError(
                f"{path}: not the official {fspec.filename} ({len(data)} bytes, SHA-256 {digest};"
                f" expected {fspec.size} bytes, SHA-256 {fspec.sha256}): delete it and load "
                "again to download it anew"
            )
        poems += [
            {"title": p["title"], "author": p["author"], "paragraphs": p["paragraphs"]}
            for p in json.loads(data.decode("utf-8"))
        ]
    return poems


def load_tang(
    data_dir: str | Path | None = None,
    val_poems: float = 0.1,
    seed: int = 0,
    mirrors: Sequence[str] | None = None,
    download: bool = True,
    **options: Any,
) -> TextDataset:
    """全唐诗 (about 57,600 poems, 3.67 M characters of verse) as token ids, downloaded on first
    use.

    The 58 files (about 25 MB) are found or downloaded by :func:`tang_files` (``data_dir``,
    ``mirrors``, ``download`` and ``options`` are its: see there where they are looked for and
    where a download goes) and checked against their SHA-256 by :func:`tang_poems`. The poems
    are then rendered and split as :func:`load_tang300` does: ``round(val_poems × P)`` of the P
    poems, chosen by a permutation seeded by ``seed``, are the validation text; the tokenizer is
    read off the training text only.

    Errors: :class:`~nnscratch.datasets.download.DownloadError` (no network, a file served
    damaged: two short lines, no partial file left), :class:`NnscratchError` (a damaged file in
    a folder, files missing with ``download=False``).
    """
    fraction = PROBABILITY.check(val_poems, "val_poems", hint="the fraction of poems held out")
    poems = tang_poems(data_dir, mirrors, download, **options)
    label = "全唐诗 (chinese-poetry, traditional characters)"
    return poems_dataset("tang", label, poems, fraction, seed)


def read_text(path: str | Path) -> str:
    """The text of a UTF-8 file (a byte order mark dropped, line ends made "\\n"), or an
    :class:`NnscratchError` that says in one line why not: missing, not UTF-8, empty."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NnscratchError(f"no such text file: {path}") from None
    except OSError as exc:
        raise NnscratchError(f"cannot read the text file {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NnscratchError(
            f"{path} is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            f"({exc.reason}); save it as UTF-8 and try again"
        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise NnscratchError(f"{path} is empty: a text dataset needs some text")
    return text


def split_pieces(text: str) -> tuple[list[str], str]:
    """``text`` cut into paragraphs (at blank lines), or into lines if it has one paragraph:
    (the pieces, each ending in "\\n\\n" or "\\n", and "paragraphs" or "lines"). Empty pieces
    are dropped; a paragraph keeps its indentation."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n[ \t\u3000]*\n", text) if p.strip()]
    if len(paragraphs) > 1:
        return [p + "\n\n" for p in paragraphs], "paragraphs"
    return [line + "\n" for line in text.split("\n") if line.strip()], "lines"


def load_text_file(path: str | Path, val_fraction: float = 0.1) -> TextDataset:
    """Any UTF-8 text file as token ids, split by paragraphs (or by lines).

    The text is cut into paragraphs at blank lines, or into lines if it has no blank lines
    (:func:`split_pieces`). The last ``val_fraction`` of them (at least one, when the fraction is
    above 0 and there are two or more; at most all but one) are the validation text: in a story
    or a book neighbouring paragraphs share names and phrases, so a held-out end is a fairer test
    than paragraphs picked at random. The tokenizer is built from the training text only; a
    character only in the validation text encodes to the unknown id 0.

    Errors (:class:`NnscratchError`, one line each): a missing file, a file that is not UTF-8
    (with the offset of the first bad byte), an empty file.
    """
    fraction = PROBABILITY.check(
        val_fraction, "val_fraction", hint="the fraction of paragraphs held out"
    )
    path = Path(path)
    pieces, unit = split_pieces(read_text(path))
    n_val = round(fraction * len(pieces))
    if fraction > 0:
        n_val = max(n_val, 1)
    n_val = min(n_val, len(pieces) - 1)
    n_train = len(pieces) - n_val
    train_text = "".join(pieces[:n_train])
    val_text = "".join(pieces[n_train:])
    tokenizer = CharTokenizer(train_text)
    return TextDataset(
        name=path.name,
        description=(
            f"{path}: {n_train} training and {n_val} validation {unit}, {len(train_text):,} and "
            f"{len(val_text):,} characters, {tokenizer.vocab_size:,} tokens"
        ),
        train=tokenizer.encode(train_text),
        val=tokenizer.encode(val_text),
        tokenizer=tokenizer,
        n_train_pieces=n_train,
        n_val_pieces=n_val,
    )


def get_batch(
    data: np.ndarray, batch_size: int, context: int, rng: np.random.Generator | int
) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` random windows of ``context`` tokens from ``data``, and their targets.

    data (N,) int token ids, N ≥ context + 1; rng a NumPy Generator (or a seed). Returns x (B, T)
    and t (B, T), B = batch_size, T = context: row b is ``data[s : s + T]`` for a random start s,
    and its targets ``data[s + 1 : s + T + 1]``, so ``t[b, i]`` is the token that follows
    ``x[b, : i + 1]`` — what a language model learns to predict at every position (nanoGPT's
    ``get_batch``).

    >>> x, t = get_batch(np.arange(10), batch_size=2, context=4, rng=0)
    >>> x.shape, t.shape
    ((2, 4), (2, 4))
    >>> bool((t[:, :-1] == x[:, 1:]).all() and (t[:, -1] == x[:, -1] + 1).all())
    True
    """
    data = np.asarray(data)
    batch_size = check_positive_int(batch_size, "batch_size")
    context = check_positive_int(context, "context")
    if data.ndim != 1 or not np.issubdtype(data.dtype, np.integer):
        raise NnscratchError(
            f"get_batch takes 1-D int token ids (N,), got {data.dtype} of shape {data.shape}"
        )
    if len(data) < context + 1:
        raise NnscratchError(
            f"a context of {context} tokens needs at least {context + 1} tokens of data, got "
            f"{len(data)}: use a shorter context or more text"
        )
    rng = np.random.default_rng(rng)
    starts = rng.integers(0, len(data) - context, size=batch_size)  # s in 0..N-T-1
    offsets = starts[:, None] + np.arange(context)  # (B, T)
    return data[offsets], data[offsets + 1]


#: most windows a language model's end-of-epoch measurement reads from each text (its training
#: text, its validation text): 1,024 windows of 64 tokens are 65,536 predictions, enough for
#: the loss to 2 decimals, and an epoch of 全唐诗 is not spent measuring itself
EVAL_WINDOWS = 1024
#: the text datasets ``load_dataset`` knows: name → description
TEXT_DATASETS = {
    "tang300": "唐诗三百首, 320 Tang poems, bundled (28,700 characters)",
    "tang": "全唐诗, 57,600 Tang poems (3.67 M characters), downloaded on first use",
    "text": "a UTF-8 text file of your own (--text FILE), split by paragraphs or lines",
}


def windows(ids: np.ndarray, context: int) -> tuple[np.ndarray, np.ndarray]:
    """Every window of ``context`` tokens of ``ids`` (N,) and its targets: x (N - T, T) with
    row s = ids[s : s + T], t (N - T, T) with row s = ids[s + 1 : s + T + 1]. Views of ``ids``
    (``sliding_window_view``): no copy, whatever the length of the text."""
    from numpy.lib.stride_tricks import sliding_window_view

    ids = np.asarray(ids)
    if len(ids) < context + 1:
        raise NnscratchError(
            f"a context of {context} tokens needs at least {context + 1} tokens of text, got "
            f"{len(ids)}: use a shorter context or more text"
        )
    return sliding_window_view(ids[:-1], context), sliding_window_view(ids[1:], context)


def side_by_side(
    ids: np.ndarray, context: int, limit: int = EVAL_WINDOWS
) -> tuple[np.ndarray, ...]:
    """The text cut into windows side by side (every token predicted once, after 0..T-1 tokens
    of its window), at most ``limit`` of them spread evenly over it: what a language model is
    measured on. x (W, T), t (W, T)."""
    x, t = windows(ids, context)
    starts = np.arange(0, len(x), context)
    if len(starts) > limit:
        starts = starts[np.linspace(0, len(starts) - 1, limit).astype(int)]
    return x[starts], t[starts]


def text_dataset(
    name: str,
    context: int,
    data_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    **options: Any,
) -> Any:
    """A text dataset as a :class:`~nnscratch.datasets.base.Dataset` of windows for
    ``Trainer``: x_train, t_train every window of the training text (:func:`windows`), x_val,
    t_val the validation text side by side (:func:`side_by_side`), no test set; ``n_classes``
    the vocabulary. ``info`` holds the tokenizer, ``epoch_size`` (one window in ``context``: an
    epoch reads each token about once) and the training text side by side (``x_train_eval``,
    ``t_train_eval``), on which the end of an epoch measures (:func:`as_windows`)."""
    if name == "tang300":
        text = load_tang300(seed=seed, **options)
    elif name == "tang":
        text = load_tang(None if data_dir is None else Path(data_dir), seed=seed, **options)
    elif name == "text":  # a file of one's own
        path = options.pop("text", None)
        if path is None:
            raise NnscratchError("the dataset text is a file of your own: give --text FILE")
        text = load_text_file(path, **options)
    else:
        raise NnscratchError(f"{name} is not a text dataset: {', '.join(TEXT_DATASETS)} are")
    return as_windows(text, context)


def as_windows(text: TextDataset, context: int) -> Any:
    """``text`` (a :class:`TextDataset`) as the :class:`~nnscratch.datasets.base.Dataset` of
    windows of ``context`` tokens that :func:`text_dataset` describes."""
    from .base import Dataset

    x_train, t_train = windows(text.train, context)
    x_val, t_val = side_by_side(text.val, context)
    x_eval, t_eval = side_by_side(text.train, context)
    return Dataset(
        text.name,
        x_train,
        t_train,
        None,
        None,
        n_classes=text.tokenizer.vocab_size,
        x_val=x_val,
        t_val=t_val,
        info={
            "tokenizer": text.tokenizer,
            "description": text.description,
            "context": context,
            "epoch_size": max(1, len(x_train) // context),
            "x_train_eval": x_eval,
            "t_train_eval": t_eval,
        },
    )
