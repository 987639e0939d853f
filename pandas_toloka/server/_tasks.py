"""A pool's tasks: validated once when added, each encoded to its JSON object once.

``add_pool(tasks=...)`` gives the tasks with their input values and, for control
tasks, their known solutions; without it the tasks are the ones the responses
answer, with no input values. Pages of ``GET /tasks`` and the ``tasks`` of
``GET /assignments`` are then slices and takes of pre-encoded JSON texts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InvalidArgumentError, MissingColumnsError, OutputValueError
from ..schema import InputField, OutputField, field_to_arrow
from ._fastjson import json_column, json_or_null, object_column
from ._ingest import string_column, submitted_column

__all__ = ["INPUT_VALUES_PREFIX", "TASK_COLUMNS", "TaskTable", "normalize_tasks"]

#: Columns of a tasks frame besides the input fields (all optional but ``task_id``).
TASK_COLUMNS = (
    "task_id",
    "known_solutions",
    "message_on_unknown_solution",
    "overlap",
    "infinite_overlap",
    "remaining_overlap",
    "origin_task_id",
    "created",
)
#: Prefix of the column of an input field named like a task column, e.g. ``input_values.overlap``.
INPUT_VALUES_PREFIX = "input_values."


@dataclass(frozen=True)
class TaskTable:
    """A pool's tasks sorted by id, each with its JSON texts ready to serve.

    ``json`` is the whole task object; ``inputs`` its ``input_values`` object and
    ``known`` its ``known_solutions`` list (null for a task that is not a control
    task), which assignments embed; ``overlap`` and ``created`` (served text) are
    what the filters of ``GET /tasks`` compare.
    """

    ids: pa.Array
    json: pa.Array
    inputs: pa.Array
    known: pa.Array
    overlap: np.ndarray
    created: pa.Array
    #: The input columns typed by the input spec (``input_values.<name>``), for the export.
    values: pa.Table
    #: The first known solution's output values per field (null where none), for the export.
    golden: pa.Table
    hints: pa.Array

    @property
    def n_control(self) -> int:
        """How many tasks carry known solutions."""
        return len(self.known) - self.known.null_count

    def positions(self, task_ids: pa.Array | pa.ChunkedArray) -> pa.Array:
        """The row of each of ``task_ids`` in this table (every id must be a task)."""
        return pc.index_in(task_ids, value_set=self.ids)


def _input_column(frame: pd.DataFrame, name: str) -> str | None:
    prefixed = INPUT_VALUES_PREFIX + name
    if prefixed in frame.columns:
        return prefixed
    if name in TASK_COLUMNS or name not in frame.columns:
        return None
    return name


def _python(value: Any) -> Any:
    """A frame cell as a JSON value: numpy scalars and arrays unwrapped, NaN as missing."""
    if isinstance(value, np.ndarray):
        return [_python(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_python(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _python(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _known_solutions(
    cells: list[Any], outputs: Mapping[str, OutputField], task_ids: pa.Array
) -> list[list[dict[str, Any]] | None]:
    """Validate ``known_solutions`` cells: None, or a list of ``{output_values, correctness_weight}``."""
    out: list[list[dict[str, Any]] | None] = []
    for row, cell in enumerate(cells):
        cell = _python(cell)
        task = task_ids[row].as_py()
        if cell is None or cell == []:
            out.append(None)
            continue
        if not isinstance(cell, list):
            raise InvalidArgumentError(
                f"known_solutions of task {task!r} must be a list of "
                '{"output_values": {...}, "correctness_weight": 0..1}, got '
                f"{type(cell).__name__}."
            )
        solutions = []
        for solution in cell:
            values = solution.get("output_values") if isinstance(solution, dict) else None
            if not isinstance(values, dict) or not any(v is not None for v in values.values()):
                raise InvalidArgumentError(
                    f"A known solution of task {task!r} has no output_values mapping: {solution!r}"
                )
            values = {k: v for k, v in values.items() if v is not None}  # Parquet fills gaps
            unknown = sorted(set(values) - set(outputs))
            if unknown:
                raise InvalidArgumentError(
                    f"A known solution of task {task!r} names output field(s) {unknown} "
                    f"that the output spec does not declare ({list(outputs)})."
                )
            for name, value in values.items():
                field_to_arrow([value], outputs[name], task_ids=[task])  # raises on a bad value
            weight = solution.get("correctness_weight", 1.0)
            if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                raise InvalidArgumentError(
                    f"correctness_weight of a known solution of task {task!r} must be a "
                    f"number in 0..1, got {weight!r}"
                )
            if not 0.0 <= float(weight) <= 1.0:
                raise InvalidArgumentError(
                    f"correctness_weight of a known solution of task {task!r} must lie in "
                    f"0..1, got {weight!r}"
                )
            solutions.append({"output_values": values, "correctness_weight": float(weight)})
        out.append(solutions)
    return out


def _int_column(frame: pd.DataFrame, name: str, default: np.ndarray) -> np.ndarray:
    if name not in frame.columns:
        return default
    values = pd.to_numeric(frame[name], errors="coerce")
    bad = values.isna() | (values < 0) | (values != values.round())
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidArgumentError(
            f"Column {name!r} of tasks must hold non-negative integers; row {row} has "
            f"{frame[name].iloc[row]!r}"
        )
    return values.to_numpy(dtype=np.int64)


def _text_column(frame: pd.DataFrame, name: str) -> pa.Array | None:
    if name not in frame.columns:
        return None
    values = [None if v is None else str(v) for v in map(_python, frame[name].tolist())]
    return pa.array(values, pa.string())


def normalize_tasks(
    pool_id: str,
    tasks: pd.DataFrame | None,
    inputs: Mapping[str, InputField],
    outputs: Mapping[str, OutputField],
    responses: pa.Table,
    created: datetime,
) -> TaskTable:
    """Validate a pool's tasks and encode them.

    Parameters
    ----------
    pool_id : str
    tasks : DataFrame or None
        ``task_id``, a column per input field (``input_values.<name>`` for a
        field named like a task column), optional ``known_solutions``,
        ``message_on_unknown_solution``, ``overlap``, ``infinite_overlap``,
        ``remaining_overlap``, ``origin_task_id``, ``created``. None: the tasks
        the responses answer, with no input values (then ``inputs`` must
        declare no required field).
    inputs, outputs : mapping
        The project's input and output fields.
    responses : pyarrow.Table
        The pool's normalized responses (``task_id``, ``status``).
    created : datetime
        The pool's creation time: the default of ``created``.

    Raises
    ------
    InvalidArgumentError, MissingColumnsError, OutputValueError
        On duplicate or missing task ids, a response to a task that is not
        among ``tasks``, or a value its spec does not allow.
    """
    if tasks is None:
        required = [name for name, f in inputs.items() if f.required]
        if required:
            raise InvalidArgumentError(
                f"The input spec of pool {pool_id!r} requires {required}; pass tasks= with "
                "a column per input field."
            )
        ids = pc.unique(responses.column("task_id"))
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        ids = ids.take(pc.sort_indices(ids))
        # Arrow kernels only: a pool of millions of responses adds no per-task Python work.
        frame = pd.DataFrame(index=pd.RangeIndex(len(ids)))
        return _encode(pool_id, frame, ids, inputs, outputs, responses, created)
    if not isinstance(tasks, pd.DataFrame):
        raise InvalidArgumentError(f"tasks must be a pandas DataFrame, got {type(tasks).__name__}")
    frame = tasks.reset_index(drop=True)
    if "task_id" not in frame.columns:
        raise MissingColumnsError(["task_id"], list(frame.columns), purpose="as tasks")
    task_ids = string_column(frame, "task_id") if len(frame) else pa.array([], pa.string())
    order = pc.sort_indices(task_ids)
    frame = frame.iloc[order.to_numpy()].reset_index(drop=True)
    task_ids = task_ids.take(order)
    n = len(task_ids)
    if n > 1:
        same = pc.equal(task_ids.slice(1), task_ids.slice(0, n - 1))
        if pc.any(same).as_py():
            dup = task_ids[pc.index(same, True).as_py()].as_py()
            raise InvalidArgumentError(f"Task {dup!r} is listed twice in tasks; ids are unique.")
    if responses.num_rows:
        known = pc.is_in(responses.column("task_id"), value_set=task_ids)
        if not pc.all(known).as_py():
            missing = responses.column("task_id").filter(pc.invert(known))[0].as_py()
            raise InvalidArgumentError(
                f"A response answers task {missing!r}, which is not among the tasks of pool "
                f"{pool_id!r}; add it to tasks."
            )
    return _encode(pool_id, frame, task_ids, inputs, outputs, responses, created)


def _encode(
    pool_id: str,
    frame: pd.DataFrame,
    task_ids: pa.Array,
    inputs: Mapping[str, InputField],
    outputs: Mapping[str, OutputField],
    responses: pa.Table,
    created: datetime,
) -> TaskTable:
    """The task table of validated, id-sorted tasks (``frame`` aligned with ``task_ids``)."""
    n = len(task_ids)

    values: dict[str, pa.Array] = {}
    for name, field in inputs.items():
        column = _input_column(frame, name)
        if column is None:
            if field.required and n:
                raise MissingColumnsError(
                    [name], list(frame.columns), purpose=f"as input field of pool {pool_id!r}"
                )
            array = pa.nulls(n, field.arrow_type)
        else:
            cells = [_python(v) for v in frame[column].tolist()]
            array = (
                field_to_arrow(cells, field, task_ids=task_ids)
                if n
                else pa.array([], field.arrow_type)
            )
            if isinstance(array, pa.ChunkedArray):
                array = array.combine_chunks()
            if field.required and array.null_count:
                row = pc.index(array.is_null(), True).as_py()
                raise OutputValueError(
                    f"Required input field {name!r} of task {task_ids[row].as_py()!r} is missing.",
                    task_id=task_ids[row].as_py(),
                    field=name,
                    value=None,
                )
        values[INPUT_VALUES_PREFIX + name] = array
    values_table = pa.table(values) if values else pa.table({"_": pa.nulls(n)}).drop(["_"])
    inputs_json = object_column(
        list(inputs),
        [_json_values(values[INPUT_VALUES_PREFIX + k], f) for k, f in inputs.items()],
        n,
    )

    if "known_solutions" in frame.columns:
        solutions = _known_solutions(frame["known_solutions"].tolist(), outputs, task_ids)
        known = pa.array(
            [None if s is None else json.dumps(s, ensure_ascii=False) for s in solutions],
            pa.string(),
        )
        golden = pa.table(
            {
                name: field_to_arrow(
                    [None if s is None else s[0]["output_values"].get(name) for s in solutions],
                    field,
                    task_ids=task_ids,
                )
                if n
                else pa.array([], field.arrow_type)
                for name, field in outputs.items()
            }
        )
    else:
        known = pa.nulls(n, pa.string())
        golden = pa.table({name: pa.nulls(n, field.arrow_type) for name, field in outputs.items()})
    hints = _text_column(frame, "message_on_unknown_solution")
    hints = pa.nulls(n, pa.string()) if hints is None else hints

    answered = _answer_counts(responses, task_ids)
    overlap = _int_column(frame, "overlap", np.maximum(answered, 1))
    remaining = _int_column(frame, "remaining_overlap", np.maximum(overlap - answered, 0))
    infinite = (
        frame["infinite_overlap"].astype(bool).to_numpy()
        if "infinite_overlap" in frame.columns
        else np.zeros(n, dtype=bool)
    )
    when = (
        submitted_column(frame, created)
        if "created" not in frame.columns
        else submitted_column(frame.rename(columns={"created": "submitted"}), created)
    )
    when_text = pc.strftime(when, format="%Y-%m-%dT%H:%M:%S.%f")
    when_text = pc.utf8_slice_codeunits(when_text, 0, 23)  # milliseconds, as Toloka serves them
    origin = _text_column(frame, "origin_task_id")

    parts: list[pa.Array | str] = [
        '{"id":',
        json_column(task_ids),
        ',"pool_id":' + json.dumps(pool_id, ensure_ascii=False) + ',"input_values":',
        inputs_json,
        _optional(',"known_solutions":', known, raw=True),
        _optional(',"message_on_unknown_solution":', hints),
        ',"overlap":',
        pa.array(overlap).cast(pa.string()),
        ',"infinite_overlap":',
        pc.if_else(pa.array(infinite), "true", "false"),
        ',"remaining_overlap":',
        pa.array(remaining).cast(pa.string()),
        _optional(',"origin_task_id":', origin),
        ',"created":',
        json_column(when_text),
        "}",
    ]
    encoded = pc.binary_join_element_wise(*parts, "") if n else pa.array([], pa.string())
    return TaskTable(
        ids=task_ids,
        json=encoded,
        inputs=inputs_json,
        known=known,
        overlap=overlap,
        created=when_text,
        values=values_table,
        golden=golden,
        hints=hints,
    )


def _json_values(array: pa.Array, field: InputField) -> pa.Array:
    """JSON text per value of an input column (JSON fields hold JSON text already)."""
    if field.type == "JSON":
        return array
    if field.type == "ARRAY_JSON":
        return pa.array(
            [None if v is None else "[" + ",".join(v) + "]" for v in array.to_pylist()],
            pa.string(),
        )
    return json_or_null(array)


def _optional(key: str, values: pa.Array | None, *, raw: bool = False) -> pa.Array | str:
    """``key`` + the value's JSON where the value is present, else nothing."""
    if values is None:
        return ""
    text = values if raw else json_column(values)
    return pc.if_else(pc.is_null(values), "", pc.binary_join_element_wise(key, text, ""))


def _answer_counts(responses: pa.Table, task_ids: pa.Array) -> np.ndarray:
    """Responses per task that count against its overlap (not rejected, skipped or expired)."""
    counts = np.zeros(len(task_ids), dtype=np.int64)
    if not responses.num_rows:
        return counts
    live = pc.invert(
        pc.is_in(responses.column("status"), value_set=pa.array(["REJECTED", "SKIPPED", "EXPIRED"]))
    )
    positions = pc.index_in(responses.column("task_id").filter(live), value_set=task_ids)
    np.add.at(counts, positions.to_numpy(zero_copy_only=False).astype(np.int64), 1)
    return counts
