"""The notebooks (English and Chinese) run top to bottom in a fresh kernel, and are committed
without outputs."""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # notebooks in a real kernel

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "how-a-network-learns.ipynb"
NOTEBOOK_ZH = NOTEBOOK.with_name("how-a-network-learns.zh-CN.ipynb")


@pytest.mark.parametrize("path", [NOTEBOOK, NOTEBOOK_ZH], ids=["en", "zh-CN"])
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), (
        "clear the notebook's outputs before committing (Jupyter: Edit > Clear All Outputs)"
    )


def _run(path, tmp_path):
    """The notebook at ``path`` executed in a fresh kernel: (its notebook, its outputs)."""
    # the test extra installs these; a missing one is an error here, never a silent skip
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    # a temp working directory: whatever the notebook might write stays out of the repository
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if a cell fails
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    return nb, outputs


def test_notebook_runs_in_a_fresh_kernel(tmp_path):
    nb, outputs = _run(NOTEBOOK, tmp_path)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 14  # every figure of the tour was displayed
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "backpropagation agrees with the numerical gradient" in text
    assert "autograd agrees with the hand-written backpropagation" in text  # section 9
    assert "backpropagation agrees with the numerical gradient for the GPT too" in text  # 10
    assert list(tmp_path.iterdir()) == []  # and it wrote nothing


def test_chinese_notebook_runs_with_chinese_figures(tmp_path):
    from nnscratch.plots.lang import cjk_font

    if cjk_font() is None:  # CI installs fonts-noto-cjk; without it the figures fall back
        pytest.skip("no CJK font (apt-get install fonts-noto-cjk)")
    english = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    nb, outputs = _run(NOTEBOOK_ZH, tmp_path)
    # the same cells, in the same order, as the English tour
    assert [c.cell_type for c in nb.cells] == [c["cell_type"] for c in english["cells"]]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 14
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "误差反向传播法的梯度与数值微分的梯度一致" in text
    assert "自动微分与手写的误差反向传播一致" in text  # section 9
    assert "GPT 的反向传播与数值梯度一致" in text  # section 10
    assert "missing from font" not in text and "FontWarning" not in text
    # every figure of the tour is drawn in Chinese: each figure call asks for it
    calls = [c.source for c in nb.cells if c.cell_type == "code" and "show(plots." in c.source]
    assert len(calls) >= 14 and all("lang=LANG" in source for source in calls)
    assert 'LANG = "zh-CN"' in nb.cells[1].source
    assert list(tmp_path.iterdir()) == []


def _bash_lines(markdown):
    """The lines of a markdown file's ```bash blocks (comments and trailing blanks cut)."""
    lines, inside = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```bash" if not inside else False
            continue
        if inside and line.strip() and not line.lstrip().startswith("#"):
            lines.append(line.split("  #")[0].rstrip())
    return lines


def test_chinese_readme_linked_both_ways_with_the_english_commands():
    root = NOTEBOOK.parent.parent
    english = (root / "README.md").read_text(encoding="utf-8")
    chinese = (root / "README.zh-CN.md").read_text(encoding="utf-8")
    assert "(README.zh-CN.md)" in english.split("\n## ")[0]  # at the top
    assert "(README.md)" in chinese.split("\n## ")[0]
    commands = _bash_lines(chinese)
    assert len(commands) >= 8  # the first screen's: the quick start and a tour of the command
    missing = [c for c in commands if c not in set(_bash_lines(english))]
    assert not missing, f"commands of README.zh-CN.md not in README.md: {missing}"
