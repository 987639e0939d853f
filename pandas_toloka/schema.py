"""The single source of truth for types: Toloka output spec → Arrow → pandas.

A project's ``task_spec.output_spec`` declares each output field's type. This
module turns that declaration into an :class:`OutputField`, maps it to one
Arrow type (:data:`ARROW_TYPES` and :meth:`OutputField.arrow_type`), converts
JSON values strictly into Arrow arrays of that type, and converts Arrow data to
pandas for either ``dtype_backend``. The reader, the accessor and the bundled
server all use it; nothing else in the package maps types.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence, Union

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InvalidArgumentError, OutputValueError

__all__ = [
    "AGGREGATED_META_COLUMNS",
    "ARROW_TYPES",
    "RESPONSES_META_COLUMNS",
    "OutputField",
    "aggregated_page_to_batch",
    "aggregated_schema",
    "check_dtype_backend",
    "empty_frame",
    "field_to_arrow",
    "label_space",
    "options_count",
    "parse_output_spec",
    "responses_schema",
    "result_column_name",
    "to_pandas",
    "type_mapping_table",
]

_STRING = pa.string()


def _list_of(value_type: pa.DataType) -> pa.DataType:
    # "element" is the name Parquet gives list items: the type then survives a round trip.
    return pa.list_(pa.field("element", value_type))


#: Arrow type of each Toloka output field type (STRING with ``allowed_values``
#: becomes ``dictionary<int32, string>`` instead, see :meth:`OutputField.arrow_type`).
ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": _STRING,
    "INTEGER": pa.int64(),
    "FLOAT": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "URL": _STRING,
    "FILE": _STRING,
    "COORDINATES": _STRING,
    "JSON": _STRING,
    "ARRAY_STRING": _list_of(_STRING),
    "ARRAY_INTEGER": _list_of(pa.int64()),
    "ARRAY_FLOAT": _list_of(pa.float64()),
    "ARRAY_BOOLEAN": _list_of(pa.bool_()),
    "ARRAY_URL": _list_of(_STRING),
    "ARRAY_FILE": _list_of(_STRING),
    "ARRAY_COORDINATES": _list_of(_STRING),
}

_NOTES: dict[str, str] = {
    "STRING": "free text",
    "URL": "the URL as text",
    "FILE": "the file id as text",
    "COORDINATES": 'text as Toloka sends it, e.g. "55.75,37.62"',
    "JSON": "the value re-serialised as JSON text (lossless, any JSON)",
}

_AGGREGATABLE = frozenset({"STRING", "INTEGER", "FLOAT", "BOOLEAN"})

#: Metadata columns of an aggregated-solutions frame, in order.
AGGREGATED_META_COLUMNS: tuple[str, ...] = ("pool_id", "task_id", "confidence")
#: Metadata columns of a raw-responses frame, in order.
RESPONSES_META_COLUMNS: tuple[str, ...] = (
    "pool_id",
    "task_id",
    "worker_id",
    "assignment_id",
    "status",
    "submitted",
)
_ALL_META = frozenset(AGGREGATED_META_COLUMNS) | frozenset(RESPONSES_META_COLUMNS)
_COLLISION_PREFIX = "output_values."


@dataclass(frozen=True)
class OutputField:
    """One output field of a Toloka project, as its output spec declares it.

    Parameters
    ----------
    name : str
        Field name, the key in ``output_values``.
    type : str
        Toloka type, one of the keys of :data:`ARROW_TYPES`.
    required : bool, default True
    allowed_values : tuple, optional
        The values a worker may choose from, in the spec's order.
    min_value, max_value : int or float, optional
        Bounds of an INTEGER or FLOAT field.
    hidden : bool, default False
    """

    name: str
    type: str
    required: bool = True
    allowed_values: tuple[Any, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    hidden: bool = False

    @classmethod
    def from_spec(cls, name: str, spec: Mapping[str, Any]) -> OutputField:
        """Build a field from its output-spec entry, e.g. ``{"type": "STRING", ...}``."""
        if not isinstance(spec, Mapping):
            raise InvalidArgumentError(
                f"Output spec of field {name!r} must be a mapping like "
                f'{{"type": "STRING"}}, got {type(spec).__name__}.'
            )
        field_type = spec.get("type")
        if field_type not in ARROW_TYPES:
            raise InvalidArgumentError(
                f"Output field {name!r} has unknown type {field_type!r}; "
                f"expected one of {sorted(ARROW_TYPES)}."
            )
        allowed = spec.get("allowed_values")
        if allowed is not None:
            if not isinstance(allowed, (list, tuple)) or not allowed:
                raise InvalidArgumentError(
                    f"allowed_values of output field {name!r} must be a non-empty list."
                )
            if len(set(allowed)) != len(allowed):
                raise InvalidArgumentError(
                    f"allowed_values of output field {name!r} has duplicates: {list(allowed)}."
                )
            allowed = tuple(allowed)
            for value in allowed:
                if not _python_value_ok(value, field_type):
                    raise InvalidArgumentError(
                        f"allowed value {value!r} of output field {name!r} is not of type {field_type}."
                    )
        return cls(
            name=str(name),
            type=str(field_type),
            required=bool(spec.get("required", True)),
            allowed_values=allowed,
            min_value=spec.get("min_value"),
            max_value=spec.get("max_value"),
            hidden=bool(spec.get("hidden", False)),
        )

    @property
    def is_categorical(self) -> bool:
        """Whether the field becomes an Arrow dictionary / pandas categorical column."""
        return self.type == "STRING" and self.allowed_values is not None

    @property
    def arrow_type(self) -> pa.DataType:
        """The Arrow type of this field's column."""
        if self.is_categorical:
            return pa.dictionary(pa.int32(), _STRING)
        return ARROW_TYPES[self.type]

    @property
    def n_options(self) -> int | None:
        """The number of possible answers ``Y``, when the spec bounds it.

        ``len(allowed_values)`` when given, 2 for BOOLEAN, ``max - min + 1``
        for an INTEGER with both bounds, otherwise None.
        """
        if self.allowed_values is not None:
            return len(self.allowed_values)
        if self.type == "BOOLEAN":
            return 2
        if self.type == "INTEGER" and self.min_value is not None and self.max_value is not None:
            return int(self.max_value) - int(self.min_value) + 1
        return None

    @property
    def is_aggregatable(self) -> bool:
        """Whether the server can aggregate this field (scalar STRING, INTEGER, FLOAT, BOOLEAN)."""
        return self.type in _AGGREGATABLE

    def to_spec(self) -> dict[str, Any]:
        """The output-spec entry of this field, as Toloka's API returns it."""
        spec: dict[str, Any] = {"type": self.type, "required": self.required}
        if self.allowed_values is not None:
            spec["allowed_values"] = list(self.allowed_values)
        if self.min_value is not None:
            spec["min_value"] = self.min_value
        if self.max_value is not None:
            spec["max_value"] = self.max_value
        if self.hidden:
            spec["hidden"] = True
        return spec


def parse_output_spec(output_spec: Mapping[str, Any]) -> dict[str, OutputField]:
    """Parse a project's ``task_spec.output_spec`` into fields, keeping its order.

    Raises
    ------
    InvalidArgumentError
        If the spec is not a mapping or declares an unknown type.
    """
    if not isinstance(output_spec, Mapping):
        raise InvalidArgumentError(
            f"output_spec must be a mapping of field name to spec, got {type(output_spec).__name__}."
        )
    return {str(name): OutputField.from_spec(str(name), spec) for name, spec in output_spec.items()}


def options_count(field: OutputField, observed: int) -> int:
    """``Y`` for skill-weighted confidence: the spec's bound, else the observed distinct answers.

    Fields without a declared set of values (free STRING, FLOAT, unbounded
    INTEGER) fall back to the number of distinct answers observed in the pool,
    at least 2.
    """
    declared = field.n_options
    if declared is not None:
        return declared
    return max(2, int(observed))


def result_column_name(field_name: str, meta_columns: Sequence[str] = AGGREGATED_META_COLUMNS) -> str:
    """The column name of an output field in a result frame.

    A field is named after itself unless that clashes with a metadata column
    (``pool_id``, ``task_id``, ``confidence``, ...); then it becomes
    ``"output_values.<name>"``, which cannot clash since Toloka field names
    contain no dots.
    """
    if field_name in meta_columns or field_name in _ALL_META:
        return _COLLISION_PREFIX + field_name
    return field_name


def aggregated_schema(fields: Sequence[OutputField]) -> pa.Schema:
    """Arrow schema of aggregated solutions: ``pool_id``, ``task_id``, ``confidence``, fields."""
    columns = [
        pa.field("pool_id", _STRING),
        pa.field("task_id", _STRING),
        pa.field("confidence", pa.float64()),
    ]
    columns += [pa.field(result_column_name(f.name), f.arrow_type) for f in fields]
    return pa.schema(columns)


#: Arrow type of the ``submitted`` column of raw responses (Toloka sends UTC).
SUBMITTED_TYPE = pa.timestamp("us", tz="UTC")


def responses_schema(fields: Sequence[OutputField]) -> pa.Schema:
    """Arrow schema of raw responses: metadata columns, then one column per field."""
    columns = [
        pa.field("pool_id", _STRING),
        pa.field("task_id", _STRING),
        pa.field("worker_id", _STRING),
        pa.field("assignment_id", _STRING),
        pa.field("status", _STRING),
        pa.field("submitted", SUBMITTED_TYPE),
    ]
    columns += [
        pa.field(result_column_name(f.name, RESPONSES_META_COLUMNS), f.arrow_type) for f in fields
    ]
    return pa.schema(columns)


# --------------------------------------------------------------------------- values

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _scalar_kind(field_type: str) -> str:
    base = field_type[len("ARRAY_") :] if field_type.startswith("ARRAY_") else field_type
    return {"INTEGER": "int", "FLOAT": "float", "BOOLEAN": "bool"}.get(base, "str")


def _python_scalar_ok(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "int":
        if isinstance(value, float):
            return math.isfinite(value) and value.is_integer() and _INT64_MIN <= value <= _INT64_MAX
        return isinstance(value, int) and _INT64_MIN <= value <= _INT64_MAX
    return isinstance(value, (int, float))


def _python_value_ok(value: Any, field_type: str) -> bool:
    if value is None or field_type == "JSON":
        return True
    kind = _scalar_kind(field_type)
    if field_type.startswith("ARRAY_"):
        return isinstance(value, list) and all(
            v is None or _python_scalar_ok(v, kind) for v in value
        )
    return _python_scalar_ok(value, kind)


def _describe_task(task_ids: Sequence[Any] | pa.Array | None, index: int) -> str | None:
    if task_ids is None:
        return None
    value = task_ids[index]
    if isinstance(value, pa.Scalar):
        value = value.as_py()
    return None if value is None else str(value)


def _raise_first_bad(
    values: Sequence[Any], field: OutputField, task_ids: Sequence[Any] | pa.Array | None
) -> None:
    for index, value in enumerate(values):
        ok = _python_value_ok(value, field.type)
        if ok and field.allowed_values is not None and value is not None:
            ok = value in field.allowed_values
        if not ok:
            task_id = _describe_task(task_ids, index)
            where = f"task {task_id!r}" if task_id is not None else f"row {index}"
            expected = f"of type {field.type}"
            if field.allowed_values is not None:
                expected += f" with allowed values {list(field.allowed_values)}"
            raise OutputValueError(
                f"Output field {field.name!r} of {where} has value {value!r}, "
                f"which is not {expected} as the project's output spec declares. "
                "Check the project's output spec or the data sent for this task.",
                task_id=task_id,
                field=field.name,
                value=value,
            )
    raise OutputValueError(  # pragma: no cover - the predicates mirror Arrow's checks
        f"Output field {field.name!r} has values that do not fit {field.type}.",
        task_id=None,
        field=field.name,
        value=None,
    )


def _coerce_scalar_array(array: pa.Array, kind: str) -> pa.Array | None:
    """Cast an inferred Arrow array to the kind's type, or None if it does not fit."""
    inferred = array.type
    if pa.types.is_null(inferred):
        target = {"str": _STRING, "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}[kind]
        return pa.nulls(len(array), target)
    if kind == "str":
        return array.cast(_STRING) if pa.types.is_string(inferred) or pa.types.is_large_string(inferred) else None
    if kind == "bool":
        return array if pa.types.is_boolean(inferred) else None
    if kind == "float":
        return array.cast(pa.float64()) if pa.types.is_integer(inferred) or pa.types.is_floating(inferred) else None
    if pa.types.is_integer(inferred):
        return array.cast(pa.int64())
    if pa.types.is_floating(inferred):
        finite = pc.is_finite(array)
        integral = pc.equal(pc.floor(array), array)
        in_range = pc.and_(pc.greater_equal(array, float(_INT64_MIN)), pc.less(array, float(2**63)))
        if pc.all(pc.and_(pc.and_(finite, integral), in_range)).as_py() in (True, None):
            return array.cast(pa.int64(), safe=False)
    return None


def field_to_arrow(
    values: Sequence[Any],
    field: OutputField,
    *,
    task_ids: Sequence[Any] | pa.Array | None = None,
) -> pa.Array:
    """Convert one field's JSON values to an Arrow array of the field's type, strictly.

    Parameters
    ----------
    values : sequence
        Python values as ``json.loads`` produced them; None is a missing value.
    field : OutputField
    task_ids : sequence or pyarrow.Array, optional
        Task ids aligned with ``values``, used only to name the task in errors.

    Returns
    -------
    pyarrow.Array
        Of type ``field.arrow_type``.

    Raises
    ------
    OutputValueError
        If a value does not fit the declared type or is not an allowed value;
        names the task and the field. Nothing is cast lossily: ``1.5`` in an
        INTEGER field is an error, ``1.0`` becomes ``1``.
    """
    if field.type == "JSON":
        texts = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
        return pa.array(texts, type=_STRING)
    kind = _scalar_kind(field.type)
    try:
        inferred = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        _raise_first_bad(values, field, task_ids)
        raise  # pragma: no cover
    if field.type.startswith("ARRAY_"):
        result = _coerce_list_array(inferred, kind, field)
    else:
        result = _coerce_scalar_array(inferred, kind)
    if result is None:
        _raise_first_bad(values, field, task_ids)
        raise AssertionError  # pragma: no cover
    if field.allowed_values is not None and not field.type.startswith("ARRAY_"):
        result = _apply_allowed_values(result, values, field, task_ids)
    return result


def _coerce_list_array(inferred: pa.Array, kind: str, field: OutputField) -> pa.Array | None:
    target = ARROW_TYPES[field.type]
    if pa.types.is_null(inferred.type):
        return pa.nulls(len(inferred), target)
    if not (pa.types.is_list(inferred.type) or pa.types.is_large_list(inferred.type)):
        return None
    items = _coerce_scalar_array(inferred.values, kind)
    if items is None:
        return None
    offsets = inferred.offsets
    return pa.ListArray.from_arrays(
        offsets, items, type=target, mask=inferred.is_null() if inferred.null_count else None
    )


def _apply_allowed_values(
    array: pa.Array,
    values: Sequence[Any],
    field: OutputField,
    task_ids: Sequence[Any] | pa.Array | None,
) -> pa.Array:
    assert field.allowed_values is not None
    allowed = pa.array(list(field.allowed_values), type=array.type)
    indices = pc.index_in(array, value_set=allowed)
    if indices.null_count != array.null_count:
        _raise_first_bad(values, field, task_ids)
    if field.is_categorical:
        return pa.DictionaryArray.from_arrays(indices.cast(pa.int32()), allowed)
    return array


def aggregated_page_to_batch(
    items: Sequence[Mapping[str, Any]], fields: Sequence[OutputField]
) -> pa.RecordBatch:
    """Convert the ``items`` of a ``GET /aggregated-solutions`` page to a typed batch.

    Parameters
    ----------
    items : list of dict
        Items as parsed from JSON: ``pool_id``, ``task_id``, ``confidence``,
        ``output_values``.
    fields : sequence of OutputField
        The aggregated fields, in column order.

    Returns
    -------
    pyarrow.RecordBatch
        With exactly :func:`aggregated_schema` ``(fields)``.

    Raises
    ------
    OutputValueError
        If an item lacks a task id, has a non-numeric confidence, or a value
        does not fit its field's type.
    """
    schema = aggregated_schema(fields)
    try:
        base = pa.array(items, type=pa.struct(list(schema)[:3]))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise OutputValueError(
            f"The server sent an aggregated solution that does not have string pool_id/task_id "
            f"and numeric confidence: {exc}",
            task_id=None,
            field="task_id",
            value=None,
        ) from exc
    pool_ids, task_ids, confidence = base.field(0), base.field(1), base.field(2)
    if task_ids.null_count:
        index = task_ids.is_null().index(True).as_py()
        raise OutputValueError(
            f"The server sent an aggregated solution without task_id (item {index} of the page).",
            task_id=None,
            field="task_id",
            value=None,
        )
    arrays = [pool_ids, task_ids, confidence]
    if fields:
        output_values = [item.get("output_values") or {} for item in items]
        for field in fields:
            column = [values.get(field.name) for values in output_values]
            arrays.append(field_to_arrow(column, field, task_ids=task_ids))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


# --------------------------------------------------------------------------- pandas

DtypeBackend = str
_DTYPE_BACKENDS = ("pyarrow", "numpy_nullable")


def check_dtype_backend(dtype_backend: Any) -> str:
    """Validate ``dtype_backend`` the way pandas does, returning it."""
    if dtype_backend not in _DTYPE_BACKENDS:
        raise InvalidArgumentError(
            f"dtype_backend {dtype_backend!r} is invalid, only 'numpy_nullable' and "
            "'pyarrow' are allowed."
        )
    return str(dtype_backend)


def _numpy_nullable_mapper() -> Callable[[pa.DataType], Any]:
    # The mapping pandas itself applies for dtype_backend="numpy_nullable".
    mapping: dict[pa.DataType, Any] = {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.uint8(): pd.UInt8Dtype(),
        pa.uint16(): pd.UInt16Dtype(),
        pa.uint32(): pd.UInt32Dtype(),
        pa.uint64(): pd.UInt64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
        pa.string(): pd.StringDtype(),
        pa.large_string(): pd.StringDtype(),
        pa.float32(): pd.Float32Dtype(),
        pa.float64(): pd.Float64Dtype(),
    }
    return mapping.get


TableLike = Union[pa.Table, pa.RecordBatch]


def to_pandas(data: TableLike, *, dtype_backend: str = "pyarrow") -> pd.DataFrame:
    """Convert Arrow data to a DataFrame with the requested dtype backend.

    Parameters
    ----------
    data : pyarrow.Table or pyarrow.RecordBatch
    dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
        Back-end data type applied to the resultant :class:`DataFrame`.
        Behaviour is as follows:

        * ``"numpy_nullable"``: returns nullable-dtype-backed :class:`DataFrame`;
          dictionary columns become ``category``, lists stay Python objects.
        * ``"pyarrow"``: returns pyarrow-backed nullable :class:`ArrowDtype`
          DataFrame.

    Returns
    -------
    DataFrame
        With a default RangeIndex.
    """
    backend = check_dtype_backend(dtype_backend)
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if backend == "pyarrow":
        return data.to_pandas(types_mapper=pd.ArrowDtype, ignore_metadata=True)
    return data.to_pandas(types_mapper=_numpy_nullable_mapper(), ignore_metadata=True)


def empty_frame(schema: pa.Schema, *, dtype_backend: str = "pyarrow") -> pd.DataFrame:
    """An empty DataFrame with every column of ``schema``, fully typed."""
    return to_pandas(schema.empty_table(), dtype_backend=dtype_backend)


def type_mapping_table() -> str:
    """The type mapping as a Markdown table, generated from this module.

    docs/reader.md embeds it; a test keeps the two equal.
    """
    rows = [
        "| Toloka type | Arrow type | `dtype_backend=\"pyarrow\"` | `dtype_backend=\"numpy_nullable\"` | notes |",
        "| --- | --- | --- | --- | --- |",
    ]
    examples = [("STRING + allowed_values", OutputField("f", "STRING", allowed_values=("a", "b")))]
    examples += [(name, OutputField("f", name)) for name in ARROW_TYPES]
    for label, field in examples:
        empty = pa.schema([pa.field("f", field.arrow_type)]).empty_table()
        arrow_dtype = to_pandas(empty, dtype_backend="pyarrow")["f"].dtype
        nullable_dtype = to_pandas(empty, dtype_backend="numpy_nullable")["f"].dtype
        note = _NOTES.get(field.type, "")
        if field.is_categorical:
            note = "categories are the allowed values, in the spec's order"
        rows.append(
            f"| {label} | `{field.arrow_type}` | `{arrow_dtype}` | `{nullable_dtype}` | {note} |"
        )
    rows.append(
        "| *confidence* | `double` | `double[pyarrow]` | `Float64` | always float, even when the server sends `1` |"
    )
    rows.append("| *pool_id, task_id* | `string` | `string[pyarrow]` | `string` | ids are always text |")
    return "\n".join(rows) + "\n"


def label_space(field: OutputField) -> list[Any] | None:
    """The full set of answers a field allows, for aggregation; None when unbounded.

    ``allowed_values`` in the spec's order when given, ``[False, True]`` for a
    BOOLEAN, ``min_value..max_value`` for an INTEGER bounded on both sides,
    otherwise None (the answers observed are then the label space). Dawid–Skene
    uses it so that a label nobody chose can still win, both in the bundled
    server and in ``df.toloka.aggregate_locally``.
    """
    if field.allowed_values is not None:
        return list(field.allowed_values)
    if field.type == "BOOLEAN":
        return [False, True]
    if field.type == "INTEGER" and field.min_value is not None and field.max_value is not None:
        return list(range(int(field.min_value), int(field.max_value) + 1))
    return None
