"""Entropy of the label distribution of each task (or worker): votes, skills or posteriors."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..aggregation._model import AggregationModel
from ..aggregation.dawid_skene import DawidSkeneModel
from ..errors import InvalidArgumentError
from ._common import aligned_skills, cells, encode, entropy_of_shares

__all__ = ["group_entropy", "task_uncertainty"]

logger = logging.getLogger(__name__)


def group_entropy(
    groups: np.ndarray,
    labels: np.ndarray,
    skill: np.ndarray | None,
    n_groups: int,
    n_labels: int,
) -> np.ndarray:
    """crowd-kit's label entropy of each group of responses (natural log).

    A response of skill ``s`` gives ``s`` to its label and ``(1 - s) / (K - 1)``
    to each of the ``K - 1`` others; a group's distribution is the normalised sum
    over its responses. Without skills every response gives 1 to its label (the
    vote shares). Computed on the occupied cells, the unchosen labels of a group
    all holding the same mass.
    """
    size = np.bincount(groups, minlength=n_groups).astype(np.float64)
    cell = cells(groups, labels, n_groups, n_labels)
    chosen = cell.count.astype(np.float64)
    if skill is None or n_labels < 2:
        shares = chosen / size[cell.group]
        return entropy_of_shares(shares, cell.group, n_groups)
    miss = 1.0 - skill
    keys = cell.group * n_labels + cell.label
    response_cell = np.searchsorted(keys, groups * n_labels + labels)
    given = np.bincount(response_cell, weights=skill, minlength=len(keys))
    cell_miss = np.bincount(response_cell, weights=miss, minlength=len(keys))
    group_miss = np.bincount(groups, weights=miss, minlength=n_groups)
    spread = n_labels - 1.0
    mass = given + (group_miss[cell.group] - cell_miss) / spread
    entropy = entropy_of_shares(mass / size[cell.group], cell.group, n_groups)
    unchosen = n_labels - np.bincount(cell.group, minlength=n_groups)
    other = np.divide(group_miss / spread, size, out=np.zeros(n_groups), where=size > 0)
    positive = other > 0
    entropy[positive] -= unchosen[positive] * other[positive] * np.log(other[positive])
    return entropy


def task_uncertainty(
    responses: pd.DataFrame | None = None,
    *,
    posteriors: pd.DataFrame | AggregationModel | DawidSkeneModel | None = None,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    skills: pd.Series | Mapping[Any, float] | None = None,
    base: float | None = None,
) -> pd.DataFrame:
    r"""Uncertainty of each task: the entropy of its votes, or of its posterior.

    ``H = -sum_k p_k log p_k`` over the labels ``k``: 0 when all the mass is on
    one label, ``log K`` when it is spread evenly over ``K`` labels.

    Parameters
    ----------
    responses : pandas.DataFrame, optional
        One row per response: ``p_k`` is the share of the task's votes for ``k``
        (crowd-kit's ``uncertainty(compute_by="task")``). Responses with a missing
        label are dropped with a :class:`~pandas_toloka.errors.DroppedResponsesWarning`.
    posteriors : pandas.DataFrame, AggregationModel or DawidSkeneModel, optional
        Instead of ``responses``: a ``tasks x labels`` frame of probabilities
        (index: tasks, as :meth:`AggregationModel.posterior_frame` returns; each row
        is normalised to sum to 1) or a fitted model.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names in ``responses``; ``task`` also names the result's task column.
    skills : Series or mapping, optional
        Worker -> probability of a right answer, with ``responses``: each response
        then gives ``skill`` to its label and ``(1 - skill) / (K - 1)`` to each of
        the other ``K`` labels seen in the responses, as crowd-kit does.
    base : float, optional
        Logarithm base (default ``e``: nats, as crowd-kit and SciPy; 2 gives bits).

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``n_responses`` (int64, with
        ``responses`` only) and ``entropy`` (float64, never NaN).

    Raises
    ------
    MissingColumnsError
        If ``responses`` lacks a column.
    InvalidArgumentError
        If both or neither of ``responses`` and ``posteriors`` are given, a skill
        is missing or outside [0, 1], a posterior is negative, not finite or its
        row sums to 0, or ``base`` is not a number above 1.

    See Also
    --------
    entropy_threshold : Filters out workers whose answers carry too little entropy.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "a", "b"],
    ...                    "result": ["yes", "yes", "no", "yes"]})
    >>> task_uncertainty(df)
      task_id  n_responses   entropy
    0      t1            2  0.000000
    1      t2            2  0.693147
    """
    scale = _log_scale(base)
    if (responses is None) == (posteriors is None):
        raise InvalidArgumentError(
            "Pass either responses (entropy of the votes) or posteriors= (entropy of a "
            "fitted model's posteriors), not both or neither."
        )
    if posteriors is not None:
        if skills is not None:
            raise InvalidArgumentError("skills= weighs votes: it has no meaning with posteriors=.")
        tasks, entropy = _posterior_entropy(posteriors)
        return pd.DataFrame(
            {task: tasks.array, "entropy": entropy / scale}, index=pd.RangeIndex(len(tasks))
        )
    data = encode(responses, task=task, worker=worker, label=label, method="task_uncertainty")
    skill = None
    if skills is not None:
        skill = aligned_skills(skills, data.workers)[data.workers.codes]
    entropy = group_entropy(
        data.tasks.codes, data.labels.codes, skill, data.tasks.size, data.labels.size
    )
    logger.debug("task_uncertainty: %d tasks", data.tasks.size)
    return pd.DataFrame(
        {
            task: data.tasks.uniques.array,
            "n_responses": np.bincount(data.tasks.codes, minlength=data.tasks.size).astype(
                np.int64
            ),
            "entropy": entropy / scale,
        },
        index=pd.RangeIndex(data.tasks.size),
    )


def _log_scale(base: object) -> float:
    if base is None:
        return 1.0
    if isinstance(base, bool) or not isinstance(base, (int, float, np.integer, np.floating)):
        raise InvalidArgumentError(f"base must be a number above 1, got {base!r}.")
    if not np.isfinite(base) or base <= 1:
        raise InvalidArgumentError(f"base must be a finite number above 1, got {base!r}.")
    return float(np.log(float(base)))


def _posterior_entropy(posteriors: object) -> tuple[pd.Index, np.ndarray]:
    if isinstance(posteriors, (AggregationModel, DawidSkeneModel)):
        tasks, matrix = posteriors.tasks, np.asarray(posteriors.posteriors, dtype=np.float64)
    elif isinstance(posteriors, pd.DataFrame):
        tasks = posteriors.index
        try:
            matrix = posteriors.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"posteriors must hold numbers: {exc}") from exc
    else:
        raise InvalidArgumentError(
            "posteriors must be a tasks x labels DataFrame of probabilities or a fitted "
            f"AggregationModel, got {type(posteriors).__name__}."
        )
    if matrix.size and (not np.isfinite(matrix).all() or (matrix < 0).any()):
        raise InvalidArgumentError("posteriors must be finite and non-negative (no NaN).")
    totals = matrix.sum(axis=1)
    if (totals <= 0).any():
        first = tasks[int(np.flatnonzero(totals <= 0)[0])]
        raise InvalidArgumentError(
            f"posteriors has a row summing to 0 (task {first!r}): each task needs a distribution."
        )
    shares = matrix / totals[:, None] if len(matrix) else matrix
    rows = (
        np.repeat(np.arange(len(shares)), shares.shape[1]) if shares.size else np.zeros(0, np.intp)
    )
    return tasks, entropy_of_shares(shares.reshape(-1), rows, len(shares))
