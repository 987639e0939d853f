"""Aggregation of crowd responses: pure NumPy/pandas, no I/O.

- :func:`majority_vote` / :func:`fit_majority_vote` — the most frequent label per task.
- :func:`dawid_skene` / :func:`fit_dawid_skene` — per-worker confusion matrices fitted by EM.
- :func:`one_coin_dawid_skene` — Dawid–Skene with one skill per worker.
- :func:`glad` — worker abilities and task difficulties (Whitehill et al., 2009).
- :func:`mace` — workers who know or spam (Hovy et al., 2013).
- :func:`wawa`, :func:`zero_based_skill` — votes weighted by agreement with the aggregate.
- :func:`kos` — Karger–Oh–Shah message passing, binary labels.
- :func:`weighted_dynamic_overlap` — Toloka's aggregation by skill.
- :func:`fit_aggregation` — any categorical method above, as a fitted model
  (posteriors, :meth:`~AggregationModel.worker_quality`); every method is one
  row of the registry (``_registry.py``), which every list of names derives from.
- :func:`aggregation_report` — accuracy and calibration of a result on known labels.

Pairwise (side-by-side) comparisons, ranked (``docs/side-by-side.md``):

- :func:`bradley_terry`, :func:`noisy_bradley_terry` — Bradley–Terry, and with
  each worker's reliability and bias (NoisyBT).
- :func:`elo`, :func:`counting`, :func:`average_win_rate`, :func:`eigenvector`,
  :func:`pagerank` — the other rankings evalica offers.
- their ``fit_*`` twins return a :class:`RankingModel`.

Each categorical method takes a DataFrame of responses (any dtype backend) and
returns one row per task, sorted by task: the task column, the label column(s)
and ``confidence``; each pairwise method returns one row per item, best first.
Each ``X`` is ``fit_X(...).to_frame()``.
The formulas, tie rules and degenerate cases are in ``docs/algorithms.md``.
"""

from __future__ import annotations

from ._methods import LOCAL_METHODS, LocalMethod, fit_aggregation
from ._model import AggregationModel
from .dawid_skene import DawidSkeneModel, dawid_skene, fit_dawid_skene
from .glad import fit_glad, glad
from .kos import fit_kos, kos
from .mace import fit_mace, mace
from .majority_vote import fit_majority_vote, majority_vote
from .one_coin import fit_one_coin_dawid_skene, one_coin_dawid_skene
from .pairwise import (
    NoisyBradleyTerryModel,
    RankingModel,
    average_win_rate,
    bradley_terry,
    counting,
    eigenvector,
    elo,
    fit_average_win_rate,
    fit_bradley_terry,
    fit_counting,
    fit_eigenvector,
    fit_elo,
    fit_noisy_bradley_terry,
    fit_pagerank,
    noisy_bradley_terry,
    pagerank,
)
from .report import aggregation_report
from .skill_votes import fit_wawa, fit_zero_based_skill, wawa, zero_based_skill
from .weighted import weighted_dynamic_overlap

__all__ = [
    "LOCAL_METHODS",
    "AggregationModel",
    "DawidSkeneModel",
    "LocalMethod",
    "NoisyBradleyTerryModel",
    "RankingModel",
    "aggregation_report",
    "average_win_rate",
    "bradley_terry",
    "counting",
    "dawid_skene",
    "eigenvector",
    "elo",
    "fit_average_win_rate",
    "fit_bradley_terry",
    "fit_counting",
    "fit_eigenvector",
    "fit_elo",
    "fit_noisy_bradley_terry",
    "fit_pagerank",
    "fit_aggregation",
    "fit_dawid_skene",
    "fit_glad",
    "fit_kos",
    "fit_mace",
    "fit_majority_vote",
    "fit_one_coin_dawid_skene",
    "fit_wawa",
    "fit_zero_based_skill",
    "glad",
    "kos",
    "mace",
    "majority_vote",
    "noisy_bradley_terry",
    "one_coin_dawid_skene",
    "pagerank",
    "wawa",
    "weighted_dynamic_overlap",
    "zero_based_skill",
]
