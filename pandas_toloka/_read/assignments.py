"""Flatten pages of ``GET /assignments`` into typed Arrow rows, one per (assignment, task).

An assignment is one worker's answers to a task suite, ``solutions[i]``
answering ``tasks[i]``. :func:`decode_assignments_page` turns the JSON bytes
of a page straight into a table with exactly
:func:`pandas_toloka.schema.responses_schema`, typing the output columns from
the project's output spec through :mod:`pandas_toloka.schema` (pyarrow's JSON
reader, the flattening done on the Arrow arrays). A page the fast path cannot
vouch for is decoded again by the strict path, :func:`assignments_to_table`
over strict JSON (:func:`pandas_toloka._protocol.loads_json`), which words the error or accepts it.
Pure Arrow: no network, no pandas; :mod:`pandas_toloka.responses` pages and reads.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .._http import payloads
from .._protocol import loads_json
from ..errors import OutputValueError
from ..schema import OutputField, WireMismatch, struct_fields
from .pager import DecodedPage, PagedResource

__all__ = [
    "ASSIGNMENTS",
    "assignments_to_table",
    "decode_assignments",
    "decode_assignments_page",
    "parse_datetimes",
]

logger = logging.getLogger(__name__)

_ASSIGNMENT_TYPE = pa.struct(
    [
        pa.field("id", pa.string()),
        pa.field("pool_id", pa.string()),
        pa.field("user_id", pa.string()),
        pa.field("status", pa.string()),
        pa.field("submitted", pa.string()),
        pa.field("tasks", pa.list_(pa.struct([pa.field("id", pa.string())]))),
    ]
)


def parse_datetimes(text: pa.Array, *, field: str = "submitted") -> pa.Array:
    """Toloka datetimes (UTC, usually without a zone suffix) -> ``timestamp[us, UTC]``."""
    try:
        return text.cast(pa.timestamp("us")).cast(schema.SUBMITTED_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:  # some or all with a zone suffix such as "Z" or "+03:00": UTC for the others
        zoned = pc.match_substring_regex(text, r"([Zz]|[+-]\d\d(:?\d\d)?)$")
        text = pc.if_else(zoned, text, pc.binary_join_element_wise(text, "Z", ""))
        return text.cast(schema.SUBMITTED_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise OutputValueError(
            f"The server sent a {field!r} that is not an ISO-8601 datetime: {exc}",
            task_id=None,
            field=field,
            value=None,
        ) from exc


def _solution_values(items: Sequence[Mapping[str, Any]], task_counts: list[int]) -> list[Any]:
    """``output_values`` of every (assignment, task) row, None where there is no solution."""
    values: list[Any] = []
    for item, n_tasks in zip(items, task_counts):
        solutions = item.get("solutions") or ()
        if len(solutions) == n_tasks:
            values.extend([s.get("output_values") if s else None for s in solutions])
        elif not solutions:  # e.g. ACTIVE or EXPIRED assignments: no answers yet
            values.extend([None] * n_tasks)
        else:
            raise payloads.ShapeError(
                f"expected an assignment with as many solutions as tasks, got one with "
                f"{n_tasks} task(s) and {len(solutions)} solution(s)"
            )
    return values


def assignments_to_table(
    items: Sequence[Mapping[str, Any]],
    fields: Sequence[OutputField],
    *,
    pool_id: str | None = None,
) -> pa.Table:
    """Flatten a page of assignments into one typed row per (assignment, task).

    Parameters
    ----------
    items : list of dict
        Assignments as ``GET /assignments`` returns them.
    fields : sequence of OutputField
        The project's output fields, in column order.
    pool_id : str, optional
        Used where an assignment does not say its pool.

    Returns
    -------
    pyarrow.Table
        With exactly :func:`pandas_toloka.schema.responses_schema` ``(fields)``,
        rows in the order of ``items``, tasks in suite order within an assignment.
        Dictionary columns hold every allowed value, even when empty.

    Raises
    ------
    OutputValueError
        If a value does not fit its field's type (names the task and field).
    ShapeError
        If the items break the protocol: an assignment without a text ``id``
        or a list ``tasks``, a task without id, ids not increasing, or
        solutions that do not answer the tasks one to one.
    """
    target = schema.responses_schema(fields)
    try:
        assignments = pa.array(items, type=_ASSIGNMENT_TYPE)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise payloads.ShapeError(
            f"expected assignments whose ids, status and tasks are strings and lists ({exc})"
        ) from None
    _check_assignments(assignments.field("id"), assignments.field("tasks"))
    tasks = assignments.field("tasks")
    task_counts = pc.fill_null(pc.list_value_length(tasks), 0)
    parents = pc.list_parent_indices(tasks)
    task_ids = pc.list_flatten(tasks).field("id")
    if task_ids.null_count:
        raise payloads.ShapeError("expected every task of an assignment to have an id")
    pools = assignments.field("pool_id")
    if pool_id is not None:
        pools = pc.fill_null(pools, pool_id)
    columns: list[pa.Array] = [
        pools.take(parents),
        task_ids,
        assignments.field("user_id").take(parents),
        assignments.field("id").take(parents),
        assignments.field("status").take(parents),
        parse_datetimes(assignments.field("submitted")).take(parents),
    ]
    if fields:
        outputs = _solution_values(items, task_counts.to_pylist())
        for field in fields:
            values = [None if o is None else o.get(field.name) for o in outputs]
            columns.append(schema.field_to_arrow(values, field, task_ids=task_ids))
    return pa.Table.from_arrays(columns, schema=target)


def _item_type(fields: Sequence[OutputField]) -> pa.StructType | None:
    values = schema.output_values_type(fields)
    if values is None:
        return None
    solution = pa.struct([pa.field("output_values", values)])
    return pa.struct([*_ASSIGNMENT_TYPE, pa.field("solutions", pa.list_(solution))])


def _check_assignments(ids: pa.Array, tasks: pa.Array) -> None:
    """Every assignment has a text id, in increasing order, and a list of tasks (ShapeError)."""
    payloads.check_item_ids(ids, "assignments", "id")
    if tasks.null_count:
        raise payloads.ShapeError("expected every assignment to have a list 'tasks'")


def _starts(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


def _fast_table(
    items: pa.StructArray, fields: Sequence[OutputField], pool_id: str | None
) -> pa.Table:
    members = struct_fields(items)
    _check_assignments(members["id"], members["tasks"])
    tasks = members["tasks"]
    task_counts = pc.fill_null(pc.list_value_length(tasks), 0).to_numpy()
    parents = pc.list_parent_indices(tasks)
    task_ids = struct_fields(pc.list_flatten(tasks))["id"]
    if task_ids.null_count:
        raise WireMismatch("a task has no id")
    pools = members["pool_id"]
    if pool_id is not None:
        pools = pc.fill_null(pools, pool_id)
    columns: list[pa.Array] = [
        pools.take(parents),
        task_ids,
        members["user_id"].take(parents),
        members["id"].take(parents),
        members["status"].take(parents),
        parse_datetimes(members["submitted"]).take(parents),
    ]
    if fields:
        solutions = members["solutions"]
        counts = pc.fill_null(pc.list_value_length(solutions), 0).to_numpy()
        if not np.all((counts == task_counts) | (counts == 0)):
            raise WireMismatch("an assignment has as many solutions as tasks")
        # Row r is task k of its assignment a; its answer is solution k of a, if a has any.
        owner = parents.to_numpy()
        position = np.arange(len(owner)) - _starts(task_counts)[owner]
        index = pa.array(_starts(counts)[owner] + position, mask=counts[owner] == 0)
        answers = struct_fields(struct_fields(pc.list_flatten(solutions))["output_values"])
        for field in fields:
            values = answers[field.name].take(index)
            columns.append(schema.typed_column(values, field))
    return pa.Table.from_arrays(columns, schema=schema.responses_schema(fields))


def _strict_decode(
    body: bytes, fields: Sequence[OutputField], pool_id: str | None
) -> tuple[pa.Table, bool, pa.Array]:
    """The strict path: strict JSON (:func:`.loads_json`), then :func:`assignments_to_table`."""
    try:
        page = payloads.assignments_page(loads_json(body))
    except payloads.ShapeError:
        raise
    except ValueError as exc:  # not JSON
        raise payloads.ShapeError(
            f"expected a page of assignments of pool {pool_id!r} as JSON ({exc})"
        ) from None
    items = page["items"]
    table = assignments_to_table(items, fields, pool_id=pool_id)  # checks the ids
    ids = pa.array([item["id"] for item in items], type=pa.string())
    return table, bool(page.get("has_more")), ids


def _strict_page(
    body: bytes, fields: Sequence[OutputField], pool_id: str | None
) -> tuple[pa.Table, bool, str | None]:
    table, has_more, ids = _strict_decode(body, fields, pool_id)
    return table, has_more, _last(ids)


def _last(ids: pa.Array | pa.ChunkedArray) -> str | None:
    return ids[-1].as_py() if len(ids) else None


def _fast_decode(
    body: bytes, fields: Sequence[OutputField], pool_id: str | None
) -> tuple[pa.Table, bool, pa.ChunkedArray] | None:
    """The fast path (pyarrow's JSON reader), or None for a page only the strict path judges."""
    item_type = _item_type(fields)
    if item_type is None:
        return None
    try:
        pieces, has_more = schema.read_page(body, item_type)
        tables = [_fast_table(items, fields, pool_id) for items in pieces]
    except WireMismatch as exc:
        logger.debug("strict decoding of a page of assignments of pool %s: %s", pool_id, exc)
        return None
    ids = pa.chunked_array([items.field("id") for items in pieces], type=pa.string())
    table = pa.concat_tables(tables) if tables else assignments_to_table([], fields)
    return table, has_more, ids


def decode_assignments(
    body: bytes, fields: Sequence[OutputField], *, pool_id: str | None = None
) -> tuple[pa.Table, bool, pa.Array | pa.ChunkedArray]:
    """As :func:`decode_assignments_page`, with the ids of every assignment of the page."""
    fast = _fast_decode(body, fields, pool_id)
    return fast if fast is not None else _strict_decode(body, fields, pool_id)


def decode_assignments_page(
    body: bytes, fields: Sequence[OutputField], *, pool_id: str | None = None
) -> tuple[pa.Table, bool, str | None]:
    """Decode a page of ``GET /assignments`` into typed rows, ``has_more`` and the last id.

    Parameters
    ----------
    body : bytes
        The page as the server sent it.
    fields : sequence of OutputField
        The project's output fields, in column order.
    pool_id : str, optional
        Used where an assignment does not say its pool.

    Returns
    -------
    table : pyarrow.Table
        As :func:`assignments_to_table` returns it.
    has_more : bool
    last_id : str or None
        The id of the page's last assignment (the cursor of the next page).

    Raises
    ------
    OutputValueError
        If a value does not fit its field's type (names the task and field).
    ShapeError
        If the body is not a page of assignments (see :func:`assignments_to_table`),
        for the transport to retry like a body cut short.
    """
    fast = _fast_decode(body, fields, pool_id)
    if fast is None:
        return _strict_page(body, fields, pool_id)
    table, has_more, ids = fast
    return table, has_more, _last(ids)


def _page(
    body: bytes, *, fields: Sequence[OutputField], pool_id: str | None
) -> DecodedPage[pa.Table]:
    table, has_more, ids = decode_assignments(body, fields, pool_id=pool_id)
    return DecodedPage(table, ids, has_more)


#: ``GET /assignments?pool_id=...``: keyset pages on the assignment id, decoded on the
#: prefetch thread (pyarrow's JSON reader and the flattening release the GIL).
ASSIGNMENTS = PagedResource(
    name="assignments", path=("assignments",), sort="id", decode=_page, decode_ahead=True
)
