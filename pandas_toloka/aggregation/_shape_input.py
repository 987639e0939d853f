"""A column of rectangles or points per response read into flat coordinate arrays."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InvalidArgumentError
from .areas import shape_list

__all__ = ["KINDS", "Shapes", "read_shapes", "shapes_of_value"]

#: The keys of each kind of shape, and the Toloka ``shape`` name it accepts.
KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "box": (("left", "top", "width", "height"), "rectangle"),
    "point": (("left", "top"), "point"),
}


@dataclass(frozen=True)
class Shapes:
    """The shapes of a column, flattened.

    Attributes
    ----------
    offsets : numpy.ndarray
        ``(n_rows + 1,)`` int64: row ``i``'s shapes are ``coords[offsets[i]:offsets[i+1]]``.
    coords : numpy.ndarray
        ``(n_shapes, d)`` float64 in the kind's key order (``left, top, width, height``
        or ``left, top``).
    missing : numpy.ndarray
        ``(n_rows,)`` bool, True where the value is null (no answer).
    """

    offsets: np.ndarray
    coords: np.ndarray
    missing: np.ndarray


def _check(
    coords: np.ndarray, kind: str, name: Hashable, rows: np.ndarray, index: pd.Index
) -> None:
    bad = ~np.isfinite(coords).all(axis=1)
    if kind == "box":
        bad |= (coords[:, 2] < 0) | (coords[:, 3] < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InvalidArgumentError(
            f"The {name!r} column has {int(bad.sum())} shape(s) with a missing or non-finite "
            f"coordinate{' or a negative width/height' if kind == 'box' else ''} (first in the "
            f"row at index {index[rows[first]]!r}: {coords[first].tolist()})."
        )


def _from_arrow(series: pd.Series, kind: str) -> Shapes | None:
    dtype = series.dtype
    if not isinstance(dtype, pd.ArrowDtype):
        return None
    arrow = dtype.pyarrow_dtype
    if not (pa.types.is_list(arrow) or pa.types.is_large_list(arrow)):
        return None
    if not pa.types.is_struct(arrow.value_type):
        return None
    keys, shape_name = KINDS[kind]
    fields = {arrow.value_type.field(i).name for i in range(arrow.value_type.num_fields)}
    missing_keys = [k for k in keys if k not in fields]
    if missing_keys:
        raise InvalidArgumentError(
            f"The {series.name!r} column's structs lack the field(s) {missing_keys}; each "
            f"{'rectangle' if kind == 'box' else 'point'} needs {list(keys)}."
        )
    array = pa.chunked_array(series.array._pa_array).combine_chunks()  # noqa: SLF001
    lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(array) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = array.flatten()
    if values.null_count:
        raise InvalidArgumentError(f"The {series.name!r} column holds a null shape inside a list.")
    if "shape" in fields:
        names = pc.unique(values.field("shape")).to_pylist()
        if any(n not in (shape_name, None) for n in names):
            raise InvalidArgumentError(
                f"The {series.name!r} column holds shapes {names}; only {shape_name!r} is "
                "aggregated here (parse_areas splits an answer by kind)."
            )
    coords = np.column_stack(
        [
            values.field(k).cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
            for k in keys
        ]
    ).reshape(-1, len(keys))
    missing = array.is_null().to_numpy(zero_copy_only=False)
    return Shapes(offsets, coords, np.asarray(missing, dtype=bool))


def shapes_of_value(value: object, kind: str, where: Hashable) -> list[list[float]] | None:
    """The coordinates of one answer (list of dicts, JSON text, one dict); None when null."""
    keys, shape_name = KINDS[kind]
    shapes = shape_list(value, where)
    if shapes is None:
        return None
    out = []
    for position, shape in enumerate(shapes):
        drawn = shape.get("shape", shape_name)
        if drawn != shape_name:
            raise InvalidArgumentError(
                f"row {where!r}, shape {position}: a {drawn!r} where {shape_name}s are "
                "aggregated; split the answer by kind with parse_areas first."
            )
        out.append([_number(shape, key) for key in keys])
    return out


def _number(shape: Mapping[str, Any], key: str) -> float:
    value = shape.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return math.nan  # reported with the row by _check
    return float(value)


def read_shapes(series: pd.Series, *, kind: str) -> Shapes:
    """Flatten a column of rectangles (``kind="box"``) or points (``kind="point"``).

    Accepts an Arrow ``list<struct<...>>`` column (as :func:`parse_areas` returns) or
    Python values: lists of dicts, JSON text, NumPy arrays of dicts. Null means no
    answer; an empty list is an answer with no shape.

    Raises
    ------
    InvalidArgumentError
        If a value is not a list of shapes of the kind, or a coordinate is missing,
        not finite, or a width/height is negative.
    """
    width = len(KINDS[kind][0])
    shapes = _from_arrow(series, kind)
    if shapes is None:
        lengths = np.zeros(len(series), dtype=np.int64)
        missing = np.zeros(len(series), dtype=bool)
        flat: list[list[float]] = []
        for i, (index, value) in enumerate(zip(series.index, series.tolist())):
            coords = shapes_of_value(value, kind, index)
            if coords is None:
                missing[i] = True
                continue
            lengths[i] = len(coords)
            flat.extend(coords)
        offsets = np.zeros(len(series) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        array = np.asarray(flat, dtype=np.float64).reshape(-1, width)
        shapes = Shapes(offsets, array, missing)
    rows = np.repeat(np.arange(len(series)), np.diff(shapes.offsets))
    _check(shapes.coords, kind, series.name, rows, series.index)
    return shapes
