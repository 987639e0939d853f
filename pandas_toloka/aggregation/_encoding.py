"""Input validation and integer encoding shared by the aggregation algorithms.

Every algorithm works on integer codes: task, worker and label columns are
factorized once into ``0..n-1`` codes whose order is the *natural* order of
the values (numbers numerically, strings lexicographically, categoricals in
category order, ``False < True``). The sorted unique values are kept as a
:class:`pandas.Index` of the column's own dtype, so that decoding gives values
of the same kind (and dtype) as the input.
"""

from __future__ import annotations

import inspect
import logging
import os
import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError
from ._strings import arrow_strings, factorize_strings
from ._threads import parallel_map

__all__ = [
    "Encoded",
    "Responses",
    "drop_null_labels",
    "encode_responses",
    "encode_task_and_labels",
    "build_result",
    "check_iteration_args",
    "user_stacklevel",
    "check_distinct_names",
    "check_frame",
    "check_unique_columns",
    "check_no_nulls",
    "check_single_kind",
    "encode_column",
    "encode_labels",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Encoded:
    """A factorized column.

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
    frame: object,
    columns: Sequence[Hashable] | Mapping[str, Hashable],
    *,
    purpose: str,
    argument: str = "responses",
) -> pd.DataFrame:
    """Check that ``frame`` is a DataFrame holding ``columns``.

    ``columns`` may map each argument that names a column to its value (e.g.
    ``{"task": "task_id"}``): the error then says which argument picks a
    missing column.

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
    check_unique_columns(frame, argument=argument)
    present = list(frame.columns)
    names = dict(columns) if isinstance(columns, Mapping) else {}
    wanted = list(names.values()) if names else list(columns)
    missing = [str(c) for c in wanted if c not in frame.columns]
    if missing:
        arguments = {str(column): name for name, column in names.items()}
        raise MissingColumnsError(
            missing, [str(c) for c in present], purpose=purpose, arguments=arguments
        )
    return frame


def check_unique_columns(frame: pd.DataFrame, *, argument: str = "responses") -> None:
    """Raise if two columns of ``frame`` share a name (a column would then be a frame).

    Raises
    ------
    InvalidArgumentError
        Naming the duplicated columns and how to keep one of each.
    """
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        names = list(dict.fromkeys(duplicated))[:10]
        raise InvalidArgumentError(
            f"{argument} has several columns named {names!r}: each column needs its own name. "
            "Rename them, or keep the first of each with "
            "frame.loc[:, ~frame.columns.duplicated()]."
        )


def check_single_kind(series: pd.Series, role: str) -> None:
    """Refuse a column mixing text and numbers: ``'1'`` and ``1`` would be two values.

    One rule for the functions and the ``df.toloka`` accessor (whose inference
    sends such a column here too): refuse, and say how to make it one type.
    """
    if series.dtype != object:
        return
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind == "mixed":
        compound = series.dropna().map(lambda v: not pd.api.types.is_scalar(v))
        if compound.any():
            first = compound.index[np.flatnonzero(compound.to_numpy(dtype=bool))[0]]
            raise InvalidArgumentError(
                f"The {role} column {series.name!r} holds {type(series[first]).__name__} values "
                f"(first at index {first!r}): answers must be scalars -- strings, numbers or "
                "booleans. Aggregate one element of them (e.g. frame[col].str[0]) or turn each "
                "into text (frame[col].map(json.dumps)) first."
            )
    if kind in ("mixed", "mixed-integer"):
        kinds = sorted({type(v).__name__ for v in series.dropna().head(10_000)})
        raise InvalidArgumentError(
            f"The {role} column {series.name!r} mixes values of types {kinds} (e.g. '1' and 1, "
            "which would count as two different values): convert it to one type first, e.g. "
            f"frame[{series.name!r}].astype(str), or .astype(int) when every value is a number."
        )


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
    """Factorize a column into codes sorted in the values' natural order.

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
    if role == "label":
        check_single_kind(series, role)
    strings = arrow_strings(series)
    if strings is not None:
        codes, uniques = factorize_strings(series, strings)
        return Encoded(codes, uniques)
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
    """Factorize the label column, optionally over a given label space.

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


#: From this many responses the columns are factorized on parallel threads.
PARALLEL_ENCODING_MIN = 200_000


@dataclass(frozen=True)
class Responses:
    """A responses frame as integer codes.

    Attributes
    ----------
    tasks, workers, labels : Encoded
        The factorized columns (labels over the label space).
    n_dropped : int
        Responses left out because their label was null.
    """

    tasks: Encoded
    workers: Encoded
    labels: Encoded
    n_dropped: int

    @property
    def n_responses(self) -> int:
        """Number of responses kept."""
        return len(self.tasks.codes)


def user_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside this package (the user's call)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame = inspect.currentframe()
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back
        level += 1
    return level - 1


def drop_null_labels(frame: pd.DataFrame, label: Hashable, *, method: str) -> pd.DataFrame:
    """Drop the responses without a label, with a :class:`DroppedResponsesWarning` saying how many."""
    nulls = frame[label].isna().to_numpy(dtype=bool)
    count = int(nulls.sum())
    if count:
        warnings.warn(
            DroppedResponsesWarning(
                f"{method}: dropped {count} of {len(frame)} response(s) whose label "
                f"({label!r}) is missing."
            ),
            stacklevel=user_stacklevel(),
        )
        frame = frame[~nulls]
    return frame


def encode_responses(
    responses: object,
    *,
    task: Hashable,
    worker: Hashable,
    label: Hashable,
    labels: Iterable[object] | None = None,
    method: str,
) -> Responses:
    """Validate a responses frame and factorize its task, worker and label columns.

    Responses with a null label are dropped (with a warning naming the
    count); a null task or worker id is an error.

    Raises
    ------
    InvalidArgumentError, MissingColumnsError
        As :func:`check_frame`, :func:`check_distinct_names`, :func:`encode_column`.
    """
    check_distinct_names([task, label], task=task, worker=worker, label=label)
    frame = check_frame(
        responses, {"task": task, "worker": worker, "label": label}, purpose=f"for {method}"
    )
    n_before = len(frame)
    frame = drop_null_labels(frame, label, method=method)
    tasks, workers, labs = _encode_columns(
        frame, [(task, "task"), (worker, "worker"), (label, "label")], labels
    )
    return Responses(tasks, workers, labs, n_before - len(frame))


def encode_task_and_labels(
    frame: pd.DataFrame,
    *,
    task: Hashable,
    label: Hashable,
    labels: Iterable[object] | None = None,
) -> tuple[Encoded, Encoded]:
    """Factorize the task column and the label column (over ``labels``), as
    :func:`encode_responses` does, for methods that do not look at workers."""
    tasks, labs = _encode_columns(frame, [(task, "task"), (label, "label")], labels)
    return tasks, labs


def _encode_columns(
    frame: pd.DataFrame, roles: list[tuple[Hashable, str]], labels: Iterable[object] | None
) -> list[Encoded]:
    """Encode each ``(column, role)``; large frames on parallel threads (Arrow's hashing and
    NumPy's gathers release the GIL), the task column, the costliest, first."""

    def encode(item: tuple[Hashable, str]) -> Encoded:
        column, role = item
        if role == "label":
            return encode_labels(frame[column], labels)
        return encode_column(frame[column], role=role)

    if len(frame) >= PARALLEL_ENCODING_MIN:
        return parallel_map(encode, roles)
    return [encode(item) for item in roles]


def check_iteration_args(n_iter: object, tol: object) -> tuple[int, float]:
    """Validate ``n_iter`` (int >= 0) and ``tol`` (finite float >= 0)."""
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
        raise InvalidArgumentError(f"n_iter must be a non-negative integer, got {n_iter!r}.")
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating, np.integer)):
        raise InvalidArgumentError(f"tol must be a number, got {tol!r}.")
    if not np.isfinite(tol) or tol < 0:
        raise InvalidArgumentError(f"tol must be a finite number >= 0, got {tol!r}.")
    return int(n_iter), float(tol)
