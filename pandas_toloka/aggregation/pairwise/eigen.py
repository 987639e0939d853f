"""Eigenvector and PageRank rankings: scores that flow along the win graph."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from .._encoding import check_iteration_args
from .._to_frame import frame_function
from ._bootstrap import resample_tally
from ._build import build_model
from ._docs import PARTS
from ._graph_kernels import PowerFit, eigen_scores, pagerank_scores
from ._input import WinnerKind
from ._model import RankingModel
from ._options import check_bootstrap, check_number
from ._tally import Duels, count_duels

__all__ = ["eigenvector", "fit_eigenvector", "fit_pagerank", "pagerank"]


def _fit(
    method: str,
    responses: pd.DataFrame,
    kernel: object,
    *,
    left: Hashable,
    right: Hashable,
    winner: Hashable,
    winner_kind: WinnerKind,
    counts: Hashable | None,
    n_iter: int,
    tol: float,
    n_bootstrap: int,
    confidence: float,
    seed: int,
    options: dict[str, object],
) -> RankingModel:
    n_iter, tol = check_iteration_args(n_iter, tol)
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

    def run(counts: np.ndarray) -> PowerFit:
        return kernel(entries, counts, n_iter=n_iter, tol=tol, **options)  # type: ignore[operator]

    fit = run(counted.count)
    return build_model(
        method,
        data,
        fit.scores[0],
        resample_tally(counted.count, n_bootstrap, seed, lambda counts: run(counts).scores),
        confidence=confidence,
        seed=seed,
        counted=counted,
        options={**options, "n_iter": n_iter, "tol": tol},
        n_iter_run=fit.n_iter_run,
        converged=fit.converged,
    )


def fit_eigenvector(
    responses: pd.DataFrame,
    *,
    left: Hashable = "left",
    right: Hashable = "right",
    winner: Hashable = "winner",
    worker: Hashable = "worker_id",
    winner_kind: WinnerKind = "auto",
    counts: Hashable | None = None,
    n_iter: int = 100,
    tol: float = 1e-6,
    n_bootstrap: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
) -> RankingModel:
    """Eigenvector scores; see :func:`eigenvector`.

    Returns
    -------
    RankingModel
        ``scores`` are the eigenvector entries; ``n_iter_run`` and ``converged``
        describe the power iteration on all comparisons.
    """
    del worker  # not read: the same signature as every pairwise method
    return _fit(
        "EIGENVECTOR",
        responses,
        eigen_scores,
        left=left,
        right=right,
        winner=winner,
        winner_kind=winner_kind,
        counts=counts,
        n_iter=n_iter,
        tol=tol,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
        options={},
    )


eigenvector = frame_function(
    fit_eigenvector,
    name="eigenvector",
    parts=PARTS,
    doc="""Rank items by the leading eigenvector of the win matrix.

    With ``W[i, j]`` the wins of ``i`` over ``j`` (a tie is half a win), the
    scores solve ``W s = lambda s``: an item scores by beating items that
    score. Power iteration from the uniform vector, ``s <- W s / ||W s||_2``,
    so the scores have unit Euclidean norm.

    Parameters
    ----------
    {comparisons}
    {worker_unused}
    {winner_kind}
    {counts}
    n_iter : int, default 100
        At most this many power steps.
    tol : float, default 1e-6
        Stop when the score vector moves by less than this (Euclidean norm).
    {bootstrap}

    Returns
    -------
    {returns}

    See Also
    --------
    pagerank : The damped random-walk version, defined on any graph.
    """,
)


def _pagerank_kernel(
    entries: Duels, counts: np.ndarray, *, n_iter: int, tol: float, damping: float
) -> PowerFit:
    return pagerank_scores(entries, counts, damping=damping, n_iter=n_iter, tol=tol)


def fit_pagerank(
    responses: pd.DataFrame,
    *,
    left: Hashable = "left",
    right: Hashable = "right",
    winner: Hashable = "winner",
    worker: Hashable = "worker_id",
    winner_kind: WinnerKind = "auto",
    counts: Hashable | None = None,
    damping: float = 0.85,
    n_iter: int = 100,
    tol: float = 1e-6,
    n_bootstrap: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
) -> RankingModel:
    """PageRank scores; see :func:`pagerank`.

    Returns
    -------
    RankingModel
        ``scores`` are the PageRank values; ``n_iter_run`` and ``converged``
        describe the power iteration on all comparisons.
    """
    del worker  # not read: the same signature as every pairwise method
    damping = check_number("damping", damping, low=0.0, high=1.0)
    return _fit(
        "PAGERANK",
        responses,
        _pagerank_kernel,
        left=left,
        right=right,
        winner=winner,
        winner_kind=winner_kind,
        counts=counts,
        n_iter=n_iter,
        tol=tol,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
        options={"damping": damping},
    )


pagerank = frame_function(
    fit_pagerank,
    name="pagerank",
    parts=PARTS,
    doc="""Rank items by PageRank on the graph of losses.

    Every item passes its score to the items that beat it, in proportion to
    how often each did (an item that never lost passes it to all items
    evenly); with probability ``1 - damping`` the score jumps to a uniformly
    chosen item instead. The stationary scores sum to 1. Power iteration as
    evalica's (Euclidean normalisation at each step, the sum at the end).

    Parameters
    ----------
    {comparisons}
    {worker_unused}
    {winner_kind}
    {counts}
    damping : float, default 0.85
        The probability of following a loss rather than jumping.
    n_iter : int, default 100
        At most this many power steps.
    tol : float, default 1e-6
        Stop when the (Euclidean-normalised) score vector moves by less than this.
    {bootstrap}

    Returns
    -------
    {returns}

    See Also
    --------
    eigenvector : The undamped version.
    """,
)
