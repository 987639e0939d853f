"""Decode pages of ``GET /user-skills`` into typed Arrow rows, one per (skill, worker)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from .. import schema
from .._http import payloads
from .._protocol import loads_json
from .assignments import parse_datetimes
from .pager import DecodedPage, PagedResource

__all__ = ["USER_SKILLS", "USER_SKILLS_SCHEMA", "decode_user_skills"]

#: ``skill_id``, ``worker_id`` (the API's ``user_id``), ``value`` (0..100, rounded),
#: ``exact_value``, ``created``, ``modified`` and the value's ``id``.
USER_SKILLS_SCHEMA = pa.schema(
    [
        pa.field("skill_id", pa.string()),
        pa.field("worker_id", pa.string()),
        pa.field("value", pa.int64()),
        pa.field("exact_value", pa.float64()),
        pa.field("created", schema.SUBMITTED_TYPE),
        pa.field("modified", schema.SUBMITTED_TYPE),
        pa.field("id", pa.string()),
    ]
)
_WIRE = {
    "skill_id": "skill_id",
    "worker_id": "user_id",
    "value": "value",
    "exact_value": "exact_value",
    "created": "created",
    "modified": "modified",
    "id": "id",
}


def _column(items: list[dict[str, Any]], key: str, kind: pa.DataType) -> pa.Array:
    values = [item.get(key) for item in items]
    if kind == pa.string():
        values = [None if v is None else str(v) for v in values]  # ids may come as numbers
    try:
        return pa.array(values, kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise payloads.ShapeError(
            f"expected {key!r} of every user skill to be {kind}: {exc}"
        ) from exc


def decode_user_skills(body: bytes) -> DecodedPage[pa.Table]:
    """One page of ``GET /user-skills`` as a table of :data:`USER_SKILLS_SCHEMA`.

    Raises
    ------
    ShapeError
        If the body is not a page of user skills (fetched again by the transport).
    """
    try:
        page = payloads.user_skills_page(loads_json(body))
    except ValueError as exc:
        raise payloads.ShapeError(f"expected a page of user skills: {exc}") from exc
    items = page["items"]
    columns = []
    for field in USER_SKILLS_SCHEMA:
        wire = _WIRE[field.name]
        if field.name in ("created", "modified"):
            columns.append(parse_datetimes(_column(items, wire, pa.string()), field=wire))
        elif field.name in ("exact_value", "value"):
            columns.append(_column(items, wire, field.type))
        else:
            columns.append(_column(items, wire, pa.string()))
    table = pa.Table.from_arrays(columns, schema=USER_SKILLS_SCHEMA)
    if table.column("id").null_count:
        raise payloads.ShapeError("expected every user skill to have an id")
    return DecodedPage(table, table.column("id"), bool(page["has_more"]))


#: ``GET /user-skills``: keyset pages on the value's id.
USER_SKILLS = PagedResource(
    name="user skills", path=("user-skills",), sort="id", decode=decode_user_skills
)
