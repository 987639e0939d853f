"""Pages of ``GET /operations``: the decoder and the pager's registration.

The client lists operations to adopt one that a lost start request created
(:meth:`pandas_toloka.Client.iter_operations`); keyset pages on ``id``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from .._http import payloads
from .._protocol import loads_json
from .pager import DecodedPage, PagedResource

__all__ = ["OPERATIONS", "decode_operations_page"]


def decode_operations_page(body: bytes) -> DecodedPage[list[dict[str, Any]]]:
    """A page of operations: the items as dicts, their ids, ``has_more`` (ShapeError if broken)."""
    try:
        page = payloads.operations_page(loads_json(body))
    except payloads.ShapeError:
        raise
    except ValueError as exc:  # not JSON
        raise payloads.ShapeError(f"expected a page of operations as JSON ({exc})") from None
    items = [dict(item) for item in page["items"]]
    ids = pa.array([str(item["id"]) for item in items], type=pa.string())
    return DecodedPage(items, ids, bool(page["has_more"]))


#: ``GET /operations``: keyset pages on ``id``, small JSON decoded on the prefetch thread.
OPERATIONS = PagedResource(
    name="operations",
    path=("operations",),
    sort="id",
    decode=decode_operations_page,
    decode_ahead=True,
)
