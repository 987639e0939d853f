"""Keyset paging of aggregated solutions: ``sort=task_id``, a ``task_id_gt`` cursor, typed batches.

Without ``sort`` the order is undefined and keyset paging silently loses rows,
so the sort is always sent, and the task ids are checked to increase, within a
page and from one page to the next.

Each page body is decoded straight into Arrow (:mod:`.schema._wire`); a page
the fast decoder cannot vouch for is decoded again by the strict path, a slice
of items at a time (:func:`iter_item_chunks`, the standard library's JSON
decoder on one item after another), which words the error or accepts it.

Paged by the one pager (:mod:`.pager`, :data:`SOLUTIONS`): the next page is
fetched while the current one is decoded, the cursor of the next request read
from the end of the raw body before decoding (:func:`guess_cursor`). Decoding
then confirms it; a wrong guess (possible only for odd payloads, e.g. a field
named ``task_id``) costs a discarded request, never a wrong page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from typing import Any

import pyarrow as pa

from .._config import SOLUTIONS_PAGE_SIZE
from .._http.payloads import ShapeError, check_item_ids
from .._protocol import MAX_PAGE_SIZE, decode_json_prefix
from ..client import Client
from ..errors import OutputValueError, PagingError
from ..schema import (
    OutputField,
    WireMismatch,
    aggregated_page_to_batch,
    aggregated_schema,
    read_page,
    solution_item_type,
    solutions_to_batch,
)
from .pager import DecodedPage, PagedResource, iter_pages, last_key

__all__ = [
    "CHUNK_ROWS",
    "MAX_PAGE_SIZE",
    "SOLUTIONS",
    "PagingError",
    "decode_solutions_page",
    "guess_cursor",
    "iter_item_chunks",
    "iter_solution_pages",
]

logger = logging.getLogger(__name__)

#: Items decoded into Python objects at a time by the strict path.
CHUNK_ROWS = 10_000

_DECODE = decode_json_prefix
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_TASK_ID = re.compile(rb'"task_id"[ \t\n\r]*:[ \t\n\r]*("(?:[^"\\]|\\.)*")')


def _skip(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]


def _expect(text: str, index: int, char: str) -> int:
    if text[index] != char:
        raise ValueError(
            f"expected {char!r} at position {index}, found {text[index : index + 20]!r}"
        )
    return index + 1


def iter_item_chunks(
    text: str, meta: dict[str, Any], *, key: str = "items", chunk_rows: int = CHUNK_ROWS
) -> Iterator[list[Any]]:
    """Decode the JSON object ``text``, yielding the list under ``key`` in slices.

    The other members of the object are stored in ``meta`` (complete once the
    iterator is exhausted). Equivalent to ``json.loads(text)`` without ever
    holding more than ``chunk_rows`` decoded items.

    Raises
    ------
    ValueError
        If ``text`` is not a JSON object.
    """
    index = _expect(text, _skip(text, 0), "{")
    index = _skip(text, index)
    if text[index] == "}":
        return
    while True:
        name, index = _DECODE(text, index)
        index = _skip(text, _expect(text, _skip(text, index), ":"))
        if name == key and text[index] != "[":
            raise ShapeError(f"expected {key!r} to be a list, found {text[index : index + 20]!r}")
        if name == key:
            index = _skip(text, index + 1)
            chunk: list[Any] = []
            if text[index] == "]":
                index += 1
            else:
                while True:
                    item, index = _DECODE(text, index)
                    chunk.append(item)
                    if len(chunk) >= chunk_rows:
                        yield chunk
                        chunk = []
                    char = text[index]
                    if char in " \t\n\r":
                        index = _skip(text, index)
                        char = text[index]
                    index += 1
                    if char == "]":
                        break
                    if char != ",":
                        raise ValueError(f"expected ',' or ']' at position {index - 1}")
                    if text[index] in " \t\n\r":
                        index = _skip(text, index)
            if chunk:
                yield chunk
            meta[key] = None  # seen
        else:
            meta[name], index = _DECODE(text, index)
        index = _skip(text, index)
        char = text[index]
        index += 1
        if char == "}":
            if _skip(text, index) != len(text):
                raise ValueError(f"expected nothing after the object, found more at {index}")
            return
        if char != ",":
            raise ValueError(f"expected ',' or '}}' at position {index - 1}")
        index = _skip(text, index)


def _solution_items(chunk: list[Any]) -> list[Any]:
    """``chunk`` if every item is an object with a text ``task_id`` (else ShapeError)."""
    for item in chunk:
        if not isinstance(item, dict) or not isinstance(item.get("task_id"), str):
            raise ShapeError(
                "expected every item of a page of aggregated solutions to be an object with "
                "a text 'task_id'"
            )
    return chunk


def _strict_page(
    body: bytes, fields: Sequence[OutputField], operation_id: str
) -> tuple[pa.Table, bool]:
    meta: dict[str, Any] = {}
    try:
        text = body.decode("utf-8")
        batches = [
            aggregated_page_to_batch(_solution_items(chunk), fields)
            for chunk in iter_item_chunks(text, meta)
        ]
    except (OutputValueError, ShapeError):
        raise
    except (ValueError, IndexError, AttributeError) as exc:
        raise ShapeError(
            "expected a page of aggregated solutions ({'items': [...], 'has_more': ...}) "
            f"as JSON ({exc})"
        ) from None
    if not isinstance(meta.get("has_more"), bool) or meta.get("items", 0) is not None:
        raise ShapeError(
            "expected a page of aggregated solutions ({'items': [...], 'has_more': "
            f"true|false}}), got an object with keys {sorted(meta)}"
        )
    return pa.Table.from_batches(batches, schema=aggregated_schema(fields)), bool(
        meta.get("has_more")
    )


def decode_solutions_page(
    body: bytes, fields: Sequence[OutputField], *, operation_id: str = "?"
) -> tuple[pa.Table, bool]:
    """Decode a page of ``GET /aggregated-solutions`` into a typed table and ``has_more``.

    Fast (:func:`.schema.read_page`) unless the page holds something only the
    strict path (:func:`.schema.aggregated_page_to_batch`) can judge.

    Raises
    ------
    OutputValueError
        If a value does not fit its field (names the task and the field).
    ShapeError
        If the body is not a page of results, an item has no text
        ``task_id``, or the task ids do not increase within the page (for the
        transport to retry like a body cut short).
    """
    item_type = solution_item_type(fields)
    table: pa.Table | None = None
    if item_type is not None:
        try:
            pieces, has_more = read_page(body, item_type)
            batches = [solutions_to_batch(items, fields) for items in pieces]
            table = pa.Table.from_batches(batches, schema=aggregated_schema(fields))
        except WireMismatch as exc:
            logger.debug("strict decoding of a page of operation %s: %s", operation_id, exc)
    if table is None:
        table, has_more = _strict_page(body, fields, operation_id)
    check_item_ids(table.column("task_id"), "aggregated solutions", "task_id")
    return table, has_more


def guess_cursor(body: bytes) -> str | None:
    """The last ``task_id`` of a page that says ``has_more: true``, read from its raw end.

    None when the body does not say ``has_more: true`` or no task id is found.
    A guess: the decoded page confirms it.
    """
    return last_key(body, b'"task_id"', _TASK_ID)


def _page(
    body: bytes, *, fields: Sequence[OutputField], operation_id: str
) -> DecodedPage[pa.Table]:
    table, has_more = decode_solutions_page(body, fields, operation_id=operation_id)
    return DecodedPage(table, table.column("task_id"), has_more)


#: ``GET /aggregated-solutions/{operation_id}``: keyset pages on ``task_id``; the next
#: request leaves with the cursor read from the raw end of the body (:func:`guess_cursor`).
SOLUTIONS = PagedResource(
    name="aggregated solutions",
    path=("aggregated-solutions", "{}"),
    sort="task_id",
    decode=_page,
    guess_cursor=guess_cursor,
    checks_whole=True,  # read_page, or the strict path, parses every byte
)


def iter_solution_pages(
    client: Client,
    operation_id: str,
    fields: Sequence[OutputField],
    *,
    page_size: int = SOLUTIONS_PAGE_SIZE,
) -> Generator[pa.Table, None, None]:
    """Yield an aggregation's results in task_id order, one typed table per non-empty page.

    Stops exactly when the server says ``has_more: false``; the paging and its
    guards are :func:`.pager.iter_pages`'. Closing the generator stops the
    prefetch thread.

    Raises
    ------
    PagingError
        If a page says ``has_more`` but is empty, or the task ids do not increase.
    OutputValueError
        If a value does not fit its field's declared type.
    """
    pages = iter_pages(
        client,
        SOLUTIONS,
        path_ids=(operation_id,),
        page_size=page_size,
        scope=f"operation {operation_id}",
        context={"fields": fields, "operation_id": operation_id},
    )
    with closing(pages):
        for page in pages:
            if page.rows.num_rows:
                yield page.rows
