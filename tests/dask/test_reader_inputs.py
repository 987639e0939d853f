"""``inputs=`` on the Dask pools readers: each partition is the pandas reader's frame of its pool."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import pandas as pd
import pytest
from conftest import SPEC, make_responses

import pandas_toloka as ptk
import pandas_toloka.dask as ptd
from pandas_toloka.server import LocalTolokaServer

TOKEN = "reader-inputs-token"
POOLS = ["701", "702", "703", "704"]
EMPTY = "704"  # tasks, but no answer yet
#: ``result`` is also the output field: its input column is ``input_values.result``.
INPUT_SPEC = {
    "image": {"type": "URL"},
    "width": {"type": "INTEGER", "required": False},
    "kind": {"type": "STRING", "allowed_values": ["photo", "drawing"]},
    "result": {"type": "STRING", "required": False},
}


def _tasks(responses: pd.DataFrame, extra: int) -> pd.DataFrame:
    """The answered tasks, then ``extra`` tasks nobody answered (no aggregated row)."""
    ids = sorted(set(responses["task_id"])) + [f"zz-{i}" for i in range(extra)]
    return pd.DataFrame(
        {
            "task_id": ids,
            "image": [f"https://img.example/{t}.jpg" for t in ids],
            "width": [None if i % 7 == 3 else 100 + i for i in range(len(ids))],
            "kind": ["photo" if i % 3 else "drawing" for i in range(len(ids))],
            "input_values.result": [f"hint {i}" for i in range(len(ids))],
        }
    )


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalTolokaServer, ptk.Client]]:
    with (
        LocalTolokaServer(token=TOKEN) as server,
        ptk.Client(TOKEN, url=server.url, poll_min=0.02) as client,
    ):
        for i, pool in enumerate(POOLS):
            responses = make_responses(20 + i, 0 if pool == EMPTY else 15 + 5 * i)
            server.add_pool(
                pool,
                responses=responses,
                output_spec=SPEC,
                input_spec=INPUT_SPEC,
                tasks=_tasks(responses, extra=3 if i % 2 else 0),
                project_id="99",
            )
        yield server, client


def _partitions(ddf: Any) -> list[pd.DataFrame]:
    """Every partition, computed together (one graph, on the module's LocalCluster)."""
    return list(dask.compute(*ddf.to_delayed()))


@pytest.mark.parametrize("inputs", [True, "all", ["width", "result", "image"], "kind"])
def test_aggregated_partitions_equal_the_pandas_reader(dask_client, served, inputs) -> None:
    _, client = served
    ddf = ptd.read_aggregated_solutions(POOLS, inputs=inputs, client=client)
    expected = [
        ptk.read_aggregated_solutions(p, inputs=inputs, client=client, progress_bar=False)
        for p in POOLS
    ]
    assert list(ddf.columns) == list(expected[0].columns)
    assert ddf.dtypes.to_dict() == expected[0].dtypes.to_dict()
    for part, pool_frame in zip(_partitions(ddf), expected):
        # An empty pool's categoricals have no categories in pandas; here they keep meta's.
        pd.testing.assert_frame_equal(part, pool_frame, check_categorical=not pool_frame.empty)
        assert part.dtypes.to_dict() == ddf.dtypes.to_dict()
        assert part.attrs["toloka"]["input_spec"] == pool_frame.attrs["toloka"]["input_spec"]
    assert expected[-1].empty and not expected[0].empty
    if inputs is True:
        assert list(ddf.columns) == [
            "pool_id",
            "task_id",
            "confidence",
            "result",
            "image",
            "width",
            "kind",
            "input_values.result",
        ]


@pytest.mark.parametrize("inputs", [True, ["kind", "result"]])
def test_responses_partitions_equal_the_pandas_reader(dask_client, served, inputs) -> None:
    _, client = served
    ddf = ptd.read_responses(POOLS, inputs=inputs, client=client, dtype_backend="numpy_nullable")
    expected = [
        ptk.read_responses(p, inputs=inputs, client=client, dtype_backend="numpy_nullable")
        for p in POOLS
    ]
    assert ddf.dtypes.to_dict() == expected[0].dtypes.to_dict()
    for part, pool_frame in zip(_partitions(ddf), expected):
        pd.testing.assert_frame_equal(part, pool_frame, check_categorical=not pool_frame.empty)
        assert part.dtypes.to_dict() == ddf.dtypes.to_dict()
        assert part.attrs["toloka"] == pool_frame.attrs["toloka"]
    provenance = ddf._meta.attrs["toloka"]
    assert provenance["pool_id"] is None
    assert provenance["input_spec"] == expected[0].attrs["toloka"]["input_spec"]


def test_responses_take_a_given_input_spec_for_every_pool(dask_client, served) -> None:
    server, client = served
    given = {"image": {"type": "STRING"}}  # typed as the caller says, not as served
    projects = sum(1 for _, path in server.request_log.snapshot() if "/projects/" in path)
    ddf = ptd.read_responses(
        POOLS, inputs=["image"], input_spec=given, output_spec=SPEC, client=client
    )
    # both specs given: the driver reads no project
    assert sum(1 for _, path in server.request_log.snapshot() if "/projects/" in path) == projects
    expected = [
        ptk.read_responses(p, inputs=["image"], input_spec=given, output_spec=SPEC, client=client)
        for p in POOLS
    ]
    for part, pool_frame in zip(_partitions(ddf), expected):
        pd.testing.assert_frame_equal(part, pool_frame)
    assert ddf._meta.attrs["toloka"]["input_spec"] == expected[0].attrs["toloka"]["input_spec"]
    assert ddf.dtypes["image"] == expected[0].dtypes["image"]


def test_an_input_the_spec_lacks_is_the_pandas_error_before_anything_runs(served) -> None:
    server, client = served
    with pytest.raises(ptk.InvalidArgumentError) as pandas_error:
        ptk.read_aggregated_solutions(POOLS[0], inputs=["image", "nope"], client=client)
    before = server.request_log.snapshot()
    for read in (ptd.read_aggregated_solutions, ptd.read_responses):
        with pytest.raises(ptk.InvalidArgumentError) as info:
            read(POOLS, inputs=["image", "nope"], client=client)
        assert str(info.value) == str(pandas_error.value)
        assert "'nope'" in str(info.value) and "image" in str(info.value)
    after = server.request_log.snapshot()[len(before) :]
    # the driver read the specs, and nothing else: no aggregation, no assignment, no task
    assert after and all(method == "GET" for method, _ in after)
    assert not [p for _, p in after if "/assignments" in p or "/tasks" in p]
    # a malformed inputs= is refused before any request
    with pytest.raises(ptk.InvalidArgumentError, match="inputs"):
        ptd.read_aggregated_solutions(POOLS, inputs=[""], client=client)
    with pytest.raises(ptk.InvalidArgumentError, match="duplicates"):
        ptd.read_responses(POOLS, inputs=["image", "image"], client=client)
    assert server.request_log.snapshot()[len(before) :] == after


def test_the_frame_with_inputs_writes_parquet_and_reads_back(dask_client, served, tmp_path) -> None:
    _, client = served
    ddf = ptd.read_aggregated_solutions(POOLS, inputs=True, client=client)
    path: Path = tmp_path / "labeled"
    ddf.to_parquet(path, write_index=False)
    expected = ddf.compute().reset_index(drop=True)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, expected)
    assert back["image"].str.startswith("https://img.example/").all()
