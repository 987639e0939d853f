"""The client side refuses pages that break the paging contract instead of looping or losing rows.

The bundled server never breaks the contract, so a scripted server plays one that does.
"""

from __future__ import annotations

import pytest

from pandas_toloka import PagingError, read_aggregated_solutions, read_responses
from pandas_toloka.client import Client

POOL = {"id": "7", "project_id": "70", "status": "OPEN"}
PROJECT = {"id": "70", "task_spec": {"output_spec": {"result": {"type": "STRING"}}}}
OPERATION = {
    "id": "op-1",
    "type": "SOLUTION.AGGREGATE",
    "status": "SUCCESS",
    "submitted": "2023-04-13T16:39:12.422",
    "finished": "2023-04-13T16:39:13.000",
    "progress": 100,
    "parameters": {
        "pool_id": "7",
        "algorithm": "DAWID_SKENE",
        "aggregated_output_fields": ["result"],
    },
    "details": {},
}


pytestmark = pytest.mark.reliability


def _solution(task_id: str) -> dict:
    return {"pool_id": "7", "task_id": task_id, "confidence": 1, "output_values": {"result": "x"}}


def _routes(pages: list[object]) -> dict[str, list[object]]:
    return {
        "/api/v1/pools/7": [POOL],
        "/api/v1/projects/70": [PROJECT],
        "/api/v1/operations/op-1": [OPERATION],
        "/api/v1/aggregated-solutions/op-1": pages,
    }


@pytest.mark.parametrize(
    "pages, message",
    [
        (
            [{"items": [_solution("a")], "has_more": True}, {"items": [], "has_more": True}],
            "has_more for operation op-1 but sent no items",
        ),
        (
            [
                {"items": [_solution("b")], "has_more": True},
                {"items": [_solution("a")], "has_more": False},
            ],
            "'a' after 'b'",
        ),
    ],
)
def test_reader_refuses_broken_pages(scripted_server, pages: list[object], message: str) -> None:
    server = scripted_server(_routes(pages))
    with Client("t", url=server.url, max_attempts=1) as client:
        with pytest.raises(PagingError, match=message):
            read_aggregated_solutions("7", operation_id="op-1", client=client, progress_bar=False)
    assert sum("/aggregated-solutions/" in path for path in server.paths) == 2


def test_read_responses_refuses_has_more_with_an_empty_page(scripted_server) -> None:
    assignment = {
        "id": "as-1",
        "pool_id": "7",
        "user_id": "w1",
        "status": "ACCEPTED",
        "tasks": [{"id": "t1", "input_values": {}}],
        "solutions": [{"output_values": {"result": "x"}}],
        "submitted": "2023-04-13T16:39:12.422",
    }
    routes = {
        "/api/v1/pools/7": [POOL],
        "/api/v1/projects/70": [PROJECT],
        "/api/v1/assignments": [
            {"items": [assignment], "has_more": True},
            {"items": [], "has_more": True},
        ],
    }
    server = scripted_server(routes)
    with Client("t", url=server.url, max_attempts=1) as client:
        with pytest.raises(PagingError, match="has_more=true with an empty page"):
            read_responses("7", client=client, progress_bar=False)
    assert sum(path.startswith("/api/v1/assignments") for path in server.paths) == 2
