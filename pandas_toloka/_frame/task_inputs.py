"""``inputs=`` of local aggregation: each aggregated task with what was labeled.

A responses frame often carries its tasks' input values already:
:func:`~pandas_toloka.read_responses` with ``inputs=`` and
:func:`~pandas_toloka.read_assignments_tsv` put them on every response, in a
column named as the field, or ``input_values.<name>`` when that name is taken,
and record the input spec in ``attrs["toloka"]["input_spec"]``. Local
aggregation then takes the one value per task from those rows (a task whose
rows disagree is an error naming it, never a silent pick); the pandas accessor
reads the fields the frame lacks with :func:`~pandas_toloka.read_tasks` when
given a connection. The columns are typed by the input spec and laid out by
:func:`pandas_toloka._read.labeled.labeled_schema`, as
:func:`~pandas_toloka.read_aggregated_solutions` lays out its ``inputs=``.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .._read.args import input_names
from .._read.labeled import labeled_schema
from ..errors import InvalidArgumentError, MissingColumnsError
from ..schema import DtypeBackend, InputField
from ..schema._wire import WireMismatch, typed_column
from .from_pool import Connection, PoolTasks
from .inputs import ATTRS_KEY
from .rows import pool_groups, text_ids

__all__ = [
    "FrameInputs",
    "InputsPlan",
    "attach_inputs",
    "frame_inputs",
    "inputs_for",
    "found_column",
    "input_arrays",
    "join_inputs",
    "needs_tasks",
    "plan_inputs",
    "served_spec",
    "task_values",
    "tasks_found",
    "values_of",
    "with_inputs",
]

logger = logging.getLogger(__name__)

#: Arrow value types -> the input type of a column without an input spec.
_INFERRED = (
    (pa.types.is_boolean, "BOOLEAN"),
    (pa.types.is_integer, "INTEGER"),
    (pa.types.is_floating, "FLOAT"),
    (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), "STRING"),
    (pa.types.is_null, "STRING"),
)


@dataclass(frozen=True)
class InputsPlan:
    """The input fields ``inputs=`` asks for, and where each one's values are.

    ``columns[i]`` is the frame's column of ``fields[i]``, or None when the
    values are read from the pool's tasks (pandas, with a connection).
    """

    fields: tuple[InputField, ...]
    columns: tuple[Hashable | None, ...]

    @property
    def from_frame(self) -> list[tuple[InputField, Hashable]]:
        return [(f, c) for f, c in zip(self.fields, self.columns) if c is not None]

    @property
    def from_tasks(self) -> list[InputField]:
        return [f for f, c in zip(self.fields, self.columns) if c is None]

    def input_spec(self) -> dict[str, dict[str, Any]]:
        """The input spec of the columns, for ``attrs["toloka"]["input_spec"]``."""
        return {f.name: f.to_spec() for f in self.fields}

    def schema(self, base: pa.Schema) -> pa.Schema:
        """The result's schema: ``base`` then the input columns, as the reader names them."""
        return labeled_schema(base, self.fields)


def frame_input_spec(frame: pd.DataFrame) -> dict[str, InputField] | None:
    """The input spec a reader left in the frame's ``attrs`` (None without one)."""
    meta = schema.get_provenance(frame)
    spec = meta.get("input_spec") if meta is not None else None
    return schema.parse_input_spec(spec) if isinstance(spec, Mapping) else None


def _column_of(frame: pd.DataFrame, name: str, reserved: Sequence[Hashable]) -> Hashable | None:
    """The column of input field ``name``: ``input_values.<name>``, else ``<name>`` unless that
    is a task, worker, metadata or answer column."""
    prefixed = schema.INPUT_VALUES_PREFIX + name
    if prefixed in frame.columns:
        return prefixed
    if name in frame.columns and name not in reserved:
        return name
    return None


def _arrow(series: pd.Series) -> pa.Array:
    data = pa.array(series, from_pandas=True)
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks() if data.num_chunks else pa.array([], type=data.type)
    return data


def _inferred_field(series: pd.Series, name: str) -> InputField:
    """An input field for a column without an input spec, from its Arrow type."""
    arrow_type = _arrow(series).type
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    prefix = ""
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        arrow_type, prefix = arrow_type.value_type, "ARRAY_"
    for test, kind in _INFERRED:
        if test(arrow_type):
            return InputField(name, prefix + kind)
    raise InvalidArgumentError(
        f"inputs: column {series.name!r} holds {arrow_type}, not an input type (text, numbers, "
        "booleans or lists of them); read the frame with read_responses(inputs=...) so that "
        "its input spec types it."
    )


def plan_inputs(
    frame: pd.DataFrame,
    inputs: object,
    *,
    reserved: Sequence[Hashable],
    served: Mapping[str, InputField] | None = None,
    can_read: bool = False,
) -> InputsPlan | None:
    """Check ``inputs=`` against the frame (and the served input spec) before any work.

    Parameters
    ----------
    frame : DataFrame
        The responses (a Dask frame's ``_meta`` on Dask).
    inputs : object
        ``inputs=`` as given: None/False, True/"all", a name or a list of names.
    reserved : sequence
        Task, worker, metadata and answer columns: never an input column.
    served : mapping, optional
        The pool's input spec read from the API (pandas with a connection).
    can_read : bool, default False
        Whether fields the frame lacks may be read from the pool's tasks.

    Raises
    ------
    InvalidArgumentError
        For a name the input spec lacks (naming its fields), ``inputs=True``
        without any input spec, or a name with no column and nothing to read it from.
    """
    names = input_names(inputs)
    if names is False:
        return None
    own = frame_input_spec(frame)
    spec = own if own is not None else served
    if spec is None and names is True:
        raise InvalidArgumentError(
            "inputs=True adds every input field of the input spec, and this frame records none "
            "(read_responses(inputs=...) and read_assignments_tsv record it): name the input "
            "columns, e.g. inputs=['image'], or pass client= (or token=/url=) to read the "
            "pool's tasks."
        )
    if spec is not None:
        if names is not True:
            unknown = [n for n in names if n not in spec]
            if unknown and own is not None and served is not None:
                spec = {**served, **own}  # a field the frame lacks may still be served
                unknown = [n for n in names if n not in spec]
            if unknown:
                raise InvalidArgumentError(
                    f"inputs: no input field {', '.join(map(repr, unknown))}; the input spec's "
                    f"fields are {list(spec)}."
                )
        chosen = list(spec) if names is True else list(names)
    else:
        assert names is not True
        chosen = list(names)
    fields: list[InputField] = []
    columns: list[Hashable | None] = []
    absent: list[str] = []
    for name in chosen:
        column = _column_of(frame, name, reserved)
        if column is None:
            if not can_read:
                absent.append(name)
                continue
            if served is None or name not in served:
                raise InvalidArgumentError(
                    f"inputs: pool has no input field {name!r}; its input spec's fields are "
                    f"{list(served or {})}."
                )
            fields.append(served[name])
        elif spec is not None and name in spec:
            fields.append(spec[name])
        else:
            fields.append(_inferred_field(frame[column], name))
        columns.append(column)
    if absent:
        wanted = [f"{n!r} (or {schema.INPUT_VALUES_PREFIX + n!r})" for n in absent]
        raise MissingColumnsError(
            [str(n) for n in absent],
            list(frame.columns),
            purpose=f"for inputs= ({', '.join(wanted)}): read the responses with "
            "read_responses(inputs=...), or pass client= (or token=/url=) so that the pool's "
            "tasks are read",
        )
    return InputsPlan(tuple(fields), tuple(columns))


def needs_tasks(frame: pd.DataFrame, inputs: object, *, reserved: Sequence[Hashable]) -> bool:
    """Whether ``inputs=`` asks for a field the frame does not hold (or for all of them, with
    no input spec in the frame's ``attrs``): then the pool's tasks are worth reading."""
    names = input_names(inputs)
    if names is False:
        return False
    if names is True:
        own = frame_input_spec(frame)
        if own is None:
            return True
        names = list(own)  # the spec's fields, whose columns may have been dropped since
    return any(_column_of(frame, name, reserved) is None for name in names)


def served_spec(tasks: Mapping[str, pd.DataFrame]) -> dict[str, InputField]:
    """The input spec of the pools' tasks (their ``attrs``), the first pool's type winning."""
    spec: dict[str, InputField] = {}
    for frame in tasks.values():
        for name, field in (frame_input_spec(frame) or {}).items():
            spec.setdefault(name, field)
    return spec


def tasks_found(tasks: Mapping[str, pd.DataFrame], fields: Sequence[InputField]) -> pa.Table:
    """The input values of the pools' tasks (:func:`read_tasks` frames), one row per task."""
    pieces = []
    for pool, frame in tasks.items():
        arrays = [
            pa.array([pool] * len(frame), type=pa.string()),
            _arrow(frame["task_id"]).cast(pa.string()),
        ]
        names = ["pool_id", "task_id"]
        for field in fields:
            column = schema.input_column_name(field.name)
            arrays.append(
                _arrow(frame[column])
                if column in frame.columns
                else pa.nulls(len(frame), field.arrow_type)
            )
            names.append(found_column(field.name))
        pieces.append(
            pa.Table.from_arrays(
                [_typed(a, f) for a, f in zip(arrays[2:], fields)], names=names[2:]
            )
            .add_column(0, "task_id", arrays[1])
            .add_column(0, "pool_id", arrays[0])
        )
    return pa.concat_tables(pieces)


def _differ(first: pa.Array, values: pa.Array) -> np.ndarray:
    """Where ``values`` differ from ``first`` (a null differs from a value; NaN equals NaN)."""
    if pa.types.is_nested(values.type):
        return np.array([a != b for a, b in zip(first.to_pylist(), values.to_pylist())], dtype=bool)
    if pa.types.is_dictionary(values.type):
        first, values = first.dictionary_decode(), values.dictionary_decode()
    same = pc.fill_null(pc.equal(first, values), False)
    both_null = pc.and_(first.is_null(), values.is_null())
    same = pc.or_(same, both_null)
    if pa.types.is_floating(values.type):
        same = pc.or_(same, pc.fill_null(pc.and_(pc.is_nan(first), pc.is_nan(values)), False))
    return ~same.to_numpy(zero_copy_only=False)


def task_values(
    pools: pa.Array, tasks: pa.Array, values: Sequence[pa.Array], names: Sequence[str]
) -> tuple[pa.Array, pa.Array, list[pa.Array]]:
    """One row per (pool, task): its pool, task and input values, checked to agree across rows.

    Raises
    ------
    InvalidArgumentError
        When a task's rows hold different values of an input field; names the
        task, the field and two of the values.
    """
    n = len(tasks)
    if n == 0:
        return pools, tasks, list(values)
    key = pc.binary_join_element_wise(pc.fill_null(pools, ""), tasks, "\x1f")
    codes = pc.index_in(key, value_set=pc.unique(key)).to_numpy(zero_copy_only=False)
    _, first = np.unique(codes, return_index=True)
    reference = pa.array(first[codes])
    for name, column in zip(names, values):
        differ = _differ(column.take(reference), column)
        if differ.any():
            row = int(np.flatnonzero(differ)[0])
            task = tasks[row].as_py()
            raise InvalidArgumentError(
                f"inputs: task {task!r} has different values of input field {name!r} on its "
                f"rows ({column[int(first[codes[row]])].as_py()!r} and {column[row].as_py()!r}); "
                "a task has one input value per field: fix the frame, or leave that field out "
                "of inputs=."
            )
    keep = pa.array(np.sort(first))
    return pools.take(keep), tasks.take(keep), [c.take(keep) for c in values]


def values_of(
    frame: pd.DataFrame, plan: InputsPlan, *, task: Hashable, pool: str | None
) -> pa.Table:
    """The frame's input values, one row per task: ``pool_id``, ``task_id`` and the fields of
    the plan held by the frame, as the frame holds them (typed by :func:`join_inputs`)."""
    held = plan.from_frame
    tasks = schema.id_array(frame[task]) if len(frame) else pa.array([], pa.string())
    if "pool_id" in frame.columns and len(frame):
        pools = schema.id_array(frame["pool_id"])
    else:
        pools = pa.array([pool] * len(frame), type=pa.string())
    pools, tasks, values = task_values(
        pools, tasks, [_arrow(frame[column]) for _, column in held], [f.name for f, _ in held]
    )
    names = ["pool_id", "task_id", *(found_column(f.name) for f, _ in held)]
    return pa.Table.from_arrays([pools, tasks, *values], names=names)


def _typed(values: pa.Array, field: InputField) -> pa.Array:
    """A column of input values -> the field's Arrow type, as the readers type it."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), field.arrow_type)
    try:
        return typed_column(values, field)  # type: ignore[arg-type]
    except (WireMismatch, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidArgumentError(
            f"inputs: the values of input field {field.name!r} do not fit its type "
            f"{field.type} ({exc})."
        ) from exc


def found_column(name: str) -> str:
    """The column of input field ``name`` in a table of values by task (never a clash)."""
    return schema.INPUT_VALUES_PREFIX + name


def _keys(table: pa.Table) -> pa.Array:
    pools = pc.fill_null(table.column("pool_id"), "")
    return pc.binary_join_element_wise(pools, table.column("task_id"), "\x1f")


def input_arrays(keys: pa.Table, found: Sequence[pa.Table], plan: InputsPlan) -> list[pa.Array]:
    """The typed input values of each row of ``keys`` (``pool_id``, ``task_id``), one array
    per field of the plan, from the first of ``found`` holding the field (:func:`values_of`,
    :func:`tasks_found`); a task they lack gets missing values (logged)."""
    key = _keys(keys)
    arrays = []
    for field in plan.fields:
        source = next(t for t in found if found_column(field.name) in t.column_names)
        rows = pc.index_in(key, value_set=_keys(source))
        if rows.null_count:
            logger.info(
                "%d aggregated task(s) have no value of input %r: missing",
                rows.null_count,
                field.name,
            )
        column = source.column(found_column(field.name)).combine_chunks()
        arrays.append(_typed(column, field).take(rows))
    return arrays


def join_inputs(
    result: pa.Table, found: Sequence[pa.Table], plan: InputsPlan, target: pa.Schema
) -> pa.Table:
    """``result`` (``pool_id``, ``task_id``, ...) with the input columns of its tasks, of
    schema ``target`` (:meth:`InputsPlan.schema` of the result's)."""
    arrays = [result.column(i) for i in range(result.num_columns)]
    arrays += input_arrays(result.select(["pool_id", "task_id"]), found, plan)
    return pa.Table.from_arrays(arrays, schema=target)


def with_inputs(
    frame: pd.DataFrame,
    found: Sequence[pa.Table],
    plan: InputsPlan,
    *,
    dtype_backend: DtypeBackend,
) -> pd.DataFrame:
    """A result frame (``pool_id``, ``task_id``, ...) with the input columns of its tasks
    added as :func:`join_inputs` adds them (for results built as pandas frames: Dask)."""
    n = len(frame)
    keys = pa.table(
        {
            "pool_id": schema.id_array(frame["pool_id"]) if n else pa.array([], pa.string()),
            "task_id": schema.id_array(frame["task_id"]) if n else pa.array([], pa.string()),
        }
    )
    base = pa.schema([pa.field(str(c), pa.null()) for c in frame.columns])
    target = plan.schema(base)
    added = target.names[len(base) :]
    arrays = (
        input_arrays(keys, found, plan)
        if found
        else [pa.nulls(n, f.arrow_type) for f in plan.fields]
    )
    columns = schema.to_pandas(
        pa.Table.from_arrays(arrays, names=added), dtype_backend=dtype_backend
    )
    columns.index = frame.index
    out = pd.concat([frame, columns], axis=1)
    out.attrs = frame.attrs
    return out


def frame_inputs(
    frame: pd.DataFrame,
    inputs: object,
    *,
    reserved: Sequence[Hashable],
    pools: Sequence[str | None],
    connection: Connection,
    tasks: PoolTasks,
) -> tuple[InputsPlan | None, list[pa.Table]]:
    """``inputs=`` checked, and the input values read from the pools' tasks when the frame
    lacks some and a connection is given (before any aggregation)."""
    if not (connection.given and needs_tasks(frame, inputs, reserved=reserved)):
        return plan_inputs(frame, inputs, reserved=reserved), []
    read = tasks.read(pools)
    plan = plan_inputs(frame, inputs, reserved=reserved, served=served_spec(read), can_read=True)
    if plan is None or not plan.from_tasks:
        return plan, []
    return plan, [tasks_found(read, plan.from_tasks)]


@dataclass(frozen=True)
class FrameInputs:
    """``inputs=`` of a method whose result is a pandas frame (area selection): the plan
    and every task's values, found before the work."""

    plan: InputsPlan
    found: list[pa.Table]


def inputs_for(
    frame: pd.DataFrame,
    inputs: object,
    *,
    task: Hashable,
    worker: Hashable,
    columns: Sequence[Hashable],
    pool_id: str | int | None,
    connection: Connection,
) -> FrameInputs | None:
    """``inputs=`` checked against the frame (answers in ``columns``), and the values of
    each pool's tasks taken (or read, with a connection), before any aggregation."""
    if input_names(inputs) is False:
        return None
    frame = text_ids(frame, task, worker)
    groups = pool_groups(frame, pool_id)
    plan, found = frame_inputs(
        frame,
        inputs,
        reserved=[task, worker, *schema.RESPONSES_META_COLUMNS, *columns],
        pools=[pool for pool, _ in groups],
        connection=connection,
        tasks=PoolTasks(connection, purpose="inputs= read from the pool"),
    )
    assert plan is not None
    if plan.from_frame and groups:
        held = [values_of(group, plan, task=task, pool=pool) for pool, group in groups]
        found = [pa.concat_tables(held), *found]
    return FrameInputs(plan, found)


def attach_inputs(
    out: pd.DataFrame, prepared: FrameInputs | None, *, dtype_backend: DtypeBackend
) -> pd.DataFrame:
    """A result frame (``pool_id``, ``task_id``, ...) with the input columns of its tasks,
    its provenance recording their input spec."""
    if prepared is None:
        return out
    result = with_inputs(out, prepared.found, prepared.plan, dtype_backend=dtype_backend)
    result.attrs = {ATTRS_KEY: {**out.attrs[ATTRS_KEY], "input_spec": prepared.plan.input_spec()}}
    return result
