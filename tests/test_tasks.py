"""read_tasks / iter_tasks / open_tasks: a pool's tasks, typed, on the one pager."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import pandas_toloka as ptk
from pandas_toloka._read import tasks as tasks_module
from pandas_toloka._read.prefetch import PREFETCH_THREAD_PREFIX
from pandas_toloka._read.tasks import decode_tasks, guess_cursor, join_columns
from pandas_toloka.errors import InvalidArgumentError, NotFoundError, OutputValueError
from pandas_toloka.schema import InputField, OutputField
from pandas_toloka.server import LocalTolokaServer, demo_pools

TOKEN = "tasks-token"
SPEC = {"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}}
INPUTS = {
    "image": {"type": "URL"},
    "meta": {"type": "JSON", "required": False},
    "size": {"type": "INTEGER", "required": False},
    "overlap": {"type": "FLOAT", "required": False},  # named like a task column
}


def _pool(n: int = 250) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = [f"t{i:05d}" for i in range(n)]
    tasks = pd.DataFrame(
        {
            "task_id": ids,
            "image": [f"https://example.com/{i}.jpg" for i in ids],
            "size": [i if i % 3 else None for i in range(n)],
            "input_values.overlap": [0.5] * n,
            "known_solutions": [
                [{"output_values": {"result": "cat"}, "correctness_weight": 0.5}]
                if i % 10 == 0
                else None
                for i in range(n)
            ],
            "message_on_unknown_solution": ["ears" if i % 10 == 0 else None for i in range(n)],
        }
    )
    responses = pd.DataFrame(
        {"task_id": ids, "worker_id": "w1", "result": ["cat", "dog"] * (n // 2) + ["cat"] * (n % 2)}
    )
    return tasks, responses


@pytest.fixture
def server() -> Iterator[LocalTolokaServer]:
    tasks, responses = _pool()
    srv = LocalTolokaServer(token=TOKEN)
    input_spec = {k: v for k, v in INPUTS.items() if k != "meta"}
    srv.add_pool("5", responses=responses, output_spec=SPEC, input_spec=input_spec, tasks=tasks)
    with srv:
        yield srv


def test_every_task_once_in_id_order_typed(server: LocalTolokaServer) -> None:
    df = ptk.read_tasks("5", url=server.url, token=TOKEN, page_size=40)
    assert len(df) == 250 and df["task_id"].is_monotonic_increasing and df["task_id"].is_unique
    assert list(df.columns[:5]) == ["pool_id", "task_id", "image", "size", "input_values.overlap"]
    assert str(df["size"].dtype) == "int64[pyarrow]" and df["size"].isna().sum() == 84
    assert isinstance(df["golden.result"].dtype, pd.CategoricalDtype)
    control = df[df["golden.result"].notna()]
    assert len(control) == 25 and (control["correctness_weight"] == 0.5).all()
    assert (control["hint"] == "ears").all()
    assert control["known_solutions"].iloc[0][0]["output_values"]["result"] == "cat"
    assert df.attrs["toloka"]["kind"] == "tasks" and set(df.attrs["toloka"]["input_spec"]) == {
        "image",
        "size",
        "overlap",
    }
    chunks = list(ptk.iter_tasks("5", url=server.url, token=TOKEN, page_size=40))
    assert len(chunks) == 7
    pd.testing.assert_frame_equal(pd.concat(chunks), df)


def test_exact_rows_under_faults(server: LocalTolokaServer) -> None:
    expected = ptk.read_tasks("5", url=server.url, token=TOKEN)
    server.faults.add("drop", count=2, path="/api/v1/tasks")
    server.faults.add("server_error", count=2, status=503, path="/api/v1/tasks")
    client = ptk.Client(TOKEN, url=server.url, backoff_base=0.0)
    with client:
        got = ptk.read_tasks("5", client=client, page_size=30)
    pd.testing.assert_frame_equal(got, expected)


def test_parquet_round_trip_with_pandas_polars_and_duckdb(
    server: LocalTolokaServer, tmp_path: Path
) -> None:
    df = ptk.read_tasks("5", url=server.url, token=TOKEN)
    path = tmp_path / "tasks.parquet"
    df.to_parquet(path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), df)
    assert pl.read_parquet(path).height == len(df)
    counted = duckdb.sql(
        f"select count(*) from '{path}' where \"golden.result\" = 'cat'"
    ).fetchall()
    assert counted == [(25,)]


def test_demo_pool_tasks_and_arguments_checked_first() -> None:
    pool = demo_pools()["36502086"]
    server = LocalTolokaServer(token=TOKEN)
    server.add_pool(
        "36502086",
        responses=pool.responses,
        output_spec=pool.output_spec,
        tasks=pool.tasks,
        input_spec=pool.input_spec,
    )
    with server:
        df = ptk.read_tasks("36502086", url=server.url, token=TOKEN)
        assert len(df) == 2000 and df["image"].str.startswith("https://example.com/").all()
        assert df["golden.result"].notna().sum() == 100
        with pytest.raises(NotFoundError):
            ptk.read_tasks("404", url=server.url, token=TOKEN)
        before = len(server.request_log.snapshot())
        with pytest.raises(InvalidArgumentError, match="page_size"):
            ptk.read_tasks("36502086", url=server.url, token=TOKEN, page_size=0)
        with pytest.raises(InvalidArgumentError, match="dtype_backend"):
            ptk.read_tasks("36502086", url=server.url, token=TOKEN, dtype_backend="numpy")
        # a malformed spec is refused before the request that would fetch the other one
        with pytest.raises(InvalidArgumentError, match="Input spec of field 'x'"):
            ptk.read_tasks("36502086", url=server.url, token=TOKEN, input_spec={"x": 3})
        with pytest.raises(InvalidArgumentError):
            ptk.read_tasks("36502086", url=server.url, token=TOKEN, output_spec={"y": 3})
        assert len(server.request_log.snapshot()) == before


def _page(items: list[dict[str, object]]) -> bytes:
    return json.dumps({"items": items, "has_more": False}).encode()


def test_the_strict_path_reads_json_inputs_and_names_bad_values() -> None:
    inputs = [InputField.from_spec(k, v) for k, v in INPUTS.items()]
    outputs = [OutputField.from_spec("result", SPEC["result"])]
    item = {"id": "a", "pool_id": "5", "input_values": {"image": "u", "meta": {"k": [1, "x"]}}}
    page = decode_tasks(_page([item]), inputs=inputs, outputs=outputs)
    assert page.rows.column("meta").to_pylist() == ['{"k": [1, "x"]}']
    bad = {"id": "b", "input_values": {"image": 7}}
    with pytest.raises(OutputValueError, match="'b'"):
        decode_tasks(_page([bad]), inputs=inputs, outputs=outputs)
    wrong = {
        "id": "c",
        "input_values": {"image": "u"},
        "known_solutions": [{"output_values": {"result": "cow"}}],
    }
    with pytest.raises(OutputValueError, match="allowed values"):
        decode_tasks(_page([wrong]), inputs=inputs, outputs=outputs)


def test_fast_and_strict_paths_agree() -> None:
    inputs = [
        InputField.from_spec("image", {"type": "URL"}),
        InputField("n", "INTEGER", required=False),
    ]
    outputs = [OutputField.from_spec("result", SPEC["result"])]
    items = [
        {
            "id": f"t{i}",
            "pool_id": "5",
            "input_values": {"image": f"u{i}", **({"n": i} if i % 2 else {})},
            "known_solutions": [{"output_values": {"result": "dog"}, "correctness_weight": 1.0}]
            if i == 3
            else [],
            "overlap": 3,
            "infinite_overlap": False,
            "remaining_overlap": 1,
            "created": "2024-05-01T09:00:00.123",
        }
        for i in range(6)
    ]
    fast = decode_tasks(_page(items), inputs=inputs, outputs=outputs).rows
    from pandas_toloka._read.tasks import tasks_to_table

    strict = tasks_to_table(items, inputs, outputs)
    assert fast.equals(strict), (fast.to_pydict(), strict.to_pydict())
    assert fast.column("golden.result").to_pylist() == [None, None, None, "dog", None, None]
    assert isinstance(fast.column("created").type, pa.TimestampType)


@pytest.mark.parametrize("golden", [False, True])
@pytest.mark.parametrize("path", ["fast", "strict"])
def test_the_join_columns_alone_are_the_same_by_either_path(
    golden: bool, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = [
        InputField.from_spec("image", {"type": "URL"}),
        InputField("n", "INTEGER", required=False),
    ]
    if path == "strict":  # a JSON input: only the strict path reads it
        inputs.append(InputField("meta", "JSON", required=False))
    outputs = [OutputField.from_spec("result", SPEC["result"])]
    items = [
        {
            "id": f"t{i}",
            "pool_id": "5",
            "input_values": {"image": f"u{i}", **({"n": i, "meta": {"k": i}} if i % 2 else {})},
            "known_solutions": [{"output_values": {"result": "dog"}, "correctness_weight": 0.5}]
            if i == 3
            else [],
            "overlap": 3,
            "created": "2024-05-01T09:00:00.123",
        }
        for i in range(6)
    ]
    strict_pages: list[int] = []
    strict = tasks_module.tasks_to_table

    def counted(*args: object, **kwargs: object) -> pa.Table:
        strict_pages.append(1)
        return strict(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tasks_module, "tasks_to_table", counted)
    columns = join_columns(inputs, outputs, golden=golden)
    whole = decode_tasks(_page(items), inputs=inputs, outputs=outputs, pool_id="5")
    joined = decode_tasks(
        _page(items), inputs=inputs, outputs=outputs, pool_id="5", columns=columns
    )
    assert len(strict_pages) == (2 if path == "strict" else 0)
    assert joined.rows.column_names == columns
    assert joined.rows.equals(whole.rows.select(columns))
    assert joined.keys.to_pylist() == [f"t{i}" for i in range(6)] and not joined.has_more
    if golden:
        assert joined.rows.column("golden.result").to_pylist() == [None] * 3 + ["dog"] + [None] * 2
    empty = decode_tasks(_page([]), inputs=inputs, outputs=outputs, columns=columns)
    assert empty.rows.num_rows == 0 and empty.rows.schema.equals(whole.rows.select(columns).schema)


def test_the_early_cursor_is_the_last_task_id_and_a_wrong_one_costs_no_row() -> None:
    assert guess_cursor(b'{"items":[{"id":"a"},{"id":"b\\"c"}],"has_more":true}') == 'b"c'
    assert guess_cursor(b'{"items":[{"id":"a"}],"has_more":false}') is None
    assert guess_cursor(b'{"items":[{"id":7}],"has_more":true}') is None
    # an input value opening with "id" comes after the task's own id: the guess is wrong
    n = 30
    tasks = pd.DataFrame(
        {
            "task_id": [f"t{i:02d}" for i in range(n)],
            "image": [f"https://example.com/{i}.jpg" for i in range(n)],
            "meta": [{"id": "zz"}] * n,
        }
    )
    responses = pd.DataFrame({"task_id": tasks["task_id"], "worker_id": "w1", "result": "cat"})
    srv = LocalTolokaServer(token=TOKEN)
    spec = {"image": {"type": "URL"}, "meta": {"type": "JSON"}}
    srv.add_pool("6", responses=responses, output_spec=SPEC, input_spec=spec, tasks=tasks)
    with srv:
        whole = ptk.read_tasks("6", url=srv.url, token=TOKEN, page_size=n)
        srv.request_log.clear()
        paged = ptk.read_tasks("6", url=srv.url, token=TOKEN, page_size=7)
        asked = [p for _, p in srv.request_log if p.startswith("/api/v1/tasks?")]
    pd.testing.assert_frame_equal(paged, whole)
    assert list(paged["task_id"]) == list(tasks["task_id"])
    right = [p for p in asked if "id_gt=zz" not in p]
    assert len(right) == 5  # one request per page, on the cursor decoded
    assert [p.endswith(f"id_gt=t{7 * k - 1:02d}") for k, p in enumerate(right)] == [False] + [
        True
    ] * 4
    assert len(asked) - len(right) <= 4  # each wrong guess: at most one request more


def test_leaving_the_tasks_early_leaves_no_thread(server: LocalTolokaServer) -> None:
    chunks = ptk.iter_tasks("5", url=server.url, token=TOKEN, page_size=20, progress_bar=False)
    assert len(next(chunks)) == 20
    chunks.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        t.name.startswith(PREFETCH_THREAD_PREFIX) for t in threading.enumerate()
    ):
        time.sleep(0.01)
    assert not [t for t in threading.enumerate() if t.name.startswith(PREFETCH_THREAD_PREFIX)]


def test_user_skills_page_typed_and_feed_skill_weighting() -> None:
    pool = demo_pools()["36502086"]
    server = LocalTolokaServer(token=TOKEN)
    server.add_skills(pool.skills)
    with server:
        skills = ptk.read_user_skills(skill_id="11294", url=server.url, token=TOKEN, page_size=7)
        with pytest.raises(InvalidArgumentError, match="skill_id= or user_id="):
            ptk.read_user_skills(url=server.url, token=TOKEN)
        one = ptk.read_user_skills(user_id=skills["worker_id"].iloc[0], url=server.url, token=TOKEN)
    assert len(skills) == len(pool.skills) and skills["id"].is_unique
    assert list(skills.columns) == [
        "skill_id",
        "worker_id",
        "value",
        "exact_value",
        "created",
        "modified",
        "id",
    ]
    expected = dict(zip(pool.skills["worker_id"], pool.skills["value"].astype(float)))
    assert dict(zip(skills["worker_id"], skills["exact_value"])) == expected
    assert len(one) == 1
    from pandas_toloka.aggregation import weighted_dynamic_overlap

    accepted = pool.responses[pool.responses["status"] == "ACCEPTED"]
    labels = weighted_dynamic_overlap(
        accepted, skills, fields=["result"], n_options=2, skill_value="exact_value"
    )
    assert len(labels) == accepted["task_id"].nunique()
