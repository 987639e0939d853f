"""The labeled dataset: inputs= on the readers, and the results export read from the API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pytest
from fakes import Answer, Request

import pandas_toloka as ptk
from pandas_toloka._read.assignments import assignments_to_table, decode_assignments
from pandas_toloka._read.labeled import labeled_schema, merge_inputs
from pandas_toloka.errors import InvalidArgumentError
from pandas_toloka.schema import InputField, OutputField, aggregated_schema, parse_output_spec
from pandas_toloka.server.demo import DS_POOL_ID

OUTPUTS = [OutputField("result", "STRING", allowed_values=("cat", "dog"))]


@pytest.fixture
def served(demo_served):  # type: ignore[no-untyped-def]
    server, client, _ = demo_served
    return server, client


@pytest.fixture
def tasks(served) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    _, client = served
    return ptk.read_tasks(DS_POOL_ID, client=client, progress_bar=False)


def _images(tasks: pd.DataFrame) -> dict[str, str]:
    return dict(zip(tasks["task_id"], tasks["image"], strict=True))


# ------------------------------------------------------------------ read_responses(inputs=)


def test_responses_carry_their_tasks_inputs(served, tasks) -> None:  # type: ignore[no-untyped-def]
    _, client = served
    plain = ptk.read_responses(DS_POOL_ID, client=client, progress_bar=False)
    df = ptk.read_responses(DS_POOL_ID, client=client, inputs=True, progress_bar=False)
    assert list(df.columns) == [*plain.columns, "image"]
    pd.testing.assert_frame_equal(df[plain.columns], plain)
    images = _images(tasks)
    assert df["image"].tolist() == [images[t] for t in df["task_id"]]
    assert df.attrs["toloka"]["input_spec"] == {"image": {"type": "URL", "required": True}}
    chunks = list(
        ptk.iter_responses(
            DS_POOL_ID, client=client, inputs=["image"], page_size=700, progress_bar=False
        )
    )
    assert len(chunks) > 1
    pd.testing.assert_frame_equal(pd.concat(chunks), df)


def test_the_fast_and_strict_paths_agree_on_inputs(served) -> None:  # type: ignore[no-untyped-def]
    _, client = served
    body = client.get_bytes(
        "/assignments", params={"pool_id": DS_POOL_ID, "sort": "id", "limit": 50}
    )
    items = json.loads(body)["items"]
    fields = list(parse_output_spec(client.get_output_spec(DS_POOL_ID)).values())
    for inputs in ([InputField("image", "URL")], [InputField("image", "JSON")]):
        table, _, _ = decode_assignments(body, fields, pool_id=DS_POOL_ID, inputs=inputs)
        strict = assignments_to_table(items, fields, pool_id=DS_POOL_ID, inputs=inputs)
        assert table.equals(strict)
        expected = [task["input_values"]["image"] for item in items for task in item["tasks"]]
        if inputs[0].type == "JSON":  # a JSON field holds the value's JSON text
            expected = [json.dumps(v) for v in expected]
        assert table.column("image").to_pylist() == expected


def test_an_input_named_like_a_column_is_prefixed() -> None:
    items = [
        {
            "id": "a1",
            "pool_id": "1",
            "user_id": "w",
            "status": "ACCEPTED",
            "submitted": "2024-01-01T00:00:00",
            "tasks": [{"id": "t1", "input_values": {"status": "x", "result": 5}}],
            "solutions": [{"output_values": {"result": "cat"}}],
        }
    ]
    inputs = [InputField("status", "STRING"), InputField("result", "INTEGER")]
    table = assignments_to_table(items, OUTPUTS, inputs=inputs)
    assert table.column_names[-3:] == ["result", "input_values.status", "input_values.result"]
    assert table.column("input_values.result").to_pylist() == [5]


def test_unknown_inputs_are_refused_naming_the_spec(served) -> None:  # type: ignore[no-untyped-def]
    _, client = served
    with pytest.raises(InvalidArgumentError, match=r"no input field 'photo'.*\['image'\]"):
        ptk.read_responses(DS_POOL_ID, client=client, inputs=["photo"])
    with pytest.raises(InvalidArgumentError, match="no input field 'photo'"):
        ptk.read_aggregated_solutions(DS_POOL_ID, client=client, inputs="photo")
    # the form of inputs= is checked before anything is sent (nothing listens there)
    for bad in (3, [], ["image", "image"], [""]):
        with pytest.raises(InvalidArgumentError, match="inputs"):
            ptk.iter_responses("1", url="http://127.0.0.1:9", token="t", inputs=bad)
        with pytest.raises(InvalidArgumentError, match="inputs"):
            ptk.iter_aggregated_solutions("1", url="http://127.0.0.1:9", token="t", inputs=bad)


# ------------------------------------------------------------------ read_aggregated_solutions(inputs=)


def test_aggregated_solutions_with_inputs_are_the_join(served, tasks) -> None:  # type: ignore[no-untyped-def]
    _, client = served
    df = ptk.read_aggregated_solutions(
        DS_POOL_ID, fields="result", client=client, inputs=True, progress_bar=False
    )
    op = df.attrs["toloka"]["operation_id"]
    plain = ptk.read_aggregated_solutions(operation_id=op, client=client, progress_bar=False)
    assert list(df.columns) == [*plain.columns, "image"]
    pd.testing.assert_frame_equal(df[plain.columns], plain)
    images = _images(tasks)
    assert df["image"].tolist() == [images[t] for t in df["task_id"]]
    assert df.attrs["toloka"]["input_spec"] == {"image": {"type": "URL", "required": True}}
    chunks = list(
        ptk.iter_aggregated_solutions(
            operation_id=op, client=client, inputs=["image"], page_size=97, progress_bar=False
        )
    )
    assert len(chunks) > 10
    pd.testing.assert_frame_equal(pd.concat(chunks), df)


def _pages(table: pa.Table, cuts: list[int]) -> Iterator[pa.Table]:
    start = 0
    for end in [*cuts, table.num_rows]:
        yield table.slice(start, end - start)
        start = end


@pytest.mark.parametrize(
    "kept",
    [
        # results for some tasks only: tasks without an accepted answer have none
        [i for i in range(40) if i % 3 != 1],
        list(range(40)),  # every task answered: the ids line up page by page
        list(range(30)),  # lined up, then the last tasks unanswered
    ],
    ids=["gaps", "every-task", "tail-missing"],
)
def test_the_merge_join_is_exact_whatever_the_page_cuts(kept: list[int]) -> None:
    ids = [f"t{i:03d}" for i in range(40)]
    tasks = pa.table({"task_id": ids, "image": [f"u{i}" for i in range(40)]})
    result_ids = [ids[i] for i in kept] + ["t999"]  # t999 is not a task of the pool
    base = aggregated_schema(OUTPUTS)
    results = pa.table(
        {
            "pool_id": ["1"] * len(result_ids),
            "task_id": result_ids,
            "confidence": [0.9] * len(result_ids),
            "result": pa.array(["cat"] * len(result_ids)).dictionary_encode(),
        }
    ).cast(base)
    inputs = [InputField("image", "URL")]
    target = labeled_schema(base, inputs)
    for result_cuts, task_cuts in (
        ([5, 11, 20], [3, 4, 30]),
        ([1], [39]),
        ([], []),
        ([10, 20], [10, 20]),  # the same cuts: each page of results meets its page of tasks
    ):
        out = pa.concat_tables(
            merge_inputs(_pages(results, result_cuts), _pages(tasks, task_cuts), inputs, target)
        )
        assert out.column("task_id").to_pylist() == result_ids  # no row added or lost
        assert out.column("image").to_pylist() == [f"u{i}" for i in kept] + [None]


# ------------------------------------------------------------------ read_assignments_export


def test_the_export_from_the_api_reads_like_the_download(served, tasks) -> None:  # type: ignore[no-untyped-def]
    server, client = served
    df = ptk.read_assignments_export(DS_POOL_ID, url=server.url, token=server.token)
    api = ptk.read_responses(DS_POOL_ID, client=client, inputs=True, progress_bar=False)
    assert len(df) == len(api) and set(df["status"]) == {"ACCEPTED"}
    assert df.attrs["toloka"]["kind"] == "results_export"
    assert df.attrs["toloka"]["inferred_fields"] == []  # typed by the pool's specs
    assert isinstance(df["result"].dtype, pd.CategoricalDtype)
    assert sorted(df["image"]) == sorted(api["image"])
    control = df[df["golden.result"].notna()]
    assert 0 < control["image"].nunique() <= tasks["golden.result"].notna().sum()
    every = ptk.read_assignments_export(DS_POOL_ID, client=client, status=None)
    assert set(every["status"]) == {"ACCEPTED", "REJECTED"}


def test_the_export_carries_tolokas_task_ids_and_aggregates_as_the_api(served) -> None:  # type: ignore[no-untyped-def]
    _, client = served
    df = ptk.read_assignments_export(DS_POOL_ID, client=client)
    api = ptk.read_responses(DS_POOL_ID, client=client, progress_bar=False)
    assert df.attrs["toloka"]["task_ids_from_inputs"] is False
    assert sorted(zip(df["assignment_id"], df["task_id"])) == sorted(
        zip(api["assignment_id"], api["task_id"])
    )
    assert {"assignment.started", "assignment.accepted", "assignment.reward"} <= set(df.columns)
    by_api = api.toloka.aggregate_locally(type="DAWID_SKENE", fields="result")
    by_export = df.toloka.aggregate_locally(type="DAWID_SKENE", fields="result")
    pd.testing.assert_frame_equal(
        by_export.set_index("task_id").sort_index()[["result", "confidence"]],
        by_api.set_index("task_id").sort_index()[["result", "confidence"]],
    )


def test_the_export_is_asked_by_the_exports_status_names(fake_server) -> None:  # type: ignore[no-untyped-def]
    tsv = (
        b"INPUT:image\tOUTPUT:result\tASSIGNMENT:worker_id\tASSIGNMENT:status\n"
        b"u1\tcat\tw1\tAPPROVED\nu1\tdog\tw2\tREJECTED\n"
    )

    def answer(request: Request) -> Answer:
        return Answer(200, tsv, {"Content-Type": "text/tab-separated-values"})

    fake = fake_server(answer)
    df = ptk.read_assignments_export(
        "7",
        url=fake.url,
        token="t",
        status=["ACCEPTED", "REJECTED"],
        output_spec={"result": {"type": "STRING"}},
        input_spec={"image": {"type": "URL"}},
    )
    (request,) = fake.requests
    assert request.path == "/new/requester/pools/7/assignments.tsv"
    assert "status=APPROVED%2CREJECTED" in request.target
    assert "addRowDelimiter=false" in request.target
    assert "ASSIGNMENT%3Atask_id" in request.target.split("field=")[1]
    assert df["status"].tolist() == ["ACCEPTED", "REJECTED"] and df["pool_id"].iloc[0] == "7"
    # a server that answers without ASSIGNMENT:task_id: tasks known by their inputs, as before
    assert df.attrs["toloka"]["task_ids_from_inputs"] is True
    assert df["task_id"].nunique() == 1 and df["task_id"].iloc[0].startswith("inputs:")
    with pytest.raises(InvalidArgumentError, match="status"):
        ptk.read_assignments_export("7", url=fake.url, token="t", status="DONE")
    assert len(fake.requests) == 1


def test_the_export_download_is_retried_and_errors_are_typed(fake_server) -> None:  # type: ignore[no-untyped-def]
    tsv = b"INPUT:image\tOUTPUT:result\tASSIGNMENT:worker_id\tASSIGNMENT:status\n"
    answers = [Answer(503, b"busy"), Answer(200, tsv)]

    def answer(request: Request) -> Answer:
        return answers.pop(0) if answers else Answer(404, b'{"code": "DOES_NOT_EXIST"}')

    fake = fake_server(answer)
    client = ptk.Client("t", url=fake.url, backoff_base=0.01)
    with client:
        empty = ptk.read_assignments_export(
            "7",
            client=client,
            output_spec={"result": {"type": "STRING"}},
            input_spec={"image": {"type": "URL"}},
        )
        assert len(fake.requests) == 2 and len(empty) == 0
        assert list(empty.columns[:7]) == [
            "pool_id",
            "task_id",
            "worker_id",
            "assignment_id",
            "status",
            "submitted",
            "result",
        ]
        with pytest.raises(ptk.NotFoundError):
            client.get_document("/new/requester/pools/8/assignments.tsv")


def test_a_pool_without_results_gives_typed_empty_frames_with_inputs() -> None:
    from pandas_toloka.server import LocalTolokaServer

    server = LocalTolokaServer(token="x")
    server.add_pool(
        "5",
        responses=pd.DataFrame(
            {"task_id": ["a"], "worker_id": ["w"], "result": ["cat"], "status": ["REJECTED"]}
        ),
        output_spec={"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}},
        input_spec={"image": {"type": "URL"}, "size": {"type": "INTEGER"}},
        tasks=pd.DataFrame({"task_id": ["a", "b"], "image": ["u1", "u2"], "size": [1, 2]}),
    )
    with server:
        kw = {"url": server.url, "token": "x", "inputs": ["size"]}
        solutions = ptk.read_aggregated_solutions("5", **kw)
        (chunk,) = ptk.iter_aggregated_solutions("5", **kw)
        responses = ptk.read_responses("5", **kw)
    for frame in (solutions, chunk, responses):
        assert len(frame) == 0 and frame.columns[-1] == "size"
        assert str(frame["size"].dtype) == "int64[pyarrow]"
