"""The labeled dataset: aggregated solutions with their tasks' input values, merge-joined.

``GET /aggregated-solutions/{op}`` and ``GET /tasks?pool_id=`` both page in task id
order, so the inputs of a page of results are found by reading the tasks stream
just far enough: every page of results is joined with the tasks whose ids fall
in its range, and the tasks before its end are dropped. Memory holds one page of
results and the tasks of its id range, however large the pool. A task without a
result (no accepted answer) adds no row; a result whose task is not listed gets
missing inputs (logged). Pure Arrow over two iterators of pages: no network.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..schema import InputField

__all__ = ["labeled_schema", "merge_inputs"]

logger = logging.getLogger(__name__)


def labeled_schema(base: pa.Schema, inputs: Sequence[InputField]) -> pa.Schema:
    """``base`` then one column per input field, named by :func:`schema.input_column_name`
    with the frame's own columns taken."""
    taken = list(base.names)
    out = base
    for field in inputs:
        name = schema.input_column_name(field.name, taken)
        taken.append(name)
        out = out.append(pa.field(name, field.arrow_type))
    return out


def merge_inputs(
    results: Iterator[pa.Table],
    tasks: Iterator[pa.Table],
    inputs: Sequence[InputField],
    target: pa.Schema,
) -> Iterator[pa.Table]:
    """Each page of ``results`` with the input columns of its tasks, in the same order.

    Parameters
    ----------
    results : iterator of pyarrow.Table
        Pages with a ``task_id`` column, ids increasing across pages.
    tasks : iterator of pyarrow.Table
        Pages of :func:`schema.tasks_schema` (``task_id`` and the input
        columns), ids increasing across pages.
    inputs : sequence of InputField
        The input fields to add.
    target : pyarrow.Schema
        :func:`labeled_schema` of the results' schema and ``inputs``.
    """
    columns = [schema.input_column_name(f.name) for f in inputs]
    buffer: pa.Table | None = None  # the tasks after the last result joined
    exhausted = False
    for page in results:
        ids = page.column("task_id")
        if not page.num_rows:
            yield _assemble(page, [], inputs, target)
            continue
        last = ids[-1].as_py()
        pieces = [] if buffer is None else [buffer]
        while not exhausted and (not pieces or pieces[-1].column("task_id")[-1].as_py() < last):
            try:
                more = next(tasks)
            except StopIteration:
                exhausted = True
                break
            if more.num_rows:
                pieces.append(more.select(["task_id", *columns]))
        window = pa.concat_tables(pieces) if pieces else None
        if window is not None and _leads_with(window.column("task_id"), ids):
            # the usual case: every result's task, in the same order (no hash table)
            yield _assemble(
                page, [window.column(c).slice(0, len(ids)) for c in columns], inputs, target
            )
            after = window.slice(len(ids))
            buffer = after if after.num_rows else None
            continue
        if window is None or not window.num_rows:
            found = pa.nulls(page.num_rows, pa.int32())
            window = None
        else:
            found = pc.index_in(ids, value_set=window.column("task_id"))
        if found.null_count:
            logger.info(
                "%d result(s) have no task listed: their inputs are missing", found.null_count
            )
        values = (
            [pa.nulls(page.num_rows, f.arrow_type) for f in inputs]
            if window is None
            else [window.column(c).take(found) for c in columns]
        )
        yield _assemble(page, values, inputs, target)
        buffer = None
        if window is not None:
            after = window.filter(
                pc.greater(window.column("task_id"), pa.scalar(last, pa.string()))
            )
            buffer = after if after.num_rows else None


def _leads_with(window_ids: pa.ChunkedArray, ids: pa.ChunkedArray | pa.Array) -> bool:
    """Whether ``window_ids`` begins with exactly ``ids``, in the same order (no nulls)."""
    n = len(ids)
    if len(window_ids) < n or ids.null_count:
        return False
    head = window_ids.slice(0, n)
    if head.null_count:
        return False
    return bool(pc.all(pc.equal(head, ids)).as_py())


def _assemble(
    page: pa.Table,
    values: list[pa.Array | pa.ChunkedArray],
    inputs: Sequence[InputField],
    target: pa.Schema,
) -> pa.Table:
    if not values:
        values = [pa.nulls(page.num_rows, f.arrow_type) for f in inputs]
    arrays = [page.column(i) for i in range(page.num_columns)] + list(values)
    return pa.Table.from_arrays(arrays, schema=target)
