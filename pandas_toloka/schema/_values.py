"""Strict conversion of JSON values to Arrow arrays of a field's declared type."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import OutputValueError
from ._fields import OutputField, _SpecField, aggregated_schema
from ._scalars import INT64_MIN, python_value_ok, scalar_kind

_STRING = pa.string()


def _unwrap_numpy(value: Any) -> Any:
    """``json.dumps``' fallback for what a Parquet round trip makes of JSON values: NumPy
    arrays (of lists and objects) and scalars."""
    if hasattr(value, "tolist"):  # numpy.ndarray and numpy scalars
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _describe_task(task_ids: Sequence[Any] | pa.Array | None, index: int) -> str | None:
    if task_ids is None:
        return None
    value = task_ids[index]
    if isinstance(value, pa.Scalar):
        value = value.as_py()
    return None if value is None else str(value)


def _raise_first_bad(
    values: Sequence[Any], field: _SpecField, task_ids: Sequence[Any] | pa.Array | None
) -> None:
    for index, value in enumerate(values):
        ok = python_value_ok(value, field.type)
        if ok and field.allowed_values is not None and value is not None:
            ok = value in field.allowed_values
        if not ok:
            task_id = _describe_task(task_ids, index)
            where = f"task {task_id!r}" if task_id is not None else f"row {index}"
            expected = f"of type {field.type}"
            if field.allowed_values is not None:
                expected += f" with allowed values {list(field.allowed_values)}"
            raise OutputValueError(
                f"{field.ROLE} field {field.name!r} of {where} has value {value!r}, "
                f"which is not {expected} as the project's {field.ROLE.lower()} spec declares. "
                f"Check the project's {field.ROLE.lower()} spec or the data sent for this task.",
                task_id=task_id,
                field=field.name,
                value=value,
            )
    raise OutputValueError(  # pragma: no cover - the predicates mirror Arrow's checks
        f"{field.ROLE} field {field.name!r} has values that do not fit {field.type}.",
        task_id=None,
        field=field.name,
        value=None,
    )


def _coerce_scalar_array(array: pa.Array, kind: str) -> pa.Array | None:
    """Cast an inferred Arrow array to the kind's type, or None if it does not fit."""
    inferred = array.type
    if pa.types.is_null(inferred):
        target = {"str": _STRING, "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}[
            kind
        ]
        return pa.nulls(len(array), target)
    if kind == "str":
        return (
            array.cast(_STRING)
            if pa.types.is_string(inferred) or pa.types.is_large_string(inferred)
            else None
        )
    if kind == "bool":
        return array if pa.types.is_boolean(inferred) else None
    if kind == "float":
        return (
            array.cast(pa.float64())
            if pa.types.is_integer(inferred) or pa.types.is_floating(inferred)
            else None
        )
    if pa.types.is_integer(inferred):
        return array.cast(pa.int64())
    if pa.types.is_floating(inferred):
        finite = pc.is_finite(array)
        integral = pc.equal(pc.floor(array), array)
        in_range = pc.and_(pc.greater_equal(array, float(INT64_MIN)), pc.less(array, float(2**63)))
        if pc.all(pc.and_(pc.and_(finite, integral), in_range)).as_py() in (True, None):
            return array.cast(pa.int64(), safe=False)
    return None


def field_to_arrow(
    values: Sequence[Any],
    field: _SpecField,
    *,
    task_ids: Sequence[Any] | pa.Array | None = None,
) -> pa.Array:
    """Convert one field's JSON values to an Arrow array of the field's type, strictly.

    Parameters
    ----------
    values : sequence
        Python values as ``json.loads`` produced them; None is a missing value.
    field : OutputField or InputField
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
        INTEGER field is an error, ``1.0`` becomes ``1``. INTEGER and FLOAT
        values must lie within the field's ``min_value``/``max_value``. The
        error is an ``OutputValueError`` for input fields too (its message
        says which).
    """
    if field.type == "JSON":
        texts = [
            None if v is None else json.dumps(v, ensure_ascii=False, default=_unwrap_numpy)
            for v in values
        ]
        return pa.array(texts, type=_STRING)
    if field.type == "ARRAY_JSON":
        if not all(v is None or isinstance(v, list) for v in values):
            _raise_first_bad(values, field, task_ids)
        items = [
            None if v is None else [json.dumps(item, ensure_ascii=False) for item in v]
            for v in values
        ]
        return pa.array(items, type=field.arrow_type)
    kind = scalar_kind(field.type)
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
    _check_bounds(result, field, task_ids)
    return result


def _check_bounds(
    array: pa.Array, field: _SpecField, task_ids: Sequence[Any] | pa.Array | None
) -> None:
    """Raise if an INTEGER or FLOAT value lies outside ``min_value``..``max_value``."""
    if field.type not in ("INTEGER", "FLOAT"):
        return
    bad = None
    if field.min_value is not None:
        bad = pc.less(array, field.min_value)
    if field.max_value is not None:
        above = pc.greater(array, field.max_value)
        bad = above if bad is None else pc.or_(bad, above)
    if bad is None or not pc.any(bad).as_py():
        return
    index = pc.index(bad, True).as_py()
    value = array[index].as_py()
    task_id = _describe_task(task_ids, index)
    where = f"task {task_id!r}" if task_id is not None else f"row {index}"
    raise OutputValueError(
        f"{field.ROLE} field {field.name!r} of {where} has value {value!r}, outside "
        f"[{field.min_value}, {field.max_value}] as the project's {field.ROLE.lower()} spec declares.",
        task_id=task_id,
        field=field.name,
        value=value,
    )


def _coerce_list_array(inferred: pa.Array, kind: str, field: _SpecField) -> pa.Array | None:
    target = field.arrow_type
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
    field: _SpecField,
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
