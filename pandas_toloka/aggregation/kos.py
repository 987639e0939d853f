"""KOS (Karger, Oh and Shah, 2011): belief propagation for binary labels.

Labels become ``A_i = +1`` (the first label in sorted order) or ``-1``. Each
response carries two messages: ``x_i`` from its task (the other responses of
the task, weighted by their reliabilities) and ``y_i`` from its worker (the
worker's other responses, weighted by the task messages):

``x_i = sum_{j in task(i), j != i} A_j y_j``, ``y_i = sum_{j in worker(i), j != i} A_j x_j``.

The answer is the sign of ``sum_{i in t} A_i y_i``. Reliabilities start as
``N(1, 1)`` draws (``numpy.random.RandomState(seed)``, in input row order, as
crowd-kit). The messages are linear in the previous ones, so they are divided by
their largest magnitude after every half-step: the signs are those of the
unscaled recursion, which would overflow after a few dozen iterations.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError
from ._encoding import check_iteration_args, encode_responses
from ._model import AggregationModel
from ._to_frame import frame_function

__all__ = ["fit_kos", "kos"]

logger = logging.getLogger(__name__)


def _scaled(values: np.ndarray) -> np.ndarray:
    top = float(np.abs(values).max(initial=0.0))
    return values / top if top > 0 else values


def fit_kos(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    n_iter: int = 100,
    seed: int = 0,
    labels: Iterable[object] | None = None,
) -> AggregationModel:
    """Fit KOS; see :func:`kos`.

    Returns
    -------
    AggregationModel
        ``posteriors`` hold the weighted vote shares ``(1 ± m_t) / 2`` with
        ``m_t = |sum A_i y_i| / sum |y_i|``; ``worker_columns``: ``reliability``
        (the worker's mean message ``y``, scaled so that the largest is 1).
    """
    n_iter, _ = check_iteration_args(n_iter, 0.0)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidArgumentError(f"seed must be a non-negative integer, got {seed!r}.")
    data = encode_responses(
        responses, task=task, worker=worker, label=label, labels=labels, method="KOS"
    )
    T, W, K = data.tasks.size, data.workers.size, data.labels.size
    if T and K != 2:
        raise InvalidArgumentError(
            f"KOS is for binary labels only; the label column {label!r} has {K} label(s) "
            f"{list(data.labels.uniques)[:10]!r}. Use dawid_skene, glad or mace for "
            "other label spaces (or pass labels= with both labels when only one was observed)."
        )
    n = data.n_responses
    sign = np.where(data.labels.codes == 0, 1.0, -1.0)
    task_codes, worker_codes = data.tasks.codes, data.workers.codes
    reliability = np.random.RandomState(int(seed)).normal(loc=1.0, scale=1.0, size=n)
    for _ in range(n_iter):
        weighted = sign * reliability
        inferred = np.bincount(task_codes, weights=weighted, minlength=T)[task_codes] - weighted
        weighted = _scaled(sign * inferred)
        reliability = np.bincount(worker_codes, weights=weighted, minlength=W)[worker_codes]
        reliability = _scaled(reliability - weighted)
    votes = sign * reliability
    score = np.bincount(task_codes, weights=votes, minlength=T)
    mass = np.bincount(task_codes, weights=np.abs(reliability), minlength=T)
    margin = np.divide(np.abs(score), mass, out=np.zeros(T), where=mass > 0)
    winner = (1.0 + margin) / 2.0
    shares = np.empty((T, 2))
    # A positive score is the first label; a tie (score 0) goes to the first label too.
    first = score >= 0
    shares[:, 0] = np.where(first, winner, 1.0 - winner)
    shares[:, 1] = 1.0 - shares[:, 0]
    per_worker = np.bincount(worker_codes, weights=reliability, minlength=W) / np.maximum(
        np.bincount(worker_codes, minlength=W), 1
    )
    logger.info("KOS on %d responses: %d iterations", n, n_iter)
    return AggregationModel.build(
        "KOS",
        data,
        shares if T else np.zeros((0, K)),
        names=(task, worker, label),
        worker_columns={"reliability": _scaled(per_worker)},
        n_iter_run=n_iter if T else 0,
    )


kos = frame_function(
    fit_kos,
    name="kos",
    doc="""Aggregate binary responses with KOS (Karger–Oh–Shah message passing).

    Iterative belief propagation between tasks and workers; the answer is the
    sign of the reliability-weighted vote. Designed for many workers each
    answering a few random tasks (regular bipartite assignment); binary labels only.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response, columns of any dtype backend. Responses with a
        missing label are dropped with a warning.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.
    n_iter : int, default 100
        Message-passing iterations.
    seed : int, default 0
        Seed of the initial reliabilities (``numpy.random.RandomState``).
    labels : iterable, optional
        The label space, which must have exactly two labels. Default: the labels observed.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``label`` (a tie goes to the
        first label in sorted order) and ``confidence``: ``(1 + |sum A y| / sum |y|) / 2``,
        the answer's share of the task's reliability-weighted votes (0.5 to 1).

    Raises
    ------
    InvalidArgumentError
        If the label space does not have exactly two labels.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "a", "b"],
    ...                    "result": ["cat", "cat", "dog", "dog"]})
    >>> kos(df)["result"].tolist()
    ['cat', 'dog']
    """,
)
