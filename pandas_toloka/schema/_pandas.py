"""Arrow to pandas for either ``dtype_backend``, and the generated type mapping table."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeAlias, Union, cast

import pandas as pd
import pyarrow as pa

from ..errors import InvalidArgumentError
from ._fields import ARROW_TYPES, INPUT_ARROW_TYPES, NOTES, SUBMITTED_TYPE, InputField, OutputField
from ._values import field_to_arrow

#: ``dtype_backend=`` of every function returning a frame, as in :func:`pandas.read_parquet`.
DtypeBackend = Literal["pyarrow", "numpy_nullable"]
_DTYPE_BACKENDS = ("pyarrow", "numpy_nullable")


def check_dtype_backend(dtype_backend: Any) -> DtypeBackend:
    """Validate ``dtype_backend`` the way pandas does, returning it."""
    if not isinstance(dtype_backend, str) or dtype_backend not in _DTYPE_BACKENDS:
        # pandas' own wording (pandas.util._validators.check_dtype_backend)
        raise InvalidArgumentError(
            f"dtype_backend {dtype_backend} is invalid, only 'numpy_nullable' and "
            "'pyarrow' are allowed."
        )
    return cast(DtypeBackend, dtype_backend)


def _numpy_nullable_mapper() -> Callable[[pa.DataType], Any]:
    # The mapping pandas itself applies for dtype_backend="numpy_nullable"; dictionaries
    # are left to pyarrow, which makes them pandas categoricals of the default string dtype.
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


_LARGE_STRING = pd.ArrowDtype(pa.large_string())


def _pyarrow_mapper(arrow_type: pa.DataType) -> Any:
    # Every dtype chosen here survives df.to_parquet + pd.read_parquet() unchanged. Text is
    # large_string, as pandas' own read_parquet(dtype_backend="pyarrow") gives it: a
    # string[pyarrow] ArrowDtype would come back as pandas' StringDtype. pandas cannot rebuild
    # an ArrowDtype of a dictionary or a list from the name it stores in Parquet metadata (the
    # whole file then fails to read), so a dictionary becomes a pandas categorical and a list an
    # object column of numpy arrays: pyarrow's conversions, which read_parquet() also makes.
    if pa.types.is_dictionary(arrow_type) or pa.types.is_nested(arrow_type):
        return None
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return _LARGE_STRING
    return pd.ArrowDtype(arrow_type)


TableLike: TypeAlias = Union[pa.Table, pa.RecordBatch]  # noqa: UP007 (a runtime alias)


def to_pandas(data: TableLike, *, dtype_backend: DtypeBackend = "pyarrow") -> pd.DataFrame:
    """Convert Arrow data to a DataFrame with the requested dtype backend.

    Parameters
    ----------
    data : pyarrow.Table or pyarrow.RecordBatch
    dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
        Back-end data type applied to the resultant :class:`DataFrame`.
        Behaviour is as follows:

        * ``"numpy_nullable"``: returns nullable-dtype-backed :class:`DataFrame`.
        * ``"pyarrow"``: returns pyarrow-backed nullable :class:`ArrowDtype`
          DataFrame, text as ``large_string[pyarrow]``.

        With either, enumerated (dictionary) columns become ``category`` whose
        categories are the allowed values, in the spec's order, as pandas'
        default string dtype, and lists become object columns of numpy arrays.
        Every dtype survives ``to_parquet`` / ``read_parquet()`` unchanged.

    Returns
    -------
    DataFrame
        With a default RangeIndex.
    """
    backend = check_dtype_backend(dtype_backend)
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    mapper = _pyarrow_mapper if backend == "pyarrow" else _numpy_nullable_mapper()
    return data.to_pandas(types_mapper=mapper, ignore_metadata=True)


def pages_to_pandas(
    pages: Iterable[TableLike], *, empty: TableLike, dtype_backend: DtypeBackend = "pyarrow"
) -> pd.DataFrame:
    """Convert pages of rows to one DataFrame, a page at a time as they come.

    Each page is converted as soon as it arrives and the frames are
    concatenated without copying their Arrow data, so the peak is the result
    plus about one page, not the result twice (an Arrow table and its frame).

    Parameters
    ----------
    pages : iterable of pyarrow.Table or pyarrow.RecordBatch
        With one schema.
    empty : pyarrow.Table or pyarrow.RecordBatch
        The frame's rows when there are no pages (its dictionaries give the categories).
    dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'

    Returns
    -------
    DataFrame
        With a default RangeIndex.
    """
    frames = [to_pandas(page, dtype_backend=dtype_backend) for page in pages]
    if not frames:
        return to_pandas(empty, dtype_backend=dtype_backend)
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)


def empty_frame(schema: pa.Schema, *, dtype_backend: DtypeBackend = "pyarrow") -> pd.DataFrame:
    """An empty DataFrame with every column of ``schema``, fully typed."""
    return to_pandas(schema.empty_table(), dtype_backend=dtype_backend)


def _dtype_name(dtype: Any) -> str:
    if isinstance(dtype, pd.CategoricalDtype):
        return f"category` of `{dtype.categories.dtype}"
    return str(dtype)


def type_mapping_table() -> str:
    """The type mapping as a Markdown table, generated from this module.

    docs/reader.md embeds it; a test keeps the two equal.
    """
    rows = [
        '| Toloka type | Arrow type | `dtype_backend="pyarrow"` | `dtype_backend="numpy_nullable"` | notes |',
        "| --- | --- | --- | --- | --- |",
    ]
    examples: list[tuple[str, OutputField | InputField]] = [
        ("STRING + allowed_values", OutputField("f", "STRING", allowed_values=("a", "b")))
    ]
    examples += [(name, OutputField("f", name)) for name in ARROW_TYPES]
    examples += [
        (name, InputField("f", name)) for name in INPUT_ARROW_TYPES if name not in ARROW_TYPES
    ]
    examples += [
        ("*confidence*", OutputField("f", "FLOAT")),
        ("*pool_id, task_id, ...*", OutputField("f", "STRING")),
    ]
    for label, field in examples:
        # The strict converter gives a dictionary column all its allowed values, as the reader does.
        empty = pa.table({"f": field_to_arrow([], field)})
        arrow_dtype = _dtype_name(to_pandas(empty, dtype_backend="pyarrow")["f"].dtype)
        nullable_dtype = _dtype_name(to_pandas(empty, dtype_backend="numpy_nullable")["f"].dtype)
        note = NOTES.get(field.type, "")
        if field.is_categorical:
            note = "categories are the allowed values, in the spec's order"
        elif field.type == "ARRAY_JSON":
            note = NOTES[field.type] + "; a numpy array per row"
        elif field.type.startswith("ARRAY_"):
            note = "a numpy array per row (see below)"
        if label == "*confidence*":
            note = "always float, even when the server sends `1`"
        elif label.startswith("*pool_id"):
            note = "ids are always text"
        rows.append(
            f"| {label} | `{field.arrow_type}` | `{arrow_dtype}` | `{nullable_dtype}` | {note} |"
        )
    times = pa.schema([pa.field("f", SUBMITTED_TYPE)]).empty_table()
    rows.append(
        f"| *submitted* (responses) | `{SUBMITTED_TYPE}` "
        f"| `{to_pandas(times, dtype_backend='pyarrow')['f'].dtype}` "
        f"| `{to_pandas(times, dtype_backend='numpy_nullable')['f'].dtype}` | Toloka sends UTC |"
    )
    return "\n".join(rows) + "\n"
