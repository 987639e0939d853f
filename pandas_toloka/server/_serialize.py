"""JSON encoding, datetimes and keyset-page cutting on sorted Arrow columns.

Everything here works on the page only: a page of ``n`` rows costs ``O(n)``
plus ``O(log N)`` to find it in a table of ``N`` rows.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._protocol import format_datetime
from .._protocol import parse_datetime as parse_aware_datetime

__all__ = [
    "bisect_left",
    "bisect_right",
    "dumps",
    "format_datetime",
    "format_timestamps",
    "key_range",
    "page_bounds",
    "parse_datetime",
    "utc_now",
]


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` as compact UTF-8 JSON."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def utc_now() -> datetime:
    """The current UTC time (aware), truncated to the milliseconds datetimes are served with.

    Stored and served times are then equal, so a served ``submitted`` used as a
    filter (``submitted_gt=<last submitted>``, keyset paging by ``submitted``)
    selects exactly what it says: the operation itself is not ``>`` its own time.
    """
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


def parse_datetime(text: str) -> datetime:
    """Parse a Toloka datetime into a naive UTC datetime, as the server keeps them.

    Raises
    ------
    ValueError
        If ``text`` is not an ISO-8601 datetime.
    """
    return parse_aware_datetime(text).replace(tzinfo=None)


def format_timestamps(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Format a naive UTC ``timestamp`` column as Toloka datetimes (vectorised; nulls stay null)."""
    ms = pc.cast(values, pa.timestamp("ms"), safe=False)
    text = np.datetime_as_string(
        ms.to_numpy(zero_copy_only=False).astype("datetime64[ms]"), unit="ms"
    )
    return pa.array(text, pa.string(), mask=pc.is_null(ms).to_numpy(zero_copy_only=False))


def _search(keys: pa.Array, value: str, *, right: bool) -> int:
    lo, hi = 0, len(keys)
    while lo < hi:
        mid = (lo + hi) // 2
        key = keys[mid].as_py()
        if key < value or (right and key == value):
            lo = mid + 1
        else:
            hi = mid
    return lo


def bisect_left(keys: pa.Array, value: str) -> int:
    """First position in ascending ``keys`` whose key is ``>= value`` (O(log n) scalar reads)."""
    return _search(keys, value, right=False)


def bisect_right(keys: pa.Array, value: str) -> int:
    """First position in ascending ``keys`` whose key is ``> value``."""
    return _search(keys, value, right=True)


def key_range(
    keys: pa.Array,
    *,
    gt: str | None = None,
    gte: str | None = None,
    lt: str | None = None,
    lte: str | None = None,
) -> tuple[int, int]:
    """Return ``[lo, hi)``, the positions of ascending ``keys`` within the bounds given."""
    lo, hi = 0, len(keys)
    if gt is not None:
        lo = max(lo, bisect_right(keys, gt))
    if gte is not None:
        lo = max(lo, bisect_left(keys, gte))
    if lt is not None:
        hi = min(hi, bisect_left(keys, lt))
    if lte is not None:
        hi = min(hi, bisect_right(keys, lte))
    return lo, max(lo, hi)


def page_bounds(lo: int, hi: int, limit: int, *, descending: bool) -> tuple[int, int, bool]:
    """Cut a keyset page of at most ``limit`` rows from ``[lo, hi)``.

    Returns ``(start, stop, has_more)``; a descending page is ``stop-1 .. start``.
    ``has_more`` is true only if rows remain beyond the page, so it never comes
    with an empty page.
    """
    n = hi - lo
    if n <= limit:
        return lo, hi, False
    if descending:
        return hi - limit, hi, True
    return lo, lo + limit, True
