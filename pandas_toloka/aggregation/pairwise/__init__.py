"""Rankings from pairwise (side-by-side) comparisons: pure NumPy/pandas, no I/O.

- :func:`bradley_terry` — maximum likelihood of ``P(i beats j) = s_i / (s_i + s_j)``.
- :func:`noisy_bradley_terry` — Bradley–Terry with each worker's reliability and bias.
- :func:`elo` — Elo ratings, the comparisons run in order.
- :func:`counting`, :func:`average_win_rate` — wins, and mean win rate over opponents.
- :func:`eigenvector`, :func:`pagerank` — scores flowing along the win graph.

Each takes a frame with one comparison per row (``left``, ``right``,
``winner`` and, for NoisyBT, ``worker``) and returns one row per item, best
first: ``item``, ``score``, ``rank``, ``n_comparisons``, ``ci_low``,
``ci_high`` (a seeded bootstrap percentile interval). The ``fit_*`` functions
return the fitted :class:`RankingModel`. Formulas, tie rules and the
regularisation are in ``docs/side-by-side.md``.
"""

from __future__ import annotations

from ._model import NoisyBradleyTerryModel, RankingModel
from .bradley_terry import bradley_terry, fit_bradley_terry
from .eigen import eigenvector, fit_eigenvector, fit_pagerank, pagerank
from .elo import elo, fit_elo
from .noisy_bt import fit_noisy_bradley_terry, noisy_bradley_terry
from .win_counts import average_win_rate, counting, fit_average_win_rate, fit_counting

__all__ = [
    "NoisyBradleyTerryModel",
    "RankingModel",
    "average_win_rate",
    "bradley_terry",
    "counting",
    "eigenvector",
    "elo",
    "fit_average_win_rate",
    "fit_bradley_terry",
    "fit_counting",
    "fit_eigenvector",
    "fit_elo",
    "fit_noisy_bradley_terry",
    "fit_pagerank",
    "noisy_bradley_terry",
    "pagerank",
]
