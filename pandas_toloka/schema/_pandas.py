"""Arrow to pandas for either ``dtype_backend``, and the generated type mapping table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeAlias, Union, cast

import pandas as pd
import pyarrow as pa

from ..errors import InvalidArgumentError
from ._fields import ARROW_TYPES, NOTES, OutputField

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


TableLike: TypeAlias = Union[pa.Table, pa.RecordBatch]  # noqa: UP007 (a runtime alias)


def to_pandas(data: TableLike, *, dtype_backend: DtypeBackend = "pyarrow") -> pd.DataFrame:
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


def empty_frame(schema: pa.Schema, *, dtype_backend: DtypeBackend = "pyarrow") -> pd.DataFrame:
    """An empty DataFrame with every column of ``schema``, fully typed."""
    return to_pandas(schema.empty_table(), dtype_backend=dtype_backend)


def type_mapping_table() -> str:
    """The type mapping as a Markdown table, generated from this module.

    docs/reader.md embeds it; a test keeps the two equal.
    """
    rows = [
        '| Toloka type | Arrow type | `dtype_backend="pyarrow"` | `dtype_backend="numpy_nullable"` | notes |',
        "| --- | --- | --- | --- | --- |",
    ]
    examples = [("STRING + allowed_values", OutputField("f", "STRING", allowed_values=("a", "b")))]
    examples += [(name, OutputField("f", name)) for name in ARROW_TYPES]
    for label, field in examples:
        empty = pa.schema([pa.field("f", field.arrow_type)]).empty_table()
        arrow_dtype = to_pandas(empty, dtype_backend="pyarrow")["f"].dtype
        nullable_dtype = to_pandas(empty, dtype_backend="numpy_nullable")["f"].dtype
        note = NOTES.get(field.type, "")
        if field.is_categorical:
            note = "categories are the allowed values, in the spec's order"
        rows.append(
            f"| {label} | `{field.arrow_type}` | `{arrow_dtype}` | `{nullable_dtype}` | {note} |"
        )
    rows.append(
        "| *confidence* | `double` | `double[pyarrow]` | `Float64` | always float, even when the server sends `1` |"
    )
    rows.append(
        "| *pool_id, task_id* | `string` | `string[pyarrow]` | `string` | ids are always text |"
    )
    return "\n".join(rows) + "\n"
