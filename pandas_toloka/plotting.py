"""Pictures of aggregation results: confidence distributions and worker quality.

matplotlib is an optional dependency (the ``plot`` extra); it is imported
only when a function here is called.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import InvalidArgumentError, MissingColumnsError, PlottingUnavailableError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["PlottingUnavailableError", "plot_confidence", "plot_worker_quality"]

logger = logging.getLogger(__name__)


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlottingUnavailableError(
            "Plotting needs matplotlib: pip install 'pandas-toloka[plot]'"
        ) from exc
    return plt


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    _, new = _pyplot().subplots()
    return new


def _answer_column(frame: pd.DataFrame) -> Hashable | None:
    """The answer column of an aggregated frame: its only field, when there is one."""
    from .schema import get_provenance, result_column_name

    meta: Mapping[str, object] = get_provenance(frame) or {}
    fields = meta.get("fields")
    if isinstance(fields, list) and fields:
        names = [result_column_name(str(f)) for f in fields]
        if len(names) == 1 and names[0] in frame.columns:
            return names[0]
    candidates = [c for c in frame.columns if c not in ("pool_id", "task_id", "confidence")]
    return candidates[0] if len(candidates) == 1 else None


def plot_confidence(
    frame: pd.DataFrame, *, by: Hashable | None = None, bins: int = 20, ax: Axes | None = None
) -> Axes:
    """Plot the distribution of ``confidence``, one histogram per answer.

    Parameters
    ----------
    frame : DataFrame
        Aggregated solutions (``confidence`` and the answer column).
    by : str, optional
        The answer column; default: the frame's only field. None when the frame
        has several fields draws one histogram of all tasks.
    bins : int, default 20
        Bins over [0, 1].
    ax : matplotlib Axes, optional
        Where to draw; default: a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        With one step histogram (a line) per answer and a legend.
    """
    if "confidence" not in frame.columns:
        raise MissingColumnsError(["confidence"], list(frame.columns), purpose="to plot confidence")
    if by is not None and by not in frame.columns:
        raise MissingColumnsError(
            [str(by)], list(frame.columns), purpose="to split confidence by answer"
        )
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise InvalidArgumentError(f"bins must be a positive int, got {bins!r}.")
    column = by if by is not None else _answer_column(frame)
    ax = _axes(ax)
    confidence = frame["confidence"].to_numpy(dtype=np.float64, na_value=np.nan)
    known = ~np.isnan(confidence)
    edges = np.linspace(0.0, 1.0, bins + 1).tolist()
    if column is None:
        groups = [("all tasks", confidence[known])]
    else:
        answers = frame[column].astype(object).to_numpy()
        labels = sorted({a for a in answers[known] if a is not None and a is not pd.NA}, key=str)
        groups = [(str(a), confidence[known & (answers == a)]) for a in labels]
    for label, values in groups:
        ax.hist(
            values, bins=edges, histtype="step", linewidth=1.5, label=f"{label} (n={len(values)})"
        )
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("confidence")
    ax.set_ylabel("tasks")
    ax.set_title(
        "Confidence of aggregated answers" + (f" by {column}" if column is not None else "")
    )
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_worker_quality(
    quality: pd.DataFrame,
    *,
    worker: Hashable | None = None,
    value: Hashable = "accuracy",
    top: int | None = 30,
    ax: Axes | None = None,
) -> Axes:
    """Plot per-worker quality as horizontal bars, best first.

    Parameters
    ----------
    quality : DataFrame
        One row per worker, e.g. from ``df.toloka.worker_quality()``.
    worker : str, optional
        The worker column; default: the first column.
    value : str, default 'accuracy'
        The quality column, in [0, 1].
    top : int or None, default 30
        Plot the best ``top`` workers (None: all), plus a dashed line at the
        mean of all workers.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        With one bar per plotted worker.
    """
    worker = quality.columns[0] if worker is None and len(quality.columns) else worker
    missing = [str(c) for c in (worker, value) if c is None or c not in quality.columns]
    if missing:
        raise MissingColumnsError(missing, list(quality.columns), purpose="to plot worker quality")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise InvalidArgumentError(f"top must be a positive int or None, got {top!r}.")
    ax = _axes(ax)
    scores = quality[value].to_numpy(dtype=np.float64, na_value=np.nan)
    order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
    shown = order[:top] if top is not None else order
    names = [str(w) for w in quality[worker].astype(object).to_numpy()[shown]]
    positions = np.arange(len(shown))
    ax.barh(positions, scores[shown], color="tab:blue")
    ax.set_yticks(positions, labels=names)
    ax.invert_yaxis()
    if len(scores) and not np.isnan(scores).all():
        ax.axvline(
            float(np.nanmean(scores)), color="tab:red", linestyle="--", label="mean of all workers"
        )
        ax.legend(loc="lower right", fontsize="small")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(str(value))
    ax.set_ylabel(str(worker))
    ax.set_title(
        f"Worker {value}" + (f" (top {len(shown)} of {len(scores)})" if top is not None else "")
    )
    return ax
