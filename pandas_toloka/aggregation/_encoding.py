"""Input validation and integer encoding shared by the aggregation algorithms.

Every algorithm works on integer codes: task, worker and label columns are
factorised once into ``0..n-1`` codes whose order is the *natural* order of
the values (numbers numerically, strings lexicographically, categoricals in
category order, ``False < True``). The sorted unique values are kept as a
:class:`pandas.Index` of the column's own dtype, so that decoding gives values
of the same kind (and dtype) as the input.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError, MissingColumnsError

__all__ = [
    "Encoded",
    "build_result",
    "check_distinct_names",
    "check_frame",
    "check_no_nulls",
    "encode_column",
    "encode_labels",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Encoded:
    """A factorised column.

    Attributes
    ----------
    codes : numpy.ndarray
        ``intp`` codes, one per row, indexing ``uniques``.
    uniques : pandas.Index
        The distinct values in natural sort order, with the column's dtype.
    """

    codes: np.ndarray
    uniques: pd.Index

    @property
    def size(self) -> int:
        """Number of distinct values."""
        return len(self.uniques)


def check_frame(
    frame: object, columns: Sequence[Hashable], *, purpose: str, argument: str = "responses"
) -> pd.DataFrame:
    """Check that ``frame`` is a DataFrame holding ``columns``.

    Raises
    ------
    InvalidArgumentError
        If ``frame`` is not a DataFrame.
    MissingColumnsError
        If some of ``columns`` are absent.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InvalidArgumentError(
            f"{argument} must be a pandas DataFrame, got {type(frame).__name__}."
        )
    present = list(frame.columns)
    missing = [str(c) for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnsError(missing, [str(c) for c in present], purpose=purpose)
    return frame


def check_distinct_names(outputs: Sequence[Hashable], **roles: Hashable) -> None:
    """Raise if two roles (task, worker, label, ...) name the same column.

    ``outputs`` are the roles' columns that appear in the result frame; none of
    them may be called ``"confidence"``, the name of the result's confidence column.
    """
    seen: dict[Hashable, str] = {}
    for role, name in roles.items():
        if name in seen:
            raise InvalidArgumentError(
                f"{role}= and {seen[name]}= both name the column {name!r}; "
                "each role needs its own column."
            )
        seen[name] = role
    if "confidence" in outputs:
        raise InvalidArgumentError(
            f"{seen.get('confidence', 'a column')}= may not be 'confidence': that name is "
            "taken by the result's confidence column; rename the column first."
        )


def check_no_nulls(series: pd.Series, role: str) -> None:
    nulls = series.isna()
    if nulls.any():
        count = int(nulls.sum())
        first = series.index[np.flatnonzero(nulls.to_numpy(dtype=bool))[0]]
        raise InvalidArgumentError(
            f"The {role} column {series.name!r} has {count} null value(s) (first at index "
            f"{first!r}). Every response needs a {role}: drop or fill those rows first."
        )


def encode_column(series: pd.Series, *, role: str) -> Encoded:
    """Factorise a column into codes sorted in the values' natural order.

    Parameters
    ----------
    series : pandas.Series
        The column (any dtype backend).
    role : str
        ``"task"``, ``"worker"`` or ``"label"``, used in error messages.

    Returns
    -------
    Encoded

    Raises
    ------
    InvalidArgumentError
        If the column holds nulls, or values that cannot be hashed or sorted.
    """
    check_no_nulls(series, role)
    try:
        codes, uniques = series.factorize(sort=True)
    except TypeError as exc:
        raise InvalidArgumentError(
            f"The {role} column {series.name!r} holds values that cannot be hashed and "
            f"sorted ({exc}); use one type of scalar per column."
        ) from exc
    if not isinstance(uniques, pd.Index):  # pragma: no cover - pandas always gives an Index
        uniques = pd.Index(uniques)
    return Encoded(np.asarray(codes, dtype=np.intp), uniques)


def _as_label_index(labels: Iterable[object], like: pd.Series) -> pd.Index:
    values = list(labels)
    try:
        array = pd.array(values, dtype=like.dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"labels= {values!r} cannot be converted to the dtype {like.dtype} of the label "
            f"column {like.name!r}: {exc}"
        ) from exc
    index = pd.Index(array)
    if index.hasnans:
        raise InvalidArgumentError(
            f"labels= holds null values or values outside the dtype {like.dtype} of the label "
            f"column {like.name!r}: {values!r}."
        )
    return index.unique().sort_values()


def encode_labels(series: pd.Series, labels: Iterable[object] | None = None) -> Encoded:
    """Factorise the label column, optionally over a given label space.

    Parameters
    ----------
    series : pandas.Series
        The label column.
    labels : iterable, optional
        The full label space (e.g. an output field's ``allowed_values``). Values
        are converted to the column's dtype; duplicates are ignored. Default:
        the labels observed in ``series``.

    Returns
    -------
    Encoded
        Codes index ``uniques``, the sorted label space.

    Raises
    ------
    InvalidArgumentError
        If a label is null, or an observed label is not in ``labels``.
    """
    observed = encode_column(series, role="label")
    if labels is None:
        return observed
    if isinstance(labels, (str, bytes)):
        raise InvalidArgumentError(
            f"labels= must be a collection of labels, not the single string {labels!r}."
        )
    space = _as_label_index(labels, series)
    position = space.get_indexer(observed.uniques)
    if (position < 0).any():
        unknown = list(observed.uniques[position < 0])[:10]
        raise InvalidArgumentError(
            f"The label column {series.name!r} holds value(s) {unknown!r} that are not in "
            f"labels= {list(space)!r}."
        )
    codes = position.astype(np.intp)[observed.codes] if len(observed.codes) else observed.codes
    return Encoded(codes, space)


def build_result(
    task_name: Hashable,
    tasks: pd.Index,
    columns: dict[Hashable, pd.Index],
    confidence: np.ndarray,
) -> pd.DataFrame:
    """Assemble the one-row-per-task result frame.

    Parameters
    ----------
    task_name : hashable
        Name of the task column.
    tasks : pandas.Index
        Task ids, already sorted.
    columns : dict
        Label column name -> values (one per task) as an Index of the input dtype.
    confidence : numpy.ndarray
        One float per task.

    Returns
    -------
    pandas.DataFrame
        Columns ``task_name``, the label columns, ``confidence`` (float64), with a
        default RangeIndex.
    """
    data: dict[Hashable, object] = {task_name: tasks.array}
    for name, values in columns.items():
        data[name] = values.array
    data["confidence"] = np.asarray(confidence, dtype=np.float64)
    return pd.DataFrame(data, index=pd.RangeIndex(len(tasks)))
