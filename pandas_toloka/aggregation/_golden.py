"""``golden=``: known labels of control tasks, as codes of the encoded responses."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError
from ._encoding import Encoded

__all__ = ["encode_golden", "golden_items", "golden_task_ids"]

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
