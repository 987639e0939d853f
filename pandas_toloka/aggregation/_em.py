"""The numeric core of Dawid–Skene: expectation–maximization on integer codes.

Notation: ``n`` responses, ``T`` tasks, ``W`` workers, ``K`` labels. Response
``i`` is worker ``w_i``'s observed label ``o_i`` for task ``t_i``. Posteriors
are kept labels-first, ``(K, T)``, so that each label's row is contiguous.

The per-response sums of every iteration go through :class:`._layout.TaskGrid`
(contiguous gathers and :func:`numpy.bincount`); the only Python loops run over
the ``K`` labels, the grid's few rows and the iterations. Memory is
``O(n + T*K + W*K*K)``: nothing of size ``n*K`` is materialized.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._layout import Shard, TaskGrid

__all__ = [
    "EPS",
    "EMResult",
    "Golden",
    "ResponseCodes",
    "full_confusion",
    "one_coin_confusion",
    "run_em",
]

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
    worker_counts: np.ndarray = field(init=False, repr=False)
    cell_counts: np.ndarray = field(init=False, repr=False)
    layout: TaskGrid = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Flat index of (worker, observed label) cells: w * K + o.
        n_cells = self.n_workers * self.n_labels
        worker_label = self.worker * self.n_labels + self.label
        cell_counts = np.bincount(worker_label, minlength=n_cells)
        used = cell_counts > 0
        object.__setattr__(self, "cell_counts", cell_counts)
        object.__setattr__(self, "worker_label", worker_label)
        object.__setattr__(
            self, "worker_counts", cell_counts.reshape(self.n_workers, self.n_labels).sum(axis=1)
        )
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
    """Per-task vote shares, ``(K, T)`` (crowd-kit's majority-vote initialization)."""
    T, K = data.n_tasks, data.n_labels
    # Label k's votes per task are the task sums of the indicator of k's cells (exact
    # small integers): gathers over the layout, on the pool's threads.
    cell_label = np.tile(np.arange(K), data.n_workers)
    shares = np.empty((K, T))
    for k in range(K):
        shares[k] = data.layout.task_sums((cell_label == k).astype(np.float64))
    shares /= shares.sum(axis=0)
    return shares


@dataclass(frozen=True)
class Golden:
    """Tasks whose true label is known: their posteriors stay one-hot through EM.

    Attributes
    ----------
    task, label : numpy.ndarray
        ``intp`` codes of the golden tasks and of their known labels.
    """

    task: np.ndarray
    label: np.ndarray

    def apply(self, post: np.ndarray) -> np.ndarray:
        """Overwrite the golden tasks' columns of ``post`` (``(K, T)``) in place."""
        if len(self.task):
            post[:, self.task] = 0.0
            post[self.label, self.task] = 1.0
        return post


def soft_counts(data: ResponseCodes, post: np.ndarray) -> np.ndarray:
    """``(W, K, K)`` soft counts ``N[w, k, o] = sum of post[k, t_i]`` over ``w``'s ``o`` responses.

    Every label gets its own pass: deriving the last label's counts as the
    cell's response count minus the others' would save a pass but cancels
    catastrophically on nearly-empty cells (measured: posteriors off by 4e-9
    on the product dataset).
    """
    W, K = data.n_workers, data.n_labels
    sums = data.layout.cell_sums_many(post)  # (K, W * K)
    return np.ascontiguousarray(sums.reshape(K, W, K).transpose(1, 0, 2))


def full_confusion(data: ResponseCodes, counts: np.ndarray) -> np.ndarray:
    """Dawid–Skene's confusion matrices from soft counts.

    The cells of labels the worker used are floored at :data:`EPS`, the cells of
    labels the worker never used set to 0, and rows normalized to sum 1.
    """
    floored = np.where(data.used[:, None, :], np.maximum(counts, EPS), 0.0)
    return floored / floored.sum(axis=2, keepdims=True)


def one_coin_confusion(data: ResponseCodes, counts: np.ndarray) -> np.ndarray:
    """One-coin confusion matrices: skill ``s_w`` on the diagonal, ``(1 - s_w)/(K - 1)`` elsewhere.

    ``s_w`` is the mean posterior of the label ``w`` gave, over ``w``'s responses
    (crowd-kit's ``OneCoinDawidSkene``); every entry is clipped into
    ``[EPS, 1 - EPS]``. Cells of labels the worker never used are 0 (never
    looked up).
    """
    W, K = data.n_workers, data.n_labels
    diagonal = np.diagonal(counts, axis1=1, axis2=2).sum(axis=1)  # (W,)
    skill = diagonal / np.maximum(data.worker_counts, 1)
    off = (1.0 - skill) / (K - 1) if K > 1 else np.zeros(W)
    conf = np.broadcast_to(np.clip(off, EPS, 1 - EPS)[:, None, None], (W, K, K)).copy()
    index = np.arange(K)
    conf[:, index, index] = np.clip(skill, EPS, 1 - EPS)[:, None]
    return np.where(data.used[:, None, :], conf, 0.0)


ConfusionRule = Callable[[ResponseCodes, np.ndarray], np.ndarray]


def m_step(
    data: ResponseCodes, post: np.ndarray, rule: ConfusionRule = full_confusion
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximization: priors, soft counts and confusion matrices from posteriors.

    Returns
    -------
    priors : numpy.ndarray
        ``(K,)``, the mean posterior over tasks.
    counts : numpy.ndarray
        ``(W, K, K)`` soft counts (:func:`soft_counts`).
    confusion : numpy.ndarray
        ``rule(data, counts)``, by default :func:`full_confusion`.
    """
    counts = soft_counts(data, post)
    priors = post.mean(axis=1)
    return priors, counts, rule(data, counts)


def log_confusion(confusion: np.ndarray) -> np.ndarray:
    """``log(confusion)`` with ``-inf`` for the (never looked-up) zero cells."""
    with np.errstate(divide="ignore"):
        return np.log(confusion)


@dataclass(frozen=True)
class EStep:
    """Posteriors ``(K, T)`` and the entropy term of the objective, from one E-step."""

    post: np.ndarray
    entropy: float


def e_step(
    data: ResponseCodes,
    priors: np.ndarray,
    log_conf: np.ndarray,
    *,
    out: np.ndarray | None = None,
) -> EStep:
    """Expectation: posteriors ``(K, T)`` from priors and log confusion matrices.

    Log posteriors are only needed up to a per-task constant, so label ``k``'s
    per-task sum is taken over ``log C[w, k, o] - log C[w, 0, o]``: ``K - 1``
    passes over the responses instead of ``K``. The entropy of the
    posteriors (clipped at :data:`EPS`, as crowd-kit does) comes from the log
    posteriors at hand, without another logarithm per task and label. Each
    shard of the layout is one job for the thread pool. The posteriors are
    written into ``out`` (``(K, T)``) when given, else into a new array.
    """
    T, K = data.n_tasks, data.n_labels
    log_priors = np.log(np.maximum(priors, EPS))
    if K == 1:
        return EStep(np.ones((1, T)), 0.0)
    finite = np.where(np.isfinite(log_conf), log_conf, 0.0)  # unused cells are never looked up
    base = finite[:, 0, :]
    layout = data.layout
    tables = [layout.extend((finite[:, k, :] - base).ravel()) for k in range(1, K)]
    # Writing into the caller's buffer spares a large allocation (page faults) per iteration.
    post = np.empty((K, T)) if out is None else out
    if K == 2:
        shift = log_priors[1] - log_priors[0]
        parts = layout.map(lambda shard: _binary_posteriors(shard, tables[0], shift, post))
    else:
        parts = layout.map(lambda shard: _posteriors(shard, tables, log_priors, post))
    # The two entropy terms are added up separately, then together, as with one chunk.
    return EStep(post, sum(p[0] for p in parts) + sum(p[1] for p in parts))


def _binary_posteriors(
    shard: Shard, table: np.ndarray, shift: float, post: np.ndarray
) -> tuple[float, float]:
    """Two labels: fill ``post[:, shard]``, chunk by chunk; return the two entropy terms."""
    larger_sum = smaller_sum = 0.0
    for lo, hi in shard.chunks():
        larger, smaller = _binary_chunk(
            shard.task_sums(table, lo, hi), shift, post[:, shard.start + lo : shard.start + hi]
        )
        larger_sum += larger
        smaller_sum += smaller
    return larger_sum, smaller_sum


def _binary_chunk(d: np.ndarray, shift: float, out: np.ndarray) -> tuple[float, float]:
    # d = log P(1) - log P(0); P(1) = 1 / (1 + e^-d), P(0) = 1 / (1 + e^d). Branch-free:
    # masked selections cost more than the arithmetic here.
    d += shift
    with np.errstate(over="ignore"):
        e_minus = np.exp(np.negative(d))
        e_plus = np.exp(d)
    np.divide(1.0, e_minus + 1.0, out=out[1])
    np.divide(1.0, e_plus + 1.0, out=out[0])
    # Per task, with a = |d| and z = 1 + e^-a: -log(larger) = log z and
    # -log(smaller) = a + log z; crowd-kit clips the posteriors at EPS first.
    log_z = np.log1p(np.minimum(e_minus, e_plus))
    larger = np.maximum(out[0], out[1])
    smaller = np.minimum(out[0], out[1])
    minus_log_smaller = np.abs(d)
    minus_log_smaller += log_z
    np.minimum(minus_log_smaller, -np.log(EPS), out=minus_log_smaller)
    np.maximum(smaller, EPS, out=smaller)
    # Elementwise products, not `@`: a BLAS dot may wake (and spin) its threads.
    larger *= log_z
    smaller *= minus_log_smaller
    return float(larger.sum()), float(smaller.sum())


def _posteriors(
    shard: Shard, tables: list[np.ndarray], log_priors: np.ndarray, post: np.ndarray
) -> tuple[float, float]:
    """Three labels or more: fill ``post[:, shard]``, chunk by chunk; return the entropy (and 0)."""
    K = len(tables) + 1
    entropy = 0.0
    for lo, hi in shard.chunks():
        log_post = np.empty((K, hi - lo))
        log_post[0] = log_priors[0]
        for k in range(1, K):
            log_post[k] = shard.task_sums(tables[k - 1], lo, hi)
            log_post[k] += log_priors[k]
        log_post -= log_post.max(axis=0)
        out = post[:, shard.start + lo : shard.start + hi]
        np.exp(log_post, out=out)
        z = out.sum(axis=0)
        out /= z
        log_post -= np.log(z)
        np.maximum(log_post, np.log(EPS), out=log_post)
        entropy -= float((np.maximum(out, EPS) * log_post).sum())
    return entropy, 0.0


def objective(
    data: ResponseCodes,
    entropy: float,
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
    return (joint + entropy) / data.n_responses


def run_em(
    data: ResponseCodes,
    *,
    n_iter: int,
    tol: float,
    rule: ConfusionRule = full_confusion,
    golden: Golden | None = None,
) -> EMResult:
    """Fit Dawid–Skene (or a variant, through ``rule``) by EM, started from majority-vote shares.

    The loop follows crowd-kit 1.4: ``M(init)``, then ``n_iter`` times
    ``E``, ``M``, objective; it stops as soon as the objective gains less than
    ``tol`` (a decrease stops it too). Golden tasks keep one-hot posteriors
    from the start and after every E-step.
    """
    post = initial_posteriors(data)
    if golden is not None:
        golden.apply(post)
    priors, counts, confusion = m_step(data, post, rule)
    log_conf = log_confusion(confusion)
    loss = -np.inf
    history: list[float] = []
    converged = False
    for _ in range(n_iter):
        # The previous posteriors are spent (the M-step consumed them): overwrite them.
        step = e_step(data, priors, log_conf, out=post)
        post, entropy = step.post, step.entropy
        if golden is not None and len(golden.task):
            golden.apply(post)
            entropy = _entropy(post)
        priors, counts, confusion = m_step(data, post, rule)
        log_conf = log_confusion(confusion)
        new_loss = objective(data, entropy, priors, counts, log_conf)
        history.append(new_loss)
        if new_loss - loss < tol:
            converged = True
            break
        loss = new_loss
    logger.debug(
        "EM: %d iterations, converged=%s, objective=%s",
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


def _entropy(post: np.ndarray) -> float:
    clipped = np.maximum(post, EPS)
    return -float((clipped * np.log(clipped)).sum())
