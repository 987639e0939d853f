"""Fleiss' kappa over all workers, and Cohen's kappa for each pair of workers who share tasks."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterator

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError
from ._common import cells, encode, encode_units, first_per_task_and_worker, pairs_within_groups

__all__ = ["cohen_kappa", "fleiss_kappa"]

logger = logging.getLogger(__name__)

#: Worker pairs enumerated at once (tasks are taken in chunks of about this many pairs).
_PAIRS_PER_CHUNK = 1 << 22
#: Up to this many possible pair keys (or pair x side x label cells) counts are dense.
_DENSE_PAIRS = 1 << 22


def fleiss_kappa(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
) -> float:
    r"""Fleiss' kappa: agreement beyond chance of many workers on nominal labels.

    ``kappa = (P - P_e) / (1 - P_e)`` where ``P`` is the mean over tasks of the
    share of agreeing pairs of responses, and ``P_e = sum_k p_k^2`` the agreement
    expected by chance from the overall label shares ``p_k``.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. Responses with a missing label are dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning` saying how many.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names. ``worker`` must exist and hold no null.

    Returns
    -------
    float
        Kappa. Tasks may have different numbers of responses (Fleiss' formula
        with each task's own ``n_i``); tasks with fewer than two are left out.
        When every counted response has the same label (``P = P_e = 1``, ``0/0``)
        kappa is 1.0; when no task has two responses it is NaN, the only NaN this
        function returns.

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If a task or worker id is null.

    See Also
    --------
    krippendorff_alpha : The same question for any level of measurement.

    Notes
    -----
    For task ``i`` with ``n_i >= 2`` responses, ``n_ik`` of them of label ``k``:
    ``P_i = (sum_k n_ik^2 - n_i) / (n_i (n_i - 1))``, ``P = mean_i P_i``,
    ``p_k = sum_i n_ik / sum_i n_i``. With the same number of responses per task
    this is Fleiss (1971) exactly.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2", "t3", "t3"],
    ...                    "worker_id": ["a", "b", "a", "b", "a", "b"],
    ...                    "result": ["yes", "yes", "no", "no", "yes", "no"]})
    >>> round(fleiss_kappa(df), 6)
    0.333333
    """
    task_codes, label_codes = encode_units(
        responses, task=task, worker=worker, label=label, method="fleiss_kappa"
    )
    n_tasks, n_labels = task_codes.size, max(label_codes.size, 1)
    size = np.bincount(task_codes.codes, minlength=n_tasks)
    pairable = size[task_codes.codes] >= 2
    tasks, labels = task_codes.codes[pairable], label_codes.codes[pairable]
    used = size >= 2
    if not used.any():
        return float("nan")
    cell = cells(tasks, labels, n_tasks, n_labels)
    squares = np.bincount(cell.group, weights=cell.count.astype(np.float64) ** 2, minlength=n_tasks)
    n_i = size[used].astype(np.float64)
    p_agree = float(((squares[used] - n_i) / (n_i * (n_i - 1.0))).mean())
    shares = np.bincount(labels, minlength=n_labels) / float(len(labels))
    p_chance = float((shares**2).sum())
    if np.count_nonzero(shares) == 1:
        return 1.0  # one label: P = P_e = 1
    kappa = (p_agree - p_chance) / (1.0 - p_chance)
    logger.debug("fleiss_kappa: %d tasks with two or more responses -> %r", int(used.sum()), kappa)
    return float(kappa)


def cohen_kappa(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    min_shared: int = 1,
) -> pd.DataFrame:
    r"""Cohen's kappa of every pair of workers who answered the same tasks.

    For two workers, on the tasks both answered: ``kappa = (p_o - p_e) / (1 -
    p_e)`` with ``p_o`` the share of those tasks where they gave the same label
    and ``p_e = sum_k a_k b_k`` the agreement expected from each worker's own
    label shares ``a_k``, ``b_k`` on those tasks. Only pairs with shared tasks
    are listed, so the result stays as sparse as the overlap.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. Responses with a missing label are dropped, and so
        are repeated responses of a worker to the same task (the first is kept),
        each with a :class:`~pandas_toloka.errors.DroppedResponsesWarning` saying
        how many.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.
    min_shared : int, default 1
        Pairs sharing fewer tasks are left out.

    Returns
    -------
    pandas.DataFrame
        One row per pair of workers, ``worker_a < worker_b`` in the workers'
        natural order, sorted by ``worker_a`` then ``worker_b``: ``worker_a``,
        ``worker_b`` (the worker column's dtype), ``n_shared`` (int64, tasks both
        answered), ``agreement`` (float64, ``p_o``) and ``kappa`` (float64).
        When both workers gave one and the same label on all their shared tasks
        (``p_o = p_e = 1``, ``0/0``) kappa is 1.0; no NaN is returned.

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If a task or worker id is null, or ``min_shared`` is not a positive integer.

    See Also
    --------
    worker_agreement : Each worker's agreement with the aggregate and with peers.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2", "t3", "t3"],
    ...                    "worker_id": ["a", "b", "a", "b", "a", "b"],
    ...                    "result": ["yes", "yes", "no", "no", "yes", "no"]})
    >>> cohen_kappa(df)
      worker_a worker_b  n_shared  agreement  kappa
    0        a        b         3   0.666667    0.4
    """
    if (
        isinstance(min_shared, bool)
        or not isinstance(min_shared, (int, np.integer))
        or min_shared < 1
    ):
        raise InvalidArgumentError(f"min_shared must be a positive integer, got {min_shared!r}.")
    data = encode(responses, task=task, worker=worker, label=label, method="cohen_kappa")
    keep = first_per_task_and_worker(data, method="cohen_kappa")
    tasks = data.tasks.codes[keep]
    workers = data.workers.codes[keep]
    labels = data.labels.codes[keep]
    order = np.lexsort((workers, tasks))  # by task, then worker: a < b within each pair
    tasks, workers, labels = tasks[order], workers[order], labels[order]
    pair, n_shared, agreement, kappa = _pairwise(
        tasks, workers, labels, data.tasks.size, data.workers.size, max(data.labels.size, 1)
    )
    wanted = n_shared >= min_shared
    n_workers = max(data.workers.size, 1)
    a, b = pair[wanted] // n_workers, pair[wanted] % n_workers
    logger.debug("cohen_kappa: %d worker pairs share a task", len(pair))
    return pd.DataFrame(
        {
            "worker_a": data.workers.uniques.take(a).array,
            "worker_b": data.workers.uniques.take(b).array,
            "n_shared": n_shared[wanted].astype(np.int64),
            "agreement": agreement[wanted],
            "kappa": kappa[wanted],
        },
        index=pd.RangeIndex(int(wanted.sum())),
    )


def _chunks(pair_counts: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive task ranges of about ``_PAIRS_PER_CHUNK`` pairs (a larger task alone)."""
    bounds = [0]
    total = 0
    for index, count in enumerate(pair_counts.tolist()):
        if total and total + count > _PAIRS_PER_CHUNK:
            bounds.append(index)
            total = 0
        total += count
    bounds.append(len(pair_counts))
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _pairwise(
    tasks: np.ndarray,
    workers: np.ndarray,
    labels: np.ndarray,
    n_tasks: int,
    n_workers: int,
    n_labels: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per worker pair (key ``a * n_workers + b``): shared tasks, ``p_o`` and kappa.

    Responses are sorted by task then worker. The pairs of each task are made
    chunk by chunk of tasks (twice: once to find the pairs and their agreement,
    once for the label counts of each side), and counted by ``bincount`` over
    dense pair keys when ``n_workers ** 2`` is small, else reduced by sorting.
    """
    size = np.bincount(tasks, minlength=n_tasks)
    starts = np.concatenate([[0], np.cumsum(size)]).astype(np.int64)
    chunks = _chunks(size * (size - 1) // 2) if n_tasks else []

    def chunk_pairs() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for lo, hi in chunks:
            first, second = pairs_within_groups(size[lo:hi])
            first += starts[lo]
            second += starts[lo]
            yield first, second, workers[first].astype(np.int64) * n_workers + workers[second]

    if n_workers * n_workers <= _DENSE_PAIRS:
        pair, shared, agreeing = _pair_agreement_dense(chunk_pairs(), labels, n_workers)
    else:
        pair, shared, agreeing = _pair_agreement_sparse(chunk_pairs(), labels)
    product = np.zeros(len(pair))
    if len(pair):
        product = _shared_label_products(chunk_pairs(), labels, pair, n_workers, n_labels)
    p_o = np.divide(agreeing, shared, out=np.zeros(len(pair)), where=shared > 0)
    p_e = np.divide(product, shared * shared, out=np.zeros(len(pair)), where=shared > 0)
    kappa = np.ones(len(pair))
    chance = p_e < 1.0
    kappa[chance] = (p_o[chance] - p_e[chance]) / (1.0 - p_e[chance])
    return pair, shared.astype(np.int64), p_o, kappa


PairChunks = Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]


def _pair_agreement_dense(
    chunks: PairChunks, labels: np.ndarray, n_workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair keys, shared tasks and agreeing tasks, counted over all ``n_workers**2`` keys."""
    cells = n_workers * n_workers
    shared = np.zeros(cells)
    agreeing = np.zeros(cells)
    for first, second, key in chunks:
        shared += np.bincount(key, minlength=cells)
        agreeing += np.bincount(key, weights=labels[first] == labels[second], minlength=cells)
    pair = np.flatnonzero(shared)
    return pair.astype(np.int64), shared[pair], agreeing[pair]


def _pair_agreement_sparse(
    chunks: PairChunks, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As :func:`_pair_agreement_dense`, the keys reduced by sorting (many workers)."""
    keys: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for first, second, key in chunks:
        unique, inverse = np.unique(key, return_inverse=True)
        same = labels[first] == labels[second]
        keys.append(unique)
        counts.append(np.stack([np.bincount(inverse), np.bincount(inverse, weights=same)]))
    if not keys:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
    pair, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    stacked = np.concatenate(counts, axis=1)
    shared = np.bincount(inverse, weights=stacked[0], minlength=len(pair))
    agreeing = np.bincount(inverse, weights=stacked[1], minlength=len(pair))
    return pair.astype(np.int64), shared, agreeing


def _shared_label_products(
    chunks: PairChunks, labels: np.ndarray, pair: np.ndarray, n_workers: int, n_labels: int
) -> np.ndarray:
    """``sum_k n_a(k) n_b(k)`` per pair: the label counts of each side on the shared tasks."""
    slots = len(pair) * 2 * n_labels
    dense = slots <= _DENSE_PAIRS
    sides = np.zeros(slots) if dense else None
    cell_keys: list[np.ndarray] = []
    cell_counts: list[np.ndarray] = []
    for first, second, key in chunks:
        position = np.searchsorted(pair, key)  # each pair's index among the pairs
        cell = np.concatenate(
            [
                (position * 2) * n_labels + labels[first],
                (position * 2 + 1) * n_labels + labels[second],
            ]
        )
        if sides is not None:
            sides += np.bincount(cell, minlength=slots)
        else:
            unique, count = np.unique(cell, return_counts=True)
            cell_keys.append(unique)
            cell_counts.append(count)
    if sides is None:
        unique, inverse = np.unique(np.concatenate(cell_keys), return_inverse=True)
        count = np.bincount(inverse, weights=np.concatenate(cell_counts), minlength=len(unique))
        # the b-side cell of an a-side cell (same pair and label) is n_labels further on
        a_side = (unique // n_labels) % 2 == 0
        b_key = unique[a_side] + n_labels
        where = np.searchsorted(unique, b_key).clip(max=len(unique) - 1)
        hit = unique[where] == b_key
        product = np.zeros(len(pair))
        np.add.at(
            product,
            unique[a_side][hit] // (2 * n_labels),
            count[a_side][hit] * count[where[hit]],
        )
        return product
    by_side = sides.reshape(len(pair), 2, n_labels)
    return np.einsum("ik,ik->i", by_side[:, 0, :], by_side[:, 1, :])
