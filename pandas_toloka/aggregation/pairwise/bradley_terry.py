"""Bradley–Terry ranking by maximum likelihood (ties as half-wins)."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from .._encoding import check_iteration_args
from .._to_frame import frame_function
from ._bootstrap import resample_tally
from ._bt_kernel import check_connected, fit_bt
from ._build import build_model
from ._docs import PARTS
from ._input import WinnerKind
from ._model import RankingModel
from ._options import check_bootstrap, check_number
from ._tally import count_duels

__all__ = ["bradley_terry", "fit_bradley_terry"]

METHOD = "BRADLEY_TERRY"
#: Replicates stop at this tolerance at the finest: far below the spread of the
#: bootstrap distribution, and it halves their sweeps.
REPLICATE_TOL = 1e-6


def fit_bradley_terry(
    responses: pd.DataFrame,
    *,
    left: Hashable = "left",
    right: Hashable = "right",
    winner: Hashable = "winner",
    worker: Hashable = "worker_id",
    winner_kind: WinnerKind = "auto",
    counts: Hashable | None = None,
    prior: float = 0.01,
    n_iter: int = 1000,
    tol: float = 1e-8,
    n_bootstrap: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
) -> RankingModel:
    """Fit Bradley–Terry; see :func:`bradley_terry`.

    Returns
    -------
    RankingModel
        ``scores`` are strengths with geometric mean 1; ``n_iter_run`` and
        ``converged`` describe the fit on all comparisons.
    """
    del worker  # not read: the same signature as every pairwise method
    prior = check_number("prior", prior, low=0.0)
    n_iter, tol = check_iteration_args(n_iter, tol)
    n_bootstrap, confidence, seed = check_bootstrap(n_bootstrap, confidence, seed)
    data, counted, entries = count_duels(
        responses,
        left=left,
        right=right,
        winner=winner,
        winner_kind=winner_kind,
        counts=counts,
        method=METHOD,
    )
    if prior == 0:
        check_connected(entries, entries.weights(counted.count)[None], data.items, method=METHOD)
    fit = fit_bt(entries, counted.count, prior=prior, n_iter=n_iter, tol=tol)
    start = fit.log_strength[0]

    def replicate(counts: np.ndarray) -> np.ndarray:
        if prior == 0:
            check_connected(entries, entries.weights(counts), data.items, method=METHOD)
        refit = fit_bt(
            entries, counts, prior=prior, n_iter=n_iter, tol=max(tol, REPLICATE_TOL), start=start
        )
        return np.exp(refit.log_strength)

    replicates = resample_tally(counted.count, n_bootstrap, seed, replicate)
    return build_model(
        METHOD,
        data,
        np.exp(start),
        replicates,
        confidence=confidence,
        seed=seed,
        counted=counted,
        options={"prior": prior, "n_iter": n_iter, "tol": tol},
        n_iter_run=fit.n_iter_run,
        converged=fit.converged,
    )


bradley_terry = frame_function(
    fit_bradley_terry,
    name="bradley_terry",
    parts=PARTS,
    doc="""Rank items by the Bradley–Terry model of pairwise comparisons.

    Each item has a strength ``pi > 0`` and ``P(i beats j) = pi_i / (pi_i +
    pi_j)``. The strengths maximise the likelihood of the comparisons, a tie
    counting as half a win for each side, found by Newman's fixed-point
    iteration. ``score`` is the strength scaled to a geometric mean of 1 (as
    evalica's; crowd-kit's scores sum to 1 instead), so ``score_i / (score_i +
    score_j)`` is the fitted probability that ``i`` beats ``j``.

    Parameters
    ----------
    {comparisons}
    {worker_unused}
    {winner_kind}
    {counts}
    prior : float, default 0.01
        Pseudo-comparisons: every item also wins ``prior`` times and loses
        ``prior`` times against a reference item of strength 1. This keeps the
        strengths finite when the comparisons alone do not determine them (an
        item that never wins or never loses, groups of items never compared
        with each other, bootstrap replicates of sparse data) and barely moves
        them otherwise. With 0 the plain maximum-likelihood estimate: an
        :class:`~pandas_toloka.errors.InvalidArgumentError` when it does not
        exist (the "beat" graph is not strongly connected).
    n_iter : int, default 1000
        At most this many sweeps.
    tol : float, default 1e-8
        Stop when no log-strength moves by more than this in a sweep
        (bootstrap replicates: ``max(tol, 1e-6)``).
    {bootstrap}

    Returns
    -------
    {returns}

    See Also
    --------
    fit_bradley_terry : The same, as a :class:`RankingModel`.
    noisy_bradley_terry : Bradley–Terry with per-worker reliability and bias.

    Examples
    --------
    >>> df = pd.DataFrame({"left": ["a", "b", "a", "c"], "right": ["b", "c", "c", "a"],
    ...                    "winner": ["left", "left", "left", "right"]})
    >>> bradley_terry(df, n_bootstrap=0)["item"].tolist()
    ['a', 'b', 'c']
    """,
)
