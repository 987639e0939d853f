"""``golden=``: known labels of control tasks, as codes of the encoded responses."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError
from ..schema import GOLDEN_PREFIX  # golden.<field>, as read_tasks and the export name them
from ._encoding import Encoded

__all__ = [
    "GOLDEN_PREFIX",
    "KnownSolutions",
    "anchor_labels",
    "encode_golden",
    "golden_items",
    "golden_task_ids",
    "known_from_mapping",
    "known_solutions_from_frame",
]


#: Task id -> {known label: its correctness weight}: every known solution of a control task.
KnownSolutions = dict[object, dict[object, float]]

logger = logging.getLogger(__name__)


def encode_golden(
    golden: Mapping[object, object] | pd.Series | None,
    tasks: Encoded,
    labels: Encoded,
    *,
    task_like: pd.Series,
    label_like: pd.Series,
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the golden tasks present in the responses and of their known labels.

    Parameters
    ----------
    golden : mapping or Series, optional
        Task id -> known true label.
    tasks, labels : Encoded
        The responses' task ids and label space.
    task_like, label_like : pandas.Series
        The task and label columns, whose dtypes the golden ids and labels are
        converted to.

    Returns
    -------
    (task_codes, label_codes) : tuple of numpy.ndarray
        Empty when ``golden`` is None. Golden tasks without any response are
        left out (logged): there is nothing to aggregate for them.

    Raises
    ------
    InvalidArgumentError
        If ``golden`` is not a mapping/Series, holds a null, a task listed twice,
        or a label outside the label space.
    """
    empty = np.zeros(0, dtype=np.intp)
    if golden is None:
        return empty, empty
    keys, values = golden_items(golden, known="label")
    if not keys:
        return empty, empty
    key_index = golden_task_ids(keys, task_like)
    value_index = _convert_values(values, label_like, what="golden= labels")
    label_pos = labels.uniques.get_indexer(value_index)
    if (label_pos < 0).any():
        unknown = list(value_index[label_pos < 0])[:10]
        raise InvalidArgumentError(
            f"golden= holds label(s) {unknown!r} outside the label space {list(labels.uniques)!r}; "
            "pass labels= with the full label space."
        )
    task_pos = tasks.uniques.get_indexer(key_index)
    present = task_pos >= 0
    if not present.all():
        logger.info("%d golden task(s) have no response and are left out", int((~present).sum()))
    return task_pos[present].astype(np.intp), label_pos[present].astype(np.intp)


def golden_items(golden: object, *, known: str) -> tuple[list[object], list[object]]:
    """The task ids and known values of ``golden=``, a Series or mapping (``known``: what they are).

    Raises
    ------
    InvalidArgumentError
        If ``golden`` is neither a mapping nor a pandas Series.
    """
    if isinstance(golden, pd.Series):
        return list(golden.index), list(golden.array)
    if isinstance(golden, Mapping):
        return list(golden.keys()), list(golden.values())
    raise InvalidArgumentError(
        f"golden= must be a mapping or a pandas Series of task id -> known {known}, "
        f"got {type(golden).__name__}."
    )


def golden_task_ids(keys: list[object], task_like: pd.Series) -> pd.Index:
    """``golden=``'s task ids in the task column's dtype.

    Raises
    ------
    InvalidArgumentError
        If an id is null, does not convert to the dtype, or is listed twice.
    """
    index = _convert_values(keys, task_like, what="golden= task ids")
    if index.has_duplicates:
        raise InvalidArgumentError("golden= lists a task more than once.")
    return index


def _convert_values(values: list[object], like: pd.Series, *, what: str) -> pd.Index:
    try:
        index = pd.Index(pd.array(values, dtype=like.dtype))
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"{what} cannot be converted to the dtype {like.dtype} of the column "
            f"{like.name!r}: {exc}"
        ) from exc
    if index.hasnans:
        raise InvalidArgumentError(
            f"{what} hold null values or values outside the dtype {like.dtype} of the column "
            f"{like.name!r}."
        )
    return index


def _plain(value: Any) -> Any:
    """A hashable, type-normalised value: NumPy scalars as Python ones."""
    return value.item() if isinstance(value, np.generic) else value


def known_from_mapping(golden: Mapping[Any, Any] | pd.Series) -> KnownSolutions:
    """``golden=`` as a mapping or Series of task id -> label (or -> {label: weight})."""
    pairs: Any
    if isinstance(golden, pd.Series):
        pairs = zip(golden.index, golden.array, strict=True)
    elif isinstance(golden, Mapping):
        pairs = golden.items()
    else:
        raise InvalidArgumentError(
            "golden must be a mapping or a pandas Series of task id -> known label, "
            f"got {type(golden).__name__}."
        )
    known: KnownSolutions = {}
    for task, value in pairs:
        if isinstance(value, Mapping):
            known[_plain(task)] = {_plain(k): float(w) for k, w in value.items()}
        elif not pd.isna(value):
            known[_plain(task)] = {_plain(value): 1.0}
    return known


def known_solutions_from_frame(
    frame: pd.DataFrame, *, field: str, task: Hashable = "task_id"
) -> KnownSolutions:
    """Every known solution of ``field`` per control task, from a frame that carries them.

    A tasks frame (:func:`~pandas_toloka.read_tasks`) gives its ``known_solutions``
    (every known solution with its ``correctness_weight``); any other frame with a
    ``golden.<field>`` column (a results export, one row per response) gives the
    distinct values of that column per task, with the row's ``correctness_weight``
    when the frame has one (else 1). Rows without a known value are not control tasks.

    Raises
    ------
    InvalidArgumentError
        If the frame has neither ``known_solutions`` nor ``golden.<field>``, or no
        ``task`` column.
    """
    column = GOLDEN_PREFIX + field
    if task not in frame.columns:
        raise InvalidArgumentError(
            f"The golden frame has no task column {task!r}; its columns are "
            f"{[str(c) for c in frame.columns][:20]}."
        )
    known: KnownSolutions = {}
    if "known_solutions" in frame.columns:
        for task_id, solutions in zip(frame[task].array, frame["known_solutions"].array):
            if solutions is None or (not isinstance(solutions, (list, np.ndarray))):
                continue
            for solution in solutions:
                value = (solution.get("output_values") or {}).get(field)
                if value is None:
                    continue
                weight = solution.get("correctness_weight")
                weight = 1.0 if weight is None or pd.isna(weight) else float(weight)
                labels = known.setdefault(_plain(task_id), {})
                labels[_plain(value)] = max(weight, labels.get(_plain(value), 0.0))
        return known
    if column not in frame.columns:
        raise InvalidArgumentError(
            f"The golden frame has no {column!r} column (nor known_solutions): pass a frame "
            "from read_tasks or read_assignments_tsv, or a mapping of task id -> label."
        )
    weights = (
        frame["correctness_weight"].astype("float64").fillna(1.0).to_numpy()
        if "correctness_weight" in frame.columns
        else np.ones(len(frame))
    )
    values = frame[column].astype(object).to_numpy()
    for task_id, value, weight in zip(frame[task].array, values, weights, strict=True):
        if value is None or pd.isna(value):
            continue
        labels = known.setdefault(_plain(task_id), {})
        labels[_plain(value)] = max(float(weight), labels.get(_plain(value), 0.0))
    return known


def anchor_labels(known: KnownSolutions) -> tuple[dict[object, object], list[object]]:
    """The one label each control task anchors aggregation on, and the tasks with none.

    A task anchors on its known label of the largest correctness weight when that
    weight is positive and strictly larger than every other known label's; a task
    whose known solutions tie (several equally correct answers) anchors on none and
    is listed second (it is still aggregated, from its responses, like any task).
    """
    anchors: dict[object, object] = {}
    ambiguous: list[object] = []
    for task_id, labels in known.items():
        ranked = sorted(labels.values(), reverse=True)
        if not ranked or ranked[0] <= 0 or (len(ranked) > 1 and ranked[1] >= ranked[0]):
            ambiguous.append(task_id)
            continue
        anchors[task_id] = max(labels, key=lambda label: labels[label])
    return anchors, ambiguous
