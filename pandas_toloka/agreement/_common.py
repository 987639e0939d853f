"""Inputs shared by the agreement measures: encoded responses, cells, aggregates, skills.

Every measure works on the integer codes of
:func:`pandas_toloka.aggregation._encoding.encode_responses` (tasks, workers and
labels in their natural order); the helpers here count the votes of each
``(group, label)`` cell, enumerate the pairs inside groups, and line up a
user's aggregate (task -> label) or skills (worker -> skill) with those codes.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..aggregation._encoding import (
    Encoded,
    Responses,
    check_distinct_names,
    check_frame,
    check_no_nulls,
    drop_null_labels,
    encode_column,
    encode_responses,
    encode_task_and_labels,
    user_stacklevel,
)
from ..aggregation.majority_vote import majority_vote
from ..errors import DroppedResponsesWarning, InvalidArgumentError

__all__ = [
    "Cells",
    "aligned_aggregate",
    "aligned_skills",
    "cells",
    "dedupe_identical",
    "encode",
    "encode_units",
    "entropy_of_shares",
    "first_per_task_and_worker",
    "pairs_within_groups",
]

#: Up to this many ``group x label`` cells the votes are counted densely.
DENSE_CELL_LIMIT = 1 << 24


def encode(
    responses: object, *, task: Hashable, worker: Hashable, label: Hashable, method: str
) -> Responses:
    """Validate and encode a responses frame (null labels dropped with a warning)."""
    return encode_responses(responses, task=task, worker=worker, label=label, method=method)


def encode_units(
    responses: object, *, task: Hashable, worker: Hashable, label: Hashable, method: str
) -> tuple[Encoded, Encoded]:
    """Tasks and labels only, for the measures where the worker does not matter (its column
    must still exist without nulls): one string column less to factorize."""
    check_distinct_names([task, label], task=task, worker=worker, label=label)
    frame = check_frame(responses, [task, worker, label], purpose=f"for {method}")
    frame = drop_null_labels(frame, label, method=method)
    check_no_nulls(frame[worker], role="worker")
    labels = _small_integer_labels(frame[label])
    if labels is None:
        return encode_task_and_labels(frame, task=task, label=label)
    return encode_column(frame[task], role="task"), labels


#: Integer labels spanning at most this many values are coded by offset, not hashed.
SMALL_INTEGER_SPAN = 1 << 16


def _small_integer_labels(series: pd.Series) -> Encoded | None:
    """Integer labels (no nulls) of a small span: codes by offset from the smallest and a
    table of the values present -- the same codes and uniques as factorizing, sorted."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_integer_dtype(dtype):
        return None
    if isinstance(dtype, pd.CategoricalDtype) or not len(series):
        return None
    if pd.api.types.is_unsigned_integer_dtype(dtype) and "64" in str(dtype):
        return None  # may not fit int64: hashed instead
    values = series.to_numpy(dtype=np.int64)
    low, high = int(values.min()), int(values.max())
    if high - low >= SMALL_INTEGER_SPAN:
        return None
    shifted = values - low if low else values
    present = np.bincount(shifted, minlength=high - low + 1) > 0
    uniques = pd.Index(pd.array(np.flatnonzero(present) + low, dtype=dtype))
    if present.all():  # the codes are the shifted values themselves
        return Encoded(shifted.astype(np.intp, copy=False), uniques)
    code_of = np.cumsum(present) - 1
    return Encoded(code_of[shifted].astype(np.intp, copy=False), uniques)


@dataclass(frozen=True)
class Cells:
    """Vote counts of the non-empty ``(group, label)`` cells, sorted by group then label."""

    group: np.ndarray
    label: np.ndarray
    count: np.ndarray


def cells(groups: np.ndarray, labels: np.ndarray, n_groups: int, n_labels: int) -> Cells:
    """Count the responses of each ``(group, label)`` pair that occurs."""
    n_labels = max(n_labels, 1)
    if n_groups * n_labels <= DENSE_CELL_LIMIT:
        counts = np.bincount(groups * n_labels + labels, minlength=n_groups * n_labels)
        keys = np.flatnonzero(counts)
        count = counts[keys]
    else:
        keys, count = np.unique(groups.astype(np.int64) * n_labels + labels, return_counts=True)
    return Cells(keys // n_labels, keys % n_labels, count.astype(np.int64))


def pairs_within_groups(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``(i, j)``, ``i < j``, of positions in the same group.

    ``sizes`` are the lengths of consecutive groups of an array sorted by group;
    the pairs are returned in ``(i, j)`` lexicographic order.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n = int(sizes.sum())
    group_of = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.cumsum(sizes) - sizes
    position = np.arange(n, dtype=np.int64) - starts[group_of]
    later = sizes[group_of] - 1 - position  # partners after each element
    first = np.repeat(np.arange(n, dtype=np.int64), later)
    block = np.cumsum(later) - later
    second = first + (np.arange(len(first), dtype=np.int64) - np.repeat(block, later) + 1)
    return first, second


def entropy_of_shares(shares: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """``-sum p log p`` per group of the shares ``p`` listed with their group (``0 log 0 = 0``)."""
    positive = shares > 0
    terms = np.zeros(len(shares))
    terms[positive] = -shares[positive] * np.log(shares[positive])
    return np.bincount(groups, weights=terms, minlength=n_groups)


def dedupe_identical(data: Responses) -> np.ndarray:
    """Positions of the responses kept when identical ``(task, worker, label)`` repeats count once."""
    n_workers = max(data.workers.size, 1)
    n_labels = max(data.labels.size, 1)
    key = (
        data.tasks.codes.astype(np.int64) * n_workers + data.workers.codes
    ) * n_labels + data.labels.codes
    _, first = np.unique(key, return_index=True)
    return np.sort(first)


def first_per_task_and_worker(data: Responses, *, method: str) -> np.ndarray:
    """Positions of each worker's first response to each task; the others dropped with a warning."""
    key = data.tasks.codes.astype(np.int64) * max(data.workers.size, 1) + data.workers.codes
    _, first = np.unique(key, return_index=True)
    dropped = data.n_responses - len(first)
    if dropped:
        warnings.warn(
            DroppedResponsesWarning(
                f"{method}: dropped {dropped} of {data.n_responses} response(s) that repeat a "
                "worker's answer to the same task (the first response of each worker to each "
                "task is kept)."
            ),
            stacklevel=user_stacklevel(),
        )
    return np.sort(first)


def _as_series(value: object, *, argument: str, index_name: str) -> pd.Series:
    if isinstance(value, Mapping):
        return pd.Series(list(value.values()), index=list(value.keys()), dtype=object)
    if isinstance(value, pd.Series):
        return value
    raise InvalidArgumentError(
        f"{argument} must be a DataFrame, a pandas Series or a mapping of {index_name} -> "
        f"value, got {type(value).__name__}."
    )


def _positions(keys: pd.Index, wanted: pd.Index, *, argument: str, role: str) -> np.ndarray:
    """Where each of ``wanted`` sits in ``keys`` (-1 when absent); ``keys`` must be unique."""
    if not keys.is_unique:
        repeated = list(keys[keys.duplicated()].unique()[:5])
        raise InvalidArgumentError(
            f"{argument} lists some {role}(s) more than once ({repeated!r}); give one value per {role}."
        )
    try:
        return np.asarray(keys.get_indexer(wanted), dtype=np.intp)
    except TypeError:  # pragma: no cover - incomparable index types
        return np.asarray(
            pd.Index(keys.astype(object)).get_indexer(wanted.astype(object)), dtype=np.intp
        )


def aligned_aggregate(
    aggregate: object,
    data: Responses,
    responses: pd.DataFrame,
    *,
    task: Hashable,
    worker: Hashable,
    label: Hashable,
) -> np.ndarray:
    """The aggregate label code of each task: ``-1`` without an aggregate, ``-2`` for an
    aggregate label outside the responses' labels (which no response equals).

    ``aggregate`` is ``None`` (majority vote of ``responses``), a result frame with the
    ``task`` and ``label`` columns, or a Series / mapping of task -> label.
    """
    if aggregate is None:
        with warnings.catch_warnings():  # the nulls were counted when encoding
            warnings.simplefilter("ignore", DroppedResponsesWarning)
            aggregate = majority_vote(responses, task=task, worker=worker, label=label)
    if isinstance(aggregate, pd.DataFrame):
        frame = check_frame(aggregate, [task, label], purpose="in aggregate=", argument="aggregate")
        series = pd.Series(frame[label].array, index=pd.Index(frame[task].array))
    else:
        series = _as_series(aggregate, argument="aggregate", index_name="task")
    series = series[series.notna().to_numpy(dtype=bool)]
    where = _positions(series.index, data.tasks.uniques, argument="aggregate", role="task")
    if data.tasks.size and not (where >= 0).any():
        raise InvalidArgumentError(
            "aggregate shares no task with the responses: its task ids "
            f"({list(series.index[:3])!r}...) are not those of the task column "
            f"({list(data.tasks.uniques[:3])!r}...); check the ids and their dtype."
        )
    codes = np.full(data.tasks.size, -1, dtype=np.intp)
    known = where >= 0
    values = pd.Index(series.array.take(where[known]))
    label_codes = _label_positions(data.labels, values)
    codes[known] = np.where(label_codes >= 0, label_codes, -2)
    return codes


def _label_positions(labels: Encoded, values: pd.Index) -> np.ndarray:
    try:
        return np.asarray(labels.uniques.get_indexer(values), dtype=np.intp)
    except (TypeError, ValueError):
        return np.asarray(
            pd.Index(labels.uniques.astype(object)).get_indexer(values.astype(object)),
            dtype=np.intp,
        )


def aligned_skills(skills: object, workers: Encoded, *, argument: str = "skills") -> np.ndarray:
    """Each worker's skill (a probability in ``[0, 1]``), by worker code; every worker needs one."""
    series = _as_series(skills, argument=argument, index_name="worker")
    where = _positions(series.index, workers.uniques, argument=argument, role="worker")
    if (where < 0).any():
        missing = list(workers.uniques[where < 0][:5])
        raise InvalidArgumentError(
            f"{argument} has no value for {int((where < 0).sum())} worker(s) (e.g. {missing!r}); "
            "give a skill for every worker who answered."
        )
    try:
        values = pd.to_numeric(pd.Series(series.array.take(where)), errors="raise")
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"{argument} must hold numbers: {exc}") from exc
    if not (np.isfinite(array) & (array >= 0) & (array <= 1)).all():
        raise InvalidArgumentError(
            f"{argument} must hold probabilities between 0 and 1 (no NaN); got values from "
            f"{np.nanmin(array) if len(array) else 'none'} to {np.nanmax(array) if len(array) else 'none'}."
        )
    return array
