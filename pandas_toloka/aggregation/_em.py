"""The numeric core of Dawid–Skene: expectation–maximisation on integer codes.

Notation: ``n`` responses, ``T`` tasks, ``W`` workers, ``K`` labels. Response
``i`` is worker ``w_i``'s observed label ``o_i`` for task ``t_i``. Posteriors
are kept labels-first, ``(K, T)``, so that each label's row is contiguous.

The per-response sums of every iteration go through :class:`._layout.TaskGrid`
(contiguous gathers and :func:`numpy.bincount`); the only Python loops run over
the ``K`` labels, the grid's few rows and the iterations. Memory is
``O(n + T*K + W*K*K)``: nothing of size ``n*K`` is materialised.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ._layout import TaskGrid

__all__ = ["EPS", "EMResult", "ResponseCodes", "run_em"]

logger = logging.getLogger(__name__)

#: Floor of soft counts and priors before taking logarithms (crowd-kit's ``_EPS``).
EPS = 1e-10


@dataclass(frozen=True)
class ResponseCodes:
    """Responses as integer codes, with the derived index arrays EM needs.

    Attributes
    ----------
    task, worker, label : numpy.ndarray
        ``intp`` codes, one per response.
    n_tasks, n_workers, n_labels : int
        ``T``, ``W``, ``K``.
    """

    task: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    n_tasks: int
    n_workers: int
    n_labels: int
    worker_label: np.ndarray = field(init=False, repr=False)
    used: np.ndarray = field(init=False, repr=False)
    layout: TaskGrid = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Flat index of (worker, observed label) cells: w * K + o.
        n_cells = self.n_workers * self.n_labels
        worker_label = self.worker * self.n_labels + self.label
        used = np.bincount(worker_label, minlength=n_cells) > 0
        object.__setattr__(self, "worker_label", worker_label)
        object.__setattr__(self, "used", used.reshape(self.n_workers, self.n_labels))
        object.__setattr__(
            self, "layout", TaskGrid.build(self.task, worker_label, self.n_tasks, n_cells)
        )

    @property
    def n_responses(self) -> int:
        """Number of responses ``n``."""
        return len(self.task)


@dataclass(frozen=True)
class EMResult:
    """What :func:`run_em` returns.

    Attributes
    ----------
    posteriors : numpy.ndarray
        ``(T, K)`` posterior probability of each true label per task.
    priors : numpy.ndarray
        ``(K,)`` class priors.
    confusion : numpy.ndarray
        ``(W, K, K)``: ``confusion[w, k, o]`` = P(worker ``w`` answers ``o`` | true ``k``).
    n_iter_run : int
        EM iterations run (0 when ``n_iter == 0``: posteriors are the vote shares).
    converged : bool
        Whether the objective's gain fell below ``tol`` before ``n_iter`` ran out.
    loss_history : tuple of float
        The objective (per response) after each iteration.
    """

    posteriors: np.ndarray
    priors: np.ndarray
    confusion: np.ndarray
    n_iter_run: int
    converged: bool
    loss_history: tuple[float, ...]


def initial_posteriors(data: ResponseCodes) -> np.ndarray:
    """Per-task vote shares, ``(K, T)`` (crowd-kit's majority-vote initialisation)."""
    T, K = data.n_tasks, data.n_labels
    votes = np.bincount(data.label * T + data.task, minlength=K * T).reshape(K, T)
    shares = votes.astype(np.float64)
    shares /= votes.sum(axis=0)
    return shares


def m_step(data: ResponseCodes, post: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximisation: priors, soft counts and confusion matrices from posteriors.

    Returns
    -------
    priors : numpy.ndarray
        ``(K,)``, the mean posterior over tasks.
    counts : numpy.ndarray
        ``(W, K, K)`` soft counts ``N[w, k, o] = sum of post[k, t_i]`` over the
        responses of ``w`` with observed label ``o``.
    confusion : numpy.ndarray
        ``counts`` with the cells of labels the worker used floored at :data:`EPS`,
        cells of labels the worker never used set to 0, rows normalized to sum 1.
    """
    W, K = data.n_workers, data.n_labels
    counts = np.empty((W, K, K))
    for k in range(K):
        counts[:, k, :] = data.layout.cell_sums(post[k]).reshape(W, K)
    priors = post.mean(axis=1)
    floored = np.where(data.used[:, None, :], np.maximum(counts, EPS), 0.0)
    confusion = floored / floored.sum(axis=2, keepdims=True)
    return priors, counts, confusion


def log_confusion(confusion: np.ndarray) -> np.ndarray:
    """``log(confusion)`` with ``-inf`` for the (never looked-up) zero cells."""
    with np.errstate(divide="ignore"):
        return np.log(confusion)


def e_step(data: ResponseCodes, priors: np.ndarray, log_conf: np.ndarray) -> np.ndarray:
    """Expectation: posteriors ``(K, T)`` from priors and log confusion matrices."""
    T, K = data.n_tasks, data.n_labels
    log_post = np.empty((K, T))
    log_priors = np.log(np.maximum(priors, EPS))
    for k in range(K):
        log_post[k] = data.layout.task_sums(log_conf[:, k, :].ravel())  # cells: w * K + o
        log_post[k] += log_priors[k]
    log_post -= log_post.max(axis=0)
    np.exp(log_post, out=log_post)
    log_post /= log_post.sum(axis=0)
    return log_post


def objective(
    data: ResponseCodes,
    post: np.ndarray,
    priors: np.ndarray,
    counts: np.ndarray,
    log_conf: np.ndarray,
) -> float:
    """crowd-kit's evidence lower bound, divided by the number of responses.

    ``sum_i sum_k post[k, t_i] * (log confusion[w_i, k, o_i] + log prior_k)``
    plus the entropy of the posteriors. As in crowd-kit the prior term is
    counted once per *response*. It is computed from the ``(W, K, K)`` soft
    counts, without another pass over the responses.
    """
    finite = np.where(counts > 0, counts * np.where(np.isfinite(log_conf), log_conf, 0.0), 0.0)
    joint = float(finite.sum())
    joint += float(counts.sum(axis=(0, 2)) @ np.log(np.maximum(priors, EPS)))
    clipped = np.maximum(post, EPS)
    entropy = -float((clipped * np.log(clipped)).sum())
    return (joint + entropy) / data.n_responses


def run_em(data: ResponseCodes, *, n_iter: int, tol: float) -> EMResult:
    """Fit Dawid–Skene by EM, started from majority-vote shares.

    The loop follows crowd-kit 1.4: ``M(init)``, then ``n_iter`` times
    ``E``, ``M``, objective; it stops as soon as the objective gains less than
    ``tol`` (a decrease stops it too).
    """
    post = initial_posteriors(data)
    priors, counts, confusion = m_step(data, post)
    log_conf = log_confusion(confusion)
    loss = -np.inf
    history: list[float] = []
    converged = False
    for _ in range(n_iter):
        post = e_step(data, priors, log_conf)
        priors, counts, confusion = m_step(data, post)
        log_conf = log_confusion(confusion)
        new_loss = objective(data, post, priors, counts, log_conf)
        history.append(new_loss)
        if new_loss - loss < tol:
            converged = True
            break
        loss = new_loss
    logger.debug(
        "Dawid-Skene: %d iterations, converged=%s, objective=%s",
        len(history),
        converged,
        history[-1] if history else None,
    )
    return EMResult(
        posteriors=np.ascontiguousarray(post.T),
        priors=priors,
        confusion=confusion,
        n_iter_run=len(history),
        converged=converged,
        loss_history=tuple(history),
    )
