"""NoisyBT: Bradley–Terry with each worker's reliability and side bias (crowd-kit's model)."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from .._encoding import check_iteration_args
from .._to_frame import frame_function
from ._bootstrap import BLOCK, block_rng, draw_counts
from ._bt_kernel import fit_bt
from ._build import build_model
from ._docs import PARTS
from ._input import WinnerKind, encode_comparisons
from ._model import NoisyBradleyTerryModel
from ._noisy_kernel import fit_noisy, rows
from ._options import check_bootstrap, check_number
from ._tally import duels, tally

__all__ = ["fit_noisy_bradley_terry", "noisy_bradley_terry"]

METHOD = "NOISY_BRADLEY_TERRY"


def _resample(count: np.ndarray, n_bootstrap: int, seed: int) -> list[np.ndarray]:
    """Replicate count vectors, drawn as :func:`._bootstrap.resample_tally` draws them."""
    out: list[np.ndarray] = []
    for block in range(-(-n_bootstrap // BLOCK)):
        size = min(BLOCK, n_bootstrap - block * BLOCK)
        out.extend(draw_counts(count, size, block_rng(seed, block)))
    return out


def fit_noisy_bradley_terry(
    responses: pd.DataFrame,
    *,
    left: Hashable = "left",
    right: Hashable = "right",
    winner: Hashable = "winner",
    worker: Hashable = "worker_id",
    winner_kind: WinnerKind = "auto",
    counts: Hashable | None = None,
    prior: float = 1.0,
    n_iter: int = 1000,
    tol: float = 1e-6,
    n_bootstrap: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
) -> NoisyBradleyTerryModel:
    """Fit NoisyBT; see :func:`noisy_bradley_terry`.

    Returns
    -------
    NoisyBradleyTerryModel
        ``scores`` are strengths with geometric mean 1;
        :meth:`~NoisyBradleyTerryModel.worker_quality` gives each worker's
        reliability and bias; ``loss_history`` the penalised log-likelihood per
        comparison after each EM iteration.
    """
    prior = check_number("prior", prior, low=0.0, low_open=True)
    n_iter, tol = check_iteration_args(n_iter, tol)
    n_bootstrap, confidence, seed = check_bootstrap(n_bootstrap, confidence, seed)
    data = encode_comparisons(
        responses,
        left=left,
        right=right,
        winner=winner,
        worker=worker,
        winner_kind=winner_kind,
        counts=counts,
        method=METHOD,
    )
    counted = tally(data, by_worker=True)
    layout = rows(counted)
    plain = tally(data)
    start = fit_bt(duels(plain), plain.count, prior=prior, n_iter=1000, tol=1e-8).log_strength[0]
    fit = fit_noisy(layout, counted.count, prior=prior, n_iter=n_iter, tol=tol, start=start)
    replicates = np.zeros((n_bootstrap, data.n_items))
    if data.n_comparisons:
        for row, drawn in enumerate(_resample(counted.count, n_bootstrap, seed)):
            refit = fit_noisy(
                layout, drawn, prior=prior, n_iter=n_iter, tol=tol, start=fit.log_strength
            )
            replicates[row] = np.exp(refit.log_strength)
    assert data.workers is not None and data.worker is not None
    n_workers = len(data.workers)
    return build_model(  # type: ignore[return-value]
        METHOD,
        data,
        np.exp(fit.log_strength),
        replicates,
        confidence=confidence,
        seed=seed,
        counted=plain,
        options={"prior": prior, "n_iter": n_iter, "tol": tol},
        model_class=NoisyBradleyTerryModel,
        n_iter_run=fit.n_iter_run,
        converged=fit.converged,
        loss_history=fit.loss_history,
        workers=data.workers,
        reliability=fit.reliability,
        bias=fit.bias,
        n_responses=np.bincount(data.worker, minlength=n_workers).astype(np.int64),
        worker_column=worker,
    )


noisy_bradley_terry = frame_function(
    fit_noisy_bradley_terry,
    name="noisy_bradley_terry",
    parts=PARTS,
    doc="""Rank items by Bradley–Terry with a reliability and a bias per worker (NoisyBT).

    Worker ``w`` answers by the items' strengths with probability
    ``reliability_w`` and otherwise picks the left item with probability
    ``bias_w``::

        P(left wins) = reliability_w * s_i / (s_i + s_j) + (1 - reliability_w) * bias_w

    so careless or side-biased workers weigh less in the ranking. Fitted by EM
    (a tie counts as half of each outcome); reliability and bias have
    Beta(2, 2) priors (one pseudo-comparison each way) so that they stay
    strictly between 0 and 1. The model of crowd-kit's ``NoisyBradleyTerry``;
    ``docs/side-by-side.md`` says where the numbers differ.

    Parameters
    ----------
    {comparisons}
    worker : hashable, default "worker_id"
        The worker column; rows with a missing worker are dropped with the
        warning.
    {winner_kind}
    {counts}
    prior : float, default 1.0
        Pseudo-wins and pseudo-losses of every item against a reference item
        of strength 1 (crowd-kit's ``regularization_ratio``, 1e-5 there); must
        be > 0. NoisyBT needs a real prior: its likelihood keeps growing as the
        strengths spread apart and the reliabilities fall (a strict order plus
        inattention explains any data), so with a weak prior the strengths and
        their bootstrap intervals run off along that ridge.
    n_iter : int, default 1000
        At most this many EM iterations.
    tol : float, default 1e-6
        Stop when no log-strength, reliability or bias moves by more than this.
    {bootstrap}

    Returns
    -------
    {returns}

    See Also
    --------
    fit_noisy_bradley_terry : The same as a model, with ``worker_quality()``.
    bradley_terry : Every comparison trusted alike.
    """,
)
