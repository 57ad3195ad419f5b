"""benchmarks/run_all.py's table and its place in the README: fake results, no benchmark runs."""

import importlib.util
import os
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "run_all.py"
spec = importlib.util.spec_from_file_location("run_all", PATH)
run_all = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_all)

START, END = run_all.START, run_all.END


def record(benchmark, unit, ours, theirs, score="test_acc", settings=None):
    def row(system, seconds, value):
        return {
            "system": system,
            "seconds": seconds,
            "ratio_torch": seconds / theirs[0],
            score: value,
        }

    return {
        "benchmark": benchmark,
        "unit": unit,
        "settings": settings or {"epochs": 10},
        "machine": {
            "line": "Some CPU, AVX-512, 2 cores",
            "numpy_gemm_gflops": {"1": 190.0, "2": 280.0},
        },
        "loads": {"min": 0.4, "max": 1.9},
        "rows": [row("nn32", *ours), row("torch", *theirs)],
    }


def summary():
    notebook = run_all.summarise(
        "notebook", record("fastpath", "epoch", (0.18, 0.86), (0.30, 0.85))
    )
    gpt = run_all.summarise(
        "gpt",
        record("gpt", "step", (0.142, 5.0445), (0.103, 5.0446), "val_loss", {"iters": 2000}),
    )
    failed = {"label": "SimpleConvNet", "target": 0.6, "error": "failed (exit 1)"}
    return {
        "date": "2026-12-08",
        "command": "python benchmarks/run_all.py",
        "benchmarks": {"notebook": notebook, "simpleconvnet": failed, "gpt": gpt},
    }


def test_the_table_has_a_row_per_network_with_ratio_target_and_verdict():
    table = run_all.markdown(summary())
    lines = table.splitlines()
    assert lines[0].startswith("2026-12-08; Some CPU, AVX-512, 2 cores; NumPy float32 GEMM")
    assert "280 GFLOP/s on 2 threads" in lines[0] and "load average 0.4–1.9" in lines[0]
    assert lines[0].endswith("`python benchmarks/run_all.py`:")
    rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 3
    notebook, failed, gpt = (row.split(" | ") for row in rows)
    assert notebook[1:6] == ["0.180 s/epoch", "0.300 s/epoch", "0.60", "≤ 0.5", "no"]
    assert notebook[0] == "| the notebook network (784-50-10 sigmoid, SGD), 10 epochs"
    assert rows[0].endswith("| 0.8600 / 0.8500 |")
    assert gpt[0].endswith(", 2000 steps")
    assert gpt[1:6] == ["0.142 s/step", "0.103 s/step", "1.38", "≤ 1.0", "no"]
    assert rows[2].endswith("| 5.0445 / 5.0446 |")
    assert failed[1] == "failed (exit 1)" and "≤ 0.6" in rows[1]


def test_a_met_target_says_yes():
    entry = run_all.summarise("deep-mlp", record("recipe", "epoch", (0.9, 0.88), (1.8, 0.88)))
    assert entry["ratio"] == pytest.approx(0.5) and entry["met"] is True


README = "# Title\n\nbefore\n\n" + START + "\nold table\n" + END + "\n\nafter\n"


def test_only_the_text_between_the_markers_changes(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(README, encoding="utf-8")
    run_all.update_readme(str(path), "| new | table |\n")
    text = path.read_text(encoding="utf-8")
    assert text == "# Title\n\nbefore\n\n" + START + "\n\n| new | table |\n\n" + END + "\n\nafter\n"
    run_all.update_readme(str(path), "| newer |\n")  # and again: the same place
    assert path.read_text(encoding="utf-8").count(START) == 1
    assert "| new | table |" not in path.read_text(encoding="utf-8")
    assert os.listdir(tmp_path) == ["README.md"]  # no temporary file left


def test_crlf_files_keep_their_line_ends():
    text = README.replace("\n", "\r\n")
    new = run_all.replace_between_markers(text, "a\nb\n")
    assert new == text.replace("old table", "\r\na\r\nb\r\n")
    assert "\n" not in new.replace("\r\n", "")


@pytest.mark.parametrize(
    "text",
    [
        "# no markers\n",
        START + "\n",
        END + "\n" + START + "\n",
        START + "\n" + END + "\n" + START + "\n" + END + "\n",
    ],
)
def test_missing_or_muddled_markers_stop_with_one_line_and_touch_nothing(tmp_path, text):
    path = tmp_path / "README.md"
    path.write_text(text, encoding="utf-8")
    for call in (
        lambda: run_all.check_markers(str(path)),
        lambda: run_all.update_readme(str(path), "| t |\n"),
    ):
        with pytest.raises(SystemExit) as caught:
            call()
        message = str(caught.value)
        assert "\n" not in message and START in message and END in message
    assert path.read_text(encoding="utf-8") == text
