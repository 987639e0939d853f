"""Keyset paging of aggregated solutions: ``sort=task_id`` and a ``task_id_gt`` cursor.

Without ``sort`` the order is undefined and keyset paging silently loses rows,
so the sort is always sent, and the cursor is checked to move forward.

A page of 100,000 items parsed at once costs ~75 MB of Python objects, more
than the typed result it becomes. So each page body is decoded a slice of
items at a time (:func:`iter_item_chunks`, the standard library's JSON
decoder on one item after another), and every slice is converted to Arrow
before the next one is decoded: the transient memory is one slice, not one page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ._args import check_page_size
from ._protocol import MAX_PAGE_SIZE
from .client import Client
from .errors import PagingError

__all__ = [
    "CHUNK_ROWS",
    "MAX_PAGE_SIZE",
    "PagingError",
    "iter_item_chunks",
    "iter_solution_pages",
]

#: Items decoded into Python objects at a time.
CHUNK_ROWS = 10_000

_DECODE = json.JSONDecoder().raw_decode
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _check_complete(body: bytes) -> None:
    """Raise ValueError for a body that cannot be a whole JSON object (cut short)."""
    if not body.rstrip().endswith(b"}") or not body.lstrip().startswith(b"{"):
        raise ValueError("incomplete JSON object")


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
        if name == key and text[index] == "[":
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
            return
        if char != ",":
            raise ValueError(f"expected ',' or '}}' at position {index - 1}")
        index = _skip(text, index)


def iter_solution_pages(
    client: Client,
    operation_id: str,
    *,
    page_size: int = MAX_PAGE_SIZE,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[list[dict[str, Any]] | None]:
    """Yield an aggregation's results in task_id order, in slices of at most ``chunk_rows`` items.

    ``None`` is yielded after the last slice of each page. Stops exactly when
    the server says ``has_more: false``.

    Raises
    ------
    PagingError
        If a page says ``has_more`` but is empty, or the task ids do not increase.
    """
    params: dict[str, Any] = {"sort": "task_id", "limit": check_page_size(page_size)}
    path = f"/aggregated-solutions/{operation_id}"
    cursor: str | None = None
    while True:
        body = client.get_bytes(path, params, check=_check_complete)
        text = body.decode("utf-8")
        del body
        meta: dict[str, Any] = {}
        count = 0
        try:
            for chunk in iter_item_chunks(text, meta, chunk_rows=chunk_rows):
                first = str(chunk[0].get("task_id"))
                if cursor is not None and first <= cursor:
                    raise PagingError(
                        f"The server sent task {first!r} after {cursor!r} (task_id_gt={cursor!r} "
                        f"was asked); the results of operation {operation_id} are not in task_id order."
                    )
                cursor = str(chunk[-1].get("task_id"))
                count += len(chunk)
                yield chunk
        except (ValueError, IndexError, AttributeError) as exc:
            raise PagingError(
                f"A page of the results of operation {operation_id} is not the expected "
                f"{{'items': [...], 'has_more': ...}} JSON: {exc}"
            ) from exc
        del text
        has_more = bool(meta.get("has_more"))
        if count:
            params["task_id_gt"] = cursor
            yield None
        elif has_more:
            raise PagingError(
                f"The server said has_more for operation {operation_id} but sent no items."
            )
        if not has_more:
            return
