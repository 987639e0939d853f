"""Ids as text: the one conversion of task, worker and pool id columns to Arrow strings.

Toloka ids are strings. Frames built by hand often hold them as numbers, and a
column of integer ids with one missing value becomes ``float64`` in pandas, so
``astype(str)`` would turn ``9`` into ``"9.0"`` (and, in pandas 2, a missing
value into ``"nan"``), which then matches nothing on the server. Here integral
floats are written as integers and missing values stay missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["id_array"]

_EXACT_FLOAT_INT = 2.0**53  # floats beyond this are not exact integers


def _integral_float_as_int(value: Any) -> Any:
    if (
        isinstance(value, (float, np.floating))
        and np.isfinite(value)
        and float(value).is_integer()
        and abs(value) < _EXACT_FLOAT_INT
    ):
        return int(value)
    return value


def _integral_floats_as_int(series: pd.Series) -> pd.Series:
    numbers = series.to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(numbers)
    present = numbers[~missing]
    if not (np.isfinite(present).all() and (np.abs(present) < _EXACT_FLOAT_INT).all()):
        return series
    if not (present == np.round(present)).all():
        return series
    values = np.where(missing, 0, numbers).astype(np.int64)
    return pd.Series(pd.arrays.IntegerArray(values, missing), index=series.index)


def id_array(values: Any) -> pa.Array:
    """Convert a column of ids to an Arrow string array, keeping missing values null.

    Parameters
    ----------
    values : Series or array-like
        Ids of any dtype: strings, integers, floats holding integers (``9.0``
        becomes ``"9"``), categoricals of those, nullable or Arrow-backed.

    Returns
    -------
    pyarrow.Array
        Of type ``string``, one element per value, nulls where values are missing.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in (
        "floating",
        "mixed-integer-float",
    ):
        series = pd.to_numeric(series)
    elif series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in (
        "mixed",
        "mixed-integer",
    ):  # text and numbers together: 1001.0 must read "1001" like the 1001 beside it
        series = series.map(_integral_float_as_int, na_action="ignore")
    if pd.api.types.is_float_dtype(series.dtype):
        series = _integral_floats_as_int(series)
    text = series.astype("string[pyarrow]").array
    data = pa.array(text)
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks() if data.num_chunks else pa.array([], type=pa.string())
    return data.cast(pa.string())
