"""Flatten pages of ``GET /assignments`` into typed Arrow rows, one per (assignment, task).

An assignment is one worker's answers to a task suite, ``solutions[i]``
answering ``tasks[i]``. :func:`assignments_to_table` turns a page of them into
a table with exactly :func:`pandas_toloka.schema.responses_schema`, typing the
output columns from the project's output spec through :mod:`pandas_toloka.schema`.
Pure Arrow: no network, no pandas; :mod:`pandas_toloka.responses` pages and reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from . import schema
from .errors import OutputValueError, TolokaError
from .schema import OutputField

__all__ = ["assignments_to_table"]

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


def _parse_submitted(text: pa.Array) -> pa.Array:
    """Toloka datetimes (UTC, usually without a zone suffix) -> ``timestamp[us, UTC]``."""
    try:
        return text.cast(pa.timestamp("us")).cast(schema.SUBMITTED_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:  # with a zone suffix such as "Z" or "+00:00"
        return text.cast(schema.SUBMITTED_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise OutputValueError(
            f"The server sent an assignment whose 'submitted' is not an ISO-8601 datetime: {exc}",
            task_id=None,
            field="submitted",
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
            raise TolokaError(
                f"Assignment {item.get('id')!r} has {n_tasks} task(s) but {len(solutions)} "
                "solution(s); solutions[i] must answer tasks[i]."
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
    """
    target = schema.responses_schema(fields)
    try:
        assignments = pa.array(items, type=_ASSIGNMENT_TYPE)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise OutputValueError(
            f"The server sent assignments whose ids, status or tasks are not strings/lists: {exc}",
            task_id=None,
            field="tasks",
            value=None,
        ) from exc
    tasks = assignments.field("tasks")
    task_counts = pc.fill_null(pc.list_value_length(tasks), 0)
    parents = pc.list_parent_indices(tasks)
    task_ids = pc.list_flatten(tasks).field("id")
    if task_ids.null_count:
        raise OutputValueError(
            "The server sent an assignment with a task without id.",
            task_id=None,
            field="task_id",
            value=None,
        )
    pools = assignments.field("pool_id")
    if pool_id is not None:
        pools = pc.fill_null(pools, pool_id)
    columns: list[pa.Array] = [
        pools.take(parents),
        task_ids,
        assignments.field("user_id").take(parents),
        assignments.field("id").take(parents),
        assignments.field("status").take(parents),
        _parse_submitted(assignments.field("submitted")).take(parents),
    ]
    if fields:
        outputs = _solution_values(items, task_counts.to_pylist())
        for field in fields:
            values = [None if o is None else o.get(field.name) for o in outputs]
            columns.append(schema.field_to_arrow(values, field, task_ids=task_ids))
    return pa.Table.from_arrays(columns, schema=target)
