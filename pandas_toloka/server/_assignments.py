"""``GET /assignments``: responses grouped into assignments, encoded to JSON with Arrow kernels."""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._fastjson import json_column, object_column
from ._serialize import format_timestamps, key_range, page_bounds
from ._store import Pool, column_name

__all__ = ["assignment_page"]

_SUBMITTED = pa.array(["SUBMITTED", "ACCEPTED", "REJECTED"])
_RESOLVED = pa.array(["ACCEPTED", "REJECTED", "SKIPPED", "EXPIRED"])


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _solutions(pool: Pool, rows: pa.Table) -> pa.Array:
    """``{"output_values": {...}}`` per row; null values are left out."""
    texts = []
    for name, field in pool.fields.items():
        column = rows.column(column_name(name)).combine_chunks()
        if field.type == "JSON":  # stored as its JSON text: sent as is, not as a string
            texts.append(pc.cast(column, pa.string()))
            continue
        texts.append(
            pc.if_else(pc.is_null(column), pa.scalar(None, pa.string()), json_column(column))
        )
    return _join('{"output_values":', object_column(list(pool.fields), texts, rows.num_rows), "}")


def _tasks(pool: Pool, rows: pa.Table) -> pa.Array:
    """``{"id", "input_values"[, "known_solutions"]}`` per row, from the pool's encoded tasks."""
    positions = rows.column("task_pos")
    known = pool.tasks.known.take(positions)
    with_known = _join(',"known_solutions":', known)
    return _join(
        '{"id":',
        json_column(rows.column("task_id")),
        ',"input_values":',
        pool.tasks.inputs.take(positions),
        pc.if_else(pc.is_null(known), "", with_known),
        "}",
    )


def _headers(pool: Pool, first: pa.Table) -> pa.Array:
    """Everything of an assignment object before its ``tasks`` list, from its first row."""
    ids = json_column(first.column("assignment_id"))
    status = first.column("status").combine_chunks()
    when = json_column(format_timestamps(first.column("submitted")))
    submitted = pc.if_else(pc.is_in(status, value_set=_SUBMITTED), _join(',"submitted":', when), "")
    resolved = pc.if_else(
        pc.is_in(status, value_set=_RESOLVED), _join(',"', pc.utf8_lower(status), '":', when), ""
    )
    mixed = "true" if pool.mixer_config is not None else "false"
    return _join(
        '{"id":',
        ids,
        ',"task_suite_id":',
        ids,
        ',"pool_id":',
        json.dumps(pool.id, ensure_ascii=False),
        ',"user_id":',
        json_column(first.column("worker_id")),
        ',"status":',
        json_column(status),
        ',"reward":0.0,"mixed":' + mixed + ',"automerged":false,"created":',
        when,
        submitted,
        resolved,
        ',"tasks":[',
    )


def encode_assignments(pool: Pool, rows: pa.Table, starts: np.ndarray) -> list[str]:
    """One JSON object per assignment; ``starts`` are the group offsets within ``rows``."""
    if rows.num_rows == 0:
        return []
    tasks = _tasks(pool, rows)
    solutions = _solutions(pool, rows)
    headers = _headers(pool, rows.take(pa.array(starts[:-1], pa.int64())))
    if len(starts) - 1 == rows.num_rows:  # one task per assignment: fully vectorised
        return _join(headers, tasks, '],"solutions":[', solutions, "]}").to_pylist()
    task_list, solution_list, header_list = (
        tasks.to_pylist(),
        solutions.to_pylist(),
        headers.to_pylist(),
    )
    bounds = starts.tolist()
    return [
        header
        + ",".join(task_list[r0:r1])
        + '],"solutions":['
        + ",".join(solution_list[r0:r1])
        + "]}"
        for header, r0, r1 in zip(header_list, bounds[:-1], bounds[1:])
    ]


def assignment_page(
    pool: Pool, status: str | None, bounds: Mapping[str, str | None], limit: int, descending: bool
) -> tuple[list[tuple[str, str]], int]:
    """Up to ``limit`` ``(id, json)`` assignments of one pool in order, and how many match in all."""
    index = pool.assignments(status)
    lo, hi = key_range(index.ids, **bounds)
    start, stop, _ = page_bounds(lo, hi, limit, descending=descending)
    r0, r1 = int(index.starts[start]), int(index.starts[stop])
    encoded = encode_assignments(
        pool, index.rows.slice(r0, r1 - r0), index.starts[start : stop + 1] - r0
    )
    items = list(zip(index.ids.slice(start, stop - start).to_pylist(), encoded))
    if descending:
        items.reverse()
    return items, hi - lo
