"""Scores read off the win graph: counting, average win rate, eigenvector, PageRank.

All take :class:`~._tally.Duels` and a batch of tally counts ``(B, K)`` and
return ``(B, n)`` scores. ``w_ij`` below is the weight of "``i`` beat ``j``"
(a tie is half a win for each side).

- counting: ``sum_j w_ij``.
- average win rate: the mean, over the opponents ``j`` an item met, of
  ``w_ij / (w_ij + w_ji)``; 0 for an item without opponents.
- eigenvector: the leading eigenvector of ``W`` by power iteration from the
  uniform vector, ``s <- W s / ||W s||_2``: an item scores by beating items
  that score.
- PageRank: every item spreads its score over the items that beat it, in
  proportion to its losses to them (an item that never lost spreads it
  evenly), damped: ``s <- d A^T s + (1 - d) / n * sum(s)``, L2-normalised at
  each step as evalica does, and L1-normalised (sums to 1) at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._tally import Duels

__all__ = [
    "Pairs",
    "average_win_rate_scores",
    "counting_scores",
    "eigen_scores",
    "pagerank_scores",
    "pairs",
]


def _per_item(index: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """``bincount`` of each batch row: ``(B, M)`` weights -> ``(B, n)``."""
    batch = weights.shape[0]
    flat = (index[None, :] + (np.arange(batch) * n)[:, None]).ravel()
    return np.bincount(flat, weights=weights.ravel(), minlength=batch * n).reshape(batch, n)


def counting_scores(data: Duels, counts: np.ndarray) -> np.ndarray:
    """Wins per item (ties as halves)."""
    return _per_item(data.winner, data.weights(np.atleast_2d(counts)), data.n_items)


@dataclass(frozen=True)
class Pairs:
    """The unordered pairs of items that met.

    Attributes
    ----------
    low, high : numpy.ndarray
        ``(P,)`` item codes, ``low < high``.
    entry_pair : numpy.ndarray
        ``(M,)`` the pair of each duel entry.
    low_won : numpy.ndarray
        ``(M,)`` bool, whether the entry's winner is the pair's ``low`` item.
    """

    low: np.ndarray
    high: np.ndarray
    entry_pair: np.ndarray
    low_won: np.ndarray

    def weights(self, data: Duels, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(B, P)`` wins of ``low`` over ``high`` and of ``high`` over ``low``."""
        weights = data.weights(np.atleast_2d(counts))
        n_pairs = len(self.low)
        low_wins = _per_item(self.entry_pair, weights * self.low_won, n_pairs)
        high_wins = _per_item(self.entry_pair, weights * ~self.low_won, n_pairs)
        return low_wins, high_wins


def pairs(data: Duels) -> Pairs:
    """The pairs of ``data``'s entries."""
    low = np.minimum(data.winner, data.loser)
    high = np.maximum(data.winner, data.loser)
    key = low.astype(np.int64) * data.n_items + high
    distinct, entry_pair = np.unique(key, return_inverse=True)
    return Pairs(
        low=(distinct // data.n_items).astype(np.intp),
        high=(distinct % data.n_items).astype(np.intp),
        entry_pair=entry_pair.astype(np.intp).ravel(),
        low_won=data.winner == low,
    )


def average_win_rate_scores(data: Duels, structure: Pairs, counts: np.ndarray) -> np.ndarray:
    """Mean win rate over the opponents met."""
    low_wins, high_wins = structure.weights(data, counts)
    total = low_wins + high_wins
    met = total > 0
    safe = np.where(met, total, 1.0)
    n = data.n_items
    rate_sum = _per_item(structure.low, low_wins / safe, n) + _per_item(
        structure.high, high_wins / safe, n
    )
    opponents = _per_item(structure.low, met.astype(float), n) + _per_item(
        structure.high, met.astype(float), n
    )
    return rate_sum / np.where(opponents > 0, opponents, 1.0)


@dataclass(frozen=True)
class PowerFit:
    """Scores ``(B, n)``, iterations run and whether every row converged."""

    scores: np.ndarray
    n_iter_run: int
    converged: bool


def _power(step: object, start: np.ndarray, n_iter: int, tol: float) -> PowerFit:
    scores = start
    if not start.shape[1]:
        return PowerFit(scores, 0, True)
    converged, run = n_iter == 0, 0
    for run in range(1, n_iter + 1):  # noqa: B007 - run is reported
        new = step(scores)  # type: ignore[operator]
        norm = np.linalg.norm(new, axis=1, keepdims=True)
        new = new / np.where(norm > 0, norm, 1.0)
        delta = np.linalg.norm(new - scores, axis=1)
        scores = new
        if (delta < tol).all():
            converged = True
            break
    return PowerFit(scores, run, converged)


def eigen_scores(data: Duels, counts: np.ndarray, *, n_iter: int, tol: float) -> PowerFit:
    """Leading eigenvector of the win matrix (unit L2 norm), by power iteration."""
    weights = data.weights(np.atleast_2d(counts))
    n = data.n_items
    start = np.full((weights.shape[0], n), 1.0 / max(n, 1))

    def step(scores: np.ndarray) -> np.ndarray:
        return _per_item(data.winner, weights * scores[:, data.loser], n)

    return _power(step, start, n_iter, tol)


def pagerank_scores(
    data: Duels, counts: np.ndarray, *, damping: float, n_iter: int, tol: float
) -> PowerFit:
    """PageRank of the "lost to" graph (sums to 1), as evalica computes it."""
    weights = data.weights(np.atleast_2d(counts))
    n = data.n_items
    batch = weights.shape[0]
    losses = _per_item(data.loser, weights, n)
    dangling = losses <= 0
    per_loss = weights / np.where(dangling, 1.0, losses)[:, data.loser]
    start = np.full((batch, n), 1.0 / max(n, 1))

    def step(scores: np.ndarray) -> np.ndarray:
        spread = _per_item(data.winner, per_loss * scores[:, data.loser], n)
        spread += (scores * dangling).sum(axis=1, keepdims=True) / n
        return damping * spread + (1.0 - damping) / n * scores.sum(axis=1, keepdims=True)

    if not n:
        return PowerFit(np.zeros((batch, 0)), 0, True)

    fit = _power(step, start, n_iter, tol)
    total = np.abs(fit.scores).sum(axis=1, keepdims=True)
    return PowerFit(fit.scores / np.where(total > 0, total, 1.0), fit.n_iter_run, fit.converged)
