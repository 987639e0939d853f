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
from ..schema import InputField, OutputField, WireMismatch, struct_fields
from .pager import DecodedPage, PagedResource

__all__ = [
    "ASSIGNMENTS",
    "assignments_to_table",
    "decode_assignments",
    "decode_assignments_page",
    "parse_datetimes",
    "responses_input_schema",
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
    """Toloka datetimes (UTC, usually without a zone suffix) -> ``timestamp[us, UTC]``.

    :func:`pandas_toloka.schema.text_to_timestamps`, its error an
    :class:`~pandas_toloka.errors.OutputValueError` naming ``field``.
    """
    try:
        return schema.text_to_timestamps(text)
    except ValueError as exc:
        raise OutputValueError(
            f"The server sent a {field!r} that is not an ISO-8601 datetime: {exc}",
            task_id=None,
            field=field,
            value=None,
        ) from exc


def responses_input_schema(
    fields: Sequence[OutputField], inputs: Sequence[InputField] = ()
) -> pa.Schema:
    """:func:`schema.responses_schema` of ``fields``, then one column per input field.

    An input column is named as its field, or ``input_values.<name>`` when the
    frame already has a column of that name (:func:`schema.input_column_name`).
    """
    target = schema.responses_schema(fields)
    taken = list(target.names)
    for field in inputs:
        name = schema.input_column_name(field.name, taken)
        taken.append(name)
        target = target.append(pa.field(name, field.arrow_type))
    return target


def _input_columns(
    values: Sequence[Any], inputs: Sequence[InputField], task_ids: pa.Array
) -> list[pa.Array]:
    """Each input field's column from the tasks' ``input_values`` (strict path)."""
    if not all(v is None or isinstance(v, dict) for v in values):
        raise payloads.ShapeError("expected the input_values of every task to be an object")
    return [
        schema.field_to_arrow(
            [None if v is None else v.get(f.name) for v in values], f, task_ids=task_ids
        )
        for f in inputs
    ]


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
    inputs: Sequence[InputField] = (),
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
    inputs : sequence of InputField, optional
        Input fields whose values (the tasks' ``input_values``) become columns.

    Returns
    -------
    pyarrow.Table
        With exactly :func:`responses_input_schema` ``(fields, inputs)``,
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
    target = responses_input_schema(fields, inputs)
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
    if inputs:
        tasks_values = [
            task.get("input_values") if isinstance(task, dict) else None
            for item in items
            for task in item.get("tasks") or ()
        ]
        columns += _input_columns(tasks_values, inputs, task_ids)
    return pa.Table.from_arrays(columns, schema=target)


def _item_type(
    fields: Sequence[OutputField], inputs: Sequence[InputField] = ()
) -> pa.StructType | None:
    values = schema.output_values_type(fields)
    input_types = [schema.wire_type(f) for f in inputs]  # type: ignore[arg-type]
    if values is None or any(t is None for t in input_types):
        return None
    solution = pa.struct([pa.field("output_values", values)])
    members = list(_ASSIGNMENT_TYPE)
    if inputs:
        task = pa.struct(
            [
                pa.field("id", pa.string()),
                pa.field(
                    "input_values",
                    pa.struct([pa.field(f.name, t) for f, t in zip(inputs, input_types)]),
                ),
            ]
        )
        members[-1] = pa.field("tasks", pa.list_(task))
    return pa.struct([*members, pa.field("solutions", pa.list_(solution))])


def _check_assignments(ids: pa.Array, tasks: pa.Array) -> None:
    """Every assignment has a text id, in increasing order, and a list of tasks (ShapeError)."""
    payloads.check_item_ids(ids, "assignments", "id")
    if tasks.null_count:
        raise payloads.ShapeError("expected every assignment to have a list 'tasks'")


def _starts(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


def _fast_table(
    items: pa.StructArray,
    fields: Sequence[OutputField],
    pool_id: str | None,
    inputs: Sequence[InputField] = (),
) -> pa.Table:
    members = struct_fields(items)
    _check_assignments(members["id"], members["tasks"])
    tasks = members["tasks"]
    task_counts = pc.fill_null(pc.list_value_length(tasks), 0).to_numpy()
    parents = pc.list_parent_indices(tasks)
    flat_tasks = struct_fields(pc.list_flatten(tasks))
    task_ids = flat_tasks["id"]
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
    if inputs:
        given = struct_fields(flat_tasks["input_values"])
        columns += [schema.typed_column(given[f.name], f) for f in inputs]  # type: ignore[arg-type]
    return pa.Table.from_arrays(columns, schema=responses_input_schema(fields, inputs))


def _strict_decode(
    body: bytes,
    fields: Sequence[OutputField],
    pool_id: str | None,
    inputs: Sequence[InputField] = (),
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
    table = assignments_to_table(items, fields, pool_id=pool_id, inputs=inputs)  # checks ids
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
    body: bytes,
    fields: Sequence[OutputField],
    pool_id: str | None,
    inputs: Sequence[InputField] = (),
) -> tuple[pa.Table, bool, pa.ChunkedArray] | None:
    """The fast path (pyarrow's JSON reader), or None for a page only the strict path judges."""
    item_type = _item_type(fields, inputs)
    if item_type is None:
        return None
    try:
        pieces, has_more = schema.read_page(body, item_type)
        tables = [_fast_table(items, fields, pool_id, inputs) for items in pieces]
    except WireMismatch as exc:
        logger.debug("strict decoding of a page of assignments of pool %s: %s", pool_id, exc)
        return None
    ids = pa.chunked_array([items.field("id") for items in pieces], type=pa.string())
    table = pa.concat_tables(tables) if tables else assignments_to_table([], fields, inputs=inputs)
    return table, has_more, ids


def decode_assignments(
    body: bytes,
    fields: Sequence[OutputField],
    *,
    pool_id: str | None = None,
    inputs: Sequence[InputField] = (),
) -> tuple[pa.Table, bool, pa.Array | pa.ChunkedArray]:
    """As :func:`decode_assignments_page`, with the ids of every assignment of the page
    (and the columns of ``inputs`` from the tasks' ``input_values``)."""
    fast = _fast_decode(body, fields, pool_id, inputs)
    return fast if fast is not None else _strict_decode(body, fields, pool_id, inputs)


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
    body: bytes,
    *,
    fields: Sequence[OutputField],
    pool_id: str | None,
    inputs: Sequence[InputField] = (),
) -> DecodedPage[pa.Table]:
    table, has_more, ids = decode_assignments(body, fields, pool_id=pool_id, inputs=inputs)
    return DecodedPage(table, ids, has_more)


#: ``GET /assignments?pool_id=...``: keyset pages on the assignment id, decoded on the
#: prefetch thread (pyarrow's JSON reader and the flattening release the GIL).
ASSIGNMENTS = PagedResource(
    name="assignments", path=("assignments",), sort="id", decode=_page, decode_ahead=True
)
