"""Pictures of aggregation results: confidence distributions, worker quality, confusion
matrices, reliability diagrams, pairwise rankings (a forest plot and a win-rate heatmap),
word error rates and boxes.

matplotlib is an optional dependency (the ``plot`` extra); it is imported
only when a function here is called. Titles name the pool and the algorithm
from the frame's provenance (``df.attrs["toloka"]``) when it records them;
legends sit outside the plotted area, so they never cover a bar or a line.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import pandas as pd

from ._frame.box_plots import plot_boxes
from ._frame.captions import algorithm_name, frame_pools, pools_text, provenance, shorten
from ._frame.diagnostics import plot_confusion_matrix, plot_reliability
from ._frame.plot_wer import plot_wer
from ._frame.ranking_plots import plot_ranking, plot_win_rates
from .errors import InvalidArgumentError, MissingColumnsError, PlottingUnavailableError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "PlottingUnavailableError",
    "WorkerSelection",
    "plot_boxes",
    "plot_confidence",
    "plot_confusion_matrix",
    "plot_ranking",
    "plot_reliability",
    "plot_win_rates",
    "plot_wer",
    "plot_worker_quality",
]

logger = logging.getLogger(__name__)

#: Which workers :func:`plot_worker_quality` shows.
WorkerSelection = Literal["worst", "best", "all"]

_LEGEND_OUTSIDE: dict[str, Any] = {
    "loc": "upper left",
    "bbox_to_anchor": (1.02, 1.0),
    "borderaxespad": 0.0,
    "fontsize": "small",
}


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlottingUnavailableError(
            "Plotting needs matplotlib: pip install 'pandas-toloka[plot]'"
        ) from exc
    return plt


def _axes(ax: Axes | None, *, height: float = 4.0) -> Axes:
    if ax is not None:
        return ax
    # constrained layout keeps the legend, placed outside the axes, inside the figure
    _, new = _pyplot().subplots(figsize=(8.0, height), layout="constrained")
    return new


def _context(frame: pd.DataFrame) -> str:
    """``pool 1001, Dawid–Skene`` from the frame's provenance, or ``""``."""
    parts = [pools_text(frame_pools(frame)), algorithm_name(provenance(frame).get("type")) or ""]
    return ", ".join(p for p in parts if p)


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
    frame: pd.DataFrame,
    *,
    by: Hashable | None = None,
    bins: int = 20,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot the distribution of ``confidence``, one histogram per answer.

    Parameters
    ----------
    frame : DataFrame
        Aggregated answers with a ``confidence`` column, as returned by
        :func:`read_aggregated_solutions`, :meth:`TolokaAccessor.aggregate` or
        :meth:`TolokaAccessor.aggregate_locally`.
    by : str, optional
        The answer column to split the tasks by, one histogram per distinct
        answer. Default: the frame's only field (from ``df.attrs["toloka"]``,
        else the only column besides ``pool_id``, ``task_id`` and
        ``confidence``); when there is no single such column, one histogram of
        all tasks is drawn.
    bins : int, default 20
        Number of equal-width bins over [0, 1].
    ax : matplotlib.axes.Axes, optional
        The axes to draw on. Default: a new figure.
    title : str, optional
        The title. Default: ``"Confidence by <answer>"`` followed by the pool
        and the algorithm when the frame's provenance records them, e.g.
        ``"Confidence by result: pool 36502086, Dawid–Skene"``.

    Returns
    -------
    matplotlib.axes.Axes
        With one step histogram (a line) per answer, labelled
        ``"<answer> (n=<tasks>)"`` in a legend to the right of the axes; the
        x axis is ``confidence``, the y axis the number of ``tasks``.

    Raises
    ------
    MissingColumnsError
        If ``confidence`` or the ``by`` column is missing.
    InvalidArgumentError
        If ``bins`` is not a positive integer.
    PlottingUnavailableError
        If matplotlib is not installed.
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
    if title is None:
        title = "Confidence" + (f" by {column}" if column is not None else " of all tasks")
        context = _context(frame)
        title += f": {context}" if context else ""
    ax.set_title(title)
    ax.legend(title=None if column is None else str(column), **_LEGEND_OUTSIDE)
    return ax


def plot_worker_quality(
    quality: pd.DataFrame,
    *,
    worker: Hashable | None = None,
    value: Hashable = "accuracy",
    which: WorkerSelection = "worst",
    top: int | None = 30,
    id_width: int = 16,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot per-worker quality as horizontal bars, the workers most worth checking first.

    Parameters
    ----------
    quality : DataFrame
        One row per worker, e.g. from :meth:`TolokaAccessor.worker_quality`.
    worker : str, optional
        The worker id column. Default: the first column other than ``pool_id``.
    value : str, default 'accuracy'
        The quality column, in [0, 1].
    which : {'worst', 'best', 'all'}, default 'worst'
        Which workers to show, from the top of the chart down:

        * ``'worst'``: the ``top`` workers of lowest quality, lowest first —
          the ones to check for spam or a misunderstood task;
        * ``'best'``: the ``top`` workers of highest quality, highest first;
        * ``'all'``: every worker, lowest first (``top`` is ignored).

        Workers without a value come last.
    top : int or None, default 30
        How many workers to show; None shows them all.
    id_width : int, default 16
        Worker ids longer than this many characters are shortened in the
        middle with an ellipsis (``75d50d8…0b6662c``), so that long hashes do
        not take the width of the bars.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on. Default: a new figure, tall enough for the bars.
    title : str, optional
        The title. Default: ``"Worker <value>"`` followed by the pool and the
        algorithm when the frame's provenance records them and by which
        workers are shown, e.g. ``"Worker accuracy: pool 36502086,
        Dawid–Skene (30 lowest of 412 workers)"``.

    Returns
    -------
    matplotlib.axes.Axes
        With one bar per shown worker, the value on the x axis, the worker
        ids on the y axis, and a dashed line at the mean of all workers
        labelled in a legend to the right of the axes.

    Raises
    ------
    MissingColumnsError
        If the worker or value column is missing.
    InvalidArgumentError
        If ``which``, ``top`` or ``id_width`` is invalid.
    PlottingUnavailableError
        If matplotlib is not installed.
    """
    if worker is None:  # the first column, after the pool of a frame of several pools
        worker = next((c for c in quality.columns if c != "pool_id"), None)
    missing = [str(c) for c in (worker, value) if c is None or c not in quality.columns]
    if missing:
        raise MissingColumnsError(missing, list(quality.columns), purpose="to plot worker quality")
    if which not in get_args(WorkerSelection):
        raise InvalidArgumentError(
            f"which must be one of {list(get_args(WorkerSelection))}, got {which!r}."
        )
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise InvalidArgumentError(f"top must be a positive int or None, got {top!r}.")
    if isinstance(id_width, bool) or not isinstance(id_width, int) or id_width < 3:
        raise InvalidArgumentError(f"id_width must be an int of at least 3, got {id_width!r}.")
    scores = quality[value].to_numpy(dtype=np.float64, na_value=np.nan)
    sign = -1.0 if which == "best" else 1.0
    order = np.argsort(np.nan_to_num(sign * scores, nan=np.inf), kind="stable")
    limit = None if which == "all" else top
    shown = order[:limit] if limit is not None else order
    ids = quality[worker].astype(object).to_numpy()[shown]
    names = [shorten(str(w), id_width) for w in ids]
    if "pool_id" in quality.columns and quality["pool_id"].nunique() > 1:  # a worker per pool
        pools = quality["pool_id"].astype(object).to_numpy()[shown]
        names = [f"{name} ({pool})" for name, pool in zip(names, pools, strict=True)]
    ax = _axes(ax, height=min(2.0 + 0.22 * len(shown), 40.0))
    positions = np.arange(len(shown))
    ax.barh(positions, scores[shown], color="tab:blue", label=f"{value} per worker")
    ax.set_yticks(positions, labels=names, fontsize="small")
    ax.invert_yaxis()  # the first worker in the order at the top
    if len(scores) and not np.isnan(scores).all():
        mean = float(np.nanmean(scores))
        ax.axvline(
            mean,
            color="tab:red",
            linestyle="--",
            label=f"mean of all {len(scores)} workers ({mean:.2f})",
        )
    ax.legend(**_LEGEND_OUTSIDE)
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(str(value))
    ax.set_ylabel(str(worker))
    if title is None:
        title = f"Worker {value}"
        context = _context(quality)
        title += f": {context}" if context else ""
        if limit is not None and len(shown) < len(scores):
            side = "lowest" if which == "worst" else "highest"
            title += f" ({len(shown)} {side} of {len(scores)} workers)"
        else:
            side = "lowest" if which != "best" else "highest"
            title += f" (all {len(scores)} workers, {side} first)"
    ax.set_title(title)
    return ax
