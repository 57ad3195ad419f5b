"""Rebuild ``src/nnscratch/datasets/data/tang300.json.gz``: 唐诗三百首 as nnscratch ships it.

The source is ``tangshisanbaishou.json`` of chinese-poetry/chinese-poetry (the pinned copy in
``../shared/data/chinese-poetry``, MIT licence; the poems are in the public domain). It is a dict
``{"title": "唐詩三百首", "content": [section, ...]}``, each section ``{"type": form, "content":
[poem, ...]}`` and each poem ``{"chapter", "subchapter", "author", "paragraphs"}``. We keep, in the
source's order, ``{"title": chapter, "author": author, "paragraphs": [lines]}`` of every poem,
characters exactly as they are (traditional), as compact JSON, gzipped with mtime 0 so that the
same input gives the same bytes.

    python scripts/make_tang300.py            # check the source's SHA-256, write the .gz
    python scripts/make_tang300.py --check    # only compare the shipped file with the source

Development only: the package reads the shipped file, never ``../shared``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = ROOT.parent / "shared" / "data" / "chinese-poetry"
SOURCE_NAME = "tangshisanbaishou.json"
TARGET = ROOT / "src" / "nnscratch" / "datasets" / "data" / "tang300.json.gz"


def read_source(folder: Path = SOURCE_DIR) -> bytes:
    """The source file's bytes, checked against the SHA-256 that ``MANIFEST.json`` lists."""
    manifest = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
    (entry,) = [f for f in manifest["files"] if f["file"] == SOURCE_NAME]
    data = (folder / SOURCE_NAME).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"]:
        raise SystemExit(f"{folder / SOURCE_NAME}: SHA-256 {digest}, MANIFEST.json says {entry}")
    return data


def poems_from_source(data: bytes) -> list[dict]:
    """[{"title", "author", "paragraphs"}] of every poem of the source, in its order."""
    book = json.loads(data.decode("utf-8"))
    return [
        {"title": poem["chapter"], "author": poem["author"], "paragraphs": poem["paragraphs"]}
        for section in book["content"]
        for poem in section["content"]
    ]


def shipped_bytes(poems: list[dict]) -> bytes:
    """The .gz as shipped: compact UTF-8 JSON, gzip level 9, mtime 0 (no date, no file name)."""
    text = json.dumps(poems, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE_DIR, help="the chinese-poetry copy")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    poems = poems_from_source(read_source(args.source))
    if args.check:
        shipped = json.loads(gzip.decompress(TARGET.read_bytes()).decode("utf-8"))
        same = shipped == poems
        print(f"{TARGET.name}: {'matches' if same else 'DIFFERS FROM'} the source")
        return 0 if same else 1
    TARGET.write_bytes(shipped_bytes(poems))
    n_chars = sum(len(line) for poem in poems for line in poem["paragraphs"])
    print(
        f"wrote {TARGET} ({TARGET.stat().st_size:,} bytes): {len(poems)} poems, {n_chars:,} chars"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
