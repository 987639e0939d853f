"""Every frame the package returns survives the plainest Parquet round trip, and other readers see its types.

``df.to_parquet(p)`` then ``pd.read_parquet(p)`` with no arguments gives back an
equal frame, dtypes and ``attrs`` included, for both dtype backends;
``dtype_backend="pyarrow"`` and ``"numpy_nullable"`` open the file with equal
values; pyarrow, polars and DuckDB read the fields with their types.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pandas_toloka  # noqa: F401  (registers df.toloka)
from pandas_toloka.client import Client
from pandas_toloka.reader import iter_aggregated_solutions, read_aggregated_solutions
from pandas_toloka.responses import read_responses
from pandas_toloka.server import LocalTolokaServer

LABELS = ["cat", "dog", "other"]
BACKENDS = ["pyarrow", "numpy_nullable"]
SPEC = {
    "result": {"type": "STRING", "allowed_values": LABELS},
    "sure": {"type": "BOOLEAN"},
    "score": {"type": "INTEGER", "min_value": 1, "max_value": 3},
    "weight": {"type": "FLOAT", "required": False},
    "note": {"type": "STRING", "required": False},
    "link": {"type": "URL", "required": False},
    "tags": {"type": "ARRAY_STRING", "required": False},
    "counts": {"type": "ARRAY_INTEGER", "required": False},
}


def _responses(n_tasks: int = 12) -> pd.DataFrame:
    rows = []
    for t in range(n_tasks):
        for w in range(3):
            rows.append(
                {
                    "task_id": f"t{t:03d}",
                    "worker_id": f"w{w}",
                    "assignment_id": f"a{t:03d}{w}",
                    "submitted": pd.Timestamp("2024-05-01 12:00", tz="UTC") + pd.Timedelta(t, "s"),
                    "result": LABELS[(t + (w == 2)) % 3],
                    "sure": (t + w) % 2 == 0,
                    "score": 1 + (t * w) % 3,
                    "weight": None if w == 1 else t / 4,
                    "note": None if t % 4 else f"ü {t}",
                    "link": f"https://x/{t}",
                    "tags": [f"x{w}", "y"] if w else None,
                    "counts": [t, w] if w != 2 else [],
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalTolokaServer, Client]]:
    skills = pd.DataFrame(
        {"worker_id": ["w0", "w1", "w2"], "skill_id": "s1", "value": [70, 80, 90]}
    )
    with LocalTolokaServer() as server, Client(server.token, url=server.url) as client:
        server.add_pool(
            "rich", responses=_responses(), output_spec=SPEC, skills=skills, smart_mixing=True
        )
        yield server, client


def _aggregated(client: Client, backend: str) -> pd.DataFrame:
    return read_aggregated_solutions(
        "rich",
        type="WEIGHTED_DYNAMIC_OVERLAP",
        fields=["result", "sure", "score"],
        answer_weight_skill_id="s1",
        client=client,
        progress_bar=False,
        dtype_backend=backend,
    )


def _frames(client: Client, backend: str) -> dict[str, pd.DataFrame]:
    """Every kind of frame the package returns, with ``backend``."""
    aggregated = _aggregated(client, backend)
    ds = read_aggregated_solutions(
        "rich", fields="result", client=client, progress_bar=False, dtype_backend=backend
    )
    chunks = list(
        iter_aggregated_solutions(
            operation_id=ds.attrs["toloka"]["operation_id"],
            client=client,
            progress_bar=False,
            dtype_backend=backend,
            page_size=5,
        )
    )
    responses = read_responses("rich", client=client, progress_bar=False, dtype_backend=backend)
    tasks = pd.DataFrame({"task_id": [f"t{t:03d}" for t in range(0, 12, 2)], "pool_id": "rich"})
    remote = tasks.toloka.aggregate(fields="result", client=client, dtype_backend=backend)
    local = responses.toloka.aggregate_locally(
        "WEIGHTED_DYNAMIC_OVERLAP",
        fields=["result", "sure"],
        skills=pd.DataFrame({"worker_id": ["w0", "w1", "w2"], "value": [70, 80, 90]}),
        dtype_backend=backend,
    )
    return {
        "read_aggregated_solutions (WDO)": aggregated,
        "read_aggregated_solutions (DS)": ds,
        "iter_aggregated_solutions, a later chunk": chunks[1],
        "read_responses": responses,
        "df.toloka.aggregate": remote,
        "df.toloka.aggregate_locally": local,
        "df.toloka.worker_quality": responses.toloka.worker_quality("result"),
        "df.toloka.worker_quality(confusion=True)": responses.toloka.worker_quality(
            "result", confusion=True
        ),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _values(frame: pd.DataFrame) -> dict[str, list[Any]]:
    return {str(c): [_plain(v) for v in frame[c].astype(object)] for c in frame.columns}


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_frame_survives_a_plain_parquet_round_trip(
    served: tuple[LocalTolokaServer, Client], tmp_path: Path, backend: str
) -> None:
    _, client = served
    for name, frame in _frames(client, backend).items():
        assert len(frame), name
        path = tmp_path / "frame.parquet"
        frame.to_parquet(path)
        back = pd.read_parquet(path)
        pd.testing.assert_frame_equal(back, frame, obj=name)
        assert back.attrs == frame.attrs, name
        for other in BACKENDS:
            opened = pd.read_parquet(path, dtype_backend=other)
            assert _values(opened) == _values(frame), (name, other)
            assert opened.attrs == frame.attrs, (name, other)


@pytest.mark.parametrize("backend", BACKENDS)
def test_frames_carry_their_provenance_through_parquet(
    served: tuple[LocalTolokaServer, Client], tmp_path: Path, backend: str
) -> None:
    _, client = served
    df = _aggregated(client, backend)
    assert df.attrs["toloka"]["type"] == "WEIGHTED_DYNAMIC_OVERLAP"
    df.to_parquet(tmp_path / "a.parquet")
    assert pd.read_parquet(tmp_path / "a.parquet").attrs == df.attrs
    assert "PANDAS_ATTRS" in str(pq.read_schema(tmp_path / "a.parquet").metadata)


def _written(client: Client, tmp_path: Path, backend: str) -> tuple[Path, Path]:
    aggregated = tmp_path / f"aggregated-{backend}.parquet"
    responses = tmp_path / f"responses-{backend}.parquet"
    _aggregated(client, backend).to_parquet(aggregated)
    read_responses("rich", client=client, progress_bar=False, dtype_backend=backend).to_parquet(
        responses
    )
    return aggregated, responses


@pytest.mark.parametrize("backend", BACKENDS)
def test_pyarrow_reads_the_fields_types(
    served: tuple[LocalTolokaServer, Client], tmp_path: Path, backend: str
) -> None:
    aggregated, responses = _written(served[1], tmp_path, backend)
    types = {f.name: f.type for f in pq.read_schema(aggregated)}
    assert pa.types.is_dictionary(types["result"]) and types["result"].value_type == pa.string()
    assert types["confidence"] == pa.float64()
    assert types["sure"] == pa.bool_() and types["score"] == pa.int64()
    assert pa.types.is_large_string(types["task_id"]) or pa.types.is_string(types["task_id"])
    types = {f.name: f.type for f in pq.read_schema(responses)}
    assert types["submitted"] == pa.timestamp("us", tz="UTC")
    assert types["weight"] == pa.float64() and types["sure"] == pa.bool_()
    assert pa.types.is_list(types["tags"]) and pa.types.is_string(types["tags"].value_type)
    assert pa.types.is_list(types["counts"]) and types["counts"].value_type == pa.int64()
    table = pq.read_table(aggregated)
    assert table.column("result").to_pylist() == list(_aggregated(served[1], backend)["result"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_polars_reads_the_fields_types(
    served: tuple[LocalTolokaServer, Client], tmp_path: Path, backend: str
) -> None:
    pl = pytest.importorskip("polars", reason="polars is in the test extra; not installed here")
    aggregated, responses = _written(served[1], tmp_path, backend)
    schema = pl.read_parquet(aggregated).schema
    assert schema["result"] in (pl.Categorical, pl.Enum, pl.String)
    assert schema["confidence"] == pl.Float64
    assert schema["sure"] == pl.Boolean and schema["score"] == pl.Int64
    frame = pl.read_parquet(responses)
    assert frame.schema["submitted"] == pl.Datetime("us", "UTC")
    assert frame.schema["counts"] == pl.List(pl.Int64)
    assert frame["result"].cast(pl.String).to_list() == list(
        read_responses("rich", client=served[1], progress_bar=False)["result"]
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_duckdb_reads_the_fields_types(
    served: tuple[LocalTolokaServer, Client], tmp_path: Path, backend: str
) -> None:
    duckdb = pytest.importorskip("duckdb", reason="duckdb is in the test extra; not installed here")
    aggregated, responses = _written(served[1], tmp_path, backend)
    relation = duckdb.sql(f"SELECT * FROM '{aggregated}'")
    types = dict(zip(relation.columns, map(str, relation.types)))
    assert types["result"] in ("VARCHAR",) or types["result"].startswith("ENUM")
    assert types["confidence"] == "DOUBLE"
    assert types["sure"] == "BOOLEAN" and types["score"] == "BIGINT"
    relation = duckdb.sql(f"SELECT * FROM '{responses}'")
    types = dict(zip(relation.columns, map(str, relation.types)))
    assert types["submitted"] == "TIMESTAMP WITH TIME ZONE"
    assert types["counts"] == "BIGINT[]"
    counts = duckdb.sql(f"SELECT result, count(*) FROM '{responses}' GROUP BY result").fetchall()
    assert sum(n for _, n in counts) == 36


def test_the_enumerated_dtype_is_a_categorical_of_the_allowed_values(
    served: tuple[LocalTolokaServer, Client],
) -> None:
    for backend in BACKENDS:
        df = _aggregated(served[1], backend)
        assert isinstance(df["result"].dtype, pd.CategoricalDtype)
        assert list(df["result"].cat.categories) == LABELS
        assert df["result"].cat.categories.dtype == pd.Index(["x"]).dtype  # pandas' string dtype
    arrow = _aggregated(served[1], "pyarrow")
    assert arrow["task_id"].dtype == pd.ArrowDtype(pa.large_string())
    assert arrow["sure"].dtype == pd.ArrowDtype(pa.bool_())
