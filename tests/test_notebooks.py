"""The notebooks run top to bottom on small settings (they import the package, define nothing)."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
SMALL = {"MIXSIM_NOTEBOOK_SCALE": "0.03", "MIXSIM_NOTEBOOK_YEARS": "2",
         "MIXSIM_NOTEBOOK_REPLICATES": "2", "MIXSIM_NOTEBOOK_N": "2",
         "MIXSIM_NOTEBOOK_BUDGET": "4", "MIXSIM_NO_PROGRESS": "1", "MPLBACKEND": "Agg"}


def test_all_four_notebooks_exist():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04"]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, monkeypatch):
    for k, v in SMALL.items():
        monkeypatch.setenv(k, v)
    nb = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "commit notebooks without outputs"
    for cell in nb.cells:  # notebooks import logic, they never define it
        if cell.cell_type == "code":
            assert "def " not in cell.source and "class " not in cell.source
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    _ = os.environ
