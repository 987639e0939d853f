"""Answers a hostile server or a broken proxy sends: each is exact rows or a typed error, bounded.

Bounded memory (a gzip bomb refused while it inflates), bounded time (a trickling
answer abandoned at the client's ``deadline``), strict JSON (no NaN into a frame,
no bare ``RecursionError``), ``items`` that is not a list refused on every reader,
and a start request whose 201 answer is unparseable adopted or reported, never
posted twice. The bundled server's answer faults play the server where they can;
the fake server (tests/fakes.py) plays the rest.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from fakes import Answer, Request, json_answer

import pandas_toloka as ptk
from pandas_toloka import _config
from pandas_toloka._protocol import InvalidJSON, loads_json
from pandas_toloka._read.solutions import decode_solutions_page
from pandas_toloka.client import Client
from pandas_toloka.errors import (
    AnswerTooLargeError,
    InvalidArgumentError,
    ProtocolError,
    TolokaConnectionError,
    TolokaError,
)
from pandas_toloka.schema import OutputField
from pandas_toloka.schema._wire import WireMismatch, read_page
from pandas_toloka.server import LocalTolokaServer

pytestmark = pytest.mark.reliability

TOKEN = "hostile-answers-token-0123456789"
SPEC = {"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}}
FIELDS = [OutputField.from_spec("result", SPEC["result"])]
ALWAYS = 50
PAGES = "/api/v1/aggregated-solutions/"
START = "/api/v1/aggregated-solutions/aggregate-by-pool"


def _responses(n_tasks: int = 12) -> pd.DataFrame:
    rows = [
        (f"t{t:03d}", f"w{w}", "cat" if (t + w) % 3 else "dog")
        for t in range(n_tasks)
        for w in range(3)
    ]
    return pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])


def _client(url: str, **overrides: Any) -> Client:
    settings: dict[str, Any] = dict(
        timeout=(2.0, 2.0),
        max_attempts=3,
        backoff_base=0.01,
        backoff_max=0.02,
        poll_min=0.01,
        poll_max=0.05,
        max_answer_bytes=4 << 20,
        deadline=2.0,
    )
    settings.update(overrides)
    return Client(TOKEN, url=url, **settings)


@pytest.fixture
def server() -> Any:
    with LocalTolokaServer(token=TOKEN) as served:
        served.add_pool("p", responses=_responses(), output_spec=SPEC)
        yield served


# ---------------------------------------------------------------- settings


def test_the_bounds_are_client_settings_checked_before_any_request() -> None:
    assert _config.MAX_ANSWER_BYTES == 512 << 20
    with Client(TOKEN, url="http://127.0.0.1:9") as client:
        assert client.settings.max_answer_bytes == _config.MAX_ANSWER_BYTES
        assert client.settings.deadline == _config.DEADLINE
    assert Client(TOKEN, url="http://127.0.0.1:9", deadline=None).settings.deadline is None
    for bad in (dict(max_answer_bytes=0), dict(max_answer_bytes=1.5), dict(deadline=0)):
        with pytest.raises(InvalidArgumentError, match=next(iter(bad))):
            Client(TOKEN, url="http://127.0.0.1:9", **bad)


# ---------------------------------------------------------------- bounded memory


def test_a_gzip_bomb_is_refused_while_it_inflates_with_flat_memory(server: Any) -> None:
    # 2 MB on the wire, 2 GiB inflated: refused at 16 MiB, never held whole
    server.faults.add("gzip_bomb", count=ALWAYS, method="GET", path="/api/v1/pools/")
    tracemalloc.start()
    try:
        with (
            _client(server.url, max_answer_bytes=16 << 20, max_attempts=2) as client,
            pytest.raises(AnswerTooLargeError) as info,
        ):
            client.get_pool("p")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, peak
    assert "max_answer_bytes" in str(info.value)
    assert isinstance(info.value, ProtocolError)


def test_a_page_larger_than_the_cap_names_the_setting(server: Any) -> None:
    with _client(server.url) as client:
        expected = ptk.read_aggregated_solutions("p", client=client)
    operation_id = expected.attrs["toloka"]["operation_id"]
    with (
        _client(server.url, max_answer_bytes=1024, max_attempts=1) as client,
        pytest.raises(AnswerTooLargeError, match="max_answer_bytes") as info,
    ):
        ptk.read_aggregated_solutions(operation_id=operation_id, client=client)
    assert info.value.operation_id == operation_id


def test_an_error_body_that_is_a_gzip_bomb_is_refused_then_retried(server: Any) -> None:
    server.faults.add("gzip_bomb", status=503, method="GET", path="/api/v1/pools/")
    with _client(server.url, max_answer_bytes=1 << 20) as client:
        assert client.get_pool("p")["id"] == "p"


# ---------------------------------------------------------------- bounded time


def test_a_trickling_answer_is_abandoned_at_the_deadline(server: Any) -> None:
    # timeout=(2, 3): every byte comes within the read timeout; the deadline stops it
    server.faults.add("trickle", count=ALWAYS, interval=0.5, method="GET", path="/api/v1/pools/")
    with (
        _client(server.url, timeout=(2.0, 3.0), deadline=1.0, max_attempts=1) as client,
        pytest.raises(TolokaConnectionError, match="deadline of 1 s"),
    ):
        client.get_pool("p")


def test_trickling_headers_are_abandoned_at_the_deadline(server: Any) -> None:
    # the status line and headers a byte every 0.5 s: the socket is shut at the deadline
    server.faults.add(
        "trickle", count=ALWAYS, interval=0.5, head=True, method="GET", path="/api/v1/pools/"
    )
    with (
        _client(server.url, timeout=(2.0, 3.0), deadline=1.0, max_attempts=1) as client,
        pytest.raises(TolokaConnectionError, match="deadline of 1 s"),
    ):
        client.get_pool("p")
    server.faults.clear()
    server.faults.add("trickle", interval=0.5, head=True, method="GET", path="/api/v1/pools/")
    with _client(server.url, timeout=(2.0, 3.0), deadline=1.0) as client:
        assert client.get_pool("p")["id"] == "p"  # retried like a read timeout


def test_a_trickling_page_is_retried_and_the_rows_are_exact(server: Any) -> None:
    with _client(server.url) as client:
        expected = ptk.read_aggregated_solutions("p", client=client)
    server.faults.add("trickle", interval=0.5, method="GET", path=PAGES)
    with _client(server.url, timeout=(2.0, 3.0), deadline=1.0) as client:
        frame = ptk.read_aggregated_solutions(
            operation_id=expected.attrs["toloka"]["operation_id"], client=client
        )
    pd.testing.assert_frame_equal(frame, expected)


# ---------------------------------------------------------------- strict JSON


@pytest.mark.parametrize(
    "text",
    [b"NaN", b'{"a": Infinity}', b"[-Infinity]", b"[" * 100_000, b"[" * 5000 + b"]" * 5000],
    ids=["nan", "infinity", "-infinity", "deep-cut", "deep-closed"],
)
def test_strict_json_refuses_what_json_is_not(text: bytes) -> None:
    with pytest.raises(InvalidJSON):
        loads_json(text)


def test_strict_json_reads_what_json_is() -> None:
    assert loads_json(b' {"a": [1, 2.5, "\\u00e9", null, true]} ') == {
        "a": [1, 2.5, "é", None, True]
    }
    assert loads_json('"tab\there"', control_characters=True) == "tab\there"


def _page(confidence: str, value: str = '"cat"') -> bytes:
    item = '{"pool_id": "p", "task_id": "%s", "confidence": %s, "output_values": {"result": %s}}'
    items = ",".join(item % (t, confidence, value) for t in ("a", "b"))
    return f'{{"items": [{items}], "has_more": false}}'.encode()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_nan_confidence_never_reaches_the_frame(constant: str) -> None:
    item_type = pa.struct([("task_id", pa.string()), ("confidence", pa.float64())])
    with pytest.raises(WireMismatch, match="NaN or infinite"):
        read_page(_page(constant), item_type)  # pyarrow's reader takes NaN: refused after
    with pytest.raises(ValueError, match="not valid JSON"):
        decode_solutions_page(_page(constant), FIELDS)  # the strict path refuses it too
    table, _ = decode_solutions_page(_page("0.5"), FIELDS)
    assert table.column("confidence").to_pylist() == [0.5, 0.5]


def test_a_nan_nested_in_a_float_answer_is_refused() -> None:
    fields = [OutputField.from_spec("score", {"type": "FLOAT"})]
    body = _page("1.0").replace(b'"result": "cat"', b'"score": NaN')
    with pytest.raises(ValueError):
        decode_solutions_page(body, fields)


def test_a_deep_page_is_a_shape_error_not_a_recursion_error() -> None:
    deep = "[" * 50_000 + "]" * 50_000
    with pytest.raises(ValueError, match="nested too deep") as info:
        decode_solutions_page(_page("1.0", deep), FIELDS)  # pyarrow refuses, then strict
    assert not isinstance(info.value, RecursionError)
    # valid JSON nested deep where no field is read: pyarrow's reader skips it, bounded
    body = b'{"items": [], "has_more": false, "x": ' + deep.encode() + b"}"
    assert decode_solutions_page(body, FIELDS)[0].num_rows == 0


# ---------------------------------------------------------------- items not a list


def _read_all(reader: str, client: Client) -> pd.DataFrame:
    if reader == "solutions":
        return ptk.read_aggregated_solutions("p", client=client, page_size=5)
    if reader == "responses":
        return ptk.read_responses("p", client=client, page_size=5)
    return ptk.read_tasks("p", client=client, page_size=5)


READER_PATHS = {
    "solutions": ("/api/v1/aggregated-solutions/", "aggregated solutions"),
    "responses": ("/api/v1/assignments", "assignments"),
    "tasks": ("/api/v1/tasks", "tasks"),
}


@pytest.mark.parametrize("reader", sorted(READER_PATHS))
def test_items_null_is_never_an_empty_page(server: Any, reader: str) -> None:
    path, name = READER_PATHS[reader]
    with _client(server.url) as client:
        expected = _read_all(reader, client)
    server.faults.add("null_items", method="GET", path=path)  # once: retried
    with _client(server.url) as client:
        pd.testing.assert_frame_equal(_read_all(reader, client), expected, check_like=True)
    operations = len(server.operations.all())
    server.faults.add("null_items", count=ALWAYS, method="GET", path=path)
    with _client(server.url) as client, pytest.raises(ProtocolError) as info:
        _read_all(reader, client)
    assert name in str(info.value)
    if reader == "solutions":
        started = server.operations.all()[operations:]
        assert len(started) == 1
        assert info.value.operation_id == started[0].id
        assert started[0].id in str(info.value)
    server.faults.clear()


def test_items_null_on_a_later_page_loses_no_row_silently(fake_server: Any) -> None:
    pages = iter(
        [
            {"items": [{"pool_id": "7", "task_id": "a", "confidence": 1.0,
                        "output_values": {"result": "cat"}}], "has_more": True},
            {"items": None, "has_more": False},
        ]
    )  # fmt: skip

    def answer(request: Request) -> Answer:
        if request.path.startswith("/api/v1/aggregated-solutions/op-1"):
            return json_answer(200, next(pages, {"items": None, "has_more": False}))
        return json_answer(200, _ROUTES[request.path])

    server = fake_server(answer)
    with _client(server.url, max_attempts=2) as client, pytest.raises(ProtocolError) as info:
        ptk.read_aggregated_solutions("7", operation_id="op-1", client=client)
    assert info.value.operation_id == "op-1"
    assert "aggregated solutions" in str(info.value)


_ROUTES: dict[str, Any] = {
    "/api/v1/pools/7": {"id": "7", "project_id": "70"},
    "/api/v1/projects/70": {"id": "70", "task_spec": {"output_spec": SPEC}},
    "/api/v1/operations/op-1": {
        "id": "op-1",
        "type": "SOLUTION.AGGREGATE",
        "status": "SUCCESS",
        "submitted": "2023-04-13T16:39:12.422",
        "parameters": {"pool_id": "7", "aggregated_output_fields": ["result"]},
        "details": {},
    },
}


# ---------------------------------------------------------------- an unparseable start


@pytest.mark.parametrize(
    ("kind", "args"),
    [
        ("deep_json", {}),
        ("nan", {}),
        ("nan", {"constant": "Infinity"}),
        ("gzip_bomb", {"size": 64 << 20}),
        ("trickle", {"interval": 0.5}),
    ],
    ids=["deep", "nan", "infinity", "bomb", "trickle"],
)
def test_an_unparseable_start_is_adopted_never_posted_twice(
    server: Any, kind: str, args: dict
) -> None:
    server.faults.add(kind, method="POST", path=START, **args)
    with _client(server.url, timeout=(2.0, 3.0), deadline=1.0) as client:
        operation = client.aggregate_by_pool("p", type="DAWID_SKENE", fields="result")
    assert [op.id for op in server.operations.all()] == [operation["id"]]
    posts = [r for r in server.request_log.snapshot() if r[0] == "POST"]
    assert len(posts) == 1


def test_an_unparseable_start_that_cannot_be_looked_for_says_how(fake_server: Any) -> None:
    def answer(request: Request) -> Answer:
        if request.method == "POST":
            return Answer(201, b'{"id": "op-9", "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}")
        if request.path == "/api/v1/operations":
            return json_answer(500, {"code": "INTERNAL_ERROR", "message": "down"})
        return json_answer(404, {"code": "DOES_NOT_EXIST", "message": request.path})

    server = fake_server(answer)
    with _client(server.url, max_attempts=2) as client, pytest.raises(TolokaError) as info:
        client.aggregate_by_pool("7", type="DAWID_SKENE", fields="result")
    assert not isinstance(info.value, RecursionError)
    assert "list the operations before starting again" in str(info.value)
    assert [r.method for r in server.requests].count("POST") == 1


# ---------------------------------------------------------------- the fault kinds themselves


def test_the_answer_faults_send_what_they_say(server: Any) -> None:
    import requests

    url = server.url + "/api/v1/pools/p"
    headers = {"Authorization": f"ApiKey {TOKEN}"}
    server.faults.add("null_items")
    assert requests.get(url, headers=headers).json() == {"items": None, "has_more": False}
    server.faults.add("nan")
    with pytest.raises(ValueError):
        json.loads(requests.get(url, headers=headers).content, parse_constant=_refuse)
    server.faults.add("gzip_bomb", size=3 << 20)
    raw = requests.get(url, headers=headers, stream=True).raw.read(decode_content=False)
    assert len(raw) < 1 << 16 and gzip.decompress(raw) == bytes(3 << 20)
    with pytest.raises(InvalidArgumentError):
        server.faults.add("nan", constant="nan")


def _refuse(name: str) -> None:
    raise ValueError(name)
