"""One-coin Dawid–Skene: one skill per worker instead of a full confusion matrix.

Semantics follow crowd-kit 1.4's ``OneCoinDawidSkene``: Dawid–Skene's EM
(same initialization, loop and stopping rule, see :mod:`._em`) whose M-step
collapses each worker's confusion matrix to a skill ``s_w`` (the mean
posterior of the labels the worker gave) on the diagonal and ``(1 - s_w)/(K - 1)``
off it.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._em import Golden, ResponseCodes, one_coin_confusion, run_em
from ._encoding import check_iteration_args, encode_responses
from ._golden import encode_golden
from ._memory import DEFAULT_MAX_MEMORY, check_em_memory, check_max_memory
from ._model import AggregationModel
from ._to_frame import frame_function

__all__ = ["fit_one_coin_dawid_skene", "one_coin_dawid_skene"]

logger = logging.getLogger(__name__)


def fit_one_coin_dawid_skene(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    n_iter: int = 100,
    tol: float = 1e-5,
    labels: Iterable[object] | None = None,
    golden: Mapping[Any, Any] | pd.Series | None = None,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
) -> AggregationModel:
    """Fit one-coin Dawid–Skene; see :func:`one_coin_dawid_skene`.

    Returns
    -------
    AggregationModel
        ``worker_columns``: ``skill`` (the worker's probability of answering
        correctly, whatever the true label).
    """
    n_iter, tol = check_iteration_args(n_iter, tol)
    max_memory = check_max_memory(max_memory)
    data = encode_responses(
        responses, task=task, worker=worker, label=label, labels=labels, method="One-coin DS"
    )
    golden_tasks, golden_labels = encode_golden(
        golden, data.tasks, data.labels, task_like=responses[task], label_like=responses[label]
    )
    T, W, K = data.tasks.size, data.workers.size, data.labels.size
    check_em_memory("One-coin Dawid-Skene", T, W, K, max_memory)
    if T == 0:
        posteriors, skill = np.zeros((0, K)), np.zeros(W)
        n_run, converged = 0, True
        history: tuple[float, ...] = ()
    else:
        codes = ResponseCodes(data.tasks.codes, data.workers.codes, data.labels.codes, T, W, K)
        fit = run_em(
            codes,
            n_iter=n_iter,
            tol=tol,
            rule=one_coin_confusion,
            golden=Golden(golden_tasks, golden_labels) if len(golden_tasks) else None,
        )
        posteriors = fit.posteriors
        n_run, converged, history = fit.n_iter_run, fit.converged, fit.loss_history
        # The skill behind the last confusion matrices: mean posterior of the given labels.
        given = posteriors[data.tasks.codes, data.labels.codes]
        skill = np.bincount(data.workers.codes, weights=given, minlength=W) / np.maximum(
            codes.worker_counts, 1
        )
    logger.info("One-coin DS on %d responses: %d iterations", data.n_responses, n_run)
    return AggregationModel.build(
        "ONE_COIN_DAWID_SKENE",
        data,
        posteriors,
        names=(task, worker, label),
        golden_tasks=golden_tasks if golden is not None else None,
        worker_columns={"skill": skill},
        n_iter_run=n_run,
        converged=converged,
        loss_history=history,
    )


one_coin_dawid_skene = frame_function(
    fit_one_coin_dawid_skene,
    name="one_coin_dawid_skene",
    doc="""Aggregate responses with one-coin Dawid–Skene.

    Each worker has one skill ``s_w``: they answer the true label with
    probability ``s_w`` and each other label with ``(1 - s_w) / (K - 1)``.
    Fitted by EM from majority-vote shares with Dawid–Skene's loop and
    stopping rule (crowd-kit's ``OneCoinDawidSkene``). Fewer parameters than
    :func:`dawid_skene`: better with few responses per worker, worse when
    workers confuse particular classes.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response, columns of any dtype backend. Responses with a
        missing label are dropped with a warning.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.
    n_iter : int, default 100
        Maximum number of EM iterations.
    tol : float, default 1e-5
        Stop when the objective gains less than this in an iteration.
    labels : iterable, optional
        The full label space. Default: the labels observed.
    golden : mapping or Series, optional
        Task id -> known label; those tasks' posteriors are held one-hot.
    max_memory : int or None, default 1 GiB
        Refuse, before allocating, a fit whose dense arrays would need more
        bytes than this (as Dawid–Skene: about ``8 * (7 * W * K**2 + 3 * T * K)`` for ``W``
        workers, ``K`` labels, ``T`` tasks: quadratic in the labels, so free
        text with thousands of distinct answers would need gigabytes); None
        for no limit. See "Memory" in ``docs/algorithms.md``.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``label``, ``confidence``
        (the answer's posterior), and ``golden`` (bool) when ``golden=`` is given.

    Raises
    ------
    InvalidArgumentError
        As :func:`fit_dawid_skene`: bad ids, labels or options, or a fit that
        would need more than ``max_memory``.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "a", "b"],
    ...                    "result": ["cat", "cat", "dog", "dog"]})
    >>> one_coin_dawid_skene(df)["result"].tolist()
    ['cat', 'dog']
    """,
)
