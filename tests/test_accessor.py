"""The df.toloka accessor: registration, statelessness, column checks, worker quality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from docs_snippets import code_blocks, run_block

import pandas_toloka.accessor  # noqa: F401  (registers df.toloka)
from pandas_toloka import Client
from pandas_toloka.accessor import TolokaAccessor
from pandas_toloka.aggregation import fit_dawid_skene
from pandas_toloka.errors import MissingColumnsError
from pandas_toloka.server.demo import demo_pools


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    pool = demo_pools()["1001"]
    frame = pool.responses
    return frame[frame["status"] == "ACCEPTED"] if "status" in frame.columns else frame


def test_registered_and_stateless() -> None:
    df = pd.DataFrame({"task_id": ["t"]})
    first = df.toloka
    assert isinstance(first, TolokaAccessor)
    assert set(vars(first)) == {"_obj"} and first._obj is df  # nothing but the frame
    assert "toloka" in pd.DataFrame._accessors


def test_each_method_names_missing_and_present_columns() -> None:
    df = pd.DataFrame({"id": [1], "answer": ["x"]})
    with pytest.raises(MissingColumnsError) as info:
        # nothing listens on port 9: the columns are checked before any request
        df.toloka.aggregate(client=Client("token", url="http://127.0.0.1:9"))
    assert info.value.missing == ["task_id", "pool_id"] and info.value.present == ["id", "answer"]
    with pytest.raises(
        MissingColumnsError, match=r"missing column\(s\) \['task_id', 'worker_id'\]"
    ):
        df.toloka.aggregate_locally()
    with pytest.raises(MissingColumnsError, match="worker quality"):
        df.toloka.worker_quality()
    with pytest.raises(MissingColumnsError, match="confidence"):
        df.toloka.plot_confidence()


def test_worker_quality_one_row_per_worker(responses: pd.DataFrame) -> None:
    quality = responses.toloka.worker_quality("result")
    assert list(quality.columns) == ["worker_id", "n_responses", "accuracy"]
    assert quality["worker_id"].is_unique and set(quality["worker_id"]) == set(
        responses["worker_id"]
    )
    assert quality["n_responses"].sum() == len(responses)
    assert ((quality["accuracy"] >= 0) & (quality["accuracy"] <= 1)).all()
    model = fit_dawid_skene(responses, label="result", labels=["cat", "dog"])
    np.testing.assert_allclose(
        quality["accuracy"].to_numpy(), model.worker_quality()["accuracy"].to_numpy()
    )
    confusion = responses.toloka.worker_quality("result", confusion=True)
    assert len(confusion) == len(quality) * 4  # 2 labels: 2 x 2 cells per worker
    sums = confusion.groupby(["worker_id", "true_label"], observed=True)["probability"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)


def test_the_docs_example_runs() -> None:
    """docs/accessor.md's example runs as written against the bundled server."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    blocks = code_blocks("docs/accessor.md")
    assert blocks
    namespace = run_block(blocks[0], source="docs/accessor.md")
    assert len(namespace["out"]) == 100 and namespace["out"]["result"].notna().all()  # type: ignore[arg-type,index]
    assert len(namespace["quality"]) > 0  # type: ignore[arg-type]
    plt.close("all")


def test_the_docs_report_example_runs() -> None:
    """docs/accessor.md's aggregation_report example runs as written."""
    (block,) = [b for b in code_blocks("docs/accessor.md") if "aggregation_report(" in b]
    namespace = run_block(block, source="docs/accessor.md")
    assert namespace["result"].columns[-1] == "image"  # type: ignore[attr-defined]
    assert namespace["report"]["n_tasks"] == 100  # type: ignore[index]  # every 20th of 2000
