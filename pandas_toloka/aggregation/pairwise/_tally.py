"""Comparisons counted by kind: the sufficient statistics of the order-free methods.

Bradley–Terry, counting, average win rate, eigenvector and PageRank scores
depend on the comparisons only through how many times each ``(left, right,
outcome)`` happened (NoisyBT: each ``(left, right, outcome, worker)``). A
:class:`Tally` holds those distinct kinds and their counts; a bootstrap
replicate is another count vector over the same kinds, and tallies of
partitions add up (a reduction, as on Dask).

From a tally, :func:`duels` makes the weighted "winner beat loser" list every
score kernel reads: a tie is half a win for each side.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from ._input import LEFT, RIGHT, TIE, Comparisons, WinnerKind, encode_comparisons

__all__ = ["Duels", "Tally", "count_duels", "duels", "tally"]

#: Key spaces up to this size are counted with bincount rather than sorted.
_BINCOUNT_MAX = 1 << 22


@dataclass(frozen=True)
class Tally:
    """Distinct comparisons and how many times each happened.

    Attributes
    ----------
    left, right : numpy.ndarray
        ``(K,)`` item codes.
    outcome : numpy.ndarray
        ``(K,)`` int8 outcome codes.
    worker : numpy.ndarray or None
        ``(K,)`` worker codes, when counted by worker.
    count : numpy.ndarray
        ``(K,)`` float64 counts (> 0).
    n_items, n_workers : int
        Sizes of the code spaces.
    """

    left: np.ndarray
    right: np.ndarray
    outcome: np.ndarray
    worker: np.ndarray | None
    count: np.ndarray
    n_items: int
    n_workers: int = 0

    @property
    def n_kinds(self) -> int:
        """Number of distinct comparisons."""
        return len(self.count)

    @property
    def total(self) -> float:
        """Number of comparisons counted."""
        return float(self.count.sum())


def _count_keys(
    keys: np.ndarray, space: int, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys (sorted) with a positive count, and their counts."""
    if space <= max(_BINCOUNT_MAX, 4 * len(keys)):
        counts = np.bincount(keys, weights=weight, minlength=space)
        present = np.flatnonzero(counts)
        return present, counts[present].astype(np.float64)
    distinct, inverse = np.unique(keys, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=weight, minlength=len(distinct))
    positive = counts > 0
    return distinct[positive], counts[positive].astype(np.float64)


def tally(data: Comparisons, *, by_worker: bool = False) -> Tally:
    """Count the distinct comparisons of ``data`` (by worker too, if asked)."""
    n = data.n_items
    keys = (data.left.astype(np.int64) * n + data.right) * 3 + data.outcome
    space = n * n * 3
    n_workers = 0
    if by_worker:
        assert data.worker is not None and data.workers is not None
        n_workers = len(data.workers)
        keys = keys * n_workers + data.worker
        space *= n_workers
    distinct, counts = _count_keys(keys, space, data.count)
    worker = None
    if by_worker:
        worker = (distinct % n_workers).astype(np.intp)
        distinct = distinct // n_workers
    outcome = (distinct % 3).astype(np.int8)
    pair = distinct // 3
    return Tally(
        left=(pair // n).astype(np.intp),
        right=(pair % n).astype(np.intp),
        outcome=outcome,
        worker=worker,
        count=counts,
        n_items=n,
        n_workers=n_workers,
    )


@dataclass(frozen=True)
class Duels:
    """A tally as weighted "winner beat loser" entries.

    Attributes
    ----------
    winner, loser : numpy.ndarray
        ``(M,)`` item codes.
    kind : numpy.ndarray
        ``(M,)`` the tally row each entry comes from.
    share : numpy.ndarray
        ``(M,)`` 1.0 for a win, 0.5 for each half of a tie.
    n_items : int
        Size of the item code space.
    """

    winner: np.ndarray
    loser: np.ndarray
    kind: np.ndarray
    share: np.ndarray
    n_items: int

    def weights(self, counts: np.ndarray) -> np.ndarray:
        """Entry weights for tally counts ``(K,)`` or ``(B, K)``."""
        return counts[..., self.kind] * self.share

    def matrix(self, counts: np.ndarray) -> np.ndarray:
        """``(n, n)`` (or ``(B, n, n)``) matrix: ``[i, j]`` = wins of ``i`` over ``j``
        (ties as halves)."""
        n = self.n_items
        weights = np.atleast_2d(self.weights(counts))
        batch = weights.shape[0]
        cell = self.winner * n + self.loser
        flat = (cell[None, :] + (np.arange(batch) * n * n)[:, None]).ravel()
        out = np.bincount(flat, weights=weights.ravel(), minlength=batch * n * n)
        out = out.reshape(batch, n, n)
        return out if counts.ndim == 2 else out[0]


def duels(counted: Tally) -> Duels:
    """The winner/loser entries of a tally (a tie gives two half entries)."""
    rows = np.arange(counted.n_kinds)
    left_wins = counted.outcome == LEFT
    right_wins = counted.outcome == RIGHT
    ties = counted.outcome == TIE
    winner = np.concatenate(
        [
            counted.left[left_wins],
            counted.right[right_wins],
            counted.left[ties],
            counted.right[ties],
        ]
    )
    loser = np.concatenate(
        [
            counted.right[left_wins],
            counted.left[right_wins],
            counted.right[ties],
            counted.left[ties],
        ]
    )
    kind = np.concatenate([rows[left_wins], rows[right_wins], rows[ties], rows[ties]])
    share = np.concatenate(
        [np.ones(int(left_wins.sum() + right_wins.sum())), np.full(2 * int(ties.sum()), 0.5)]
    )
    return Duels(
        winner=winner.astype(np.intp),
        loser=loser.astype(np.intp),
        kind=kind.astype(np.intp),
        share=share,
        n_items=counted.n_items,
    )


def count_duels(
    responses: object,
    *,
    left: Hashable,
    right: Hashable,
    winner: Hashable,
    winner_kind: WinnerKind,
    counts: Hashable | None,
    method: str,
) -> tuple[Comparisons, Tally, Duels]:
    """A frame of comparisons (workers not told apart) encoded, tallied and made duels.

    What every order-free score starts from: the encoded comparisons, their
    :func:`tally` and its :func:`duels`.
    """
    data = encode_comparisons(
        responses,
        left=left,
        right=right,
        winner=winner,
        worker=None,
        winner_kind=winner_kind,
        counts=counts,
        method=method,
    )
    counted = tally(data)
    return data, counted, duels(counted)
