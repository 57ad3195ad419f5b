"""The README and the documentation site run as written (issue 23, items 5 and 11; issue 28).

The documents are README.md, then the site's English pages (docs/, in the order of its tables
of contents: the Chinese pages share their commands through gettext). "The README" below is
all of them. ``test_readme_commands_run_in_order`` takes every ``nnscratch ...`` command line of
their shell blocks (```bash, ```console, ```sh, ```shell or unlabelled fences; ``\\`` continuations
joined, ``;`` and ``&&`` chains split, ``# comments`` dropped, only the ``nnscratch`` parts of a
line such as ``pip install . && nnscratch train`` kept) and runs them in the README's order, each
as its own process (``python -m nnscratch ...``) in one temporary folder, asserting exit code 0.
Files a later command reads must come from an earlier command (or, where a user brings their own,
from FIXTURES below). What the test changes is written down in two tables: SPEED_SWITCHES (fewer
epochs, trials, frames: the same code paths, sooner) and EXCEPTIONS (commands that cannot run as
plain batch commands). ``test_readme_python_blocks`` executes every ```python block of both
READMEs, each in a fresh interpreter. ``test_chinese_readme_has_the_english_commands`` keeps
README.zh-CN.md's command lines a subset of README.md's, so the English test runs them too;
``test_readme_commands_have_no_placeholders`` keeps ``[--option ...]`` and ``DIR`` out of them.

Nothing is written outside the temporary folder: the commands' working folder, HOME (the user
cache), NNSCRATCH_DATA (downloads), MPLCONFIGDIR and the proxies (nothing reaches the network)
all point into it or nowhere. Fashion-MNIST is still found where this machine has it (Debian's
dataset-fashion-mnist, or the user's cache): the test links that folder into NNSCRATCH_DATA.
"""

import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import playground, status_of

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_ZH = ROOT / "README.zh-CN.md"
DOCS = ROOT / "docs"

#: fence labels whose lines are shell commands
SHELL_FENCES = {"", "bash", "console", "sh", "shell"}

#: What the test changes on a command to keep the whole README within CI's few minutes (2 cores):
#: (words the command contains, options set on it, why). The first entry whose words all appear
#: in the command applies; an option the command gives is replaced, else appended, and a number
#: is only ever lowered (a README ``--epochs 1`` stays 1).
SPEED_SWITCHES = [
    (
        ("train", "--resume"),
        {},
        "takes its options from the checkpoint: an --epochs of its own would be refused",
    ),
    (
        ("train", "--grad", "numerical", "--engine", "book"),
        {"--hidden": "10"},
        "the naive central-difference loop costs 52 s an epoch with 100 hidden units (the README "
        "says so); with 10 it is the same loop over 10× fewer parameters (6 s)",
    ),
    (
        ("train", "cnn"),
        {"--epochs": "1", "--dataset": "digits"},
        "SimpleConvNet's 10 epochs on 60,000 images take 7 min on two cores, one epoch 15-50 s; "
        "one epoch on the 8×8 digits runs the same commands in seconds (the Fashion-MNIST "
        "loader is run by `train --dataset fashion-mnist` and `data info`)",
    ),
    (
        ("train", "deep-cnn"),
        {"--epochs": "1", "--dataset": "digits"},
        "DeepConvNet's 20 epochs on 60,000 images take half an hour; likewise",
    ),
    (
        ("train", "gpt"),
        {"--epochs": "1", "--layers": "1", "--width": "32"},
        "nanoGPT's recipe on 唐诗三百首 is 60 epochs of a 4-layer GPT (minutes): one epoch of a "
        "1-layer one runs the same code (layers, loop, model file with its tokenizer) in seconds",
    ),
    (
        ("train", "rnnlm"),
        {"--epochs": "1"},
        "60 epochs become one: the same RNNLM, the same files",
    ),
    (
        ("train", "--dataset", "fashion-mnist"),
        {"--epochs": "1"},
        "the default recipe's 10 epochs on 60,000 images (13-26 s here) become one",
    ),
    (
        ("train",),
        {"--epochs": "2"},
        "40 epochs on digits (10 on Fashion-MNIST) become 2: every file of a run (checkpoint, "
        "model, history with two points, curves) is still written",
    ),
    (
        ("compare-optimizers",),
        {"--epochs": "1"},
        "five epochs of six optimizers become one each",
    ),
    (
        ("search",),
        {"--trials": "2", "--epochs": "2"},
        "40 trials of 20 epochs become 2 trials of 2 epochs (still in two processes with "
        "--n-jobs 2, still retrained with --retrain-best)",
    ),
    (
        ("plot", "all"),
        {"--epochs": "2"},
        "the quick runs behind weights, confusion, mistakes (20 epochs) and boundary (150) "
        "become 2 epochs",
    ),
    (
        ("plot", "boundary", "--dataset"),
        {"--epochs": "2"},
        "the quick 150-epoch run behind the boundary becomes 2 epochs",
    ),
    (
        ("plot", "samples"),
        {"--iterations": "0,3"},
        "a GPT trained 2,000 steps to show what it writes after 0, 100, 500 and 2,000 (3 min): "
        "after 0 and 3, the same code",
    ),
    (
        ("animate",),
        {"--frames": "3"},
        "40 frames become 3: a first, a middle and a last (2 is the least the command takes)",
    ),
]

#: Commands that are not plain batch commands: command as the README writes it → (how the test
#: runs it, why).
EXCEPTIONS = {
    "nnscratch playground": (
        "serve",
        "a server that runs until Ctrl-C and opens a browser: started with --no-browser "
        "--port 0, asked for its page over HTTP, then stopped by SIGINT (exit 130)",
    ),
    "nnscratch data download mnist": (
        "offline",
        "needs the network, and MNIST has no local mirror (every file is checked against its "
        "official SHA-256): with the proxies pointing at a closed port and --retries 1 (no "
        "waits between tries), it must fail at once with the command's error and exit code 2",
    ),
    "nnscratch data download tang": (
        "offline",
        "needs the network (tests/datasets/test_tang_download.py serves the files on 127.0.0.1): "
        "with the proxies pointing at a closed port and --retries 1, it must fail at once with "
        "the command's error and exit code 2",
    ),
    "nnscratch experiment overfit --dataset fashion-mnist": (
        "skip",
        "200 epochs evaluated on 10,000 test images: 45 s, with no speed switch; `experiment "
        "overfit` (digits) runs the same code and `train --dataset fashion-mnist` the same loader",
    ),
}

#: Files the README's commands read that a user brings (their own pictures) or that a README
#: Python block writes: name → why. The test makes them before the first command.
FIXTURES = {
    "shirt.png": "`nnscratch predict`'s own picture of a shirt: a Fashion-MNIST test shirt",
    "seven.png": "`nnscratch predict`'s picture of a 7: a digits test image, dark ink on white",
    "three.jpg": "`nnscratch predict`'s picture of a 3, as JPEG: a digits test image",
    "story.txt": "`nnscratch train --text`'s text of your own: a few paragraphs of a story",
    "digits.npz": "written by the README's Python block under 'Model files and checkpoints' "
    "(save_model), run here first",
}

#: Python blocks, changed only where they cannot run as written: (text in the block, what it
#: becomes, why). An empty replacement compiles the block without running it.
PYTHON_SWITCHES = [
    (
        "epochs=10, batch_size=100,",
        "epochs=1, batch_size=100,",
        "SimpleConvNet's 10 epochs on 60,000 images take 7 min on two cores; one shows it trains",
    ),
    (
        'ray.init(address="auto")',
        "",
        "needs Ray and a cluster, not installed here (the README says this path is documented, "
        "not tested; Dask's is tested in tests/experiments/test_search_dask.py): compiled only",
    ),
]


# ── reading the README ──────────────────────────────────────────────────────────────────────


def fenced_blocks(text):
    """``(label, line number of the first code line, code)`` of every fenced block."""
    blocks, label, start, lines = [], None, 0, []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if label is None:
            if stripped.startswith("```"):
                label, start, lines = stripped[3:].strip().lower(), number + 1, []
                indent = len(line) - len(line.lstrip())
        elif stripped.startswith("```"):
            blocks.append((label, start, "\n".join(lines)))
            label = None
        else:
            lines.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
    return blocks


def shell_lines(code, start):
    """``(line number, logical line)`` of a shell block: ``\\`` continuations joined, a
    ``$ `` prompt dropped."""
    out, pending, first = [], "", None
    for number, line in enumerate(code.splitlines(), start):
        if not pending:
            first = number
            line = line.removeprefix("$ ")
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append((first, pending + line))
        pending = ""
    if pending:
        out.append((first, pending))
    return out


def split_commands(line):
    """The commands of one shell line: its words without the comment, split at ``;`` and ``&&``.
    Anything else a shell would treat specially is refused, so that the test never silently
    runs something other than what the README says."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    commands, words, odd = [], [], []
    for word in lexer:
        if word in (";", "&&"):
            commands.append(words)
            words = []
        elif set(word) <= set(";&|<>()"):
            odd.append(word)
        else:
            words.append(word)
    commands = [c for c in [*commands, words] if c]
    if odd and any(c[0] == "nnscratch" for c in commands):
        raise ValueError(
            f"{line!r}: {odd[0]!r} is not a `;` or `&&` chain (a block of something else than "
            "shell commands wants a ```text fence)"
        )
    return commands


def readme_commands(path):
    """``(line number, words)`` of every ``nnscratch`` command in the shell blocks of ``path``."""
    found = []
    for label, start, code in fenced_blocks(path.read_text(encoding="utf-8")):
        if label not in SHELL_FENCES:
            continue
        for number, line in shell_lines(code, start):
            for words in split_commands(line):
                if words[0] == "nnscratch":
                    found.append((number, words))
    return found


def toctree_pages(page):
    """``page`` and the pages its ```{toctree} blocks name, depth first, in the site's order."""
    found = [page]
    for label, _, code in fenced_blocks(page.read_text(encoding="utf-8")):
        if label != "{toctree}":
            continue
        for entry in code.splitlines():
            entry = entry.strip()
            target = page.parent / f"{entry}.md"
            if entry and not entry.startswith(":") and target.exists():
                found += toctree_pages(target)
    return found


def documents():
    """The documents whose commands and Python blocks a reader copies: the README, then the
    site's pages (docs/, English: the Chinese pages share their commands) in the site's order."""
    site = DOCS / "index.md"
    return [README, *(toctree_pages(site) if site.exists() else [])]


def documented_commands():
    """``(document, line number, words)`` of every command of :func:`documents`, in order."""
    return [(path, n, words) for path in documents() for n, words in readme_commands(path)]


def python_blocks(path):
    """``(line number, code)`` of every ```python block of ``path``."""
    text = path.read_text(encoding="utf-8")
    return [(start, code) for label, start, code in fenced_blocks(text) if label == "python"]


# ── running them ────────────────────────────────────────────────────────────────────────────


def switched(words):
    """``words`` (after ``nnscratch``) with the first matching SPEED_SWITCHES entry applied
    (none to a ``--help``)."""
    if "--help" in words:
        return list(words)
    matches = (options for needed, options, _ in SPEED_SWITCHES if all(w in words for w in needed))
    options = next(matches, {})
    words = list(words)
    for option, value in options.items():
        if option in words:
            i = words.index(option) + 1
            given = words[i]
            lower = given.isdigit() and value.isdigit() and int(given) < int(value)
            words[i] = given if lower else value
        else:
            words += [option, value]
    return words


def closed_port():
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def readme_env(tmp_path):
    """The environment of every README command: HOME, caches, downloads and matplotlib's
    config inside ``tmp_path``, the network behind a closed proxy, Fashion-MNIST linked in where
    this machine has it (else what needs it is skipped: :func:`needs_fashion`)."""
    from nnscratch.datasets.sources import FASHION_MNIST, locate

    found = locate(FASHION_MNIST)
    data = tmp_path / "data"
    data.mkdir()
    if found is not None:
        (data / "fashion-mnist").symlink_to(Path(found[1]).resolve(), target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "all_proxy")}
    proxy = f"http://127.0.0.1:{closed_port()}"
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CACHE_HOME=str(tmp_path / "home" / ".cache"),
        NNSCRATCH_DATA=str(data),
        MPLCONFIGDIR=str(tmp_path / "matplotlib"),
        MPLBACKEND="Agg",
        http_proxy=proxy,
        https_proxy=proxy,
        HTTP_PROXY=proxy,
        HTTPS_PROXY=proxy,
        PYTHONDONTWRITEBYTECODE="1",
    )
    work = tmp_path / "work"
    work.mkdir()
    return work, env


def run_python(code, cwd, env, timeout=300):
    script = cwd / "readme_block.py"
    script.write_text(code, encoding="utf-8")
    try:
        return subprocess.run(
            [sys.executable, str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        script.unlink()


def make_fixtures(cwd, env):
    """FIXTURES: the pictures from the test sets, digits.npz from its README block; the
    failures."""
    from PIL import Image
    from sklearn.datasets import load_digits

    from nnscratch import load_dataset

    fashion = load_dataset("fashion-mnist", normalize=False, data_dir=env["NNSCRATCH_DATA"])
    shirt = fashion.x_test[list(fashion.t_test).index(6)].reshape(28, 28)  # class 6: Shirt
    Image.fromarray(np.asarray(shirt, dtype=np.uint8)).save(cwd / "shirt.png")
    digits = load_digits()
    for name, label in (("seven.png", 7), ("three.jpg", 3)):
        image = digits.images[list(digits.target).index(label)]  # 0 (paper) .. 16 (ink)
        pixels = (255 - image * 255 / 16).astype(np.uint8)
        Image.fromarray(pixels).resize((64, 64), Image.NEAREST).save(cwd / name)
    story = "Once upon a time a cat sat by the river and watched the boats go by.\n"
    (cwd / "story.txt").write_text("\n".join([story] * 40), encoding="utf-8")
    block = next(
        code
        for path in documents()
        for _, code in python_blocks(path)
        if 'save_model("digits.npz"' in code
    )
    proc = run_python(block, cwd, env)
    if proc.returncode != 0:
        return [f"the README's save_model block (for digits.npz) failed:\n{proc.stderr}"]
    assert set(FIXTURES) <= {p.name for p in cwd.iterdir()}
    return []


def serve(argv, cwd, env):
    """Start the playground, fetch its page, stop it with Ctrl-C: an error string or None."""
    try:
        with playground(argv, cwd=cwd, env=env) as (process, port):
            status = status_of(port)
    except AssertionError as exc:
        return str(exc)
    if status != 200 or process.returncode != 130:
        return f"GET / answered {status}, exit code {process.returncode}: {process.err}"
    return None


def offline(argv, cwd, env):
    """A download that cannot reach its mirrors: the command's error (no traceback), exit 2."""
    proc = subprocess.run(
        [*argv, "--retries", "1"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    said = proc.stderr.startswith("nnscratch: error: could not download")
    if proc.returncode != 2 or not said or "Traceback" in proc.stderr:
        return f"exit code {proc.returncode}, stderr:\n{proc.stderr}"
    return None


@pytest.mark.slow
def needs_fashion(text):
    """Skip what names Fashion-MNIST where this machine has none (the rest still runs)."""
    from nnscratch.datasets.sources import FASHION_MNIST, locate

    if "fashion" in text and locate(FASHION_MNIST) is None:
        pytest.skip("Fashion-MNIST is not installed (Debian: apt install dataset-fashion-mnist)")


def test_readme_commands_run_in_order(readme_env):
    # the commands read one another's files
    needs_fashion("".join(p.read_text(encoding="utf-8") for p in documents()))
    cwd, env = readme_env
    failures, timings = make_fixtures(cwd, env), []
    commands = documented_commands()
    assert len(commands) > 30, "the documents' commands were not found"
    for path, number, words in commands:
        written = shlex.join(words)
        how, _ = EXCEPTIONS.get(written, ("run", None))
        if how == "skip":
            continue
        argv = [sys.executable, "-m", "nnscratch", *switched(words[1:])]
        where = path.relative_to(ROOT)
        shown = f"{where}:{number}: {written}\n  ran as: {shlex.join(argv[2:])}"
        began = time.monotonic()
        if how == "serve":
            error = serve(argv, cwd, env)
        elif how == "offline":
            error = offline(argv, cwd, env)
        else:
            try:
                proc = subprocess.run(
                    argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300
                )
            except subprocess.TimeoutExpired:
                error = "still running after 300 s"
            else:
                error = None if proc.returncode == 0 else f"exit code {proc.returncode}:\n"
                if error:
                    error += proc.stderr[-3000:]
        timings.append((time.monotonic() - began, written))
        if error:
            failures.append(f"{shown}\n  {error}")
    print("\n".join(f"{s:6.1f} s  {c}" for s, c in timings))
    assert not failures, f"{len(failures)} documented commands failed:\n\n" + "\n\n".join(failures)


def python_cases():
    cases = []
    for path in (*documents(), README_ZH):
        for number, code in python_blocks(path):
            cases.append(pytest.param(path, code, id=f"{path.relative_to(ROOT)}:{number}"))
    return cases


@pytest.mark.slow
@pytest.mark.parametrize(("path", "code"), python_cases())
def test_readme_python_blocks(path, code, readme_env):
    needs_fashion(code)
    cwd, env = readme_env
    for text, replacement, _ in PYTHON_SWITCHES:
        if text in code:
            if not replacement:
                compile(code, str(path), "exec")
                return
            code = code.replace(text, replacement)
    proc = run_python(code, cwd, env)
    assert proc.returncode == 0, f"{path.name} block:\n{code}\n\nfailed:\n{proc.stderr}"


def test_chinese_readme_has_the_english_commands():
    english = {shlex.join(words) for _, _, words in documented_commands()}
    chinese = readme_commands(README_ZH)
    assert chinese, "README.zh-CN.md's commands were not found"
    missing = [f"{n}: {shlex.join(w)}" for n, w in chinese if shlex.join(w) not in english]
    assert not missing, "README.zh-CN.md commands not in the English documents:\n" + "\n".join(
        missing
    )


def test_readme_commands_have_no_placeholders():
    """``[--history FILE]``, ``DIR`` and the like cannot be run: the README shows a real command
    and says what else there is in its comment."""
    for path in (*documents(), README_ZH):
        for number, words in readme_commands(path):
            odd = [w for w in words if w[0] in "[<" or w.isupper()]
            assert not odd, f"{path.relative_to(ROOT)}:{number}: {shlex.join(words)}: {odd}"


def test_the_tables_name_only_readme_commands():
    """An entry that no longer matches a README command is stale: the README changed."""
    commands = [words[1:] for _, _, words in documented_commands()]
    written = {shlex.join(["nnscratch", *words]) for words in commands}
    assert set(EXCEPTIONS) <= written, set(EXCEPTIONS) - written
    for needed, _, why in SPEED_SWITCHES:
        assert any(all(w in words for w in needed) for words in commands), (needed, why)
    code = "\n".join(code for path in documents() for _, code in python_blocks(path))
    for text, _, why in PYTHON_SWITCHES:
        assert text in code, (text, why)
