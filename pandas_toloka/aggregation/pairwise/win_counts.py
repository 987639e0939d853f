"""Counting and average win rate: rankings read straight off the win counts."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from .._to_frame import frame_function
from ._bootstrap import resample_tally
from ._build import build_model
from ._docs import PARTS
from ._graph_kernels import average_win_rate_scores, counting_scores, pairs
from ._input import WinnerKind
from ._model import RankingModel
from ._options import check_bootstrap
from ._tally import count_duels

__all__ = ["average_win_rate", "counting", "fit_average_win_rate", "fit_counting"]


def _fit(
    method: str,
    responses: pd.DataFrame,
    *,
    left: Hashable,
    right: Hashable,
    winner: Hashable,
    winner_kind: WinnerKind,
    counts: Hashable | None,
    n_bootstrap: int,
    confidence: float,
    seed: int,
) -> RankingModel:
    n_bootstrap, confidence, seed = check_bootstrap(n_bootstrap, confidence, seed)
    data, counted, entries = count_duels(
        responses,
        left=left,
        right=right,
        winner=winner,
        winner_kind=winner_kind,
        counts=counts,
        method=method,
    )
    if method == "COUNTING":

        def score(counts: np.ndarray) -> np.ndarray:
            return counting_scores(entries, counts)

    else:
        structure = pairs(entries)

        def score(counts: np.ndarray) -> np.ndarray:
            return average_win_rate_scores(entries, structure, counts)

    return build_model(
        method,
        data,
        score(counted.count)[0],
        resample_tally(counted.count, n_bootstrap, seed, score),
        confidence=confidence,
        seed=seed,
        counted=counted,
        options={},
    )


def fit_counting(
    responses: pd.DataFrame,
    *,
    left: Hashable = "left",
    right: Hashable = "right",
    winner: Hashable = "winner",
    worker: Hashable = "worker_id",
    winner_kind: WinnerKind = "auto",
    counts: Hashable | None = None,
    n_bootstrap: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
) -> RankingModel:
    """Count wins; see :func:`counting`.

    Returns
    -------
    RankingModel
        ``scores`` are the wins (a tie counts half to each side).
    """
    del worker  # not read: the same signature as every pairwise method
    return _fit(
        "COUNTING",
        responses,
        left=left,
        right=right,
        winner=winner,
        winner_kind=winner_kind,
        counts=counts,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
    )


counting = frame_function(
    fit_counting,
    name="counting",
    parts=PARTS,
    doc="""Rank items by their number of wins, a tie counting as half a win.

    The simplest ranking, fair only when every item meets equally strong
    opponents equally often (as in a round robin).

    Parameters
    ----------
    {comparisons}
    {worker_unused}
    {winner_kind}
    {counts}
    {bootstrap}

    Returns
    -------
    {returns}

    See Also
    --------
    average_win_rate : Wins relative to the comparisons each pair had.
    """,
)


def fit_average_win_rate(
    responses: pd.DataFrame,
    *,
    left: Hashable = "left",
    right: Hashable = "right",
    winner: Hashable = "winner",
    worker: Hashable = "worker_id",
    winner_kind: WinnerKind = "auto",
    counts: Hashable | None = None,
    n_bootstrap: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
) -> RankingModel:
    """Average the win rates; see :func:`average_win_rate`.

    Returns
    -------
    RankingModel
        ``scores`` are the average win rates.
    """
    del worker  # not read: the same signature as every pairwise method
    return _fit(
        "AVERAGE_WIN_RATE",
        responses,
        left=left,
        right=right,
        winner=winner,
        winner_kind=winner_kind,
        counts=counts,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
    )


average_win_rate = frame_function(
    fit_average_win_rate,
    name="average_win_rate",
    parts=PARTS,
    doc="""Rank items by their mean win rate over the opponents they met.

    For every opponent ``j`` that item ``i`` met, the share of their
    comparisons ``i`` won (a tie is half a win); ``score`` is the mean of
    those shares, each opponent counting once however often they met.

    Parameters
    ----------
    {comparisons}
    {worker_unused}
    {winner_kind}
    {counts}
    {bootstrap}

    Returns
    -------
    {returns}

    See Also
    --------
    counting : Total wins.
    """,
)
