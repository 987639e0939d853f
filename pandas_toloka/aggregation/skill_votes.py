"""Votes weighted by each worker's agreement with the aggregate: WAWA and zero-based skill.

- WAWA (worker agreement with aggregate): majority vote, then each worker's
  accuracy against it, then a vote weighted by those accuracies.
- Zero-based skill: skills start at ``1/K`` and move towards each worker's
  accuracy against the current weighted vote, with a decaying learning rate.

Both follow crowd-kit 1.4's ``Wawa`` and ``ZeroBasedSkill``; each iteration
is two ``bincount`` passes over integer codes.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError
from ._encoding import Responses, check_iteration_args, encode_responses
from ._model import AggregationModel
from ._to_frame import frame_function

__all__ = ["fit_wawa", "fit_zero_based_skill", "wawa", "zero_based_skill"]

logger = logging.getLogger(__name__)


def weighted_votes(data: Responses, weight: np.ndarray | None) -> np.ndarray:
    """``(T, K)`` sums of the weights (or counts) of each label's responses per task."""
    T, K = data.tasks.size, data.labels.size
    flat = data.tasks.codes * K + data.labels.codes
    weights = None if weight is None else weight[data.workers.codes]
    return np.bincount(flat, weights=weights, minlength=T * K).reshape(T, K).astype(np.float64)


def vote_shares(scores: np.ndarray, votes: np.ndarray) -> np.ndarray:
    """Rows of ``scores`` normalized to sum 1; a row with no weight at all (every
    response from a zero-skill worker) falls back to the vote shares."""
    total = scores.sum(axis=1, keepdims=True)
    empty = total[:, 0] <= 0
    if empty.any():
        scores = scores.copy()
        scores[empty] = votes[empty]
        total = scores.sum(axis=1, keepdims=True)
    return scores / total


def _accuracy(data: Responses, answers: np.ndarray) -> np.ndarray:
    """Per worker: the share of their responses equal to the task's answer."""
    W = data.workers.size
    agree = (data.labels.codes == answers[data.tasks.codes]).astype(np.float64)
    hits = np.bincount(data.workers.codes, weights=agree, minlength=W)
    return hits / np.maximum(np.bincount(data.workers.codes, minlength=W), 1)


def fit_wawa(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    labels: Iterable[object] | None = None,
) -> AggregationModel:
    """Fit WAWA; see :func:`wawa`.

    Returns
    -------
    AggregationModel
        ``posteriors`` are the skill-weighted vote shares; ``worker_columns``:
        ``skill`` (accuracy against the majority vote).
    """
    data = encode_responses(
        responses, task=task, worker=worker, label=label, labels=labels, method="WAWA"
    )
    votes = weighted_votes(data, None)
    skill = _accuracy(data, votes.argmax(axis=1) if votes.size else np.zeros(0, np.intp))
    shares = vote_shares(weighted_votes(data, skill), votes) if votes.size else votes
    logger.info("WAWA on %d responses", data.n_responses)
    return AggregationModel.build(
        "WAWA", data, shares, names=(task, worker, label), worker_columns={"skill": skill}
    )


wawa = frame_function(
    fit_wawa,
    name="wawa",
    doc="""Aggregate responses with WAWA (worker agreement with aggregate).

    Majority vote first; each worker's skill is then the share of their
    responses that agree with it; the answer is the label with the largest
    total skill. No iterations, no parameters: a fast, robust step up from
    majority vote when workers differ in quality.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response, columns of any dtype backend. Responses with a
        missing label are dropped with a warning.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.
    labels : iterable, optional
        The full label space. Default: the labels observed.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``label`` (ties go to the
        first label in sorted order) and ``confidence``: the answer's share of
        the task's total skill.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "a", "b"],
    ...                    "result": ["cat", "cat", "dog", "dog"]})
    >>> wawa(df)["result"].tolist()
    ['cat', 'dog']
    """,
)


def _check_rate(name: str, value: Any, *, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}.")
    number = float(value)
    if not np.isfinite(number) or number <= 0 or (upper is not None and number > upper):
        bound = f" and <= {upper}" if upper is not None else ""
        raise InvalidArgumentError(f"{name} must be > 0{bound}, got {value!r}.")
    return number


def fit_zero_based_skill(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    n_iter: int = 100,
    lr_init: float = 1.0,
    lr_steps_to_reduce: int = 20,
    lr_reduce_factor: float = 0.5,
    eps: float = 1e-5,
    labels: Iterable[object] | None = None,
) -> AggregationModel:
    """Fit zero-based skill; see :func:`zero_based_skill`.

    Returns
    -------
    AggregationModel
        ``posteriors`` are the skill-weighted vote shares; ``worker_columns``:
        ``skill``.
    """
    n_iter, _ = check_iteration_args(n_iter, 0.0)
    steps, _ = check_iteration_args(lr_steps_to_reduce, 0.0)
    if steps == 0:
        raise InvalidArgumentError("lr_steps_to_reduce must be a positive integer, got 0.")
    rate = _check_rate("lr_init", lr_init)
    factor = _check_rate("lr_reduce_factor", lr_reduce_factor, upper=1.0)
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 <= eps < 1:
        raise InvalidArgumentError(f"eps must be a number in [0, 1), got {eps!r}.")
    data = encode_responses(
        responses, task=task, worker=worker, label=label, labels=labels, method="zero-based skill"
    )
    n_observed = len(np.unique(data.labels.codes))
    skill = np.full(data.workers.size, 1.0 / max(n_observed, 1) + eps)
    votes = weighted_votes(data, None)
    if votes.size:
        for iteration in range(1, n_iter + 1):
            if iteration % steps == 0:
                rate *= factor
            answers = vote_shares(weighted_votes(data, skill), votes).argmax(axis=1)
            skill = skill + rate * (_accuracy(data, answers) - skill)
        shares = vote_shares(weighted_votes(data, skill), votes)
    else:
        shares = votes
    logger.info("zero-based skill on %d responses: %d iterations", data.n_responses, n_iter)
    return AggregationModel.build(
        "ZERO_BASED_SKILL",
        data,
        shares,
        names=(task, worker, label),
        worker_columns={"skill": skill},
        n_iter_run=n_iter if votes.size else 0,
    )


zero_based_skill = frame_function(
    fit_zero_based_skill,
    name="zero_based_skill",
    doc="""Aggregate responses with zero-based skill.

    Every worker starts with skill ``1/K + eps`` (``K`` labels observed). Each
    of ``n_iter`` iterations takes the skill-weighted vote and moves every
    skill towards the worker's accuracy against it:
    ``skill += lr * (accuracy - skill)``, the learning rate ``lr`` (from
    ``lr_init``) multiplied by ``lr_reduce_factor`` every ``lr_steps_to_reduce``
    iterations. The answer is the final skill-weighted vote.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response, columns of any dtype backend. Responses with a
        missing label are dropped with a warning.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.
    n_iter : int, default 100
        Iterations.
    lr_init, lr_steps_to_reduce, lr_reduce_factor : default 1.0, 20, 0.5
        The learning-rate schedule.
    eps : float, default 1e-5
        Added to the initial skill.
    labels : iterable, optional
        The full label space. Default: the labels observed.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``label`` (ties go to the
        first label in sorted order) and ``confidence``: the answer's share of
        the task's total skill.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "a", "b"],
    ...                    "result": ["cat", "cat", "dog", "dog"]})
    >>> zero_based_skill(df)["result"].tolist()
    ['cat', 'dog']
    """,
)
