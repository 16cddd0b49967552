"""notebooks/01_walkthrough.ipynb runs top to bottom (tiny model, a few steps), so it cannot rot."""
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def test_walkthrough_notebook_executes(monkeypatch, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("SYLLABUS_REPO", str(REPO))
    monkeypatch.setenv("SYLLABUS_NOTEBOOK_MODEL", "tiny")
    monkeypatch.setenv("SYLLABUS_NOTEBOOK_ITEMS", "40")
    monkeypatch.setenv("SYLLABUS_NOTEBOOK_STEPS", "6")
    nb = nbformat.read(REPO / "notebooks" / "01_walkthrough.ipynb", as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "dev accuracy before" in text and "dev accuracy after" in text and "patch examples:" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the plot
