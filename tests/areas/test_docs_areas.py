"""docs/areas.md's examples run as written and give what the page says."""

from __future__ import annotations

import numpy as np
from docs_snippets import code_blocks, run_block

PAGE = "docs/areas.md"


def test_areas_page_examples() -> None:
    first, masks, eyes, pool = code_blocks(PAGE)
    namespace = run_block(first, source=PAGE)
    boxes, flat, quality = namespace["boxes"], namespace["flat"], namespace["quality"]
    assert boxes["task_id"].tolist() == ["img1", "img2"]
    assert flat["confidence"].tolist() == [2 / 3, 1.0]
    assert quality["n_extra"].tolist() == [0, 0, 0]
    namespace = run_block(masks, source=PAGE, namespace=namespace)
    assert namespace["first"].shape == (48, 64)
    assert np.count_nonzero(namespace["first"]) > 0
    run_block(eyes, source=PAGE)


def test_areas_page_pool_example() -> None:
    import matplotlib

    matplotlib.use("Agg")
    namespace = run_block(code_blocks(PAGE)[3], source=PAGE)
    boxes, masks = namespace["boxes"], namespace["masks"]
    assert len(boxes) == len(masks) == 300
    assert list(boxes.columns) == ["pool_id", "task_id", "result"]
    assert namespace["ax"].get_title().startswith("image-0007")
    namespace["ax"].figure.clf()
