"""docs/side-by-side.md's example runs as written."""

from __future__ import annotations

import numpy as np
from docs_snippets import code_blocks, run_block


def test_side_by_side_example() -> None:
    (block,) = code_blocks("docs/side-by-side.md")
    namespace = run_block(block, source="docs/side-by-side.md")
    ranking = namespace["ranking"]
    assert ranking["item"].tolist() == ["gpt", "llama", "mistral", "bloom"]
    assert (ranking["ci_low"] <= ranking["ci_high"]).all()
    assert np.isfinite(ranking["score"]).all()
    quality = namespace["model"].worker_quality()
    assert list(quality.columns) == ["worker_id", "n_responses", "reliability", "bias"]
