"""Values written as text (Toloka's results export) -> Arrow arrays of a field's type.

The export writes every value as text: numbers in decimal, booleans ``true`` /
``false``, JSON fields and arrays as JSON text, a missing value as an empty
cell. The conversion is vectorised where the type allows (text, numbers,
booleans) and strict: a value that is not of the field's type is an
:class:`~pandas_toloka.errors.OutputValueError` naming the task and the field,
as for values read from the API; JSON and arrays go through strict JSON
(``_protocol.loads_json``) and :func:`~._values.field_to_arrow`, the reference conversion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .._protocol import loads_json
from ..errors import OutputValueError
from ._fields import _SpecField
from ._values import field_to_arrow

__all__ = ["infer_text_type", "text_to_arrow"]

_TRUE, _FALSE = ("true", "True", "TRUE"), ("false", "False", "FALSE")
_INTEGER = r"^[+-]?[0-9]+$"
_FLOAT = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def _bad(field: _SpecField, texts: pa.Array, ok: pa.Array, task_ids: Any) -> OutputValueError:
    index = pc.index(pc.fill_null(ok, True), False).as_py()
    value = texts[index].as_py()
    task = None if task_ids is None else task_ids[index]
    task = task.as_py() if isinstance(task, pa.Scalar) else task
    where = f"task {task!r}" if task is not None else f"row {index}"
    return OutputValueError(
        f"{field.ROLE} field {field.name!r} of {where} has the text {value!r}, which is not "
        f"of type {field.type} as the project's {field.ROLE.lower()} spec declares.",
        task_id=None if task is None else str(task),
        field=field.name,
        value=value,
    )


def text_to_arrow(
    texts: pa.Array | pa.ChunkedArray,
    field: _SpecField,
    *,
    task_ids: Sequence[Any] | pa.Array | None = None,
) -> pa.Array:
    """Convert one field's text cells to an Arrow array of the field's type, strictly.

    Parameters
    ----------
    texts : pyarrow.Array of string
        The cells; null is a missing value.
    field : OutputField or InputField
    task_ids : sequence or pyarrow.Array, optional
        Task ids aligned with ``texts``, used only to name the task in errors.

    Returns
    -------
    pyarrow.Array
        Of type ``field.arrow_type``.

    Raises
    ------
    OutputValueError
        If a cell is not of the field's type, not an allowed value, or outside
        ``min_value``..``max_value``.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    texts = texts.cast(pa.string())
    kind = field.type
    if kind in ("INTEGER", "FLOAT") or kind == "BOOLEAN":
        if kind == "BOOLEAN":
            true = pc.is_in(texts, value_set=pa.array(_TRUE))
            ok = pc.or_(
                pc.or_(true, pc.is_in(texts, value_set=pa.array(_FALSE))), pc.is_null(texts)
            )
            array = pc.if_else(pc.is_null(texts), pa.scalar(None, pa.bool_()), true)
        else:
            pattern = _INTEGER if kind == "INTEGER" else _FLOAT
            ok = pc.match_substring_regex(pc.utf8_trim_whitespace(texts), pattern)
            if not pc.all(pc.fill_null(ok, True)).as_py():
                raise _bad(field, texts, ok, task_ids)
            try:
                array = pc.cast(pc.utf8_trim_whitespace(texts), field.arrow_type)
            except (pa.ArrowInvalid, OverflowError):
                ok = pa.array([v is None or _fits_int64(v) for v in texts.to_pylist()], pa.bool_())
                raise _bad(field, texts, ok, task_ids) from None
        if not pc.all(pc.fill_null(ok, True)).as_py():
            raise _bad(field, texts, ok, task_ids)
        if (
            field.allowed_values is not None
            or field.min_value is not None
            or field.max_value is not None
        ):
            return field_to_arrow(array.to_pylist(), field, task_ids=task_ids)
        return array
    if kind == "JSON" or kind.startswith("ARRAY_"):
        values: list[Any] = []
        for index, text in enumerate(texts.to_pylist()):
            if text is None:
                values.append(None)
                continue
            try:
                values.append(loads_json(text, control_characters=True))  # raw tabs in strings
            except ValueError:
                ok = pa.array([i != index for i in range(len(texts))], pa.bool_())
                raise _bad(field, texts, ok, task_ids) from None
        return field_to_arrow(values, field, task_ids=task_ids)
    # Text types (STRING, URL, FILE, COORDINATES): the cells are the values.
    if field.allowed_values is not None:
        return field_to_arrow(texts.to_pylist(), field, task_ids=task_ids)
    return texts


def _fits_int64(text: str) -> bool:
    try:
        return -(2**63) <= int(text) < 2**63
    except ValueError:
        return False


def infer_text_type(texts: pa.Array | pa.ChunkedArray) -> str:
    """The narrowest Toloka type every non-empty cell fits: BOOLEAN, INTEGER, FLOAT or STRING.

    Used for the columns of a results export read without a spec (the reader says so).
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    texts = texts.cast(pa.string()).drop_null()
    if len(texts) == 0:
        return "STRING"
    if pc.all(pc.is_in(texts, value_set=pa.array(_TRUE + _FALSE))).as_py():
        return "BOOLEAN"
    trimmed = pc.utf8_trim_whitespace(texts)
    if pc.all(pc.match_substring_regex(trimmed, _INTEGER)).as_py() and all(
        _fits_int64(t) for t in trimmed.to_pylist()
    ):
        return "INTEGER"
    if pc.all(pc.match_substring_regex(trimmed, _FLOAT)).as_py():
        return "FLOAT"
    return "STRING"
