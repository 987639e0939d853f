"""The fitted ranking every pairwise method returns."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...errors import InvalidArgumentError
from ._input import Comparisons
from ._tally import Tally, duels, tally

__all__ = ["RANKING_COLUMNS", "NoisyBradleyTerryModel", "RankingModel", "competition_ranks"]

#: The columns of every ranking frame, in order.
RANKING_COLUMNS = ("item", "score", "rank", "n_comparisons", "ci_low", "ci_high")


def competition_ranks(scores: np.ndarray) -> np.ndarray:
    """Rank 1 for the highest score; equal scores share the best rank ("1224")."""
    if not len(scores):
        return np.zeros(0, dtype=np.int64)
    ascending = np.sort(scores)
    higher = len(scores) - np.searchsorted(ascending, scores, side="right")
    return (higher + 1).astype(np.int64)


@dataclass(frozen=True, eq=False, kw_only=True, repr=False)
class RankingModel:
    """A fitted ranking of items from pairwise comparisons.

    Attributes
    ----------
    method : str
        The method's name, e.g. ``"BRADLEY_TERRY"``.
    items : pandas.Index
        Item ids, sorted, with the left/right columns' dtype.
    scores : numpy.ndarray
        ``(n_items,)`` float64 scores on the method's scale (higher is better;
        see each method).
    ci_low, ci_high : numpy.ndarray
        ``(n_items,)`` bootstrap percentile interval of each score; both equal
        ``scores`` when ``n_bootstrap`` is 0.
    n_comparisons : numpy.ndarray
        ``(n_items,)`` int64 comparisons each item took part in.
    replicates : numpy.ndarray
        ``(n_bootstrap, n_items)`` the bootstrap replicates' scores.
    n_bootstrap : int
        Bootstrap replicates drawn.
    confidence : float
        Confidence level of the intervals.
    seed : int
        Seed of the bootstrap (and of Elo's shuffle).
    n_iter_run : int
        Iterations run by the fit on all comparisons (0 for closed forms).
    converged : bool
        Whether that fit met its tolerance (True for closed forms).
    loss_history : tuple of float
        The objective after each iteration, where the method has one.
    n_dropped : int
        Comparisons left out (nulls, self-comparisons).
    options : mapping
        The method's parameters, e.g. ``{"prior": 0.01}``.
    tally : Tally or None
        (Elo: counted from ``comparisons`` when first needed.)
    comparisons : Comparisons or None
        The encoded comparisons, kept by Elo (whose fit does not count them).
        The comparisons counted by (left, right, outcome): the data of
        :meth:`win_rates`.
    """

    method: str
    items: pd.Index
    scores: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_comparisons: np.ndarray
    replicates: np.ndarray
    n_bootstrap: int
    confidence: float
    seed: int
    n_iter_run: int = 0
    converged: bool = True
    loss_history: tuple[float, ...] = ()
    n_dropped: int = 0
    options: Mapping[str, object] = field(default_factory=dict)
    tally: Tally | None = field(default=None, repr=False)
    comparisons: Comparisons | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(method={self.method!r}, n_items={len(self.items)}, "
            f"n_bootstrap={self.n_bootstrap}, n_iter_run={self.n_iter_run}, "
            f"converged={self.converged})"
        )

    @property
    def ranks(self) -> np.ndarray:
        """``(n_items,)`` int64 competition ranks: 1 for the best score, ties share the best."""
        return competition_ranks(self.scores)

    def to_frame(self) -> pd.DataFrame:
        """The ranking: one row per item, best first.

        Returns
        -------
        pandas.DataFrame
            ``item`` (the input's dtype), ``score`` (float64), ``rank`` (int64,
            1 is best, equal scores share a rank), ``n_comparisons`` (int64),
            ``ci_low`` and ``ci_high`` (float64). Sorted by rank, then by item.
        """
        order = np.argsort(-self.scores, kind="stable")
        return pd.DataFrame(
            {
                "item": self.items.take(order).array,
                "score": np.asarray(self.scores, dtype=np.float64)[order],
                "rank": self.ranks[order],
                "n_comparisons": np.asarray(self.n_comparisons, dtype=np.int64)[order],
                "ci_low": np.asarray(self.ci_low, dtype=np.float64)[order],
                "ci_high": np.asarray(self.ci_high, dtype=np.float64)[order],
            },
            index=pd.RangeIndex(len(order)),
        )

    def win_rates(self) -> pd.DataFrame:
        """The observed win rate of each item (rows) against each other item (columns).

        Returns
        -------
        pandas.DataFrame
            ``items x items`` float64: the share of their comparisons the row
            item won (a tie is half a win); NaN for pairs that never met and
            on the diagonal (no value exists there). Rows and columns in
            :attr:`items` order.

        Raises
        ------
        InvalidArgumentError
            If the model was built without its tally.
        """
        counted = self.tally
        if counted is None and self.comparisons is not None:
            counted = tally(self.comparisons)
        if counted is None:
            raise InvalidArgumentError("This model keeps no tally of its comparisons.")
        n = len(self.items)
        wins = duels(counted).matrix(counted.count)
        total = wins + wins.T
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.where(total > 0, wins / np.where(total > 0, total, 1.0), np.nan)
        return pd.DataFrame(
            rates.reshape(n, n), index=pd.Index(self.items, name="item"), columns=self.items
        )


@dataclass(frozen=True, eq=False, kw_only=True, repr=False)
class NoisyBradleyTerryModel(RankingModel):
    """A fitted NoisyBT ranking, with each worker's reliability and bias.

    Attributes
    ----------
    workers : pandas.Index
        Worker ids, sorted, with the worker column's dtype.
    reliability : numpy.ndarray
        ``(n_workers,)`` the probability that the worker answers by the items'
        strengths (crowd-kit's ``skills_``).
    bias : numpy.ndarray
        ``(n_workers,)`` the probability that the worker, when not answering by
        strength, picks the left item (crowd-kit's ``biases_``).
    n_responses : numpy.ndarray
        ``(n_workers,)`` int64 comparisons per worker.
    worker_column : hashable
        Name of the worker column in :meth:`worker_quality`.
    """

    workers: pd.Index
    reliability: np.ndarray
    bias: np.ndarray
    n_responses: np.ndarray
    worker_column: Hashable = "worker_id"

    def worker_quality(self) -> pd.DataFrame:
        """One row per worker, sorted by worker.

        Returns
        -------
        pandas.DataFrame
            :attr:`worker_column`, ``n_responses`` (int64), ``reliability`` and
            ``bias`` (float64).
        """
        return pd.DataFrame(
            {
                self.worker_column: self.workers.array,
                "n_responses": np.asarray(self.n_responses, dtype=np.int64),
                "reliability": np.asarray(self.reliability, dtype=np.float64),
                "bias": np.asarray(self.bias, dtype=np.float64),
            },
            index=pd.RangeIndex(len(self.workers)),
        )
