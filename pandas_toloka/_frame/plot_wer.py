"""A bar chart of each worker's word error rate (from :func:`pandas_toloka.aggregation.wer`).

Re-exported by :mod:`pandas_toloka.plotting`; matplotlib (the ``plot`` extra) is
imported only when the function is called.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError, MissingColumnsError, PlottingUnavailableError
from .captions import shorten

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_wer"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlottingUnavailableError(
            "Plotting needs matplotlib: pip install 'pandas-toloka[plot]'"
        ) from exc
    return plt


def plot_wer(
    scores: pd.DataFrame,
    *,
    worker: Hashable | None = None,
    top: int | None = 30,
    id_width: int = 16,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot each worker's word error rate as horizontal bars, the highest first.

    Parameters
    ----------
    scores : DataFrame
        One row per worker with a ``wer`` column, as
        :func:`~pandas_toloka.aggregation.wer` returns it (its ``errors`` and
        ``words`` columns, when present, give the pooled rate of the line).
    worker : str, optional
        The worker id column. Default: the first column.
    top : int or None, default 30
        How many workers to show (those of highest WER); None shows them all.
    id_width : int, default 16
        Worker ids longer than this are shortened in the middle with an ellipsis.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on. Default: a new figure, tall enough for the bars.
    title : str, optional
        Default: ``"Word error rate per worker"`` and how many are shown.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per shown worker (WER on the x axis, from 0 to at least 1),
        and a dashed line at the rate of all workers pooled (``Σ errors /
        Σ words``, else the mean), labelled in a legend right of the axes.

    Raises
    ------
    MissingColumnsError
        If the worker or ``wer`` column is missing.
    InvalidArgumentError
        If ``top`` or ``id_width`` is invalid.
    PlottingUnavailableError
        If matplotlib is not installed.
    """
    worker = scores.columns[0] if worker is None and len(scores.columns) else worker
    missing = [str(c) for c in (worker, "wer") if c is None or c not in scores.columns]
    if missing:
        raise MissingColumnsError(missing, list(scores.columns), purpose="to plot word error rates")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise InvalidArgumentError(f"top must be a positive int or None, got {top!r}.")
    if isinstance(id_width, bool) or not isinstance(id_width, int) or id_width < 3:
        raise InvalidArgumentError(f"id_width must be an int of at least 3, got {id_width!r}.")
    rates = scores["wer"].to_numpy(dtype=np.float64, na_value=np.nan)
    order = np.argsort(np.nan_to_num(-rates, nan=np.inf), kind="stable")
    shown = order[:top] if top is not None else order
    names = [shorten(str(w), id_width) for w in scores[worker].astype(object).to_numpy()[shown]]
    if ax is None:
        _, ax = _pyplot().subplots(
            figsize=(8.0, min(2.0 + 0.22 * len(shown), 40.0)), layout="constrained"
        )
    positions = np.arange(len(shown))
    ax.barh(positions, rates[shown], color="tab:orange", label="WER per worker")
    ax.set_yticks(positions, labels=names, fontsize="small")
    ax.invert_yaxis()
    if {"errors", "words"} <= set(scores.columns) and scores["words"].sum() > 0:
        pooled = float(scores["errors"].sum() / scores["words"].sum())
        what = "pooled"
    else:
        pooled = float(np.nanmean(rates)) if len(rates) and not np.isnan(rates).all() else 0.0
        what = "mean"
    ax.axvline(
        pooled,
        color="tab:red",
        linestyle="--",
        label=f"{what}, {len(rates)} workers ({pooled:.2f})",
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize="small")
    finite = rates[np.isfinite(rates)]
    ax.set_xlim(0.0, max(1.0, float(finite.max()) * 1.05 if len(finite) else 1.0))
    ax.set_xlabel("word error rate")
    ax.set_ylabel(str(worker))
    if title is None:
        title = "Word error rate per worker"
        if len(shown) < len(rates):
            title += f" ({len(shown)} highest of {len(rates)} workers)"
    ax.set_title(title)
    return ax
