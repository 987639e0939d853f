"""Segmentation masks in and out of frames: 2-D boolean arrays <-> ``list<list<bool>>`` columns."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InvalidArgumentError
from ._area_types import MASK_TYPE

__all__ = ["mask_arrays", "masks_column", "read_masks"]


def _arrow_nested(series: pd.Series) -> pa.ChunkedArray | None:
    dtype = series.dtype
    if not isinstance(dtype, pd.ArrowDtype):
        return None
    arrow = dtype.pyarrow_dtype
    if (
        pa.types.is_list(arrow)
        or pa.types.is_large_list(arrow)
        or pa.types.is_fixed_size_list(arrow)
    ):
        return pa.chunked_array(series.array._pa_array)  # noqa: SLF001 - the Arrow data itself
    return None


def _check_values(array: np.ndarray, where: str) -> np.ndarray:
    if array.dtype == bool:
        return array
    if array.dtype.kind in "iuf":
        flat = array.ravel()
        if not np.isin(flat, (0, 1)).all():
            raise InvalidArgumentError(
                f"{where}: a mask holds values other than 0/1 or booleans; pass booleans "
                "(True where the pixel belongs to the area)."
            )
        return array.astype(bool)
    raise InvalidArgumentError(
        f"{where}: a mask must hold booleans (or 0/1), got dtype {array.dtype}."
    )


def _from_arrow(
    chunked: pa.ChunkedArray, index: pd.Index, name: Hashable
) -> list[np.ndarray | None]:
    out: list[np.ndarray | None] = []
    position = 0
    for chunk in chunked.chunks:
        if pa.types.is_fixed_size_list(chunk.type):
            chunk = chunk.cast(pa.list_(chunk.type.value_type))
        rows = chunk.flatten()
        if pa.types.is_fixed_size_list(rows.type):
            rows = rows.cast(pa.list_(rows.type.value_type))
        if not (pa.types.is_list(rows.type) or pa.types.is_large_list(rows.type)):
            raise InvalidArgumentError(
                f"The mask column {name!r} must hold 2-D masks (lists of rows), got {chunk.type}."
            )
        heights = pc.list_value_length(chunk).to_numpy(zero_copy_only=False)
        widths = pc.list_value_length(rows).to_numpy(zero_copy_only=False)
        if rows.null_count or rows.flatten().null_count:
            raise InvalidArgumentError(
                f"The mask column {name!r} has a null row or pixel inside a mask; masks must "
                "be complete."
            )
        pixels = rows.flatten().to_numpy(zero_copy_only=False)
        nulls = chunk.is_null().to_numpy(zero_copy_only=False)
        row_start = 0
        pixel_start = 0
        for i in range(len(chunk)):
            if nulls[i]:
                out.append(None)
                position += 1
                continue
            height = int(heights[i])
            row_widths = widths[row_start : row_start + height]
            where = f"mask at index {index[position]!r}"
            width = int(row_widths[0]) if height else 0
            if height == 0 or width == 0 or (row_widths != width).any():
                raise InvalidArgumentError(
                    f"{where}: a mask must be a non-empty rectangle of pixels (rows of equal length)."
                )
            values = np.asarray(pixels[pixel_start : pixel_start + height * width])
            out.append(_check_values(values, where).reshape(height, width))
            row_start += height
            pixel_start += height * width
            position += 1
    return out


def read_masks(series: pd.Series) -> list[np.ndarray | None]:
    """Each value of a mask column as a 2-D bool array (None where null).

    Accepts an object column of 2-D arrays or nested lists (bool or 0/1), or an
    Arrow ``list<list<bool|integer>>`` column (fixed-size lists too).

    Raises
    ------
    InvalidArgumentError
        If a value is not a non-empty 2-D array of booleans or 0/1.
    """
    chunked = _arrow_nested(series)
    if chunked is not None:
        return _from_arrow(chunked, series.index, series.name)
    out: list[np.ndarray | None] = []
    for index, value in zip(series.index, series.tolist()):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            out.append(None)
            continue
        where = f"mask at index {index!r}"
        try:
            array = np.asarray(value)
        except ValueError as exc:  # ragged nested lists
            raise InvalidArgumentError(f"{where}: not a rectangular 2-D array ({exc}).") from exc
        if (
            array.dtype == object
            and array.ndim == 1
            and len(array)
            and isinstance(array[0], np.ndarray)
        ):
            try:
                array = np.stack(list(array))
            except ValueError as exc:
                raise InvalidArgumentError(f"{where}: rows of unequal length ({exc}).") from exc
        if array.ndim != 2 or array.size == 0:
            raise InvalidArgumentError(
                f"{where}: a mask must be a non-empty 2-D array (height x width), "
                f"got shape {array.shape}."
            )
        out.append(_check_values(array, where))
    return out


def masks_column(masks: Sequence[np.ndarray], index: pd.Index | None = None) -> pd.Series:
    """2-D bool arrays as a ``list<list<bool>>`` Arrow column (the nested type Parquet,
    polars and DuckDB read back as lists of rows)."""
    heights = np.array([m.shape[0] for m in masks], dtype=np.int64)
    widths = np.repeat(np.array([m.shape[1] for m in masks], dtype=np.int64), heights)
    outer = np.zeros(len(masks) + 1, dtype=np.int32)
    np.cumsum(heights, out=outer[1:])
    inner = np.zeros(len(widths) + 1, dtype=np.int64)
    np.cumsum(widths, out=inner[1:])
    flat = np.concatenate([m.ravel() for m in masks]) if len(masks) else np.zeros(0, dtype=bool)
    inner_type = MASK_TYPE.value_type
    if inner[-1] > np.iinfo(np.int32).max:
        raise InvalidArgumentError(
            "The masks hold more than 2**31 pixels in all; aggregate fewer tasks at a time."
        )
    rows = pa.ListArray.from_arrays(
        pa.array(inner.astype(np.int32)), pa.array(flat), type=inner_type
    )
    array = pa.ListArray.from_arrays(pa.array(outer), rows, type=MASK_TYPE)
    return pd.Series(pd.arrays.ArrowExtensionArray(array), index=index)


def mask_arrays(values: pd.Series) -> list[np.ndarray | None]:
    """The masks of a column as 2-D NumPy boolean arrays.

    Parameters
    ----------
    values : pandas.Series
        A mask column: the ``list<list<bool>>`` column the segmentation
        methods return, or any column they accept.

    Returns
    -------
    list of numpy.ndarray
        One ``(height, width)`` bool array per row, None where the value is null.

    Raises
    ------
    InvalidArgumentError
        If ``values`` is not a Series or a value is not a 2-D mask.

    Examples
    --------
    >>> column = pd.Series([[[True, False], [False, True]]])
    >>> mask_arrays(column)[0]
    array([[ True, False],
           [False,  True]])
    """
    if not isinstance(values, pd.Series):
        raise InvalidArgumentError(
            f"values must be a pandas Series of masks, got {type(values).__name__}."
        )
    return read_masks(values)
