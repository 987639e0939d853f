"""read_aggregated_solutions / iter_aggregated_solutions against the bundled server over HTTP."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pandas_toloka._read import operations
from pandas_toloka.client import Client
from pandas_toloka.errors import (
    ConflictError,
    InvalidArgumentError,
    MissingTokenError,
    OperationFailedError,
    OperationInterruptedError,
    OperationTimeoutError,
    OutputValueError,
    RateLimitError,
    ServerError,
)
from pandas_toloka.reader import iter_aggregated_solutions, read_aggregated_solutions
from pandas_toloka.schema import type_mapping_table
from pandas_toloka.server import LocalTolokaServer

TOKEN = "reader-test-token"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "reader.md"
LABELS = ["cat", "dog", "bird"]


def _label_responses(
    n_tasks: int, *, workers: int = 3, seed: int = 0, prefix: str = "t"
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, len(LABELS), n_tasks)
    rows = []
    for t in range(n_tasks):
        for w in range(workers):
            label = truth[t] if rng.random() < 0.8 else rng.integers(0, len(LABELS))
            rows.append((f"{prefix}{t:04d}", f"w{w}", LABELS[label]))
    return pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])


def _wdo_responses(n_tasks: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for t in range(n_tasks):
        for w in range(3):
            rows.append((f"t{t:04d}", f"w{w}", (t + w) % 3 != 0, 1 + (t * w) % 3))
    responses = pd.DataFrame(rows, columns=["task_id", "worker_id", "result", "sure"])
    skills = pd.DataFrame(
        {"worker_id": ["w0", "w1", "w2"], "skill_id": "sk1", "value": [70, 80, 90]}
    )
    return responses, skills


def _make_server(**kwargs: object) -> LocalTolokaServer:
    server = LocalTolokaServer(token=TOKEN, **kwargs)  # type: ignore[arg-type]
    spec = {"result": {"type": "STRING", "allowed_values": LABELS}}
    server.add_pool("ds", responses=_label_responses(30), output_spec=spec)
    server.add_pool(
        "multi",
        responses=_label_responses(5).assign(url="http://x", other="cat"),
        output_spec={
            **spec,
            "other": {"type": "STRING", "allowed_values": LABELS},
            "url": {"type": "URL"},
        },
    )
    responses, skills = _wdo_responses(12)
    server.add_pool(
        "wdo",
        responses=responses,
        skills=skills,
        smart_mixing=True,
        output_spec={
            "result": {"type": "BOOLEAN"},
            "sure": {"type": "INTEGER", "min_value": 1, "max_value": 3},
        },
    )
    rejected = _label_responses(4).assign(status="REJECTED")
    server.add_pool("empty", responses=rejected, output_spec=spec)
    collide = _label_responses(6).rename(columns={"result": "confidence"})
    server.add_pool(
        "collide",
        responses=collide,
        output_spec={"confidence": {"type": "STRING", "allowed_values": LABELS}},
    )
    return server


@pytest.fixture
def server() -> Iterator[LocalTolokaServer]:
    with _make_server() as srv:
        yield srv


@pytest.fixture
def client(server: LocalTolokaServer) -> Iterator[Client]:
    with Client(
        server.token,
        url=server.url,
        backoff_base=0.01,
        backoff_max=0.05,
        rate_limit_wait=0.05,
        poll_min=0.01,
        poll_max=0.05,
    ) as c:
        yield c


def _posts(server: LocalTolokaServer) -> int:
    return sum(1 for m, p in server.request_log if m == "POST" and "aggregate-by-pool" in p)


# --------------------------------------------------------------------------- results


def test_dawid_skene_end_to_end(client: Client) -> None:
    df = read_aggregated_solutions("ds", fields="result", client=client, progress_bar=False)
    assert list(df.columns) == ["pool_id", "task_id", "confidence", "result"]
    assert len(df) == 30 and df["task_id"].is_unique and df["task_id"].is_monotonic_increasing
    assert df["task_id"].dtype == pd.ArrowDtype(pa.large_string())
    assert df["confidence"].dtype == pd.ArrowDtype(pa.float64())
    assert df["result"].dtype == pd.CategoricalDtype(pd.Index(LABELS, dtype="str"))
    assert set(df["result"].astype(str)) <= set(LABELS)
    assert ((df["confidence"] > 0) & (df["confidence"] <= 1)).all()
    meta = df.attrs["toloka"]
    assert (
        meta["pool_id"] == "ds" and meta["type"] == "DAWID_SKENE" and meta["fields"] == ["result"]
    )
    assert meta["finished"] and meta["base_url"] == client.base_url
    assert TOKEN not in repr(df.attrs)


def test_numpy_nullable_backend(client: Client) -> None:
    df = read_aggregated_solutions(
        "ds", client=client, progress_bar=False, dtype_backend="numpy_nullable"
    )
    assert isinstance(df["result"].dtype, pd.CategoricalDtype)
    assert list(df["result"].cat.categories) == LABELS
    assert df["confidence"].dtype == pd.Float64Dtype()
    assert df["task_id"].dtype == pd.StringDtype()
    with pytest.raises(InvalidArgumentError, match="numpy_nullable"):
        read_aggregated_solutions("ds", client=client, dtype_backend="numpy")


def test_weighted_dynamic_overlap_multi_field(client: Client) -> None:
    df = read_aggregated_solutions(
        "wdo",
        type="weighted_dynamic_overlap",
        fields=["result", "sure"],
        answer_weight_skill_id="sk1",
        client=client,
        progress_bar=False,
    )
    assert list(df.columns) == ["pool_id", "task_id", "confidence", "result", "sure"]
    assert df["result"].dtype == pd.ArrowDtype(pa.bool_())
    assert df["sure"].dtype == pd.ArrowDtype(pa.int64())  # integers stay integers
    assert len(df) == 12 and df["sure"].between(1, 3).all()
    nullable = read_aggregated_solutions(
        operation_id=df.attrs["toloka"]["operation_id"],
        client=client,
        progress_bar=False,
        dtype_backend="numpy_nullable",
    )
    assert (
        nullable["sure"].dtype == pd.Int64Dtype() and nullable["result"].dtype == pd.BooleanDtype()
    )
    assert df.attrs["toloka"]["answer_weight_skill_id"] == "sk1"


def test_resume_by_operation_id(server: LocalTolokaServer, client: Client) -> None:
    first = read_aggregated_solutions("ds", client=client, progress_bar=False)
    op_id = first.attrs["toloka"]["operation_id"]
    again = read_aggregated_solutions(operation_id=op_id, client=client, progress_bar=False)
    pd.testing.assert_frame_equal(first, again)
    assert again.attrs == first.attrs
    assert _posts(server) == 1
    with pytest.raises(InvalidArgumentError, match="not pool 'wdo'"):
        read_aggregated_solutions("wdo", operation_id=op_id, client=client)
    with pytest.raises(InvalidArgumentError, match="runs DAWID_SKENE"):
        read_aggregated_solutions(
            operation_id=op_id,
            type="WEIGHTED_DYNAMIC_OVERLAP",
            answer_weight_skill_id="sk1",
            client=client,
        )


def test_timeout_names_operation_then_resume() -> None:
    with _make_server(operation_delay=0.3) as server:
        with Client(server.token, url=server.url, poll_min=0.01, poll_max=0.05) as client:
            with pytest.raises(OperationTimeoutError, match="operation_id=") as info:
                read_aggregated_solutions(
                    "ds", client=client, progress_bar=False, wait_timeout=0.05
                )
            op_id = info.value.operation_id
            assert op_id in str(info.value)
            df = read_aggregated_solutions(operation_id=op_id, client=client, progress_bar=False)
    assert len(df) == 30 and df.attrs["toloka"]["operation_id"] == op_id
    assert _posts(server) == 1


def test_ctrl_c_names_operation(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeTime:
        monotonic = staticmethod(__import__("time").monotonic)

        @staticmethod
        def sleep(seconds: float) -> None:
            raise KeyboardInterrupt

    monkeypatch.setattr(operations, "time", FakeTime)
    operation = client.aggregate_by_pool("ds", type="DAWID_SKENE", fields="result")
    operation["status"] = "RUNNING"  # as if it had not finished yet
    with pytest.raises(OperationInterruptedError, match="operation_id=") as info:
        operations.wait_operation(client, operation)
    assert info.value.operation_id == operation["id"]
    assert isinstance(info.value, KeyboardInterrupt)


def test_failed_operation(server: LocalTolokaServer, client: Client) -> None:
    server.faults.add("fail_operation", count=1)
    with pytest.raises(OperationFailedError, match="failed on the server") as info:
        read_aggregated_solutions("ds", client=client, progress_bar=False)
    assert info.value.operation_id in str(info.value)


def test_empty_result_is_typed(client: Client) -> None:
    df = read_aggregated_solutions("empty", client=client, progress_bar=False)
    assert len(df) == 0 and list(df.columns) == ["pool_id", "task_id", "confidence", "result"]
    assert list(df["result"].cat.categories) == LABELS  # every allowed value, none seen
    assert df["confidence"].dtype == pd.ArrowDtype(pa.float64())
    chunks = list(iter_aggregated_solutions("empty", client=client, progress_bar=False))
    assert len(chunks) == 1
    pd.testing.assert_frame_equal(chunks[0], df)


def test_field_named_like_meta_column(client: Client) -> None:
    df = read_aggregated_solutions("collide", client=client, progress_bar=False)
    assert list(df.columns) == ["pool_id", "task_id", "confidence", "output_values.confidence"]
    assert df["confidence"].dtype == pd.ArrowDtype(pa.float64())
    assert set(df["output_values.confidence"].astype(str)) <= set(LABELS)


def test_value_not_fitting_spec_names_task_and_field(
    server: LocalTolokaServer, client: Client
) -> None:
    first = read_aggregated_solutions("ds", client=client, progress_bar=False)
    # The pool's spec changes after the aggregation: "bird" is no longer allowed.
    server.add_pool(
        "ds",
        responses=_label_responses(2).assign(result="cat"),
        project_id="ds2",
        output_spec={"result": {"type": "STRING", "allowed_values": ["cat", "dog", "fish"]}},
    )
    with pytest.raises(OutputValueError, match="'result'") as info:
        read_aggregated_solutions(
            operation_id=first.attrs["toloka"]["operation_id"], client=client, progress_bar=False
        )
    assert info.value.field == "result" and info.value.task_id in set(first["task_id"])
    assert info.value.task_id in str(info.value)


# --------------------------------------------------------------------------- paging


@pytest.mark.parametrize("page_size", [1, 7, 10, 15, 29, 30, 31])
def test_paging_loses_and_duplicates_nothing(
    server: LocalTolokaServer, client: Client, page_size: int
) -> None:
    full = read_aggregated_solutions("ds", client=client, progress_bar=False)
    op_id = full.attrs["toloka"]["operation_id"]
    server.request_log.clear()
    paged = read_aggregated_solutions(
        operation_id=op_id, client=client, progress_bar=False, page_size=page_size
    )
    pd.testing.assert_frame_equal(paged, full)
    pages = [
        p for m, p in server.request_log if p.startswith(f"/api/v1/aggregated-solutions/{op_id}")
    ]
    assert len(pages) == math.ceil(30 / page_size)
    assert all("sort=task_id" in p for p in pages)


def test_iter_chunks_are_bounded_and_concatenate_to_read(client: Client) -> None:
    full = read_aggregated_solutions("ds", client=client, progress_bar=False)
    chunks = list(
        iter_aggregated_solutions(
            operation_id=full.attrs["toloka"]["operation_id"],
            client=client,
            progress_bar=False,
            page_size=8,
        )
    )
    assert [len(c) for c in chunks] == [8, 8, 8, 6]
    joined = pd.concat(chunks)
    pd.testing.assert_frame_equal(joined, full)
    assert joined.attrs == full.attrs


def test_parquet_round_trip(client: Client, tmp_path: Path) -> None:
    df = read_aggregated_solutions(
        "wdo",
        type="WEIGHTED_DYNAMIC_OVERLAP",
        fields=["result", "sure"],
        answer_weight_skill_id="sk1",
        client=client,
        progress_bar=False,
    )
    ds = read_aggregated_solutions("ds", client=client, progress_bar=False)
    for frame in (df, ds):
        path = tmp_path / "out.parquet"
        frame.to_parquet(path)
        back = pd.read_parquet(path)
        pd.testing.assert_frame_equal(back, frame)
        assert list(back.dtypes) == list(frame.dtypes)
        assert back.attrs == frame.attrs


# --------------------------------------------------------------------------- argument checks


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "MAJORITY_VOTE"}, "Unknown aggregation type"),
        ({"fields": ["result", "other"]}, "exactly one field"),
        ({"type": "WEIGHTED_DYNAMIC_OVERLAP"}, "answer_weight_skill_id"),
        ({"fields": "nope"}, "no output field 'nope'.*'result'"),
        ({"fields": "url"}, "type URL, which cannot be aggregated"),
        ({}, "several fields that can be aggregated: \\['result', 'other'\\]"),
        ({"fields": []}, "fields is empty"),
        ({"page_size": 100_001}, "page_size"),
    ],
)
def test_bad_arguments_fail_before_starting(
    server: LocalTolokaServer, client: Client, kwargs: dict, message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        read_aggregated_solutions("multi", client=client, progress_bar=False, **kwargs)
    assert _posts(server) == 0


def test_skill_aggregation_on_pool_without_mixer(client: Client) -> None:
    with pytest.raises(ConflictError, match="use type='DAWID_SKENE'"):
        read_aggregated_solutions(
            "ds",
            type="WEIGHTED_DYNAMIC_OVERLAP",
            answer_weight_skill_id="sk1",
            client=client,
            progress_bar=False,
        )


def test_connection_settings_from_environment(
    server: LocalTolokaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOLOKA_API_KEY", raising=False)
    monkeypatch.delenv("TOLOKA_TOKEN", raising=False)
    monkeypatch.setenv("TOLOKA_URL", server.url)
    with pytest.raises(MissingTokenError, match="TOLOKA_API_KEY"):
        read_aggregated_solutions("ds", progress_bar=False)
    monkeypatch.setenv("TOLOKA_API_KEY", TOKEN)
    df = read_aggregated_solutions("ds", progress_bar=False)
    assert len(df) == 30 and df.attrs["toloka"]["base_url"] == server.url
    with pytest.raises(InvalidArgumentError, match="either client="):
        read_aggregated_solutions("ds", client=Client(url=server.url), token=TOKEN)


def test_rate_limited_start_is_waited_out_or_explained(
    server: LocalTolokaServer, client: Client
) -> None:
    server.faults.add("rate_limit", count=1, interval="MIN", method="POST")
    df = read_aggregated_solutions("ds", client=client, progress_bar=False)
    assert len(df) == 30 and _posts(server) == 2
    server.faults.add("rate_limit", count=1, interval="DAY", method="POST")
    with pytest.raises(RateLimitError, match="daily request quota is used up"):
        read_aggregated_solutions("ds", client=client, progress_bar=False)


def test_progress_bars(client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    read_aggregated_solutions("ds", client=client, progress_bar=True)
    err = capsys.readouterr().err
    assert "pool ds: aggregating:" in err and "pool ds: downloading: 30 rows" in err
    read_aggregated_solutions("ds", client=client)  # auto: stderr is not a terminal here
    read_aggregated_solutions("ds", client=client, progress_bar=False)
    assert capsys.readouterr().err == ""


def test_docs_contain_the_current_type_mapping_table() -> None:
    assert type_mapping_table() in DOCS.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- page decoding


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 10])
@pytest.mark.parametrize("indent", [None, 2])
def test_page_decoding_in_slices_equals_json_loads(chunk_rows: int, indent: int | None) -> None:
    import json

    from pandas_toloka._read.solutions import iter_item_chunks

    items = [
        {
            "task_id": f"t{i}",
            "confidence": i / 3,
            "output_values": {"r": ["a,]}", None, {"x": [1]}]},
        }
        for i in range(7)
    ]
    for body in (
        {"has_more": True, "extra": {"items": [1]}, "items": items, "tail": [None]},
        {"items": [], "has_more": False},
        {"items": items[:1]},
        {},
    ):
        text = json.dumps(body, indent=indent)
        meta: dict = {}
        chunks = list(iter_item_chunks(text, meta, chunk_rows=chunk_rows))
        assert all(0 < len(c) <= chunk_rows for c in chunks)
        assert [i for c in chunks for i in c] == body.get("items", [])
        assert {k: v for k, v in meta.items() if k != "items"} == {
            k: v for k, v in body.items() if k != "items"
        }
    with pytest.raises(ValueError):
        list(iter_item_chunks('{"items": [{"a": 1} {"b": 2}]}', {}))


def test_dropped_page_is_fetched_again(server: LocalTolokaServer, client: Client) -> None:
    full = read_aggregated_solutions("ds", client=client, progress_bar=False)
    op_id = full.attrs["toloka"]["operation_id"]
    server.faults.add("drop", count=2, path=f"/api/v1/aggregated-solutions/{op_id}")
    again = read_aggregated_solutions(
        operation_id=op_id, client=client, progress_bar=False, page_size=12
    )
    pd.testing.assert_frame_equal(again, full)


# --------------------------------------------------------------------------- review: resuming


def test_errors_while_waiting_or_reading_name_the_operation(server: LocalTolokaServer) -> None:
    """A network failure during a long wait leaves the aggregation running: say how to resume."""
    with Client(
        server.token, url=server.url, max_attempts=2, backoff_base=0.01, poll_min=0.01
    ) as client:
        server.operations.delay = 0.2  # type: ignore[attr-defined]
        server.faults.add("server_error", count=2, status=503, path="/api/v1/operations/")
        with pytest.raises(ServerError, match="resume with operation_id=") as info:
            read_aggregated_solutions("ds", client=client, progress_bar=False)
        op_id = info.value.operation_id  # type: ignore[attr-defined]
        assert op_id in str(info.value) and _posts(server) == 1
        server.faults.add(
            "server_error", count=2, status=500, path="/api/v1/aggregated-solutions/", method="GET"
        )
        with pytest.raises(ServerError, match=f"operation_id='{op_id}'"):
            read_aggregated_solutions(operation_id=op_id, client=client, progress_bar=False)
        df = read_aggregated_solutions(operation_id=op_id, client=client, progress_bar=False)
    assert len(df) == 30 and _posts(server) == 1


def test_resume_refuses_another_skill(client: Client) -> None:
    df = read_aggregated_solutions(
        "wdo",
        type="WEIGHTED_DYNAMIC_OVERLAP",
        fields=["result", "sure"],
        answer_weight_skill_id="sk1",
        client=client,
        progress_bar=False,
    )
    op_id = df.attrs["toloka"]["operation_id"]
    with pytest.raises(InvalidArgumentError, match="by skill 'sk1', not 'sk2'"):
        read_aggregated_solutions(operation_id=op_id, answer_weight_skill_id="sk2", client=client)
    again = read_aggregated_solutions(
        operation_id=op_id, answer_weight_skill_id="sk1", client=client, progress_bar=False
    )
    assert again.attrs["toloka"]["answer_weight_skill_id"] == "sk1"


@pytest.mark.parametrize("value", ["numpy", None, "PyArrow"])
def test_dtype_backend_message_is_pandas_own(client: Client, value: object) -> None:
    import io

    with pytest.raises(ValueError) as theirs:
        pd.read_csv(io.StringIO("a\n1"), dtype_backend=value)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError) as ours:
        read_aggregated_solutions("ds", client=client, dtype_backend=value)  # type: ignore[arg-type]
    assert str(ours.value) == str(theirs.value)


def test_an_evicted_operation_says_start_again_not_resume() -> None:
    from pandas_toloka.errors import NotFoundError
    from pandas_toloka.server import LocalTolokaServer, demo_pools

    pool = demo_pools()["1001"]
    with LocalTolokaServer() as server:
        server.add_pool("p", responses=pool.responses.head(30), output_spec=pool.output_spec)
        with Client(server.token, url=server.url) as client:
            first = read_aggregated_solutions("p", client=client, progress_bar=False)
            operation_id = first.attrs["toloka"]["operation_id"]
            # its time to live runs out after it was read (set here, not raced against a
            # clock: a loaded machine may take longer than any short TTL to read it)
            server.operations.ttl = 0.0
            with pytest.raises(NotFoundError) as info:
                read_aggregated_solutions(
                    operation_id=operation_id, client=client, progress_bar=False
                )
    message = str(info.value)
    assert "evicted" in message and "start a new aggregation" in message
    assert "resume with" not in message
