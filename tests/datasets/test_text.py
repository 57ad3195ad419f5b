"""Text datasets: the shipped 唐诗三百首 against its source, the character tokenizer, the split by
whole poems, get_batch, and load_text_file's errors — all offline."""

import doctest
import gzip
import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from nnscratch.datasets import text
from nnscratch.datasets.text import (
    UNKNOWN,
    CharTokenizer,
    get_batch,
    load_tang300,
    load_text_file,
    render_poem,
    tang300_poems,
)
from nnscratch.errors import NnscratchError

ROOT = Path(__file__).resolve().parents[2]
#: the pinned chinese-poetry copy beside the checkout (development only; CI may not have it)
SHARED = ROOT.parent / "shared" / "data" / "chinese-poetry"
N_POEMS = 320


@pytest.fixture(scope="module")
def source_poems():
    """The poems of the shared source file, read by scripts/make_tang300.py (which checks the
    file's SHA-256 against MANIFEST.json first)."""
    if not (SHARED / "tangshisanbaishou.json").is_file():
        pytest.skip(f"no chinese-poetry copy at {SHARED} (development only)")
    spec = importlib.util.spec_from_file_location("make_tang300", ROOT / "scripts/make_tang300.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script, script.poems_from_source(script.read_source(SHARED))


def test_the_shipped_file_matches_the_source_poem_for_poem(source_poems):
    script, poems = source_poems
    shipped = tang300_poems()
    assert shipped == poems
    # read on its own, without the script: every poem of every section, in order
    book = json.loads((SHARED / "tangshisanbaishou.json").read_text(encoding="utf-8"))
    originals = [poem for section in book["content"] for poem in section["content"]]
    assert len(originals) == len(shipped) == N_POEMS
    for mine, original in zip(shipped, originals):
        assert mine == {
            "title": original["chapter"],
            "author": original["author"],
            "paragraphs": original["paragraphs"],
        }
    # the script rebuilds the very bytes that ship (gzip with mtime 0)
    assert gzip.decompress(script.shipped_bytes(poems)) == gzip.decompress(
        text.TANG300_FILE.read_bytes()
    )


def test_the_data_readme_names_the_source_checksum():
    readme = (text.TANG300_FILE.parent / "README.md").read_text(encoding="utf-8")
    manifest = SHARED / "MANIFEST.json"
    if not manifest.is_file():
        pytest.skip(f"no chinese-poetry copy at {SHARED} (development only)")
    files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    (entry,) = [f for f in files if f["file"] == "tangshisanbaishou.json"]
    assert entry["sha256"] in readme
    assert hashlib.sha256((SHARED / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    assert "MIT" in (text.TANG300_FILE.parent / "LICENSE-chinese-poetry").read_text("utf-8")


def test_the_poems_are_traditional_and_whole():
    poems = tang300_poems()
    assert len(poems) == N_POEMS
    assert poems[0] == {
        "title": "行宮",
        "author": "元稹",
        "paragraphs": ["寥落古行宮，宮花寂寞紅。", "白頭宮女在，閒坐說玄宗。"],
    }
    assert all(p["title"] and p["author"] and p["paragraphs"] for p in poems)


def test_the_module_examples_run():
    assert doctest.testmod(text).failed == 0


def test_encode_decode_round_trip_and_unknown_characters():
    tok = CharTokenizer("床前明月光，疑是地上霜。\n")
    assert tok.chars[0] == UNKNOWN and list(tok.chars[1:]) == sorted(set(tok.chars[1:]))
    assert tok.vocab_size == 14  # 13 distinct characters and the unknown token
    ids = tok.encode("明月光，地上霜。\n")
    assert ids.dtype == np.int64 and ids.shape == (9,)
    assert tok.decode(ids) == "明月光，地上霜。\n"
    assert tok.decode(list(ids)) == "明月光，地上霜。\n"
    assert tok.encode("舉頭望明月").tolist()[:3] == [0, 0, 0]
    assert tok.decode(tok.encode("舉頭望明月")) == UNKNOWN * 3 + "明月"
    assert tok.encode("").shape == (0,) and tok.decode([]) == ""
    # the unknown token in the training text is not a second id
    assert CharTokenizer("a" + UNKNOWN).chars == UNKNOWN + "a"


def test_decode_refuses_ids_outside_the_vocabulary():
    tok = CharTokenizer("ab")
    for bad in ([3], [-1], [[1, 2]], [0.5]):
        with pytest.raises(NnscratchError):
            tok.decode(bad)


def test_the_tokenizer_config_round_trips_through_json():
    data = load_tang300()
    config = json.loads(json.dumps(data.tokenizer.to_config()))
    again = CharTokenizer.from_config(config)
    assert again == data.tokenizer and again.vocab_size == data.tokenizer.vocab_size
    assert np.array_equal(again.encode(again.decode(data.val)), data.val)
    for bad in ({}, {"type": "char", "chars": "ba"}, {"type": "bpe", "chars": UNKNOWN}, None):
        with pytest.raises(NnscratchError):
            CharTokenizer.from_config(bad)


def test_the_split_keeps_poems_whole_and_follows_the_seed():
    data = load_tang300()
    assert (data.n_train_pieces, data.n_val_pieces) == (288, 32)
    assert data.train.dtype == np.int64 and data.train.ndim == 1
    train_text = data.tokenizer.decode(data.train)
    assert UNKNOWN not in train_text  # the vocabulary is the training text's
    rendered = [render_poem(p) for p in tang300_poems()]
    in_train = [r for r in rendered if r in train_text]
    held_out = [r for r in rendered if r not in train_text]
    assert len(in_train) == 288 and len(held_out) == 32
    assert len(train_text) == sum(map(len, in_train))
    # the validation text is exactly the held-out poems (unknown characters as id 0)
    expected_val = data.tokenizer.encode("".join(held_out))
    assert np.array_equal(data.val, expected_val)
    assert (data.val == 0).any()  # some characters appear only in validation poems
    # reproducible by seed, different for another seed
    again, other = load_tang300(seed=0), load_tang300(seed=1)
    assert np.array_equal(again.train, data.train) and np.array_equal(again.val, data.val)
    assert other.tokenizer.decode(other.val) != data.tokenizer.decode(data.val)
    assert load_tang300(val_poems=0).n_val_pieces == 0
    with pytest.raises(NnscratchError, match="val_poems"):
        load_tang300(val_poems=1.0)


def test_get_batch_gives_windows_and_their_next_tokens():
    data = np.arange(100, dtype=np.int64) * 3
    x, t = get_batch(data, batch_size=8, context=16, rng=np.random.default_rng(0))
    assert x.shape == t.shape == (8, 16) and x.dtype == t.dtype == np.int64
    assert np.array_equal(t[:, :-1], x[:, 1:])
    starts = x[:, 0] // 3
    for row, start in zip(x, starts):
        assert np.array_equal(row, data[start : start + 16])
    assert np.array_equal(t[:, -1], data[starts + 16])
    # seeded: the same windows again; every start possible, the last being N - T - 1
    assert np.array_equal(get_batch(data, 8, 16, 0)[0], get_batch(data, 8, 16, 0)[0])
    x, t = get_batch(np.arange(5), batch_size=50, context=4, rng=0)
    assert np.array_equal(x, np.tile(np.arange(4), (50, 1))) and np.array_equal(t, x + 1)
    with pytest.raises(NnscratchError, match="at least 5 tokens"):
        get_batch(np.arange(4), 1, 4, 0)
    with pytest.raises(NnscratchError, match="batch_size"):
        get_batch(data, 0, 4, 0)


def one_line_error(path, **kwargs):
    with pytest.raises(NnscratchError) as caught:
        load_text_file(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    error = caught.value  # raised on its own: no "During handling of ..." traceback above it
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return message


def test_load_text_file_errors_are_one_line(tmp_path):
    assert "no such text file" in one_line_error(tmp_path / "missing.txt")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("床前明月光\n".encode() + "café".encode("latin-1"))
    message = one_line_error(latin)
    assert "not UTF-8" in message and "offset 19" in message and "0xe9" in message
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert "is empty" in one_line_error(empty)
    (tmp_path / "blank.txt").write_text(" \n\n\t\n", encoding="utf-8")
    assert "is empty" in one_line_error(tmp_path / "blank.txt")


def test_load_text_file_reads_chinese_by_paragraphs_or_lines(tmp_path):
    path = tmp_path / "静夜思.txt"
    paragraphs = ["床前明月光，\r\n疑是地上霜。", "舉頭望明月，\r\n低頭思故鄉。", "　　靜夜思"]
    path.write_bytes(("\ufeff" + "\r\n\r\n".join(paragraphs) + "\r\n").encode("utf-8"))
    data = load_text_file(path, val_fraction=0.3)
    assert data.name == "静夜思.txt" and "paragraphs" in data.description
    assert (data.n_train_pieces, data.n_val_pieces) == (2, 1)
    assert (
        data.tokenizer.decode(data.train)
        == "床前明月光，\n疑是地上霜。\n\n舉頭望明月，\n低頭思故鄉。\n\n"
    )
    assert data.tokenizer.decode(data.val) == UNKNOWN * 4 + "思\n\n"  # the end, indented, held out
    # one paragraph: split by lines; any fraction above 0 holds out at least one
    lines = tmp_path / "lines.txt"
    lines.write_text("一二三\n四五六\n七八九\n", encoding="utf-8")
    data = load_text_file(lines)
    assert (data.n_train_pieces, data.n_val_pieces) == (2, 1) and "lines" in data.description
    assert data.tokenizer.decode(data.train) == "一二三\n四五六\n"
    assert load_text_file(lines, val_fraction=0).n_val_pieces == 0
    single = tmp_path / "single.txt"
    single.write_text("一行", encoding="utf-8")
    data = load_text_file(single)
    assert (data.n_train_pieces, data.n_val_pieces) == (1, 0) and data.val.shape == (0,)
