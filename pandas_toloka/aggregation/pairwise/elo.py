"""Elo ratings: the comparisons run in order, each moving its two items' ratings."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from ...errors import InvalidArgumentError
from .._to_frame import frame_function
from ._build import build_model
from ._docs import PARTS
from ._elo_kernel import elo_ratings
from ._input import WinnerKind, encode_comparisons
from ._model import RankingModel
from ._options import check_bootstrap, check_number

__all__ = ["elo", "fit_elo"]

METHOD = "ELO"


def fit_elo(
    responses: pd.DataFrame,
    *,
    left: Hashable = "left",
    right: Hashable = "right",
    winner: Hashable = "winner",
    worker: Hashable = "worker_id",
    winner_kind: WinnerKind = "auto",
    initial: float = 1000.0,
    k: float = 4.0,
    base: float = 10.0,
    scale: float = 400.0,
    shuffle: bool = False,
    n_bootstrap: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
) -> RankingModel:
    """Compute Elo ratings; see :func:`elo`.

    Returns
    -------
    RankingModel
        ``scores`` are the ratings.
    """
    del worker  # not read: the same signature as every pairwise method
    initial = check_number("initial", initial)
    k = check_number("k", k, low=0.0, low_open=True)
    base = check_number("base", base, low=1.0, low_open=True)
    scale = check_number("scale", scale, low=0.0, low_open=True)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise InvalidArgumentError(f"shuffle must be True or False, got {shuffle!r}.")
    n_bootstrap, confidence, seed = check_bootstrap(n_bootstrap, confidence, seed)
    data = encode_comparisons(
        responses,
        left=left,
        right=right,
        winner=winner,
        worker=None,
        winner_kind=winner_kind,
        method=METHOD,
    )
    n = data.n_comparisons
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    options = {"initial": initial, "k": k, "base": base, "scale": scale}

    def ratings(rows: np.ndarray) -> np.ndarray:
        return elo_ratings(
            data.n_items, data.left[rows], data.right[rows], data.outcome[rows], **options
        )

    replicates = np.zeros((n_bootstrap, data.n_items))
    for row in range(n_bootstrap if n else 0):
        drawn = np.random.default_rng([seed, row]).integers(0, n, size=n)
        replicates[row] = ratings(drawn if shuffle else np.sort(drawn))
    return build_model(
        METHOD,
        data,
        ratings(order),
        replicates,
        confidence=confidence,
        seed=seed,
        counted=None,
        comparisons=data,
        options={**options, "shuffle": bool(shuffle)},
    )


elo = frame_function(
    fit_elo,
    name="elo",
    parts=PARTS,
    doc="""Rate items by Elo, running the comparisons in order.

    Every item starts at ``initial``. Each comparison of ``x`` (left) with
    ``y`` (right) moves both ratings by ``k * (s_x - e_x)``, up for one and
    down for the other, where ``e_x = 1 / (1 + base ** ((r_y - r_x) / scale))``
    is ``x``'s expected score and ``s_x`` is 1 for a win, 0 for a loss and 0.5
    for a tie. The defaults are evalica's.

    The ratings depend on the order of the comparisons: they run in the
    frame's row order (sort it first, e.g. by submission time), or in a
    random order drawn from ``seed`` with ``shuffle=True``.

    Parameters
    ----------
    {comparisons}
    {worker_unused}
    {winner_kind}
    initial : float, default 1000.0
        Every item's starting rating.
    k : float, default 4.0
        The K-factor: the most a rating moves in one comparison.
    base, scale : float, default 10.0, 400.0
        The logistic curve: a lead of ``scale`` rating points means odds of
        ``base`` to 1.
    shuffle : bool, default False
        Run the comparisons in a random order (``numpy.random.default_rng(seed)``)
        instead of the row order.
    {bootstrap}
        A replicate runs its resampled comparisons in the frame's row order
        (in the drawn, random order with ``shuffle=True``); replicate ``j``
        draws from ``numpy.random.default_rng([seed, j])``.

    Returns
    -------
    {returns}

    See Also
    --------
    fit_elo : The same, as a :class:`RankingModel`.
    bradley_terry : The order-free model Elo approximates.
    """,
)
