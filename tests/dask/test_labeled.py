"""Dask: tasks and labeled datasets of many pools, aggregations started in the partitions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import SPEC, make_responses

import pandas_toloka as ptk
import pandas_toloka.dask as ptd
from pandas_toloka.server import LocalTolokaServer

TOKEN = "labeled-token"
POOLS = ["601", "602", "603"]
INPUT_SPEC = {"image": {"type": "URL"}, "width": {"type": "INTEGER", "required": False}}


def _tasks(responses: pd.DataFrame, extra: int) -> pd.DataFrame:
    ids = sorted(set(responses["task_id"])) + [f"zz-{i}" for i in range(extra)]
    return pd.DataFrame(
        {
            "task_id": ids,
            "image": [f"https://img.example/{t}.jpg" for t in ids],
            "width": [100 + i for i in range(len(ids))],
            "known_solutions": [
                [{"output_values": {"result": "cat"}, "correctness_weight": 1}]
                if i % 5 == 0
                else None
                for i in range(len(ids))
            ],
        }
    )


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalTolokaServer, ptk.Client]]:
    with (
        LocalTolokaServer(token=TOKEN) as server,
        ptk.Client(TOKEN, url=server.url, poll_min=0.02) as client,
    ):
        for i, pool in enumerate(POOLS):
            responses = make_responses(10 + i, 20 + 5 * i)
            server.add_pool(
                pool,
                responses=responses,
                output_spec=SPEC,
                input_spec=INPUT_SPEC,
                tasks=_tasks(responses, extra=2 if i == 1 else 0),
                project_id="88",
            )
        yield server, client


def test_read_tasks_equals_the_pandas_reader(dask_client, served) -> None:
    _, client = served
    ddf = ptd.read_tasks(POOLS, client=client)
    assert ddf.npartitions == len(POOLS)
    for i, pool in enumerate(POOLS):
        part = ddf.get_partition(i).compute()
        expected = ptk.read_tasks(pool, client=client, progress_bar=False)
        pd.testing.assert_frame_equal(part, expected)
        assert part.dtypes.to_dict() == ddf.dtypes.to_dict()


def test_labeled_dataset_is_the_tasks_joined_with_the_labels(
    dask_client, served, tmp_path: Path
) -> None:
    server, client = served
    ddf = ptd.read_labeled_dataset(POOLS, client=client, golden=True, max_concurrency=1)
    assert list(ddf.columns) == [
        "pool_id",
        "task_id",
        "image",
        "width",
        "confidence",
        "result",
        "golden.result",
    ]
    assert not server.operations.all()  # nothing started by the driver
    lake = tmp_path / "lake"
    ddf.to_parquet(lake, partition_on=["pool_id"])
    assert sorted(p.name for p in lake.iterdir() if p.is_dir()) == [f"pool_id={p}" for p in POOLS]
    whole = ddf.compute()
    for pool in POOLS:
        part = whole[whole["pool_id"] == pool]
        tasks = ptk.read_tasks(pool, client=client, progress_bar=False)
        assert part["task_id"].tolist() == tasks["task_id"].tolist()
        assert part["image"].tolist() == tasks["image"].tolist()
        assert (
            part["golden.result"].astype(object).tolist()
            == tasks["golden.result"].astype(object).tolist()
        )
        labels = ptk.read_aggregated_solutions(
            pool, fields="result", client=client, progress_bar=False
        )
        merged = part.merge(labels, on="task_id", suffixes=("", "_server"))
        assert len(merged) == len(labels)
        assert (merged["result"].astype(str) == merged["result_server"].astype(str)).all()
        # the two tasks of pool 602 without answers keep their rows, with empty labels
        unlabeled = part["result"].isna().sum()
        assert unlabeled == (2 if pool == "602" else 0)
    back = pd.read_parquet(lake)
    assert len(back) == len(whole)


def test_labeled_dataset_checks_fields_and_inputs_in_the_driver(dask_client, served) -> None:
    _, client = served
    with pytest.raises(ptk.InvalidArgumentError, match="no output field"):
        ptd.read_labeled_dataset(POOLS, fields="nope", client=client)
    with pytest.raises(ptk.InvalidArgumentError, match="has no input field 'nope'"):
        ptd.read_labeled_dataset(POOLS, inputs=["nope"], client=client)
    with pytest.raises(ptk.InvalidArgumentError, match="inputs must be True or 'all'"):
        ptd.read_labeled_dataset(POOLS, inputs=3, client=client)
    ddf = ptd.read_labeled_dataset(POOLS, inputs=False, client=client)
    assert list(ddf.columns) == ["pool_id", "task_id", "confidence", "result"]
    ddf = ptd.read_labeled_dataset(POOLS, inputs="width", client=client)
    assert list(ddf.columns) == ["pool_id", "task_id", "width", "confidence", "result"]
    assert list(ddf.get_partition(1).compute().columns) == list(ddf.columns)
    with pytest.raises(ptk.InvalidArgumentError, match="max_concurrency"):
        ptd.read_labeled_dataset(POOLS, client=client, max_concurrency=0)


@pytest.mark.parametrize("limit", [1, 2])
def test_at_most_max_concurrency_aggregations_at_once_on_a_local_scheduler(
    served, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """Partitions on 3 threads: never more than ``limit`` inside the leased read at once."""
    import threading
    import time

    import dask

    from pandas_toloka.dask import _labeled

    _, client = served
    lock = threading.Lock()
    inside = [0]
    most = [0]
    real = _labeled.read_labeled_table

    def counted(*args, **kwargs):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            time.sleep(0.05)  # long enough for the other threads to arrive
            return real(*args, **kwargs)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(_labeled, "read_labeled_table", counted)
    ddf = ptd.read_labeled_dataset(POOLS, client=client, max_concurrency=limit)
    with dask.config.set(scheduler="threads", num_workers=3):
        frame = ddf.compute()
    assert len(frame) == sum(
        len(ptk.read_tasks(p, client=client, progress_bar=False)) for p in POOLS
    )
    assert 1 <= most[0] <= limit
