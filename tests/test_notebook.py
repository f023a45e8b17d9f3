"""examples/quickstart.ipynb runs as written: every cell executed in a fresh kernel (nbclient), the
smoke suite trained and scored through the Python API, the store on the leaderboard."""

from __future__ import annotations

import pytest
from helpers import ROOT

NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"


@pytest.mark.slow
def test_the_quickstart_notebook_runs(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = {
        i: "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in c.outputs)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
    }
    text = "\n".join(outputs.values())
    assert "('short-xi', 'complete')" in text and "('mixer-long-xi', 'complete')" in text  # every case ran
    assert "image/png" in str(
        [o.get("data", {}).keys() for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    )  # the figure
    assert "INCONCLUSIVE" in text or "PASS" in text or "FAIL" in text  # the verdicts
    assert "'smoke'" in text  # the smoke store is a ranking on the board
