"""Assembling a fitted :class:`~._model.RankingModel` from a method's arrays."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from ._bootstrap import percentile_interval
from ._input import Comparisons
from ._model import RankingModel
from ._tally import Tally

__all__ = ["build_model"]

logger = logging.getLogger(__name__)


def build_model(
    method: str,
    data: Comparisons,
    scores: np.ndarray,
    replicates: np.ndarray,
    *,
    confidence: float,
    seed: int,
    counted: Tally | None,
    options: Mapping[str, object],
    model_class: type[RankingModel] = RankingModel,
    **fields: object,
) -> RankingModel:
    """Intervals from the replicates, counts per item, and the model."""
    scores = np.asarray(scores, dtype=np.float64)
    if not len(replicates):
        replicates = np.zeros((0, len(scores)))
    low, high = percentile_interval(scores, replicates, confidence)
    logger.info(
        "%s on %d comparisons of %d items, %d bootstrap replicates",
        method,
        data.n_comparisons,
        data.n_items,
        len(replicates),
    )
    return model_class(
        method=method,
        items=data.items,
        scores=scores,
        ci_low=low,
        ci_high=high,
        n_comparisons=data.comparisons_per_item(),
        replicates=replicates,
        n_bootstrap=len(replicates),
        confidence=confidence,
        seed=seed,
        n_dropped=data.n_dropped,
        options=dict(options),
        tally=counted,
        **fields,  # type: ignore[arg-type]
    )
