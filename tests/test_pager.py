"""The one keyset pager: a new paged reader is a decoder plus one registration.

A toy resource, written here in a few lines, pages the bundled server's
``GET /assignments`` exactly (every item once, in order, one request per page,
each cursor the previous page's last key), and gets every guard of the pager
without writing any: a scripted server plays the broken pages.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pyarrow as pa
import pytest

from pandas_toloka._http.payloads import ShapeError
from pandas_toloka._read.pager import DecodedPage, PagedResource, iter_pages
from pandas_toloka.client import Client
from pandas_toloka.errors import PagingError, ProtocolError
from pandas_toloka.server import LocalTolokaServer


def _decode_toy(body: bytes, *, seen_by: list[str] | None = None) -> DecodedPage[list[str]]:
    """The toy's decoder: a page of assignments -> their ids (rows and keys alike)."""
    page = json.loads(body)
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        raise ShapeError("expected an object with a list 'items'")
    ids = [item.get("id") for item in page["items"]]  # a missing key: the pager refuses it
    if seen_by is not None:
        seen_by.append("decoded")
    return DecodedPage(ids, pa.array(ids, type=pa.string()), bool(page.get("has_more")))


#: The whole registration of the toy reader.
TOY = PagedResource(name="toy assignments", path=("assignments",), sort="id", decode=_decode_toy)
#: The same, decoded on the prefetch thread.
TOY_AHEAD = PagedResource(
    name="toy assignments", path=("assignments",), sort="id", decode=_decode_toy, decode_ahead=True
)


def _guess_toy(body: bytes) -> str | None:
    """The toy's early cursor: the last id of a page that says has_more (None if unsure)."""
    try:
        page = json.loads(body)
        return str(page["items"][-1]["id"]) if page["has_more"] is True else None
    except (ValueError, LookupError, TypeError):
        return None


#: The same, received on one background thread and decoded on another.
TOY_PIPELINED = PagedResource(
    name="toy assignments",
    path=("assignments",),
    sort="id",
    decode=_decode_toy,
    decode_ahead=True,
    guess_cursor=_guess_toy,
)
RESOURCES = pytest.mark.parametrize(
    "resource",
    [TOY, TOY_AHEAD, TOY_PIPELINED],
    ids=["decoded-here", "decoded-ahead", "pipelined"],
)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalTolokaServer, Client]]:
    tasks = [f"t{t:02d}" for t in range(8)]
    responses = pd.DataFrame(
        {
            "task_id": [t for t in tasks for _ in range(3)],
            "worker_id": [f"w{w}" for _ in tasks for w in range(3)],
            "result": ["a", "b", "a"] * len(tasks),
        }
    )
    with LocalTolokaServer() as server, Client(server.token, url=server.url) as client:
        server.add_pool("toy", responses=responses, output_spec={"result": {"type": "STRING"}})
        yield server, client


def _read(client: Client, resource: PagedResource[list[str]], page_size: int) -> list[list[str]]:
    pages = iter_pages(
        client, resource, params={"pool_id": "toy"}, page_size=page_size, scope="pool 'toy'"
    )
    return [page.rows for page in pages]


@RESOURCES
@pytest.mark.parametrize("page_size", [1, 5, 24])
def test_a_toy_reader_pages_exactly(
    served: tuple[LocalTolokaServer, Client], resource: PagedResource[list[str]], page_size: int
) -> None:
    server, client = served
    (whole,) = _read(client, resource, 100_000)
    assert len(whole) == 24 and whole == sorted(set(whole))  # 24 assignments, in id order
    server.request_log.clear()
    pages = _read(client, resource, page_size)
    assert [key for page in pages for key in page] == whole  # each once, in order
    assert [len(page) for page in pages[:-1]] == [page_size] * (len(pages) - 1)
    queries = [
        parse_qs(urlsplit(path).query) for _, path in server.request_log if "/assignments" in path
    ]
    assert len(queries) == len(pages) == math.ceil(24 / page_size)  # one request a page
    assert all(q["sort"] == ["id"] and q["limit"] == [str(page_size)] for q in queries)
    assert "id_gt" not in queries[0]
    assert [q["id_gt"] for q in queries[1:]] == [[page[-1]] for page in pages[:-1]]


ITEM = {"id": "a1"}


@RESOURCES
@pytest.mark.parametrize(
    ("pages", "error", "message"),
    [
        (
            [{"items": [ITEM], "has_more": True}, {"items": [], "has_more": True}],
            PagingError,
            "has_more=true with an empty page of toy assignments",
        ),
        (
            [{"items": [{"id": "b"}], "has_more": True}, {"items": [ITEM], "has_more": False}],
            PagingError,
            "id 'a1' after 'b'",
        ),
        (  # a duplicate within a page: retried as a broken page, then refused
            [{"items": [ITEM, ITEM], "has_more": False}],
            ProtocolError,
            "toy assignments in increasing 'id' order",
        ),
        ([{"items": {"id": "a1"}, "has_more": False}], ProtocolError, "page of toy assignments"),
        ([{"items": [{"name": "x"}], "has_more": False}], ProtocolError, "toy assignments"),
    ],
)
def test_a_toy_reader_gets_every_guard(
    scripted_server,  # type: ignore[no-untyped-def]
    resource: PagedResource[list[str]],
    pages: list[object],
    error: type[Exception],
    message: str,
) -> None:
    with (
        scripted_server({"/api/v1/assignments": pages}) as server,
        Client(
            "a-token-never-in-messages", url=server.url, max_attempts=2, backoff_base=0.0
        ) as client,
    ):
        with pytest.raises(error, match=message):
            _read(client, resource, 10)
    if error is ProtocolError:  # a broken page is fetched again inside the retry loop
        assert len(server.requests) == 2


@RESOURCES
def test_a_broken_page_is_fetched_again_and_then_read(
    scripted_server,  # type: ignore[no-untyped-def]
    resource: PagedResource[list[str]],
) -> None:
    # Not one whole JSON object (found where it arrives), then the page itself.
    pages = ['{"items": [', {"items": [ITEM], "has_more": False}]
    with (
        scripted_server({"/api/v1/assignments": pages}) as server,
        Client(
            "a-token-never-in-messages", url=server.url, max_attempts=2, backoff_base=0.0
        ) as client,
    ):
        assert _read(client, resource, 10) == [["a1"]]
    assert len(server.requests) == 2
