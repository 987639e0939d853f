"""Workers against the aggregate and their peers: crowd-kit's worker metrics and filter."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Hashable, Mapping
from typing import Any, Literal, TypeAlias, overload

import numpy as np
import pandas as pd

from ..aggregation._encoding import Responses, check_frame, user_stacklevel
from ..errors import DroppedResponsesWarning, InvalidArgumentError
from ._common import aligned_aggregate, aligned_skills, cells, dedupe_identical, encode
from ._uncertainty import group_entropy

__all__ = ["accuracy_on_aggregates", "consistency", "entropy_threshold", "worker_agreement"]

logger = logging.getLogger(__name__)

#: Aggregates: a result frame (task and label columns), or a Series / mapping task -> label.
AggregateLike: TypeAlias = "pd.DataFrame | pd.Series | Mapping[Any, Any]"
#: Skills: a Series or mapping worker -> probability of a right answer.
SkillsLike: TypeAlias = "pd.Series | Mapping[Any, float]"


def _on_aggregate(data: Responses, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(task, worker, label)`` responses on tasks with an aggregate: their
    positions, and whether each equals the aggregate."""
    kept = dedupe_identical(data)
    target = codes[data.tasks.codes[kept]]
    evaluated = target != -1
    kept = kept[evaluated]
    return kept, data.workers.codes[kept], data.labels.codes[kept] == target[evaluated]


def _per_worker_accuracy(data: Responses, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, workers, correct = _on_aggregate(data, codes)
    n = np.bincount(workers, minlength=data.workers.size)
    hits = np.bincount(workers, weights=correct, minlength=data.workers.size)
    accuracy = np.divide(hits, n, out=np.full(data.workers.size, np.nan), where=n > 0)
    return n.astype(np.int64), accuracy


@overload
def accuracy_on_aggregates(
    responses: pd.DataFrame,
    *,
    aggregate: AggregateLike | None = ...,
    by_worker: Literal[False] = ...,
    task: Hashable = ...,
    worker: Hashable = ...,
    label: Hashable = ...,
) -> float: ...
@overload
def accuracy_on_aggregates(
    responses: pd.DataFrame,
    *,
    aggregate: AggregateLike | None = ...,
    by_worker: Literal[True],
    task: Hashable = ...,
    worker: Hashable = ...,
    label: Hashable = ...,
) -> pd.DataFrame: ...
def accuracy_on_aggregates(
    responses: pd.DataFrame,
    *,
    aggregate: AggregateLike | None = None,
    by_worker: bool = False,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
) -> float | pd.DataFrame:
    """Share of the responses that equal the aggregated label of their task.

    crowd-kit's ``accuracy_on_aggregates``: identical repeats of a response (same
    task, worker and label) count once, and responses to tasks without an
    aggregate are not counted.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. Responses with a missing label are dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning` saying how many.
    aggregate : DataFrame, Series or mapping, optional
        The aggregated labels: a result frame with the ``task`` and ``label``
        columns (from any aggregation function), or task -> label. Default: the
        :func:`~pandas_toloka.aggregation.majority_vote` of ``responses``.
    by_worker : bool, default False
        Return one accuracy per worker instead of the pooled one.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.

    Returns
    -------
    float or pandas.DataFrame
        The pooled share (NaN only when no response has an aggregate), or, with
        ``by_worker=True``, one row per worker sorted by worker: ``worker``,
        ``n_evaluated`` (int64) and ``accuracy`` (float64; NaN for a worker with
        no response on an aggregated task).

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If an id is null, or ``aggregate`` has repeated tasks or shares no task
        with ``responses``.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "c", "a", "b"],
    ...                    "result": ["yes", "yes", "no", "no", "no"]})
    >>> accuracy_on_aggregates(df)
    0.8
    """
    data = encode(responses, task=task, worker=worker, label=label, method="accuracy_on_aggregates")
    codes = aligned_aggregate(aggregate, data, responses, task=task, worker=worker, label=label)
    if by_worker:
        n, accuracy = _per_worker_accuracy(data, codes)
        return pd.DataFrame(
            {worker: data.workers.uniques.array, "n_evaluated": n, "accuracy": accuracy},
            index=pd.RangeIndex(data.workers.size),
        )
    _, _, correct = _on_aggregate(data, codes)
    return float(correct.mean()) if len(correct) else float("nan")


def worker_agreement(
    responses: pd.DataFrame,
    *,
    aggregate: AggregateLike | None = None,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
) -> pd.DataFrame:
    """Each worker's agreement with the aggregated labels and with the other workers.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. Responses with a missing label are dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning` saying how many.
    aggregate : DataFrame, Series or mapping, optional
        The aggregated labels (a result frame with ``task`` and ``label`` columns,
        or task -> label). Default: the majority vote of ``responses``.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.

    Returns
    -------
    pandas.DataFrame
        One row per worker, sorted by worker:

        - ``worker``;
        - ``n_responses`` (int64): the worker's responses;
        - ``n_evaluated`` (int64) and ``agreement_with_aggregate`` (float64): their
          distinct responses on tasks with an aggregate, and the share equal to
          it (:func:`accuracy_on_aggregates` per worker);
        - ``n_peer_pairs`` (int64) and ``agreement_with_peers`` (float64): the
          pairs the worker's responses form with other workers' responses to the
          same tasks, and the share of those pairs with equal labels;
        - ``entropy`` (float64): the entropy (nats) of the worker's label shares,
          low for a worker who always gives the same label.

        The two agreements are NaN for a worker with nothing to compare (no
        aggregated task; no task shared with another worker) -- the only NaNs.

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If an id is null, or ``aggregate`` has repeated tasks or shares no task
        with ``responses``.

    See Also
    --------
    cohen_kappa : Chance-corrected agreement of each pair of workers.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "c", "a", "b"],
    ...                    "result": ["yes", "yes", "no", "no", "no"]})
    >>> worker_agreement(df)[["worker_id", "agreement_with_aggregate", "agreement_with_peers"]]
      worker_id  agreement_with_aggregate  agreement_with_peers
    0         a                       1.0              0.666667
    1         b                       1.0              0.666667
    2         c                       0.0              0.000000
    """
    data = encode(responses, task=task, worker=worker, label=label, method="worker_agreement")
    codes = aligned_aggregate(aggregate, data, responses, task=task, worker=worker, label=label)
    n_workers = data.workers.size
    n_evaluated, accuracy = _per_worker_accuracy(data, codes)
    peers, agreeing = _peer_pairs(data)
    entropy = group_entropy(
        data.workers.codes, data.labels.codes, None, n_workers, data.labels.size
    )
    return pd.DataFrame(
        {
            worker: data.workers.uniques.array,
            "n_responses": np.bincount(data.workers.codes, minlength=n_workers).astype(np.int64),
            "n_evaluated": n_evaluated,
            "agreement_with_aggregate": accuracy,
            "n_peer_pairs": peers.astype(np.int64),
            "agreement_with_peers": np.divide(
                agreeing, peers, out=np.full(n_workers, np.nan), where=peers > 0
            ),
            "entropy": entropy,
        },
        index=pd.RangeIndex(n_workers),
    )


def _peer_pairs(data: Responses) -> tuple[np.ndarray, np.ndarray]:
    """Per worker: pairs with other workers' responses to the same task, and agreeing pairs
    (identical repeats counted once)."""
    kept = dedupe_identical(data)
    tasks, workers, labels = (
        data.tasks.codes[kept],
        data.workers.codes[kept],
        data.labels.codes[kept],
    )
    n_tasks, n_workers, n_labels = data.tasks.size, data.workers.size, max(data.labels.size, 1)
    size = np.bincount(tasks, minlength=n_tasks)
    same_label = cells(tasks, labels, n_tasks, n_labels)
    keys = same_label.group * n_labels + same_label.label
    count = same_label.count[np.searchsorted(keys, tasks * n_labels + labels)]
    own = np.unique(
        tasks.astype(np.int64) * n_workers + workers, return_inverse=True, return_counts=True
    )
    own_count = own[2][own[1]]
    peers = np.bincount(workers, weights=size[tasks] - own_count, minlength=n_workers)
    agreeing = np.bincount(workers, weights=count - 1, minlength=n_workers)
    return peers, agreeing


@overload
def consistency(
    responses: pd.DataFrame,
    *,
    skills: SkillsLike | None = ...,
    aggregate: AggregateLike | None = ...,
    by_task: Literal[False] = ...,
    task: Hashable = ...,
    worker: Hashable = ...,
    label: Hashable = ...,
) -> float: ...
@overload
def consistency(
    responses: pd.DataFrame,
    *,
    skills: SkillsLike | None = ...,
    aggregate: AggregateLike | None = ...,
    by_task: Literal[True],
    task: Hashable = ...,
    worker: Hashable = ...,
    label: Hashable = ...,
) -> pd.DataFrame: ...
def consistency(
    responses: pd.DataFrame,
    *,
    skills: SkillsLike | None = None,
    aggregate: AggregateLike | None = None,
    by_task: bool = False,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
) -> float | pd.DataFrame:
    r"""crowd-kit's consistency: the posterior probability of each task's aggregated label.

    Each response of a worker with skill ``s`` has probability ``s`` under its own
    label and ``(1 - s) / (K - 1)`` under each of the other ``K - 1`` labels seen
    in the responses; a label's likelihood is the product over the task's
    responses, and the consistency of the task the aggregated label's share of the
    likelihoods' sum.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. Responses with a missing label are dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning` saying how many.
    skills : Series or mapping, optional
        Worker -> skill in [0, 1] (e.g. golden-set accuracy). Default: each worker's
        :func:`accuracy_on_aggregates` against ``aggregate`` (crowd-kit's
        ``MajorityVote().skills_`` by default).
    aggregate : DataFrame, Series or mapping, optional
        The aggregated labels (a result frame with ``task`` and ``label`` columns,
        or task -> label). Default: the majority vote of ``responses``.
    by_task : bool, default False
        Return one value per task instead of their mean.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.

    Returns
    -------
    float or pandas.DataFrame
        The mean over the tasks with an aggregate (NaN when none), or, with
        ``by_task=True``, one row per such task sorted by task: ``task`` and
        ``consistency`` (float64). A task where every label's likelihood is 0
        (skills of exactly 0 or 1 contradicting each other) has consistency 0,
        as in crowd-kit. Products are taken in log space, so tasks with many
        responses do not underflow to that 0 as they do in crowd-kit.

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If an id is null, a worker has no skill (none given, and no response on
        an aggregated task) or a skill outside [0, 1], or ``aggregate`` is invalid.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "a", "b"],
    ...                    "result": ["yes", "yes", "no", "yes"]})
    >>> consistency(df, skills={"a": 0.9, "b": 0.6})
    0.894088669950739
    """
    data = encode(responses, task=task, worker=worker, label=label, method="consistency")
    codes = aligned_aggregate(aggregate, data, responses, task=task, worker=worker, label=label)
    if skills is None:
        _, worker_skill = _per_worker_accuracy(data, codes)
        if np.isnan(worker_skill).any():
            missing = list(data.workers.uniques[np.isnan(worker_skill)][:5])
            raise InvalidArgumentError(
                f"consistency: worker(s) {missing!r} have no response on an aggregated task, so "
                "their skill cannot be estimated; pass skills= for every worker."
            )
    else:
        worker_skill = aligned_skills(skills, data.workers)
    posterior = _aggregate_posterior(data, codes, worker_skill[data.workers.codes])
    has = codes != -1
    if by_task:
        return pd.DataFrame(
            {task: data.tasks.uniques[has].array, "consistency": posterior[has]},
            index=pd.RangeIndex(int(has.sum())),
        )
    return float(posterior[has].mean()) if has.any() else float("nan")


def _aggregate_posterior(data: Responses, codes: np.ndarray, skill: np.ndarray) -> np.ndarray:
    """Per task, the aggregated label's share of the labels' likelihoods (0 when all are 0).

    Each likelihood is kept as (number of zero factors, sum of the logs of the
    others): a label's likelihood is 0 exactly when it has a zero factor.
    """
    tasks, labels = data.tasks.codes, data.labels.codes
    n_tasks, n_labels = data.tasks.size, data.labels.size
    with np.errstate(divide="ignore"):
        log_hit = np.log(skill)
        log_miss = np.log((1.0 - skill) / (n_labels - 1)) if n_labels > 1 else np.zeros(len(skill))
    hit_zero, miss_zero = skill == 0, skill == 1
    if n_labels < 2:
        miss_zero = np.zeros(len(skill), dtype=bool)
    log_hit = np.where(hit_zero, 0.0, log_hit)
    log_miss = np.where(miss_zero, 0.0, log_miss)
    # every label of a task starts from the product of the "miss" factors of all its responses
    base_zero = np.bincount(tasks, weights=miss_zero, minlength=n_tasks)
    base_log = np.bincount(tasks, weights=log_miss, minlength=n_tasks)
    cell = cells(tasks, labels, n_tasks, max(n_labels, 1))
    keys = cell.group * max(n_labels, 1) + cell.label
    where = np.searchsorted(keys, tasks * max(n_labels, 1) + labels)
    # a chosen label swaps its responses' miss factors for hit factors
    cell_zero = base_zero[cell.group] + np.bincount(
        where, weights=hit_zero.astype(np.float64) - miss_zero, minlength=len(keys)
    )
    cell_log = base_log[cell.group] + np.bincount(
        where, weights=log_hit - log_miss, minlength=len(keys)
    )
    unchosen = n_labels - np.bincount(cell.group, minlength=n_tasks)
    # the largest log-likelihood among the labels without a zero factor, per task
    top = np.full(n_tasks, -np.inf)
    alive = cell_zero == 0
    np.maximum.at(top, cell.group[alive], cell_log[alive])
    base_alive = (base_zero == 0) & (unchosen > 0)
    top = np.where(base_alive, np.maximum(top, base_log), top)
    finite = np.isfinite(top)
    shift = np.where(finite, top, 0.0)
    cell_term = np.where(alive, np.exp(cell_log - shift[cell.group]), 0.0)
    # bincount of no responses at all is int64, whatever the weights: keep the sum float
    total = np.bincount(cell.group, weights=cell_term, minlength=n_tasks).astype(np.float64)
    total += np.where(base_alive, unchosen * np.exp(base_log - shift), 0.0)
    # the aggregated label's term: its cell when chosen, else the unchosen mass of one label
    numerator = np.where(base_alive, np.exp(base_log - shift), 0.0)
    target_key = np.arange(n_tasks) * max(n_labels, 1) + codes
    position = np.searchsorted(keys, target_key).clip(max=max(len(keys) - 1, 0))
    chosen = (codes >= 0) & (len(keys) > 0)
    if len(keys):
        chosen &= keys[position] == target_key
    numerator = np.where(chosen, cell_term[position] if len(keys) else 0.0, numerator)
    numerator = np.where(codes == -2, 0.0, numerator)
    return np.divide(numerator, total, out=np.zeros(n_tasks), where=finite & (total > 0))


def entropy_threshold(
    responses: pd.DataFrame,
    *,
    percentile: float = 10,
    min_answers: int = 2,
    skills: SkillsLike | None = None,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
) -> pd.DataFrame:
    """Drop the responses of workers whose labels carry too little entropy.

    crowd-kit's ``entropy_threshold``: a worker who keeps giving the same label
    (clicking one button) has a low entropy of their label shares. Among workers
    with at least ``min_answers`` labelled responses, those whose entropy is at
    or below the ``percentile``-th percentile of the workers' entropies (linear
    interpolation, as :func:`numpy.percentile`) are removed.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response (any other columns are kept).
    percentile : float, default 10
        Threshold percentile, between 0 and 100.
    min_answers : int, default 2
        Workers with fewer labelled responses are never removed.
    skills : Series or mapping, optional
        Worker -> skill in [0, 1]: weighs each worker's label shares as in
        :func:`task_uncertainty` (crowd-kit's ``workers_skills``).
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.

    Returns
    -------
    pandas.DataFrame
        ``responses`` without the removed workers' rows (the index kept). Rows
        with a missing label are kept unless their worker is removed; they do not
        count towards ``min_answers`` nor the entropy. The removal is reported by
        a :class:`~pandas_toloka.errors.DroppedResponsesWarning` naming the number
        of rows and workers (and saying so when half the rows or more are gone).
        Entropies equal to 12 decimals count as equal, so that workers with the
        same label shares are treated alike.

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If ``percentile`` is not in [0, 100], ``min_answers`` is not a
        non-negative integer, an id is null, or a skill is missing or invalid.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["1", "1", "2", "2", "3", "3"],
    ...                    "worker_id": ["A", "B", "A", "B", "A", "B"],
    ...                    "result": ["dog", "cat", "cat", "cat", "dog", "cat"]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     entropy_threshold(df)
      task_id worker_id result
    0       1         A    dog
    2       2         A    cat
    4       3         A    dog
    """
    if (
        isinstance(percentile, bool)
        or not isinstance(percentile, (int, float, np.integer, np.floating))
        or not (0 <= percentile <= 100)
    ):
        raise InvalidArgumentError(
            f"percentile must be a number from 0 to 100, got {percentile!r}."
        )
    if (
        isinstance(min_answers, bool)
        or not isinstance(min_answers, (int, np.integer))
        or min_answers < 0
    ):
        raise InvalidArgumentError(
            f"min_answers must be a non-negative integer, got {min_answers!r}."
        )
    frame = check_frame(responses, [task, worker, label], purpose="for entropy_threshold")
    labelled = frame[frame[label].notna().to_numpy(dtype=bool)]
    with warnings.catch_warnings():  # rows without a label are kept, not dropped
        warnings.simplefilter("ignore", DroppedResponsesWarning)
        data = encode(labelled, task=task, worker=worker, label=label, method="entropy_threshold")
    counts = np.bincount(data.workers.codes, minlength=data.workers.size)
    eligible = counts >= min_answers
    rows = eligible[data.workers.codes]
    removed_workers = pd.Index([], dtype=object)
    if eligible.any():
        label_codes = data.labels.codes[rows]
        present, label_codes = np.unique(label_codes, return_inverse=True)
        skill = None
        if skills is not None:
            skill = aligned_skills(skills, data.workers)[data.workers.codes[rows]]
        entropy = group_entropy(
            data.workers.codes[rows],
            label_codes.reshape(-1),
            skill,
            data.workers.size,
            len(present),
        )[eligible]
        cutoff = np.percentile(entropy, float(percentile))
        out = np.round(entropy, 12) <= np.round(cutoff, 12)
        removed_workers = data.workers.uniques[np.flatnonzero(eligible)[out]]
    drop = frame[worker].isin(removed_workers).to_numpy(dtype=bool)
    n_drop = int(drop.sum())
    if n_drop:
        half = (
            " (half the rows or more: try a lower percentile or min_answers)"
            if n_drop >= len(frame) - len(frame) // 2
            else ""
        )
        warnings.warn(
            DroppedResponsesWarning(
                f"entropy_threshold: removed {n_drop} of {len(frame)} response(s) from "
                f"{len(removed_workers)} worker(s) whose label entropy is at or below the "
                f"{percentile}th percentile{half}."
            ),
            stacklevel=user_stacklevel(),
        )
    logger.debug("entropy_threshold: removed workers %s", list(removed_workers[:20]))
    return frame[~drop]
