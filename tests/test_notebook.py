"""The notebook runs top to bottom in a fresh kernel, and is committed without outputs."""

import json
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "how-a-network-learns.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), \
        "clear the notebook's outputs before committing (Jupyter: Edit > Clear All Outputs)"


def test_notebook_runs_in_a_fresh_kernel(tmp_path):
    # the test extra installs these; a missing one is an error here, never a silent skip
    import nbclient
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    # a temp working directory: whatever the notebook might write stays out of the repository
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if a cell fails
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 10  # every figure of the tour was displayed
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "backpropagation agrees with the numerical gradient" in text
    assert list(tmp_path.iterdir()) == []  # and it wrote nothing
