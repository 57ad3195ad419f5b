"""How the command ends, whatever happens: Ctrl-C at any moment (one line, exit code 130), a
reader that closes the pipe (a quiet exit), a warning (one line), a learning rate that makes the
loss explode (one line, exit code 2)."""

import builtins
import importlib
import os
import signal
import subprocess
import sys
import time

import pytest
from matplotlib import font_manager

from nnscratch import entry
from nnscratch.cli import main
from nnscratch.plots import lang
from tests.helpers import at_a_terminal, one_line_error

#: the `nnscratch` script's entry point, in this Python
SCRIPT = [sys.executable, "-m", "nnscratch"]


class CtrlCOnImport:
    """A meta path finder that raises KeyboardInterrupt when ``name`` is imported: Ctrl-C while
    the command's modules load."""

    def __init__(self, name):
        self.name = name

    def find_spec(self, name, path=None, target=None):
        if name == self.name:
            raise KeyboardInterrupt
        return None


def test_ctrl_c_while_the_command_loads(monkeypatch, capsys):
    for name in [m for m in sys.modules if m == "nnscratch.cli" or m.startswith("nnscratch.cli.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [CtrlCOnImport("nnscratch.cli.train"), *sys.meta_path])
    assert entry.main(["train"]) == 130
    assert capsys.readouterr().err == "nnscratch: interrupted\n"


class SwallowedCtrlC(CtrlCOnImport):
    """Ctrl-C inside a callback of the import machinery: Python prints "Exception ignored" and
    goes on, as if it was never pressed (the handler saw it)."""

    def find_spec(self, name, path=None, target=None):
        if name == self.name:
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                pass  # what CPython does to an exception raised in such a callback
        return None


class CtrlCTurnedIntoImportError(CtrlCOnImport):
    """Ctrl-C while an extension module initialises, which reports the KeyboardInterrupt as an
    ImportError (numpy's "Importing the numpy C-extensions failed")."""

    def find_spec(self, name, path=None, target=None):
        if name == self.name:
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt as exc:
                raise ImportError("PyCapsule_Import could not import module") from exc
            raise ImportError("PyCapsule_Import could not import module")  # the press was held
        return None


@pytest.mark.parametrize("finder", [SwallowedCtrlC, CtrlCTurnedIntoImportError])
def test_ctrl_c_lost_by_an_import_still_stops_the_command(finder, monkeypatch, capsys):
    import nnscratch

    # the import completes here: the package's attribute too is put back after, with the modules
    monkeypatch.setattr(nnscratch, "cli", sys.modules["nnscratch.cli"])
    for name in [m for m in sys.modules if m == "nnscratch.cli" or m.startswith("nnscratch.cli.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [finder("nnscratch.cli.train"), *sys.meta_path])
    # Ctrl-C as at a terminal: a suite started in the background runs with SIGINT ignored
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    loaders = builtins.__import__, importlib.import_module
    try:
        assert entry.main(["train"]) == 130
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
        assert (builtins.__import__, importlib.import_module) == loaders
    finally:
        signal.signal(signal.SIGINT, previous)
    assert capsys.readouterr().err == "nnscratch: interrupted\n"


def python_start():
    """Seconds this Python takes now to start and import what ``nnscratch``'s package imports
    first (typing): the part of a start that is not ours, longer on a busy machine."""
    times = []
    for _ in range(3):
        began = time.monotonic()
        subprocess.run([sys.executable, "-c", "import typing"], check=True)
        times.append(time.monotonic() - began)
    return sorted(times)[1]


@pytest.mark.slow
def test_ctrl_c_at_any_moment_of_the_start_is_one_line(tmp_path):
    # from the interpreter's first imports to the data loaded and the first steps taken
    for delay in (0.05, 0.15, 0.3, 0.45, 0.85):
        delay += python_start()  # measured before each: the machine's load changes
        proc = subprocess.Popen(
            [*SCRIPT, "train", "--dataset", "fashion-mnist", "--out", tmp_path / str(delay)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=at_a_terminal,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, (delay, err)
        assert len(err.splitlines()) == 1 and err.startswith("nnscratch: interrupted"), (delay, err)


@pytest.mark.slow
def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    # block-buffered, as a pipe is by default: the rest is flushed only at the end
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen(
        [*SCRIPT, "train", "--epochs", "20", "--out", tmp_path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout.readline().startswith("training ")  # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141  # 128 + SIGPIPE: what a shell shows for `yes | head -1`
    assert err == ""


def test_a_warning_is_one_line(monkeypatch, capsys, tmp_path):
    fonts = font_manager.fontManager.ttflist
    latin = [f for f in fonts if lang.cjk_font([f]) is None]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", latin)  # no CJK font anywhere
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda: [])
    monkeypatch.setattr(lang, "_warned", False)
    monkeypatch.setattr(lang, "_refreshed", False)
    assert main(["plot", "loss", "--lang", "zh-CN", "--out", str(tmp_path / "loss.png")]) == 0
    err = capsys.readouterr().err
    assert (
        err
        == f"nnscratch: warning: no CJK font found, figures drawn in English: {lang.INSTALL_HINT}\n"
    )


def test_a_learning_rate_far_too_high_stops_the_run_with_a_hint(capsys, tmp_path):
    assert main(["train", "--lr", "1e6", "--epochs", "3", "--out", str(tmp_path)]) == 2
    message = one_line_error(capsys)
    assert "training diverged at epoch 1" in message
    assert "the learning rate 1000000.0 is probably too high; try 1e+05" in message


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["plot", "all", "--out", "figures"],
        ["plot", "all", "--lang", "zh-CN", "--out", "figures-zh"],
        ["animate", "boundary", "--frames", "3", "--out", "boundary.gif"],
        ["animate", "descent", "--frames", "3", "--out", "descent.gif"],
        ["animate", "weights", "--frames", "3", "--out", "weights.gif"],
        ["animate", "curves", "--frames", "3", "--lang", "zh-CN", "--out", "curves.gif"],
    ],
    ids=" ".join,
)
def test_figures_and_animations_print_no_warnings(command, tmp_path):
    # the animations' counters once wrote a findfont line per missing font per frame (2,624)
    done = subprocess.run(
        [*SCRIPT, *command], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
