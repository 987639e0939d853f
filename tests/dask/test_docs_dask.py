"""docs/dask.md's Python examples run as written (tests/docs_snippets.py)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import distributed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from docs_snippets import code_blocks, run_block  # noqa: E402

import pandas_toloka as ptk  # noqa: E402
from pandas_toloka.errors import DroppedResponsesWarning  # noqa: E402
from pandas_toloka.server import LocalTolokaServer, demo_pools  # noqa: E402

DOC = "docs/dask.md"


def namespace_dtypes(labels: pd.DataFrame) -> dict[object, object]:
    """The dtypes the pandas reader gives the lake's columns (labels were read alike)."""
    return {c: labels.dtypes[c] for c in ["task_id", "confidence", "result", "pool_id"]}


class _Records(logging.Handler):
    """Collects the WARNING (and worse) records of the loggers it is added to."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_the_local_cluster_example_and_reading_the_lake_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    example, _, read_back = code_blocks(DOC)
    monkeypatch.chdir(tmp_path)
    warned = _Records()  # distributed's own handler writes to the real stderr: collect instead
    logging.getLogger("distributed").addHandler(warned)
    try:
        namespace = run_block(example, source=DOC, namespace={"__name__": "__main__"})
    finally:
        logging.getLogger("distributed").removeHandler(warned)
    # progress, and no distributed warning about its normal work (shuffles)
    shuffles = [r.getMessage() for r in warned.records if r.name.startswith("distributed.shuffle")]
    assert shuffles == []
    out, _ = capfd.readouterr()
    assert "100% Completed" in out and "Dask dashboard:" in out
    labels, quality = namespace["labels"], namespace["quality"]
    assert len(labels) == 3 * 2000 and labels["result"].notna().all()
    demo = demo_pools()["1001"]  # one build (~0.3 CPU s)
    rejected = int((demo.responses["status"] != "ACCEPTED").sum())
    dropped = rf"dropped {rejected} of {len(demo.responses)} response\(s\): {rejected} not of"
    with pytest.warns(DroppedResponsesWarning, match=dropped):
        expected = demo.responses.toloka.aggregate_locally(
            "DAWID_SKENE", fields="result", output_spec=demo.output_spec, pool_id="1"
        )
    one = labels[labels["pool_id"] == "1"].reset_index(drop=True)
    pd.testing.assert_series_equal(one["result"], expected["result"])
    # per pool, as the pandas accessor fits it
    assert list(quality.columns) == ["pool_id", "worker_id", "n_responses", "accuracy"]
    assert sorted(p.name for p in (tmp_path / "lake").iterdir()) == [
        "pool_id=1",
        "pool_id=2",
        "pool_id=3",
    ]

    namespace = run_block(read_back, source=DOC)
    for frame in (namespace["lake"], namespace["frame"]):
        assert len(frame) == 3 * 2000 and frame.columns[-1] == "pool_id"
        expected_dtypes = namespace_dtypes(labels)
        assert frame.dtypes.to_dict() == expected_dtypes

    duckdb = pytest.importorskip("duckdb")
    duck_sql = code_blocks(DOC, language="sql")[0]
    from_duckdb = duckdb.sql(duck_sql).df()
    assert len(from_duckdb) == 3 * 2000
    assert sorted(from_duckdb["pool_id"].unique()) == ["1", "2", "3"]  # strings, as written


def test_the_real_cluster_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, cluster_block, _ = code_blocks(DOC)
    monkeypatch.chdir(tmp_path)
    demo = demo_pools()["1001"]
    with LocalTolokaServer() as server:
        for pool_id in ["1", "2", "3"]:
            server.add_pool(pool_id, responses=demo.responses, output_spec=demo.output_spec)
        # Workers started now inherit the environment: they find the token there.
        monkeypatch.setenv("TOLOKA_API_KEY", server.token)
        monkeypatch.setenv("TOLOKA_URL", server.url)
        monkeypatch.delenv("TOLOKA_TOKEN", raising=False)
        with distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster:
            monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
            run_block(cluster_block, source=DOC)
        with ptk.Client(server.token, url=server.url) as client:
            expected = ptk.read_aggregated_solutions("2", client=client, fields="result")
    lake = pd.read_parquet(tmp_path / "lake-from-cluster" / "pool_id=2", dtype_backend="pyarrow")
    assert len(lake) == len(expected) == 2000
    assert lake["result"].astype(str).tolist() == expected["result"].astype(str).tolist()
