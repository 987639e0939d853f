"""Embedding columns (lists, arrays, Arrow ``list``/``fixed_size_list``) as float64 matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import InvalidArgumentError
from ._golden import golden_items, golden_task_ids

__all__ = ["embedding_column", "embedding_matrix", "golden_embeddings", "null_embeddings"]


def _arrow_lists(series: pd.Series) -> pa.Array | None:
    dtype = series.dtype
    if not isinstance(dtype, pd.ArrowDtype):
        return None
    kind = dtype.pyarrow_dtype
    if not (
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    ):
        raise InvalidArgumentError(
            f"The embedding column {series.name!r} has the Arrow type {kind}; it needs a list, "
            "large_list or fixed_size_list of numbers."
        )
    return pa.chunked_array(pa.array(series.array)).combine_chunks()


def null_embeddings(series: pd.Series) -> np.ndarray:
    """A boolean per row: True where the embedding is missing (None/NaN/NA, not an array)."""
    if isinstance(series.dtype, pd.ArrowDtype):
        return series.isna().to_numpy(dtype=bool)
    return np.fromiter(
        (value is None or (np.ndim(value) == 0 and pd.isna(value)) for value in series),
        dtype=bool,
        count=len(series),
    )


def embedding_matrix(series: pd.Series) -> np.ndarray:
    """The null-free embedding column as a ``(n, dim)`` float64 matrix.

    Raises
    ------
    InvalidArgumentError
        If the embeddings are not one-dimensional numeric vectors of one length,
        or hold a non-finite number.
    """
    lists = _arrow_lists(series)
    matrix = _from_objects(series) if lists is None else _from_arrow(lists, series.name)
    if matrix.size and not np.isfinite(matrix).all():
        raise InvalidArgumentError(
            f"The embedding column {series.name!r} holds NaN or infinite numbers; every "
            "embedding must be finite."
        )
    return matrix


def _from_arrow(lists: pa.Array, name: object) -> np.ndarray:
    n = len(lists)
    if pa.types.is_fixed_size_list(lists.type):
        dim = lists.type.list_size
        values = lists.flatten()
    else:
        offsets = np.asarray(lists.offsets)
        sizes = np.diff(offsets)
        dim = int(sizes[0]) if n else 0
        if n and (sizes != dim).any():
            raise InvalidArgumentError(
                f"The embeddings in column {name!r} have different lengths "
                f"({int(sizes.min())}..{int(sizes.max())}); all must have the same."
            )
        values = lists.flatten()
    if values.null_count:
        raise InvalidArgumentError(f"The embeddings in column {name!r} hold null numbers.")
    if not (pa.types.is_floating(values.type) or pa.types.is_integer(values.type)):
        raise InvalidArgumentError(
            f"The embeddings in column {name!r} hold {values.type} values; they must be numbers."
        )
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64).reshape(n, dim)


def _from_objects(series: pd.Series) -> np.ndarray:
    rows = []
    for position, value in enumerate(series.array):
        try:
            row = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"The embedding at index {series.index[position]!r} of column {series.name!r} "
                f"is not a vector of numbers: {exc}"
            ) from exc
        if row.ndim != 1:
            raise InvalidArgumentError(
                f"The embedding at index {series.index[position]!r} of column {series.name!r} "
                f"has {row.ndim} dimension(s); each must be a flat vector."
            )
        rows.append(row)
    if not rows:
        return np.zeros((0, 0))
    sizes = {len(row) for row in rows}
    if len(sizes) > 1:
        raise InvalidArgumentError(
            f"The embeddings in column {series.name!r} have different lengths "
            f"({min(sizes)}..{max(sizes)}); all must have the same."
        )
    return np.vstack(rows)


def embedding_column(matrix: np.ndarray) -> np.ndarray:
    """Rows of a float64 matrix as an object array of 1-D float64 arrays.

    Not an Arrow ``list<double>`` column: pandas (3.1) cannot read such a
    column back from Parquet with a plain ``pd.read_parquet`` (it fails on the
    dtype name it stored), while an object column of arrays round-trips, and
    other readers (pyarrow, polars, DuckDB) see ``list<double>`` either way.
    """
    out = np.empty(len(matrix), dtype=object)
    for position, row in enumerate(np.ascontiguousarray(matrix, dtype=np.float64)):
        out[position] = row
    return out


def golden_embeddings(
    golden: object, tasks: pd.Index, *, dim: int, task_like: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the golden tasks present in ``tasks`` and their known embeddings.

    Parameters
    ----------
    golden : mapping or Series, optional
        Task id -> known (true) embedding.

    Returns
    -------
    (task_codes, matrix)
        ``(g,)`` and ``(g, dim)``; empty without ``golden``.

    Raises
    ------
    InvalidArgumentError
        If ``golden`` is malformed, lists a task twice, or an embedding has the
        wrong length.
    """
    if golden is None:
        return np.zeros(0, dtype=np.intp), np.zeros((0, dim))
    keys, values = golden_items(golden, known="embedding")
    index = golden_task_ids(keys, task_like)
    matrix = embedding_matrix(pd.Series(values, dtype=object, name="golden="))
    if len(keys) and matrix.shape[1] != dim:
        raise InvalidArgumentError(
            f"golden= embeddings have {matrix.shape[1]} numbers; the responses' have {dim}."
        )
    position = tasks.get_indexer(index)
    present = position >= 0
    return position[present].astype(np.intp), matrix[present].reshape(-1, dim)
