"""docs/side-by-side.md's examples run as written (the second against the bundled server)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from docs_snippets import code_blocks, run_block

from pandas_toloka.server import LocalTolokaServer, add_demo_pools


def test_side_by_side_example() -> None:
    block, _ = code_blocks("docs/side-by-side.md")
    namespace = run_block(block, source="docs/side-by-side.md")
    ranking = namespace["ranking"]
    assert ranking["item"].tolist() == ["gpt", "llama", "mistral", "bloom"]
    assert (ranking["ci_low"] <= ranking["ci_high"]).all()
    assert np.isfinite(ranking["score"]).all()
    quality = namespace["model"].worker_quality()
    assert list(quality.columns) == ["worker_id", "n_responses", "reliability", "bias"]


def test_side_by_side_server_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matplotlib.use("Agg")
    _, served = code_blocks("docs/side-by-side.md")
    with LocalTolokaServer() as server:
        add_demo_pools(server)
        monkeypatch.setenv("TOLOKA_URL", server.url)
        monkeypatch.setenv("TOLOKA_API_KEY", server.token)
        monkeypatch.chdir(tmp_path)
        namespace = run_block(served, source="docs/side-by-side.md")
    ranking = namespace["ranking"]
    assert ranking["item"].iloc[0] == "model-a" and ranking["item"].iloc[-1] == "model-h"
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "ranking.parquet"), ranking)
    assert len(namespace["ax"].get_yticklabels()) == 8
    plt.close("all")
