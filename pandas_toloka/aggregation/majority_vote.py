"""Majority vote: the most frequent label of each task."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable

import numpy as np
import pandas as pd

from ._encoding import (
    build_result,
    check_distinct_names,
    check_frame,
    check_no_nulls,
    drop_null_labels,
    encode_responses,
    encode_task_and_labels,
)
from ._model import AggregationModel

__all__ = ["fit_majority_vote", "majority_vote", "vote_counts"]

logger = logging.getLogger(__name__)

#: Up to this many labels the winners are found label by label (a Python loop over them).
FEW_LABELS = 32
#: Above this many task x label cells the vote counts are kept sparse.
DENSE_CELL_LIMIT = 1 << 26


def vote_counts(
    task_codes: np.ndarray, label_codes: np.ndarray, n_tasks: int, n_labels: int
) -> np.ndarray:
    """Count the votes of each label for each task.

    Parameters
    ----------
    task_codes, label_codes : numpy.ndarray
        Integer codes, one per response.
    n_tasks, n_labels : int
        Number of distinct tasks and labels.

    Returns
    -------
    numpy.ndarray
        ``(n_labels, n_tasks)`` integer array of counts (labels first, so that each
        label's row is contiguous).
    """
    flat = label_codes * n_tasks + task_codes
    return np.bincount(flat, minlength=n_labels * n_tasks).reshape(n_labels, n_tasks)


def _winners_dense(
    task_codes: np.ndarray, label_codes: np.ndarray, n_tasks: int, n_labels: int
) -> tuple[np.ndarray, np.ndarray]:
    counts = vote_counts(task_codes, label_codes, n_tasks, n_labels)
    if n_labels > FEW_LABELS:
        winner = counts.argmax(axis=0)  # first maximum = smallest label in sorted order
        return winner, counts[winner, np.arange(n_tasks)] / counts.sum(axis=0)
    # Label by label (contiguous rows) rather than argmax over the strided axis: a label
    # takes the lead only with strictly more votes, so ties go to the smallest label.
    best = counts[0].copy()
    winner = np.zeros(n_tasks, dtype=np.intp)
    for k in range(1, n_labels):
        winner = np.where(counts[k] > best, k, winner)
        np.maximum(best, counts[k], out=best)
    return winner, best / counts.sum(axis=0)


def _winners_sparse(
    task_codes: np.ndarray, label_codes: np.ndarray, n_tasks: int, n_labels: int
) -> tuple[np.ndarray, np.ndarray]:
    # One cell per observed (task, label) pair, sorted by task then label.
    keys, counts = np.unique(
        task_codes.astype(np.int64) * n_labels + label_codes, return_counts=True
    )
    cell_task = keys // n_labels
    cell_label = keys % n_labels
    # Sort by task, then by decreasing count, then by increasing label: the first
    # cell of each task is its winner.
    order = np.lexsort((cell_label, -counts, cell_task))
    first = np.ones(len(order), dtype=bool)
    first[1:] = cell_task[order][1:] != cell_task[order][:-1]
    winners = order[first]
    totals = np.bincount(task_codes, minlength=n_tasks)
    return cell_label[winners], counts[winners] / totals


def fit_majority_vote(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    labels: Iterable[object] | None = None,
) -> AggregationModel:
    """Fit majority vote; see :func:`majority_vote`.

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
    AggregationModel
        ``posteriors`` are the vote shares of each label (a label nobody chose
        gets 0); :meth:`~AggregationModel.to_frame` equals :func:`majority_vote`.
        No per-worker estimates (``worker_quality()`` counts the responses).

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If a task or worker id is null, or a label is outside ``labels``.
    """
    data = encode_responses(
        responses, task=task, worker=worker, label=label, labels=labels, method="majority vote"
    )
    T, K = data.tasks.size, data.labels.size
    counts = vote_counts(data.tasks.codes, data.labels.codes, T, K).T.astype(np.float64)
    shares = counts / counts.sum(axis=1, keepdims=True) if T else counts
    logger.info("majority vote on %d responses (%d tasks)", data.n_responses, T)
    return AggregationModel.build("MAJORITY_VOTE", data, shares, names=(task, worker, label))


def majority_vote(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    labels: Iterable[object] | None = None,
) -> pd.DataFrame:
    """Aggregate responses by majority vote.

    Each task gets the label most of its responses chose. Ties are broken
    deterministically in favour of the smallest label in the labels' natural
    sort order.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. Columns of any dtype backend (NumPy, nullable,
        ``pd.ArrowDtype`` including dictionary, categorical). Responses with a
        missing label are dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning` saying how many.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names. ``worker`` must exist but does not affect the result.
    labels : iterable, optional
        The full label space; every observed label must belong to it. It only
        fixes the output dtype here: a label nobody chose never wins a vote.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``label`` (same dtype as the
        input) and ``confidence`` (float64): the winner's share of the task's votes.

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If a task or worker id is null, or a label is outside ``labels``.

    See Also
    --------
    fit_majority_vote : The same vote as a fitted model (vote shares of every label).
    dawid_skene : Weighs workers by their estimated confusion matrices.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t1", "t2"],
    ...                    "worker_id": ["a", "b", "c", "a"],
    ...                    "result": ["cat", "dog", "cat", "dog"]})
    >>> majority_vote(df)
      task_id result  confidence
    0      t1    cat    0.666667
    1      t2    dog    1.000000
    """
    check_distinct_names([task, label], task=task, worker=worker, label=label)
    frame = check_frame(
        responses, {"task": task, "worker": worker, "label": label}, purpose="for majority_vote"
    )
    frame = drop_null_labels(frame, label, method="majority_vote")
    check_no_nulls(frame[worker], role="worker")
    tasks, labs = encode_task_and_labels(frame, task=task, label=label, labels=labels)
    n_tasks, n_labels = tasks.size, max(labs.size, 1)
    if n_tasks == 0:
        winner = np.zeros(0, dtype=np.intp)
        confidence = np.zeros(0)
    elif n_tasks * n_labels <= DENSE_CELL_LIMIT:
        winner, confidence = _winners_dense(tasks.codes, labs.codes, n_tasks, n_labels)
    else:
        winner, confidence = _winners_sparse(tasks.codes, labs.codes, n_tasks, n_labels)
    logger.debug("majority_vote: %d responses, %d tasks, %d labels", len(frame), n_tasks, labs.size)
    return build_result(task, tasks.uniques, {label: labs.uniques.take(winner)}, confidence)
