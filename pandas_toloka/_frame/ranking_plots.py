"""Pictures of a pairwise ranking: a forest plot of the scores with their intervals, and
the matrix of observed win rates as a heatmap.

matplotlib is imported only when a function here is called (the ``plot`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..aggregation.pairwise import RankingModel
from ..errors import InvalidArgumentError, MissingColumnsError, PlottingUnavailableError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_ranking", "plot_win_rates"]

_RANKING_COLUMNS = ["item", "score", "ci_low", "ci_high"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlottingUnavailableError(
            "Plotting needs matplotlib: pip install 'pandas-toloka[plot]'"
        ) from exc
    return plt


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _, new = _pyplot().subplots(figsize=size, layout="constrained")
    return new


def plot_ranking(
    ranking: pd.DataFrame | RankingModel,
    *,
    log_scale: bool | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Forest plot of a ranking: each item's score and its confidence interval, best on top.

    Parameters
    ----------
    ranking : DataFrame or RankingModel
        A ranking frame (``item``, ``score``, ``ci_low``, ``ci_high``; e.g. from
        :func:`~pandas_toloka.aggregation.bradley_terry` or ``df.toloka.rank``,
        one pool) or a fitted model.
    log_scale : bool, optional
        A logarithmic score axis; default: yes when every score and bound is
        positive and they span more than a factor of 10 (Bradley–Terry
        strengths), else no.
    title : str, optional
        Default: "Ranking (95% intervals)" with the method's name when known.
    ax : matplotlib Axes, optional
        Draw here instead of a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    MissingColumnsError
        If the frame lacks a needed column.
    InvalidArgumentError
        If the frame holds several pools (plot one: ``ranking[ranking.pool_id == p]``).
    """
    method = None
    if isinstance(ranking, RankingModel):
        method = ranking.method
        frame = ranking.to_frame()
    elif isinstance(ranking, pd.DataFrame):
        frame = ranking
    else:
        raise InvalidArgumentError(
            f"ranking must be a ranking DataFrame or a RankingModel, got {type(ranking).__name__}."
        )
    missing = [c for c in _RANKING_COLUMNS if c not in frame.columns]
    if missing:
        raise MissingColumnsError(
            missing, list(map(str, frame.columns)), purpose="for a forest plot"
        )
    if "pool_id" in frame.columns and frame["pool_id"].nunique() > 1:
        raise InvalidArgumentError(
            "The ranking holds several pools; plot one at a time, e.g. "
            "ranking[ranking['pool_id'] == '1005']."
        )
    frame = frame.sort_values("score", ascending=True, kind="stable")
    score = frame["score"].to_numpy(dtype=float)
    low = frame["ci_low"].to_numpy(dtype=float)
    high = frame["ci_high"].to_numpy(dtype=float)
    values = np.concatenate([score, low, high])
    if log_scale is None:
        positive = len(values) > 0 and bool((values > 0).all())
        log_scale = positive and float(values.max() / values.min()) > 10
    axes = _new_axes(ax, (6.5, 1.2 + 0.35 * max(len(frame), 1)))
    positions = np.arange(len(frame))
    errors = np.vstack([np.clip(score - low, 0, None), np.clip(high - score, 0, None)])
    axes.errorbar(score, positions, xerr=errors, fmt="o", color="C0", ecolor="C0", capsize=3)
    axes.set_yticks(positions, [str(v) for v in frame["item"]])
    if log_scale:
        axes.set_xscale("log")
    axes.set_xlabel("score" + (" (log scale)" if log_scale else ""))
    axes.grid(axis="x", alpha=0.3)
    named = f", {method}" if method else ""
    axes.set_title(title if title is not None else f"Ranking with 95% intervals{named}")
    return axes


def plot_win_rates(
    model: RankingModel,
    *,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Heatmap of the observed win rates: row item against column item, best first.

    Parameters
    ----------
    model : RankingModel
        A fitted ranking (``fit_bradley_terry`` and the other ``fit_*``): its
        comparisons and its order.
    title : str, optional
        Default: "Win rate of row over column".
    ax : matplotlib Axes, optional
        Draw here instead of a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Cells of pairs that never met (and the diagonal) are blank; each cell
        shows its rate.
    """
    if not isinstance(model, RankingModel):
        raise InvalidArgumentError(
            f"model must be a RankingModel (a fit_* result), got {type(model).__name__}."
        )
    rates = model.win_rates()
    order = np.argsort(-model.scores, kind="stable")
    rates = rates.iloc[order, order]
    n = len(rates)
    size = 1.5 + 0.5 * max(n, 1)
    axes = _new_axes(ax, (size + 1.2, size))
    image = axes.imshow(
        np.ma.masked_invalid(rates.to_numpy(dtype=float)), cmap="RdBu", vmin=0.0, vmax=1.0
    )
    labels = [str(v) for v in rates.index]
    axes.set_xticks(np.arange(n), labels, rotation=45, ha="right")
    axes.set_yticks(np.arange(n), labels)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                value = rates.iat[i, j]
                if np.isfinite(value):
                    axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize="x-small")
    axes.figure.colorbar(image, ax=axes, label="win rate")
    axes.set_title(title if title is not None else "Win rate of row over column")
    return axes
