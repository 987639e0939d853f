"""The numeric core of ClosestToAverage, RASA and HRRASA on coded responses.

Rows are sorted by task (input order within a task); every task has a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._chi2 import chi2_isf
from ._edit import pairs_within
from ._gleu import gleu, ngram_counts

__all__ = [
    "Fit",
    "closest_rows",
    "cosine_distances",
    "local_reliabilities",
    "prior_reliabilities",
    "reliability_fit",
]

#: Lower bound of a worker's summed squared distance (crowd-kit's ``_EPS``).
MIN_DISTANCE = 1e-5


def cosine_distances(embeddings: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Row-wise ``1 - cos`` clipped to ``[0, 2]`` (SciPy's rounding guard); ``inf`` where
    either vector is zero (crowd-kit's convention)."""
    dot = np.einsum("ij,ij->i", embeddings, targets)
    norms = np.einsum("ij,ij->i", embeddings, embeddings) * np.einsum("ij,ij->i", targets, targets)
    zero = norms <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.clip(1.0 - dot / np.sqrt(np.where(zero, 1.0, norms)), 0.0, 2.0)
    distance[zero] = np.inf
    return distance


def closest_rows(task_codes: np.ndarray, distance: np.ndarray, n_tasks: int) -> np.ndarray:
    """The row of each task with the smallest distance, the first in row order on ties."""
    order = np.lexsort((np.arange(len(task_codes)), distance, task_codes))
    first = np.ones(len(order), dtype=bool)
    first[1:] = task_codes[order][1:] != task_codes[order][:-1]
    chosen = order[first]
    assert len(chosen) == n_tasks
    return chosen


def prior_reliabilities(worker_codes: np.ndarray, n_workers: int, alpha: float) -> np.ndarray:
    """``chi2.isf(alpha / 2, n_k)`` per worker (``n_k`` rows); NaN for workers without rows."""
    counts = np.bincount(worker_codes, minlength=n_workers)
    prior = np.full(n_workers, np.nan)
    for n in np.unique(counts[counts > 0]):
        prior[counts == n] = chi2_isf(alpha / 2, float(n))
    return prior


def task_bounds(task_codes: np.ndarray, n_tasks: int) -> np.ndarray:
    """The first row of each task (rows sorted by task, every task present)."""
    counts = np.bincount(task_codes, minlength=n_tasks)
    starts = np.zeros(n_tasks, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def weighted_means(
    embeddings: np.ndarray,
    weights: np.ndarray,
    starts: np.ndarray,
    golden: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Each task's weighted mean embedding (plain mean where the weights sum to 0); golden
    tasks take their known embedding."""
    if len(starts) == 0:
        return np.zeros((0, embeddings.shape[1]))
    total = np.add.reduceat(weights, starts)
    sums = np.add.reduceat(embeddings * weights[:, None], starts, axis=0)
    flat = total <= 0
    if flat.any():
        counts = np.diff(np.append(starts, len(weights)))
        plain = np.add.reduceat(embeddings, starts, axis=0) / counts[:, None]
        sums[flat] = plain[flat]
        total = np.where(flat, 1.0, total)
    means = sums / total[:, None]
    means[golden[0]] = golden[1]
    return means


@dataclass(frozen=True)
class Fit:
    """Aggregated embeddings and worker reliabilities of one fit."""

    aggregated: np.ndarray
    skill: np.ndarray
    prior: np.ndarray
    n_iter_run: int
    converged: bool
    loss_history: tuple[float, ...]


def reliability_fit(
    task_codes: np.ndarray,
    worker_codes: np.ndarray,
    embeddings: np.ndarray,
    local: np.ndarray,
    *,
    n_tasks: int,
    n_workers: int,
    golden: tuple[np.ndarray, np.ndarray],
    n_iter: int,
    tol: float,
    alpha: float,
) -> Fit:
    """RASA's iterations (HRRASA's with ``local`` reliabilities; RASA's are all 1).

    Each iteration: the weighted mean of each task (weights ``skill * local``),
    then each worker's ``skill = prior / max(sum of |e - mean|^2 / local, 1e-5)``;
    stops when the relative change of the means falls below ``tol``.
    """
    starts = task_bounds(task_codes, n_tasks)
    prior = prior_reliabilities(worker_codes, n_workers, alpha)
    present = ~np.isnan(prior)
    skill = np.where(present, 1.0, np.nan)
    aggregated = weighted_means(embeddings, local, starts, golden)
    history: list[float] = []
    last: np.ndarray | None = None
    converged = False
    n_run = 0
    for _ in range(n_iter):
        n_run += 1
        aggregated = weighted_means(embeddings, skill[worker_codes] * local, starts, golden)
        residual = embeddings - aggregated[task_codes]
        distance = np.einsum("ij,ij->i", residual, residual) / local
        totals = np.maximum(
            np.bincount(worker_codes, weights=distance, minlength=n_workers), MIN_DISTANCE
        )
        skill = np.where(present, prior / np.where(present, totals, 1.0), np.nan)
        if last is not None:
            delta = aggregated - last
            scale = float(np.sum(aggregated * aggregated))
            loss = float(np.sum(delta * delta)) / scale if scale > 0 else 0.0
            history.append(loss)
            if loss < tol:
                converged = True
                break
        last = aggregated
    return Fit(aggregated, skill, prior, n_run, converged, tuple(history))


def local_reliabilities(
    task_codes: np.ndarray,
    embeddings: np.ndarray,
    outputs: list[object],
    *,
    n_tasks: int,
    lambda_emb: float,
    lambda_out: float,
    similarity: Callable[[object, object], float] | None,
) -> np.ndarray:
    """HRRASA's local reliability of each row of a task with two or more rows.

    ``lambda_emb`` times the mean over the task's other rows of
    ``exp(-|e - e'|^2 / (|e|^2 |e'|^2))`` (0 where a vector is zero), plus
    ``lambda_out`` times the mean of ``similarity(output, other output)``
    (word GLEU when ``similarity`` is None).
    """
    counts = np.bincount(task_codes, minlength=n_tasks)
    starts = task_bounds(task_codes, n_tasks)
    left, right = pairs_within(starts, counts)
    n = len(task_codes)
    diff = embeddings[left] - embeddings[right]
    squared = np.einsum("ij,ij->i", embeddings, embeddings)
    scale = squared[left] * squared[right]
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(
            scale > 0,
            np.exp(-np.einsum("ij,ij->i", diff, diff) / np.where(scale > 0, scale, 1.0)),
            0.0,
        )
    emb = np.bincount(left, weights=term, minlength=n) + np.bincount(
        right, weights=term, minlength=n
    )
    seq: np.ndarray = np.zeros(n)
    if lambda_out != 0.0 and len(left):
        if similarity is None:
            grams = {
                int(r): ngram_counts(str(outputs[r]))
                for r in np.unique(np.concatenate([left, right]))
            }
            both = np.array([gleu(grams[int(a)], grams[int(b)]) for a, b in zip(left, right)])
            forward = backward = both
        else:
            forward = np.array(
                [float(similarity(outputs[a], outputs[b])) for a, b in zip(left, right)]
            )
            backward = np.array(
                [float(similarity(outputs[b], outputs[a])) for a, b in zip(left, right)]
            )
        seq = np.bincount(left, weights=forward, minlength=n) + np.bincount(
            right, weights=backward, minlength=n
        )
    others = np.maximum(counts[task_codes] - 1, 1)
    return (lambda_emb * emb + lambda_out * seq) / others
