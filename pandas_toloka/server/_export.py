"""The results export: ``GET /new/requester/pools/{pool_id}/assignments.tsv``.

What the web interface downloads and the official client's ``get_assignments_df``
reads: one row per task of each assignment, columns grouped by prefix
(``INPUT:``, ``OUTPUT:``, ``GOLDEN:``, ``HINT:``, ``ASSIGNMENT:``), statuses
spelled as the interface spells them (``APPROVED`` for the API's ``ACCEPTED``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._protocol import EXPORT_ASSIGNMENT_FIELDS, EXPORT_DEFAULT_FIELDS, EXPORT_STATUSES
from ._errors import validation_error
from ._ingest import column_name
from ._serialize import format_timestamps, parse_datetime
from ._store import Pool

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "DEFAULT_ASSIGNMENT_COLUMNS",
    "EXPORT_STATUSES",
    "Document",
    "export_tsv",
]

_API_STATUS = {v: k for k, v in EXPORT_STATUSES.items()}
_ASSIGNMENT = "ASSIGNMENT:"
#: Every ``ASSIGNMENT:`` column the export knows, in its order (names without the prefix).
ASSIGNMENT_COLUMNS = tuple(name[len(_ASSIGNMENT) :] for name in EXPORT_ASSIGNMENT_FIELDS)
#: The ``ASSIGNMENT:`` columns of a download that names no ``field``.
DEFAULT_ASSIGNMENT_COLUMNS = tuple(name[len(_ASSIGNMENT) :] for name in EXPORT_DEFAULT_FIELDS)
#: Where the web interface shows an assignment (the shape of its links; inferred).
LINK_PREFIX = "https://platform.toloka.ai/task/"


@dataclass(frozen=True)
class Document:
    """An answer that is not JSON: its bytes and content type."""

    data: bytes
    content_type: str


def _statuses(query: Mapping[str, str]) -> list[str]:
    text = query.get("status", "APPROVED")
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in _API_STATUS]
    if unknown or not names:
        raise validation_error(
            "status",
            f"status must be a comma-separated list of {list(_API_STATUS)}, got {text[:64]!r}",
        )
    return [_API_STATUS[s] for s in names]


def _text(values: pa.Array, kind: str) -> list[str]:
    """The cells of one column as the export writes them: empty for a missing value."""
    if kind == "json":  # JSON text already (JSON fields), or lists written as JSON
        return ["" if v is None else v for v in values.to_pylist()]
    if pa.types.is_list(values.type):
        return ["" if v is None else json.dumps(v, ensure_ascii=False) for v in values.to_pylist()]
    if pa.types.is_boolean(values.type):
        return ["" if v is None else ("true" if v else "false") for v in values.to_pylist()]
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    return ["" if v is None else str(v) for v in values.to_pylist()]


def export_tsv(pool: Pool, query: Mapping[str, str]) -> Document:
    """The pool's assignments as the results export TSV (UTF-8, no BOM).

    Query parameters: ``status`` (comma-separated export statuses, default
    ``APPROVED``), ``field`` (comma-separated ``ASSIGNMENT:`` column names, in
    the order wanted; default :data:`DEFAULT_ASSIGNMENT_COLUMNS`; every
    ``INPUT:``, ``OUTPUT:``, ``GOLDEN:`` and ``HINT:`` column comes whatever it
    says, as in Toloka, and naming one changes nothing), ``addRowDelimiter`` (``true``: an empty
    line after each assignment), ``startTimeFrom`` / ``startTimeTo`` (on
    ``started``). ``excludeBanned`` is accepted and changes nothing: this
    server bans nobody.
    """
    statuses = _statuses(query)
    bounds = {}
    for name, op in (("startTimeFrom", "gte"), ("startTimeTo", "lte")):
        if name in query:
            try:
                bounds[op] = parse_datetime(query[name])
            except (ValueError, OverflowError):
                raise validation_error(
                    name, f"{name} must be an ISO-8601 datetime, got {query[name][:64]!r}"
                ) from None
    delimiter = query.get("addRowDelimiter", "false").lower() == "true"

    rows = pool.responses.filter(pc.is_in(pool.responses.column("status"), pa.array(statuses)))
    if "gte" in bounds:
        rows = rows.filter(pc.greater_equal(rows.column("submitted"), bounds["gte"]))
    if "lte" in bounds:
        rows = rows.filter(pc.less_equal(rows.column("submitted"), bounds["lte"]))
    rows = rows.take(pc.sort_indices(rows, sort_keys=[("assignment_id", "ascending")]))
    rows = rows.combine_chunks()
    tasks = pool.tasks
    positions = rows.column("task_pos")

    columns: dict[str, list[str]] = {}
    for name, field in pool.project.inputs.items():
        values = tasks.values.column("input_values." + name).combine_chunks().take(positions)
        columns["INPUT:" + name] = _text(values, "json" if field.type == "JSON" else "")
    for name in pool.fields:
        columns["OUTPUT:" + name] = _text(rows.column(column_name(name)).combine_chunks(), "")
    if tasks.n_control:
        for name in pool.fields:
            values = tasks.golden.column(name).combine_chunks().take(positions)
            columns["GOLDEN:" + name] = _text(values, "")
    if tasks.hints.null_count < len(tasks.hints):
        columns["HINT:text"] = _text(tasks.hints.take(positions), "")

    status = rows.column("status").to_pylist()
    when = format_timestamps(rows.column("submitted")).to_pylist()
    assignment_ids = rows.column("assignment_id").to_pylist()
    resolved = {
        "ACCEPTED": "accepted",
        "REJECTED": "rejected",
        "SKIPPED": "skipped",
        "EXPIRED": "expired",
    }
    assignment: dict[str, list[str]] = {
        "link": [f"{LINK_PREFIX}{pool.id}/{a}" for a in assignment_ids],
        "assignment_id": assignment_ids,
        "task_id": rows.column("task_id").to_pylist(),
        "task_suite_id": assignment_ids,
        "worker_id": rows.column("worker_id").to_pylist(),
        "status": [EXPORT_STATUSES[s] for s in status],
        "started": when,
        "submitted": [
            w if s in ("SUBMITTED", "ACCEPTED", "REJECTED") else "" for s, w in zip(status, when)
        ],
        "reward": ["0.0"] * rows.num_rows,
    }
    for api_status, column in resolved.items():
        assignment[column] = [w if s == api_status else "" for s, w in zip(status, when)]
    for name in ASSIGNMENT_COLUMNS:
        columns["ASSIGNMENT:" + name] = assignment[name]

    wanted = [c for c in columns if not c.startswith(_ASSIGNMENT)]
    wanted += _assignment_fields(query, columns)

    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(wanted)
    cells = [columns[c] for c in wanted]
    ends = _assignment_ends(assignment_ids) if delimiter else None
    for i, row in enumerate(zip(*cells)):
        writer.writerow(row)
        if ends is not None and ends[i]:
            out.write("\n")
    return Document(out.getvalue().encode("utf-8"), "text/tab-separated-values; charset=utf-8")


def _assignment_ends(ids: list[Any]) -> np.ndarray:
    """Whether each row is the last of its assignment (rows are grouped by assignment)."""
    ends = np.ones(len(ids), dtype=bool)
    if ids:
        ends[:-1] = np.array(ids[:-1], dtype=object) != np.array(ids[1:], dtype=object)
    return ends


def _assignment_fields(query: Mapping[str, str], columns: Mapping[str, Any]) -> list[str]:
    """The ``ASSIGNMENT:`` columns ``field`` asks for (the default ones without it)."""
    if "field" not in query:
        return list(EXPORT_DEFAULT_FIELDS)
    names = list(dict.fromkeys(c.strip() for c in query["field"].split(",") if c.strip()))
    unknown = [c for c in names if c not in columns]
    if unknown:
        raise validation_error(
            "field",
            f"field names unknown columns {unknown[:10]}; the ASSIGNMENT: columns are "
            f"{list(EXPORT_ASSIGNMENT_FIELDS)}",
        )
    return [c for c in names if c.startswith(_ASSIGNMENT)]
