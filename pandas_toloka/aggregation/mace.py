"""MACE (Hovy et al., 2013): every worker either knows the answer or spams.

Worker ``w`` knows the answer with probability ``k_w`` (and gives it), and
otherwise answers from their own spamming distribution ``theta_w``. Fitted by
variational-Bayes EM with Beta(0.5, 0.5) priors on knowing and symmetric
Dirichlet(10) priors on ``theta`` (crowd-kit's ``MACE`` defaults), all in log
space (crowd-kit multiplies the per-response probabilities directly and
underflows on tasks with many responses).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError
from ._encoding import Responses, check_iteration_args, encode_golden, encode_responses
from ._model import AggregationModel
from ._special import digamma

__all__ = ["fit_mace", "mace"]

logger = logging.getLogger(__name__)

#: Beta prior on (spamming, knowing) and the Dirichlet prior on the spamming distribution.
KNOWING_PRIOR = (0.5, 0.5)
STRATEGY_PRIOR = 10.0


def _variational_normalize(counts: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """``exp(psi(c + prior)) / exp(psi(sum(c + prior)))`` row by row (sub-normalized)."""
    total = counts + prior
    return np.exp(digamma(total) - digamma(total.sum(axis=1, keepdims=True)))


def _initial(data: Responses, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """crowd-kit's start: uniform draws in [1, 2.5], rows normalized.

    Drawn for workers and labels in order of first appearance (as crowd-kit
    factorizes them), then placed at their sorted codes; labels of
    ``labels=`` that nobody gave get the draws' mean, 1.75.
    """
    W, K = data.workers.size, data.labels.size
    seen_workers = pd.unique(data.workers.codes)
    seen_labels = pd.unique(data.labels.codes)
    spam = np.empty((W, 2))
    spam[seen_workers] = 1.0 + 1.5 * np.random.RandomState(seed).uniform(size=(W, 2))
    theta = np.full((W, K), 1.75)
    draws = 1.0 + 1.5 * np.random.RandomState(seed).uniform(size=(W, len(seen_labels)))
    theta[np.ix_(seen_workers, seen_labels)] = draws
    return spam / spam.sum(axis=1, keepdims=True), theta / theta.sum(axis=1, keepdims=True)


def _e_step(
    data: Responses,
    spam: np.ndarray,
    theta: np.ndarray,
    golden_tasks: np.ndarray,
    golden_labels: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Posteriors ``(T, K)``, expected (spamming, knowing) counts ``(W, 2)``, expected
    spamming-label counts ``(W, K)`` and the log marginal likelihood."""
    task, worker, label = data.tasks.codes, data.workers.codes, data.labels.codes
    T, W, K = data.tasks.size, data.workers.size, data.labels.size
    spamming = spam[worker, 0] * theta[worker, label]  # P(answer o | spamming)
    either = spamming + spam[worker, 1]  # P(answer o | the true label is o)
    log_spamming = np.log(spamming)
    log_post = np.bincount(
        task * K + label, weights=np.log(either) - log_spamming, minlength=T * K
    ).reshape(T, K)
    base = np.bincount(task, weights=log_spamming, minlength=T) - np.log(K)
    top = log_post.max(axis=1, keepdims=True)
    post = np.exp(log_post - top)
    z = post.sum(axis=1, keepdims=True)
    post /= z
    log_likelihood = float((np.log(z[:, 0]) + top[:, 0] + base).sum())
    if len(golden_tasks):
        post[golden_tasks] = 0.0
        post[golden_tasks, golden_labels] = 1.0
    right = post[task, label]
    knowing = right * spam[worker, 1] / either
    strategy = 1.0 - knowing
    counts = np.empty((W, 2))
    counts[:, 0] = np.bincount(worker, weights=strategy, minlength=W)
    counts[:, 1] = np.bincount(worker, weights=knowing, minlength=W)
    strategy_counts = np.bincount(worker * K + label, weights=strategy, minlength=W * K)
    return post, counts, strategy_counts.reshape(W, K), log_likelihood


def fit_mace(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    n_iter: int = 50,
    seed: int = 0,
    labels: Iterable[object] | None = None,
    golden: Mapping[Any, Any] | pd.Series | None = None,
) -> AggregationModel:
    """Fit MACE; see :func:`mace`.

    Returns
    -------
    AggregationModel
        ``worker_columns``: ``competence`` (the probability that the worker
        knows the answer rather than spams).
    """
    n_iter, _ = check_iteration_args(n_iter, 0.0)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidArgumentError(f"seed must be a non-negative integer, got {seed!r}.")
    data = encode_responses(
        responses, task=task, worker=worker, label=label, labels=labels, method="MACE"
    )
    golden_tasks, golden_labels = encode_golden(
        golden, data.tasks, data.labels, task_like=responses[task], label_like=responses[label]
    )
    T, W, K = data.tasks.size, data.workers.size, data.labels.size
    if T == 0:
        post, competence = np.zeros((0, K)), np.zeros(W)
        history: tuple[float, ...] = ()
    else:
        spam, theta = _initial(data, int(seed))
        knowing_prior = np.broadcast_to(np.asarray(KNOWING_PRIOR), (W, 2))
        post, counts, strategy_counts, ll = _e_step(data, spam, theta, golden_tasks, golden_labels)
        lls = []
        for _ in range(n_iter):
            spam = _variational_normalize(counts, knowing_prior)
            theta = _variational_normalize(strategy_counts, np.full((W, K), STRATEGY_PRIOR))
            post, counts, strategy_counts, ll = _e_step(
                data, spam, theta, golden_tasks, golden_labels
            )
            lls.append(ll / data.n_responses)
        competence = spam[:, 1] / spam.sum(axis=1)
        history = tuple(lls)
    logger.info("MACE on %d responses: %d iterations", data.n_responses, n_iter)
    return AggregationModel.build(
        "MACE",
        data,
        post,
        names=(task, worker, label),
        golden_tasks=golden_tasks if golden is not None else None,
        worker_columns={"competence": competence},
        n_iter_run=n_iter if T else 0,
        loss_history=history,
    )


def mace(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    n_iter: int = 50,
    seed: int = 0,
    labels: Iterable[object] | None = None,
    golden: Mapping[Any, Any] | pd.Series | None = None,
) -> pd.DataFrame:
    """Aggregate responses with MACE (Multi-Annotator Competence Estimation).

    Each worker either knows the true label and gives it (probability
    ``competence``) or spams, answering from a label distribution of their own.
    Fitted by ``n_iter`` variational-Bayes EM iterations (Beta(0.5, 0.5) prior
    on knowing, Dirichlet(10) on the spamming distribution) from crowd-kit's
    seeded random start. Prefer it when some workers click at random or always
    pick the same label.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response, columns of any dtype backend. Responses with a
        missing label are dropped with a warning.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.
    n_iter : int, default 50
        EM iterations (MACE has no stopping tolerance).
    seed : int, default 0
        Seed of the random start (``numpy.random.RandomState``).
    labels : iterable, optional
        The full label space. Default: the labels observed.
    golden : mapping or Series, optional
        Task id -> known label; those tasks' posteriors are held one-hot.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``label``, ``confidence``
        (the answer's posterior), and ``golden`` (bool) when ``golden=`` is given.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "a", "b"],
    ...                    "result": ["cat", "cat", "dog", "dog"]})
    >>> mace(df)["result"].tolist()
    ['cat', 'dog']
    """
    return fit_mace(
        responses,
        task=task,
        worker=worker,
        label=label,
        n_iter=n_iter,
        seed=seed,
        labels=labels,
        golden=golden,
    ).to_frame()
