"""Responses handed to ``add_pool``: validated once and turned into the server's Arrow table."""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._protocol import ASSIGNMENT_STATUSES
from ..errors import InvalidArgumentError, MissingColumnsError, OutputValueError
from ..schema import (
    OUTPUT_VALUES_PREFIX,
    RESPONSES_META_COLUMNS,
    OutputField,
    field_to_arrow,
    id_array,
)

__all__ = [
    "ASSIGNMENT_STATUSES",
    "column_name",
    "field_column",
    "normalize_responses",
    "string_column",
]


def column_name(field_name: str) -> str:
    """The internal column of an output field (prefixed: a field may be called ``task_id``)."""
    return "out." + field_name


def field_column(field_name: str, columns: Collection[Hashable]) -> str:
    """The column of ``responses`` holding an output field's answers.

    ``output_values.<name>`` when the frame has it (the column
    :func:`pandas_toloka.read_responses` gives a field named like a metadata
    column), else the field's own name, except for a field named like a
    response column (``task_id``, ``worker_id``, ``status``, ...): the ids are
    never taken for its answers.
    """
    prefixed = OUTPUT_VALUES_PREFIX + field_name
    if prefixed in columns or field_name in RESPONSES_META_COLUMNS:
        return prefixed
    return field_name


def string_column(frame: pd.DataFrame, name: str) -> pa.Array:
    series = frame[name]
    if series.isna().any():
        row = int(np.flatnonzero(series.isna().to_numpy())[0])
        raise InvalidArgumentError(
            f"Column {name!r} has a missing value (row {row}); ids are required."
        )
    ids = id_array(series)
    empty = pc.equal(pc.utf8_length(ids), 0)
    if pc.any(empty).as_py():
        row = pc.index(empty, True).as_py()
        raise InvalidArgumentError(
            f"Column {name!r} has an empty id (row {row}); ids are required."
        )
    return ids


def submitted_column(frame: pd.DataFrame, default: datetime) -> pa.Array:
    if "submitted" not in frame.columns:
        return pa.array(np.full(len(frame), np.datetime64(default.replace(tzinfo=None), "ms")))
    try:
        values = pd.to_datetime(frame["submitted"], utc=True)
    except (ValueError, TypeError) as exc:
        raise InvalidArgumentError(f"Column 'submitted' must hold datetimes: {exc}") from exc
    values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return pa.array(values.to_numpy(dtype="datetime64[ms]"), type=pa.timestamp("ms"))


def normalize_responses(
    pool_id: str, responses: pd.DataFrame, fields: Mapping[str, OutputField], created: datetime
) -> pa.Table:
    """Validate ``responses`` and return the server's table of them.

    Columns: ``task_id``, ``worker_id``, ``assignment_id``, ``status``,
    ``submitted`` (timestamp[ms], naive UTC), then one column per field typed by
    the schema module, read from the column :func:`field_column` names.

    Raises
    ------
    InvalidArgumentError, MissingColumnsError, OutputValueError
        On a missing column, an unknown status or a value the spec does not allow.
    """
    if not isinstance(responses, pd.DataFrame):
        raise InvalidArgumentError(
            f"responses must be a pandas DataFrame, got {type(responses).__name__}"
        )
    source = {name: field_column(name, responses.columns) for name in fields}
    needed = ["task_id", "worker_id"] + [source[name] for name, f in fields.items() if f.required]
    missing = [c for c in needed if c not in responses.columns]
    if missing:
        raise MissingColumnsError(
            missing, list(responses.columns), purpose=f"to serve pool {pool_id!r}"
        )
    frame = responses.reset_index(drop=True)
    n = len(frame)
    task_ids = string_column(frame, "task_id")
    columns: dict[str, pa.Array] = {
        "task_id": task_ids,
        "worker_id": string_column(frame, "worker_id"),
    }
    if "assignment_id" in frame.columns:
        columns["assignment_id"] = string_column(frame, "assignment_id")
    else:
        numbers = pc.utf8_lpad(
            pa.array(np.arange(n, dtype=np.int64)).cast(pa.string()), width=10, padding="0"
        )
        columns["assignment_id"] = pc.binary_join_element_wise(f"{pool_id}--", numbers, "")
    if "status" in frame.columns:
        status = string_column(frame, "status")
        unknown = pc.invert(pc.is_in(status, value_set=pa.array(ASSIGNMENT_STATUSES)))
        if pc.any(unknown).as_py():
            bad = status[pc.index(unknown, True).as_py()].as_py()
            raise InvalidArgumentError(
                f"Unknown assignment status {bad!r}; use one of {ASSIGNMENT_STATUSES}"
            )
    else:
        status = pa.array(np.full(n, "ACCEPTED", dtype=object), type=pa.string())
    columns["status"] = status
    columns["submitted"] = submitted_column(frame, created)
    for name, f in fields.items():
        if source[name] in frame.columns and n == 0:
            array = pa.array([], f.arrow_type)
        elif source[name] in frame.columns:
            array = field_to_arrow(frame[source[name]], f, task_ids=task_ids)
            if isinstance(array, pa.ChunkedArray):
                array = array.combine_chunks()
        else:
            array = pa.nulls(n, f.arrow_type)
        if f.required and array.null_count:
            index = pc.index(array.is_null(), True).as_py()
            raise OutputValueError(
                f"Required output field {name!r} of task {task_ids[index].as_py()!r} is missing.",
                task_id=task_ids[index].as_py(),
                field=name,
                value=None,
            )
        columns[column_name(name)] = array
    return pa.table(columns)
