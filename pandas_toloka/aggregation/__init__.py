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
- :func:`rover` / :func:`fit_rover` — transcriptions aligned word by word, a vote per slot.
- :func:`wer`, :func:`text_agreement` — word error rates of workers and within tasks.
- :func:`closest_to_average`, :func:`rasa`, :func:`hrrasa` — the response closest to an
  aggregated embedding (embeddings you provide); :func:`text_rasa`, :func:`text_hrrasa` on texts.
- :func:`aggregation_report` — accuracy and calibration of a result on known labels.

Areas (``docs/areas.md``):

- :func:`parse_areas` — Toloka's area-selection JSON into rectangles, polygons and points;
  :func:`rasterize_shapes` — shapes into a boolean mask; :func:`mask_arrays`.
- :func:`segmentation_majority_vote`, :func:`segmentation_rasa`, :func:`segmentation_em`
  (and ``fit_*``: a :class:`SegmentationModel`) — one mask per task.
- :func:`bounding_boxes`, :func:`points` (and ``fit_*``: an :class:`AreasModel`) — the
  boxes or points workers agree on, with per-worker quality.

Pairwise (side-by-side) comparisons, ranked (``docs/side-by-side.md``):

- :func:`bradley_terry`, :func:`noisy_bradley_terry` — Bradley–Terry, and with
  each worker's reliability and bias (NoisyBT).
- :func:`elo`, :func:`counting`, :func:`average_win_rate`, :func:`eigenvector`,
  :func:`pagerank` — the other rankings evalica offers.
- their ``fit_*`` twins return a :class:`RankingModel`.

Each categorical method takes a DataFrame of responses (any dtype backend) and
returns one row per task, sorted by task: the task column, the label column(s)
and ``confidence``; each ``X`` is ``fit_X(...).to_frame()``. Each pairwise method
returns one row per item, best first.
The formulas, tie rules and degenerate cases are in ``docs/algorithms.md``.
"""

from __future__ import annotations

from ._masks import mask_arrays
from ._methods import LOCAL_METHODS, LocalMethod, fit_aggregation
from ._model import AggregationModel
from .areas import parse_areas
from .boxes import AreasModel, bounding_boxes, fit_bounding_boxes, fit_points, points
from .dawid_skene import DawidSkeneModel, dawid_skene, fit_dawid_skene
from .embeddings import (
    EmbeddingModel,
    closest_to_average,
    fit_closest_to_average,
    fit_hrrasa,
    fit_rasa,
    hrrasa,
    rasa,
)
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
from .rasterize import rasterize_shapes
from .report import aggregation_report
from .rover import TextAggregationModel, fit_rover, rover
from .segmentation import (
    SegmentationModel,
    fit_segmentation_em,
    fit_segmentation_majority_vote,
    fit_segmentation_rasa,
    segmentation_em,
    segmentation_majority_vote,
    segmentation_rasa,
)
from .skill_votes import fit_wawa, fit_zero_based_skill, wawa, zero_based_skill
from .text_embeddings import fit_text_hrrasa, fit_text_rasa, text_hrrasa, text_rasa
from .weighted import weighted_dynamic_overlap
from .wer import text_agreement, wer

__all__ = [
    "AggregationModel",
    "AreasModel",
    "DawidSkeneModel",
    "EmbeddingModel",
    "LOCAL_METHODS",
    "LocalMethod",
    "NoisyBradleyTerryModel",
    "RankingModel",
    "SegmentationModel",
    "TextAggregationModel",
    "aggregation_report",
    "average_win_rate",
    "bounding_boxes",
    "bradley_terry",
    "closest_to_average",
    "counting",
    "dawid_skene",
    "eigenvector",
    "elo",
    "fit_aggregation",
    "fit_average_win_rate",
    "fit_bounding_boxes",
    "fit_bradley_terry",
    "fit_closest_to_average",
    "fit_counting",
    "fit_dawid_skene",
    "fit_eigenvector",
    "fit_elo",
    "fit_glad",
    "fit_hrrasa",
    "fit_kos",
    "fit_mace",
    "fit_majority_vote",
    "fit_noisy_bradley_terry",
    "fit_one_coin_dawid_skene",
    "fit_pagerank",
    "fit_points",
    "fit_rasa",
    "fit_rover",
    "fit_segmentation_em",
    "fit_segmentation_majority_vote",
    "fit_segmentation_rasa",
    "fit_text_hrrasa",
    "fit_text_rasa",
    "fit_wawa",
    "fit_zero_based_skill",
    "glad",
    "hrrasa",
    "kos",
    "mace",
    "majority_vote",
    "mask_arrays",
    "noisy_bradley_terry",
    "one_coin_dawid_skene",
    "pagerank",
    "parse_areas",
    "points",
    "rasa",
    "rasterize_shapes",
    "rover",
    "segmentation_em",
    "segmentation_majority_vote",
    "segmentation_rasa",
    "text_agreement",
    "text_hrrasa",
    "text_rasa",
    "wawa",
    "weighted_dynamic_overlap",
    "wer",
    "zero_based_skill",
]
