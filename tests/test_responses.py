"""read_responses / iter_responses over real HTTP against the bundled server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from pandas_toloka import schema
from pandas_toloka._http.payloads import ShapeError
from pandas_toloka._read.assignments import assignments_to_table
from pandas_toloka.client import Client
from pandas_toloka.errors import InvalidArgumentError, NotFoundError, OutputValueError
from pandas_toloka.responses import iter_responses, read_responses
from pandas_toloka.server import LocalTolokaServer

SPEC = {
    "result": {"type": "STRING", "allowed_values": ["cat", "dog", "other"]},
    "sure": {"type": "BOOLEAN", "required": False},
    "score": {"type": "INTEGER", "min_value": 1, "max_value": 5},
    "pool_id": {"type": "STRING", "required": False},  # clashes with a metadata column
    "tags": {"type": "ARRAY_STRING", "required": False},
}


def _responses() -> pd.DataFrame:
    """12 responses in 6 assignments of 2 tasks each; one assignment REJECTED, one SUBMITTED."""
    rows = []
    for a in range(6):
        status = {2: "REJECTED", 4: "SUBMITTED"}.get(a, "ACCEPTED")
        for t in range(2):
            rows.append(
                {
                    "task_id": f"t{(a + t) % 4}",
                    "worker_id": f"w{a}",
                    "assignment_id": f"a{a:02d}",
                    "status": status,
                    "submitted": pd.Timestamp(f"2024-01-0{a + 1} 10:00:00.123", tz="UTC"),
                    "result": ["cat", "dog", "other"][(a + t) % 3],
                    "sure": None if a == 1 else bool(t),
                    "score": a % 5 + 1,
                    "pool_id": f"note{a}",
                    "tags": [f"x{a}", "y"] if t else None,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalTolokaServer]:
    with LocalTolokaServer() as srv:
        srv.add_pool("7", responses=_responses(), output_spec=SPEC)
        srv.add_pool("8", responses=_responses().iloc[:0], output_spec=SPEC)
        yield srv


@pytest.fixture(scope="module")
def client(server: LocalTolokaServer) -> Iterator[Client]:
    with Client(server.token, url=server.url) as c:
        yield c


def test_reads_accepted_rows_typed_by_the_schema(client: Client) -> None:
    df = read_responses("7", client=client, progress_bar=False)
    fields = list(schema.parse_output_spec(SPEC).values())
    expected = schema.to_pandas(assignments_to_table([], fields))
    assert list(df.columns) == list(expected.columns)
    assert df.dtypes.equals(expected.dtypes)
    assert "output_values.pool_id" in df.columns
    assert len(df) == 8 and set(df["status"]) == {"ACCEPTED"}
    # assignment id order, then the suite's task order
    assert df["assignment_id"].tolist() == ["a00", "a00", "a01", "a01", "a03", "a03", "a05", "a05"]
    source = _responses().set_index(["assignment_id", "task_id"])
    for row in df.itertuples(index=False):
        want = source.loc[(row.assignment_id, row.task_id)]
        assert row.worker_id == want["worker_id"] and row.result == want["result"]
        assert row.score == want["score"] and row.pool_id == "7"
    assert df["submitted"].iloc[0] == pd.Timestamp("2024-01-01 10:00:00.123", tz="UTC")
    assert df["sure"].isna().sum() == 2  # worker w1 left the optional field empty
    assert list(df.loc[1, "tags"]) == ["x0", "y"]
    assert df.attrs["toloka"]["output_spec"]["result"]["allowed_values"] == ["cat", "dog", "other"]
    assert df.attrs["toloka"]["pool_id"] == "7"


@pytest.mark.parametrize(
    ("status", "n_rows"),
    [(None, 12), (["ACCEPTED", "REJECTED"], 10), ("SUBMITTED", 2), ("REJECTED", 2)],
)
def test_status_filter(client: Client, status: object, n_rows: int) -> None:
    df = read_responses("7", status=status, client=client, progress_bar=False)  # type: ignore[arg-type]
    assert len(df) == n_rows
    if status is not None:
        wanted = {status} if isinstance(status, str) else set(status)  # type: ignore[arg-type]
        assert set(df["status"]) == wanted


def test_keyset_paging_stops_when_has_more_is_false(
    server: LocalTolokaServer, client: Client
) -> None:
    server.request_log.clear()
    paged = read_responses("7", status=None, client=client, page_size=2, progress_bar=False)
    whole = read_responses("7", status=None, client=client, progress_bar=False)
    pd.testing.assert_frame_equal(paged, whole)
    log = [path for method, path in server.request_log.snapshot() if "/assignments" in path]
    # 6 assignments in pages of 2: 3 pages for the paged read, then 1 for the whole read
    assert len(log) == 4
    assert "id_gt=a01" in log[1] and "id_gt=a03" in log[2] and "sort=id" in log[0]


def test_iter_responses_streams_bounded_chunks(client: Client) -> None:
    chunks = list(iter_responses("7", status=None, client=client, page_size=4, progress_bar=False))
    assert [len(c) for c in chunks] == [8, 4]  # 4 assignments x 2 tasks, then 2 x 2
    whole = read_responses("7", status=None, client=client, progress_bar=False)
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)  # a running index, as the reader's
    assert all(c.attrs["toloka"]["pool_id"] == "7" for c in chunks)


def test_empty_pool_gives_typed_empty_frame(client: Client) -> None:
    df = read_responses("8", client=client, progress_bar=False, dtype_backend="numpy_nullable")
    assert len(df) == 0
    assert isinstance(df["result"].dtype, pd.CategoricalDtype)
    assert list(df["result"].dtype.categories) == ["cat", "dog", "other"]
    (only,) = iter_responses(
        "8", client=client, progress_bar=False, dtype_backend="numpy_nullable"
    )  # one typed empty frame, as iter_aggregated_solutions gives for an empty pool
    pd.testing.assert_frame_equal(only, df)
    assert only.attrs == df.attrs


def test_numpy_nullable_backend(client: Client) -> None:
    df = read_responses("7", client=client, progress_bar=False, dtype_backend="numpy_nullable")
    assert df["score"].dtype == "Int64" and df["sure"].dtype == "boolean"
    assert isinstance(df["result"].dtype, pd.CategoricalDtype)


def test_parquet_round_trip(client: Client, tmp_path: Path) -> None:
    df = read_responses("7", client=client, progress_bar=False)
    path = tmp_path / "responses.parquet"
    df.to_parquet(path)
    back = pd.read_parquet(path, dtype_backend="pyarrow")
    assert back["submitted"].dtype == df["submitted"].dtype
    assert back["result"].astype(str).tolist() == df["result"].astype(str).tolist()
    assert back["score"].tolist() == df["score"].tolist()


def test_bad_arguments_and_unknown_pool(client: Client) -> None:
    with pytest.raises(InvalidArgumentError, match="status must be one of"):
        read_responses("7", status="DONE", client=client)
    with pytest.raises(InvalidArgumentError, match="page_size"):
        read_responses("7", page_size=0, client=client)
    with pytest.raises(InvalidArgumentError, match="dtype_backend"):
        read_responses("7", dtype_backend="numpy", client=client)
    with pytest.raises(InvalidArgumentError, match="not both"):
        read_responses("7", client=client, token="x")
    with pytest.raises(NotFoundError):
        read_responses("404", client=client, progress_bar=False)


FIELDS = list(schema.parse_output_spec({"result": {"type": "INTEGER"}}).values())


def test_flatten_assignment_without_solutions_and_bad_values() -> None:
    items = [
        {
            "id": "a1",
            "user_id": "w",
            "status": "ACTIVE",
            "submitted": None,
            "tasks": [{"id": "t1"}, {"id": "t2"}],
        },
        {
            "id": "a2",
            "user_id": "v",
            "status": "ACCEPTED",
            "submitted": "2024-01-02T03:04:05Z",
            "tasks": [{"id": "t1"}],
            "solutions": [{"output_values": {"result": 2.0}}],
            "unknown": 1,
        },
    ]
    table = assignments_to_table(items, FIELDS, pool_id="9")
    assert table.column("task_id").to_pylist() == ["t1", "t2", "t1"]
    assert table.column("result").to_pylist() == [None, None, 2]
    assert table.column("pool_id").to_pylist() == ["9"] * 3
    assert table.column("submitted").type == pa.timestamp("us", tz="UTC")
    bad = [dict(items[1], solutions=[{"output_values": {"result": 2.5}}])]
    with pytest.raises(OutputValueError, match="'t1'"):
        assignments_to_table(bad, FIELDS)
    mismatched = [dict(items[1], solutions=[{}, {}])]
    with pytest.raises(ShapeError, match="solutions"):
        assignments_to_table(mismatched, FIELDS)


def test_iter_responses_checks_arguments_before_iterating(client: Client) -> None:
    with pytest.raises(InvalidArgumentError, match="status"):
        iter_responses("7", status=["DONE"], client=client)
    with pytest.raises(InvalidArgumentError, match="not both"):
        iter_responses("7", client=client, url="http://127.0.0.1:1")
