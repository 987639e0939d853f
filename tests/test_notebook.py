"""examples/quickstart.ipynb: stored without outputs, and runs from top to bottom in a kernel.

Running it needs the ``docs`` extra (nbclient, nbformat, ipykernel); without
it the run is skipped with that reason, and ``.ci/run`` installs the extra and
runs this file, so CI always runs the notebook.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest
from docs_snippets import ROOT

NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"
POOL_ID = "36502086"
_WIDGET = "application/vnd.jupyter.widget-view+json"


def _cells() -> list[dict[str, Any]]:
    return list(json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"])


def test_notebook_is_stored_without_outputs() -> None:
    code = [cell for cell in _cells() if cell["cell_type"] == "code"]
    assert code, "the notebook has no code"
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None, "".join(cell["source"])
    metadata = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["metadata"]
    assert "widgets" not in metadata  # no saved widget state either


def _final_lines(text: str) -> list[str]:
    """What a notebook shows of a text progress bar: the last redraw of each line."""
    return [line.rsplit("\r", 1)[-1].rstrip() for line in text.split("\n") if line.strip()]


def _stream(cell: Any, name: str) -> str:
    return "".join(
        out["text"] for out in cell.outputs if out.output_type == "stream" and out.name == name
    )


def _widgets(cell: Any) -> list[Any]:
    return [o for o in cell.outputs if _WIDGET in o.get("data", {})]


def test_notebook_runs(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat", reason="the docs extra runs the notebook")
    nbclient = pytest.importorskip("nbclient", reason="the docs extra runs the notebook")
    pytest.importorskip("ipykernel", reason="the docs extra runs the notebook")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    env_keys = ("TOLOKA_API_KEY", "TOLOKA_TOKEN", "TOLOKA_URL")
    saved = {key: os.environ.pop(key, None) for key in env_keys}  # the notebook passes client=
    try:
        client = nbclient.NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path)}},
        )
        client.execute()
    finally:
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for cell in code:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
        stderr = _stream(cell, "stderr")
        assert "Warning" not in stderr and "IProgress" not in stderr, stderr
    sources = ["".join(cell.source) for cell in code]

    def outputs_of(fragment: str) -> Any:
        (cell,) = [c for c, s in zip(code, sources) if fragment in s]
        return cell

    read = outputs_of("read_aggregated_solutions")
    responses = outputs_of("read_responses")
    assert "same answers as the server: 1.0" in _stream(responses, "stdout")
    if importlib.util.find_spec("ipywidgets") is not None:  # the notebook extra: widgets
        for cell in (read, responses):
            assert len(_widgets(cell)) == 1 and _stream(cell, "stderr") == ""
    else:  # one line of text per call
        bars = _final_lines(_stream(read, "stderr"))
        assert len(bars) == 1 and bars[0].startswith(f"pool {POOL_ID}: downloading: ")
        (line,) = _final_lines(_stream(responses, "stderr"))
        assert line.startswith(f"pool {POOL_ID}: reading responses: ")
    (accessor,) = [c for c, s in zip(code, sources) if s == "df.toloka"]
    text = accessor.outputs[0]["data"]["text/plain"]
    assert f"aggregated by the server: pool {POOL_ID}" in text
    for fragment in ("plot_confidence", "plot_worker_quality"):
        images = [o for o in outputs_of(fragment).outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, fragment
    assert "equal: True" in _stream(outputs_of("to_parquet"), "stdout")
    assert (tmp_path / "quickstart.parquet").exists()
