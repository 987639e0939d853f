"""Values written as text (Toloka's results export) -> Arrow arrays of a field's type.

The export writes every value as text: numbers in decimal, booleans ``true`` /
``false``, JSON fields and arrays as JSON text, a missing value as an empty
cell. The conversion is vectorised where the type allows (text, numbers,
booleans) and strict: a value that is not of the field's type is an
:class:`~pandas_toloka.errors.OutputValueError` naming the task and the field,
as for values read from the API; JSON and arrays go through strict JSON
(``_protocol.loads_json``) and :func:`~._values.field_to_arrow`, the reference conversion.
Datetimes (:func:`text_to_timestamps`) are read here too, for every reader:
the results export's cells and the API's ``submitted``/``created`` strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .._protocol import loads_json
from ..errors import OutputValueError
from ._fields import SUBMITTED_TYPE, _SpecField
from ._values import field_to_arrow

__all__ = ["infer_text_type", "text_to_arrow", "text_to_timestamps"]

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
) -> pa.Array | pa.ChunkedArray:
    """Convert one field's text cells to an Arrow array of the field's type, strictly.

    Parameters
    ----------
    texts : pyarrow.Array or ChunkedArray of string
        The cells; null is a missing value.
    field : OutputField or InputField
    task_ids : sequence or pyarrow.Array, optional
        Task ids aligned with ``texts``, used only to name the task in errors.

    Returns
    -------
    pyarrow.Array or ChunkedArray
        Of type ``field.arrow_type`` (chunked as ``texts`` is, for the text
        and number types).

    Raises
    ------
    OutputValueError
        If a cell is not of the field's type, not an allowed value, or outside
        ``min_value``..``max_value``.
    """
    texts = texts.cast(pa.string())  # a chunked array stays chunked: nothing is copied
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
            trimmed = pc.utf8_trim_whitespace(texts)
            ok = pc.match_substring_regex(trimmed, pattern)
            if not pc.all(pc.fill_null(ok, True)).as_py():
                raise _bad(field, texts, ok, task_ids)
            try:
                array = pc.cast(_unsigned(trimmed), field.arrow_type)
            except (pa.ArrowInvalid, OverflowError):
                ok = pa.array([v is None or _fits_int64(v) for v in texts.to_pylist()], pa.bool_())
                raise _bad(field, texts, ok, task_ids) from None
            if kind == "FLOAT":  # 1e400 reads as infinity: not a value a field can hold
                ok = pc.is_finite(array)
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


def _unsigned(trimmed: pa.Array) -> pa.Array:
    """Numbers' text without a leading ``+`` (which Arrow's cast to integers refuses)."""
    if pc.any(pc.starts_with(trimmed, "+")).as_py():
        return pc.replace_substring_regex(trimmed, r"^\+", "")
    return trimmed


def _first_fits(texts: pa.Array, pattern: str) -> bool:
    """Whether the first cell matches ``pattern``: a column whose first cell fails is refused
    without a pass over all of it."""
    return bool(pc.match_substring_regex(pc.utf8_trim_whitespace(texts.slice(0, 1)), pattern)[0])


def infer_text_type(texts: pa.Array | pa.ChunkedArray) -> str:
    """The narrowest Toloka type every non-empty cell fits: BOOLEAN, INTEGER, FLOAT or STRING.

    Used for the columns of a results export read without a spec (the reader says so).
    INTEGER needs every cell to fit in 64 bits (a column with a larger integer is
    FLOAT), FLOAT every cell to be finite as a double (``1e400`` makes it STRING).
    """
    texts = texts.cast(pa.string()).drop_null()
    if len(texts) == 0:
        return "STRING"
    booleans = pa.array(_TRUE + _FALSE)
    if (
        texts[0].as_py() in booleans.to_pylist()
        and pc.all(pc.is_in(texts, value_set=booleans)).as_py()
    ):
        return "BOOLEAN"
    if _first_fits(texts, _INTEGER):
        trimmed = pc.utf8_trim_whitespace(texts)
        if pc.all(pc.match_substring_regex(trimmed, _INTEGER)).as_py():
            try:
                pc.cast(_unsigned(trimmed), pa.int64())
                return "INTEGER"
            except pa.ArrowInvalid:  # digits only, so a value beyond 64 bits
                pass
    if _first_fits(texts, _FLOAT):
        trimmed = pc.utf8_trim_whitespace(texts)
        if (
            pc.all(pc.match_substring_regex(trimmed, _FLOAT)).as_py()
            and pc.all(pc.is_finite(pc.cast(trimmed, pa.float64()))).as_py()
        ):
            return "FLOAT"
    return "STRING"


_ZONED = r"[T ][0-9]{2}(:[0-9]{2}){0,2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"
_LONG_FRACTION = r"(\.[0-9]{6})[0-9]+"


def _to_timestamps(texts: pa.Array) -> pa.Array:
    try:  # the usual case: UTC without a zone suffix, a fraction of 0-6 digits
        return texts.cast(pa.timestamp("us")).cast(SUBMITTED_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Some or all with a zone suffix ("Z", "+03:00"), or a fraction of 7-9 digits
    # (cut to microseconds): the cells without a suffix are UTC.
    texts = pc.replace_substring_regex(texts, _LONG_FRACTION, r"\1")
    zoned = pc.fill_null(pc.match_substring_regex(texts, _ZONED), False)
    none = pa.scalar(None, pa.string())
    naive = pc.if_else(zoned, none, texts).cast(pa.timestamp("us")).cast(SUBMITTED_TYPE)
    suffixed = pc.replace_substring_regex(pc.if_else(zoned, texts, none), "z$", "Z")
    return pc.if_else(zoned, suffixed.cast(SUBMITTED_TYPE), naive)


def text_to_timestamps(texts: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Convert ISO-8601 datetime texts to ``timestamp[us, UTC]``, vectorised.

    Toloka writes UTC without a zone suffix (``2026-12-06T14:07:54.486``), which
    is read as UTC; a suffix (``Z``, ``+03:00``) is honoured. A date alone is
    midnight; a fraction beyond microseconds is cut. Null stays null.

    Parameters
    ----------
    texts : pyarrow.Array or ChunkedArray of string

    Returns
    -------
    pyarrow.Array or ChunkedArray
        Of type :data:`SUBMITTED_TYPE`, chunked as ``texts`` is.

    Raises
    ------
    ValueError
        If a cell is not an ISO-8601 datetime: the message names its row and
        text. Readers re-raise it as their documented error.
    """
    texts = texts.cast(pa.string())
    try:
        return _to_timestamps(texts)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    lo, hi = 0, len(texts)  # bisect to the first cell that does not convert
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            _to_timestamps(texts.slice(lo, mid - lo))
            lo = mid
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            hi = mid
    raise ValueError(f"row {lo} has {texts[lo].as_py()!r}, which is not an ISO-8601 datetime")
