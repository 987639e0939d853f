"""The pools readers: one partition per pool, equal to the pandas readers, token-free graphs."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import cloudpickle
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from conftest import SPEC, make_responses

import pandas_toloka as ptk
import pandas_toloka.dask as ptd
from pandas_toloka import schema
from pandas_toloka.server import LocalTolokaServer

CANARY = "canary-token-9f8e7d6c5b4a"
POOLS = ["501", "502", "503", "504"]
EMPTY = "504"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalTolokaServer, ptk.Client]]:
    with (
        LocalTolokaServer(token=CANARY) as server,
        ptk.Client(CANARY, url=server.url, poll_min=0.02) as client,
    ):
        for i, pool in enumerate(POOLS):
            frame = make_responses(i, 0 if pool == EMPTY else 40 + 10 * i)
            server.add_pool(pool, responses=frame, output_spec=SPEC, project_id="77")
        yield server, client


@pytest.mark.parametrize("backend", ["pyarrow", "numpy_nullable"])
def test_aggregated_reader_equals_pandas_reads(dask_client, served, backend) -> None:
    server, client = served
    ddf = ptd.read_aggregated_solutions(POOLS, client=client, dtype_backend=backend)
    assert ddf.npartitions == len(POOLS)
    expected = [
        ptk.read_aggregated_solutions(p, client=client, dtype_backend=backend) for p in POOLS
    ]
    for i, pool_frame in enumerate(expected):
        part = ddf.get_partition(i).compute()
        assert part.dtypes.to_dict() == ddf.dtypes.to_dict()
        # An empty pool's categorical has no categories in pandas; here it keeps the field's.
        pd.testing.assert_frame_equal(part, pool_frame, check_categorical=not pool_frame.empty)
    assert len(expected[-1]) == 0
    whole = ddf.compute()
    assert whole.dtypes.to_dict() == ddf._meta.dtypes.to_dict()
    pd.testing.assert_frame_equal(
        whole.reset_index(drop=True), pd.concat(expected[:-1], ignore_index=True)
    )


@pytest.mark.parametrize("backend", ["pyarrow", "numpy_nullable"])
def test_responses_reader_equals_pandas_reads(dask_client, served, backend) -> None:
    _, client = served
    ddf = ptd.read_responses(POOLS, client=client, dtype_backend=backend)
    expected = [ptk.read_responses(p, client=client, dtype_backend=backend) for p in POOLS]
    whole = ddf.compute()
    assert whole.dtypes.to_dict() == ddf.dtypes.to_dict()
    pd.testing.assert_frame_equal(
        whole.reset_index(drop=True), pd.concat(expected[:-1], ignore_index=True)
    )
    assert ddf._meta.attrs["toloka"]["output_spec"]["result"]["allowed_values"] == list(
        SPEC["result"]["allowed_values"]
    )


def test_failed_pool_raises_the_typed_error_and_the_others_resume(dask_client) -> None:
    with LocalTolokaServer() as server, ptk.Client(server.token, url=server.url) as client:
        for i, pool in enumerate(POOLS[:3]):
            server.add_pool(pool, responses=make_responses(i, 20), output_spec=SPEC)
        server.faults.add("fail_operation", count=1)  # the first POST: pool 501, started first
        ops = ptd.start_aggregations(POOLS[:3], client=client, max_concurrency=1)
        assert list(ops) == POOLS[:3]
        ddf = ptd.read_aggregated_solutions(POOLS[:3], client=client, operation_ids=ops)
        with pytest.raises(ptk.OperationFailedError) as info:
            ddf.compute()
        assert info.value.operation_id == ops["501"]
        # The healthy pools are read back from their operations, nothing started again.
        posts = [r for r in server.request_log.snapshot() if r[0] == "POST"]
        healthy = {p: ops[p] for p in POOLS[1:3]}
        frame = ptd.read_aggregated_solutions(POOLS[1:3], client=client, operation_ids=healthy)
        assert len(frame.compute()) == 40
        assert [r for r in server.request_log.snapshot() if r[0] == "POST"] == posts


def test_errors_while_starting_name_the_started_operations(dask_client) -> None:
    with LocalTolokaServer() as server, ptk.Client(server.token, url=server.url) as client:
        server.add_pool("601", responses=make_responses(1, 5), output_spec=SPEC)
        with pytest.raises(ptk.NotFoundError) as info:
            ptd.start_aggregations(["601", "602"], client=client, max_concurrency=1)
        started = info.value.operation_ids
        assert list(started) == ["601"]
        assert f"operation_ids={started!r}" in str(info.value)


def test_bad_arguments_fail_before_any_request(served) -> None:
    server, client = served
    before = len(server.request_log.snapshot())
    for bad in ("501", [], ["501", "501"], [None]):
        with pytest.raises(ptk.InvalidArgumentError):
            ptd.read_aggregated_solutions(bad, client=client)
    with pytest.raises(ptk.InvalidArgumentError):
        ptd.read_aggregated_solutions(POOLS, client=client, max_concurrency=0)
    with pytest.raises(ptk.InvalidArgumentError):
        ptd.read_responses(POOLS, client=client, status="BOGUS")
    with pytest.raises(ptk.InvalidArgumentError):
        ptd.read_aggregated_solutions(POOLS, client=client, operation_ids={"9": "x"})
    assert len(server.request_log.snapshot()) == before


def test_the_token_stays_out_of_keys_reprs_and_graphs(dask_client, served) -> None:
    _, client = served
    for ddf in (
        ptd.read_aggregated_solutions(POOLS, client=client),
        ptd.read_responses(POOLS, client=client),
    ):
        graph = ddf.__dask_graph__()
        visible = [repr(ddf), str(ddf.expr), *map(repr, graph.keys())]
        # dask >= 2025 builds graphs from expressions: every node of the tree, optimised too.
        visible += [repr(node) for node in ddf.expr.walk()]
        visible += [repr(node) for node in ddf.optimize().expr.walk()]
        visible += [repr(task) for task in graph.values()]
        assert not [text for text in visible if CANARY in text]
        assert CANARY.encode() not in cloudpickle.dumps(dict(graph))
        assert CANARY.encode() not in pickle.dumps(ddf.expr)
        assert len(ddf.compute()) > 0  # and the workers did reach the server


def test_lake_reads_back_with_the_same_types(dask_client, served, tmp_path: Path) -> None:
    _, client = served
    ddf = ptd.read_aggregated_solutions(POOLS[:3], client=client)
    ddf.to_parquet(tmp_path / "lake", partition_on=["pool_id"], write_index=False)
    expected = ddf.compute().sort_values(["pool_id", "task_id"], ignore_index=True)
    assert sorted(p.name for p in (tmp_path / "lake").iterdir() if p.is_dir()) == [
        f"pool_id={p}" for p in POOLS[:3]
    ]
    # The partition column's type is given when reading (Hive paths carry no types).
    partitioning = ds.partitioning(pa.schema([("pool_id", pa.large_string())]), flavor="hive")
    table = ds.dataset(tmp_path / "lake", format="parquet", partitioning=partitioning).to_table()
    back = schema.to_pandas(table.select(list(expected.columns)), dtype_backend="pyarrow")
    back = back.sort_values(["pool_id", "task_id"], ignore_index=True)
    pd.testing.assert_frame_equal(back, expected)
    # pandas: the files' own metadata types every column but the partition one
    frame = pd.read_parquet(tmp_path / "lake", partitioning=partitioning)
    frame = frame.astype({"pool_id": pd.ArrowDtype(pa.large_string())})
    frame = frame[list(expected.columns)].sort_values(["pool_id", "task_id"], ignore_index=True)
    pd.testing.assert_frame_equal(frame, expected)


def test_pools_allowing_different_values_share_their_union(dask_client) -> None:
    narrow = {"result": {"type": "STRING", "allowed_values": ["dog", "cat"]}}
    with LocalTolokaServer() as server, ptk.Client(server.token, url=server.url) as client:
        server.add_pool(
            "801", responses=make_responses(1, 30).replace("owl", "cat"), output_spec=narrow
        )
        server.add_pool("802", responses=make_responses(2, 30), output_spec=SPEC)
        for read in (ptd.read_aggregated_solutions, ptd.read_responses):
            ddf = read(["801", "802"], client=client, dtype_backend="numpy_nullable")
            assert list(ddf.dtypes["result"].categories) == ["dog", "cat", "owl"]
            computed = ddf.compute()
            pandas_read = (
                ptk.read_aggregated_solutions
                if read is ptd.read_aggregated_solutions
                else ptk.read_responses
            )
            expected = pd.concat([pandas_read(p, client=client) for p in ["801", "802"]])
            assert (
                computed["result"].astype(str).tolist() == expected["result"].astype(str).tolist()
            )
            assert "owl" in set(computed["result"])


def test_items_null_on_a_page_is_a_protocol_error_never_lost_rows(dask_client) -> None:
    # The Dask readers read pages through the one pager on the workers: {"items": null}
    # is retried, then refused, never taken as an empty page (rows lost silently).
    with LocalTolokaServer() as server:
        for i, pool in enumerate(POOLS[:2]):
            server.add_pool(pool, responses=make_responses(i, 30), output_spec=SPEC)
        settings = dict(max_attempts=2, backoff_base=0.01, backoff_max=0.02)
        with ptk.Client(server.token, url=server.url, **settings) as client:
            expected = pd.concat(
                [ptk.read_responses(p, client=client, page_size=20) for p in POOLS[:2]],
                ignore_index=True,
            )
            server.faults.add("null_items", method="GET", path="/api/v1/assignments")
            ddf = ptd.read_responses(POOLS[:2], client=client, page_size=20)
            whole = ddf.compute().reset_index(drop=True)
            pd.testing.assert_frame_equal(whole, expected)
            server.faults.add("null_items", count=50, method="GET", path="/api/v1/assignments")
            with pytest.raises(ptk.ProtocolError, match="assignments"):
                ptd.read_responses(POOLS[:2], client=client, page_size=20).compute()


def test_items_null_on_a_page_of_results_is_refused_with_its_operation(dask_client) -> None:
    with LocalTolokaServer() as server:
        for i, pool in enumerate(POOLS[:2]):
            server.add_pool(pool, responses=make_responses(i, 30), output_spec=SPEC)
        settings = dict(max_attempts=2, backoff_base=0.01, backoff_max=0.02, poll_min=0.02)
        with ptk.Client(server.token, url=server.url, **settings) as client:
            ops = ptd.start_aggregations(POOLS[:2], client=client)
            expected = pd.concat(
                [
                    ptk.read_aggregated_solutions(operation_id=ops[p], client=client, page_size=7)
                    for p in POOLS[:2]
                ],
                ignore_index=True,
            )
            pages = "/api/v1/aggregated-solutions/"
            server.faults.add("null_items", method="GET", path=pages)
            ddf = ptd.read_aggregated_solutions(
                POOLS[:2], client=client, operation_ids=ops, page_size=7
            )
            pd.testing.assert_frame_equal(ddf.compute().reset_index(drop=True), expected)
            server.faults.add("null_items", count=50, method="GET", path=pages)
            with pytest.raises(ptk.ProtocolError, match="aggregated solutions") as info:
                ptd.read_aggregated_solutions(
                    POOLS[:2], client=client, operation_ids=ops, page_size=7
                ).compute()
            assert info.value.operation_id in set(ops.values())
