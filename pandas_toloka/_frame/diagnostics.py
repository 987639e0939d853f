"""Diagnostic pictures: confusion-matrix heatmaps and reliability diagrams.

Re-exported by :mod:`pandas_toloka.plotting`; matplotlib (the ``plot`` extra) is
imported only when a function here is called. The reliability diagram's bins and
ECE are :func:`pandas_toloka.aggregation.report.calibration_bins` and
:func:`~pandas_toloka.aggregation.report.expected_calibration_error`, so the
number it shows is the one :func:`~pandas_toloka.aggregation.aggregation_report`
returns.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..aggregation import DawidSkeneModel
from ..aggregation.report import (
    calibration_bins,
    check_n_bins,
    evaluated_tasks,
    expected_calibration_error,
)
from ..errors import InvalidArgumentError, MissingColumnsError, PlottingUnavailableError
from .captions import algorithm_name, frame_pools, pools_text, provenance, shorten

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["confusion_counts", "plot_confusion_matrix", "plot_reliability"]

logger = logging.getLogger(__name__)

_LEGEND_OUTSIDE: dict[str, Any] = {
    "loc": "upper left",
    "bbox_to_anchor": (1.02, 1.0),
    "borderaxespad": 0.0,
    "fontsize": "small",
}
#: Up to this many labels each cell of a confusion matrix is annotated with its value.
_ANNOTATED_LABELS = 12


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


def _truth_series(truth: object) -> pd.Series:
    if isinstance(truth, Mapping):
        return pd.Series(list(truth.values()), index=list(truth.keys()), dtype=object)
    if isinstance(truth, pd.Series):
        return truth
    raise InvalidArgumentError(
        f"truth must be a mapping or a pandas Series of task id -> label, got {type(truth).__name__}."
    )


def confusion_counts(
    responses: pd.DataFrame,
    truth: Mapping[Any, Any] | pd.Series,
    *,
    for_worker: object | None = None,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
) -> pd.DataFrame:
    """Responses counted by (true label, given label), on the tasks with a known label.

    Rows are the true labels, columns the given ones, both the sorted union of the
    labels seen; ``for_worker`` keeps one worker's responses.
    """
    missing = [str(c) for c in (task, worker, label) if c not in responses.columns]
    if missing:
        raise MissingColumnsError(
            missing, list(responses.columns), purpose="for a confusion matrix"
        )
    known = _truth_series(truth).dropna()
    rows = responses[responses[label].notna().to_numpy(dtype=bool)]
    if for_worker is not None:
        mine = (rows[worker] == for_worker).to_numpy(dtype=bool, na_value=False)
        if not mine.any():
            raise InvalidArgumentError(f"for_worker={for_worker!r} gave no response in {worker!r}.")
        rows = rows[mine]
    lookup = pd.Series(known.array, index=pd.Index(known.index).astype(object))
    lookup = lookup[~lookup.index.duplicated()]
    true = lookup.reindex(pd.Index(rows[task].astype(object).array))
    has = true.notna().to_numpy()
    given = pd.Series(rows[label].astype(object).array[has])
    true = pd.Series(true.to_numpy(dtype=object)[has])
    labels = sorted(set(given) | set(true), key=lambda v: (str(type(v)), v))
    table = pd.crosstab(true, given).reindex(index=labels, columns=labels, fill_value=0)
    table.index.name, table.columns.name = "true label", "given label"
    return table.astype(np.int64)


def plot_confusion_matrix(
    source: DawidSkeneModel | pd.DataFrame,
    *,
    truth: Mapping[Any, Any] | pd.Series | None = None,
    for_worker: object | None = None,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    normalize: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Heatmap of a confusion matrix: how often each true label gets each answer.

    Parameters
    ----------
    source : DawidSkeneModel or pandas.DataFrame
        A fitted model (:func:`~pandas_toloka.aggregation.fit_dawid_skene`,
        ``fit_aggregation(..., method="DAWID_SKENE")``): its estimated
        confusion matrices; or a responses frame, with ``truth=``: the observed
        answers on the tasks with a known label.
    truth : mapping or Series, optional
        Task id -> true label; needed with a responses frame.
    for_worker : optional
        The worker to show. Default: all workers -- the model's matrices
        averaged with each worker's number of responses as weight, or all the
        responses counted together.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names of a responses frame.
    normalize : bool, default True
        Show each true label's row as shares (summing to 1) rather than counts
        (responses frames only; a model's matrices are probabilities).
    ax : matplotlib.axes.Axes, optional
        The axes to draw on. Default: a new figure.
    title : str, optional
        Default: ``"Confusion matrix: worker <id>"`` or ``"Confusion matrix: all
        <n> workers"``, with the pool and algorithm when recorded.

    Returns
    -------
    matplotlib.axes.Axes
        True labels down the y axis, answers along the x axis, a colour bar,
        and each cell's value written in it (up to 12 labels).

    Raises
    ------
    InvalidArgumentError
        If ``source`` is neither, ``truth`` is missing for a frame, no response
        has a known label, or ``for_worker`` is unknown.
    MissingColumnsError
        If a responses frame lacks a column.
    PlottingUnavailableError
        If matplotlib is not installed.
    """
    if isinstance(source, DawidSkeneModel):
        matrix, labels, who = _model_matrix(source, for_worker)
        value_name = "probability"
        normalized = True
        context = algorithm_name(source.method) or ""
    elif isinstance(source, pd.DataFrame):
        if truth is None:
            raise InvalidArgumentError(
                "A responses frame needs truth= (task id -> true label) for a confusion matrix."
            )
        counts = confusion_counts(
            source, truth, for_worker=for_worker, task=task, worker=worker, label=label
        )
        if counts.to_numpy().sum() == 0:
            raise InvalidArgumentError("No response is to a task of truth=: nothing to count.")
        labels = list(counts.index)
        matrix = counts.to_numpy(dtype=np.float64)
        normalized = bool(normalize)
        if normalized:
            totals = matrix.sum(axis=1, keepdims=True)
            matrix = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
        value_name = "share" if normalized else "responses"
        n_workers = int(source[worker].nunique()) if for_worker is None else 1
        who = f"worker {for_worker}" if for_worker is not None else f"all {n_workers} workers"
        context = pools_text(frame_pools(source))
    else:
        raise InvalidArgumentError(
            "source must be a fitted DawidSkeneModel or a responses DataFrame, "
            f"got {type(source).__name__}."
        )
    size = 2.5 + 0.55 * len(labels)
    ax = _new_axes(ax, (size + 1.2, size))
    image = ax.imshow(
        matrix, cmap="Blues", vmin=0.0, vmax=1.0 if normalized else None, aspect="equal"
    )
    ax.figure.colorbar(image, ax=ax, label=value_name)
    names = [shorten(str(v), 12) for v in labels]
    ax.set_xticks(range(len(labels)), labels=names, rotation=45 if len(labels) > 4 else 0)
    ax.set_yticks(range(len(labels)), labels=names)
    ax.set_xlabel("given label")
    ax.set_ylabel("true label")
    if len(labels) <= _ANNOTATED_LABELS:
        top = float(np.nanmax(matrix)) if matrix.size else 0.0
        for (i, j), value in np.ndenumerate(matrix):
            text = f"{value:.2f}" if normalized else f"{int(value)}"
            dark = value > (0.5 if normalized else top / 2)
            ax.text(j, i, text, ha="center", va="center", color="white" if dark else "black")
    if title is None:
        title = f"Confusion matrix: {who}" + (f" ({context})" if context else "")
    ax.set_title(title)
    return ax


def _model_matrix(
    model: DawidSkeneModel, for_worker: object | None
) -> tuple[np.ndarray, list[Any], str]:
    labels = list(model.labels)
    if for_worker is None:
        weights = np.asarray(model.n_responses, dtype=np.float64)
        if weights.sum() == 0:
            raise InvalidArgumentError("The model has no worker with a response.")
        matrix = np.tensordot(weights / weights.sum(), model.confusion, axes=1)
        return matrix, labels, f"all {len(model.workers)} workers"
    position = model.workers.get_indexer([for_worker])[0]
    if position < 0:
        raise InvalidArgumentError(f"for_worker={for_worker!r} is not a worker of the model.")
    return np.asarray(model.confusion[position]), labels, f"worker {for_worker}"


def _label_column(result: pd.DataFrame, task: Hashable) -> Hashable:
    candidates = [c for c in result.columns if c not in ("pool_id", task, "confidence", "golden")]
    if len(candidates) != 1:
        raise InvalidArgumentError(
            f"Cannot tell the answer column among {candidates!r}; pass label=."
        )
    return candidates[0]


def plot_reliability(
    result: pd.DataFrame,
    truth: Mapping[Any, Any] | pd.Series,
    *,
    task: Hashable = "task_id",
    label: Hashable | None = None,
    n_bins: int = 10,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Reliability diagram: accuracy against confidence, in equal-width bins, with the ECE.

    Parameters
    ----------
    result : pandas.DataFrame
        An aggregation result: ``task``, the answer column and ``confidence``
        (rows marked ``golden`` are left out, as in ``aggregation_report``).
    truth : mapping or Series
        Task id -> known label.
    task : hashable, default "task_id"
        The task column.
    label : hashable, optional
        The answer column. Default: the only column besides ``pool_id``, the
        task, ``confidence`` and ``golden``.
    n_bins : int, default 10
        Confidence bins ``(b/n_bins, (b+1)/n_bins]``, as ``aggregation_report``.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on. Default: a new figure.
    title : str, optional
        Default: ``"Reliability: ECE 0.034 on 120 tasks"``, with the pool and
        algorithm when the frame's provenance records them. The ECE is the
        ``ece`` of :func:`~pandas_toloka.aggregation.aggregation_report` with
        the same ``n_bins``.

    Returns
    -------
    matplotlib.axes.Axes
        A bar per non-empty bin at its accuracy (its number of tasks written
        above it), a marker at each bin's mean confidence, the diagonal of
        perfect calibration, and a legend outside the axes.

    Raises
    ------
    MissingColumnsError, InvalidArgumentError
        As ``aggregation_report``; also when the answer column is ambiguous.
    PlottingUnavailableError
        If matplotlib is not installed.
    """
    n_bins = check_n_bins(n_bins)
    if not isinstance(result, pd.DataFrame):
        raise InvalidArgumentError(
            f"result must be a pandas DataFrame, got {type(result).__name__}."
        )
    label = _label_column(result, task) if label is None else label
    confidence, correct = evaluated_tasks(result, truth, task=task, label=label)
    counts, conf_sum, hit_sum = calibration_bins(confidence, correct, n_bins=n_bins)
    ece = expected_calibration_error(confidence, correct, n_bins=n_bins)
    used = counts > 0
    width = 1.0 / n_bins
    centres = (np.arange(n_bins) + 0.5) * width
    accuracy = np.divide(hit_sum, counts, out=np.zeros(n_bins), where=used)
    mean_conf = np.divide(conf_sum, counts, out=np.zeros(n_bins), where=used)
    ax = _new_axes(ax, (7.5, 5.0))
    ax.plot([0, 1], [0, 1], linestyle="--", color="tab:gray", label="perfect calibration")
    bars = ax.bar(
        centres[used],
        accuracy[used],
        width=width * 0.9,
        color="tab:blue",
        alpha=0.8,
        label="accuracy per bin",
    )
    for bar, count in zip(bars, counts[used], strict=True):
        ax.annotate(
            str(int(count)),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize="x-small",
        )
    ax.plot(
        mean_conf[used], accuracy[used], "o", color="tab:red", label="mean confidence of the bin"
    )
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.legend(**_LEGEND_OUTSIDE)
    if title is None:
        number = "n/a" if np.isnan(ece) else f"{ece:.3f}"
        parts = [
            pools_text(frame_pools(result)),
            algorithm_name(provenance(result).get("type")) or "",
        ]
        context = ", ".join(p for p in parts if p)
        title = f"Reliability: ECE {number} on {len(correct)} tasks" + (
            f" ({context})" if context else ""
        )
    ax.set_title(title)
    logger.debug("plot_reliability: %d tasks, ECE %r", len(correct), ece)
    return ax
