"""A picture of one image's boxes: each worker's and the aggregate, on a blank canvas.

Re-exported by :mod:`pandas_toloka.plotting` (matplotlib, the ``plot`` extra, is
imported only when the function is called).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..aggregation import bounding_boxes
from ..aggregation._shape_input import read_shapes
from ..errors import InvalidArgumentError, MissingColumnsError, PlottingUnavailableError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_boxes"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlottingUnavailableError(
            "Plotting needs matplotlib: pip install 'pandas-toloka[plot]'"
        ) from exc
    return plt


def _pixels(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidArgumentError(f"{name} must be a positive integer (pixels), got {value!r}.")
    return int(value)


def _aggregate_boxes(
    aggregate: pd.DataFrame | None,
    rows: pd.DataFrame,
    *,
    task_id: object,
    task: Hashable,
    worker: Hashable,
    boxes: Hashable,
) -> np.ndarray:
    """``(n, 5)``: left, top, width, height, confidence of the task's aggregated boxes."""
    if aggregate is None:
        aggregate = bounding_boxes(rows, task=task, worker=worker, boxes=boxes, flat=True)
        return aggregate[["left", "top", "width", "height", "confidence"]].to_numpy(float)
    if task not in aggregate.columns:
        raise MissingColumnsError([str(task)], list(aggregate.columns), purpose="in aggregate=")
    if "left" in aggregate.columns:  # flat: one row per box
        mine = aggregate[aggregate[task].astype(str) == str(task_id)]
        return mine[["left", "top", "width", "height", "confidence"]].to_numpy(float)
    candidates = [c for c in aggregate.columns if c not in (task, "pool_id", "golden")]
    column = boxes if boxes in aggregate.columns else (candidates[0] if candidates else None)
    if column is None or len(candidates) != 1 and boxes not in aggregate.columns:
        raise InvalidArgumentError(
            f"aggregate= has no boxes column: name it {boxes!r} (boxes=) or keep only "
            "the task and boxes columns."
        )
    mine = aggregate[aggregate[task].astype(str) == str(task_id)][column]
    items = [b for value in mine.tolist() if value is not None for b in value]
    return np.array(
        [[b["left"], b["top"], b["width"], b["height"], b.get("confidence", 1.0)] for b in items],
        dtype=float,
    ).reshape(-1, 5)


def plot_boxes(
    responses: pd.DataFrame,
    *,
    task_id: object,
    aggregate: pd.DataFrame | None = None,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    boxes: Hashable = "boxes",
    width: int = 640,
    height: int = 480,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw one image's boxes on a blank canvas: each worker's, and the aggregate.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response, with the ``boxes`` column :func:`~pandas_toloka.aggregation.bounding_boxes`
        takes (rectangles in relative coordinates; JSON text of Toloka's shapes too).
    task_id : object
        The image (task) to draw.
    aggregate : pandas.DataFrame, optional
        The aggregated boxes: a result of :func:`~pandas_toloka.aggregation.bounding_boxes`
        (nested or ``flat=True``) or of ``aggregate_locally(type="BOXES")``.
        Default: :func:`~pandas_toloka.aggregation.bounding_boxes` on this
        task's responses with its defaults.
    task, worker, boxes : hashable, default "task_id", "worker_id", "boxes"
        Column names.
    width, height : int, default 640, 480
        The canvas in pixels (the image's size: relative coordinates are
        scaled to it; the y axis points down, as on the image).
    ax : matplotlib.axes.Axes, optional
        The axes to draw on. Default: a new figure.
    title : str, optional
        Default: ``"<task_id>: <n> workers, <k> aggregated boxes"``.

    Returns
    -------
    matplotlib.axes.Axes
        Each worker's boxes as thin dashed outlines in a colour of their own
        (legend: the worker ids, right of the canvas), the aggregated boxes as
        thick black outlines labelled with their confidence.

    Raises
    ------
    MissingColumnsError
        If a column is missing.
    InvalidArgumentError
        If the task has no response, or ``width``/``height`` are not positive integers.
    PlottingUnavailableError
        If matplotlib is not installed.
    """
    width, height = _pixels(width, "width"), _pixels(height, "height")
    missing = [str(c) for c in (task, worker, boxes) if c not in responses.columns]
    if missing:
        raise MissingColumnsError(missing, list(responses.columns), purpose="to plot boxes")
    rows = responses[responses[task].astype(str) == str(task_id)]
    if rows.empty:
        raise InvalidArgumentError(f"There is no response to task {task_id!r} to plot.")
    fused = _aggregate_boxes(
        aggregate, rows, task_id=task_id, task=task, worker=worker, boxes=boxes
    )
    shapes = read_shapes(rows[boxes], kind="box")
    plt = _pyplot()
    from matplotlib.patches import Rectangle

    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, 8.0 * height / width), layout="constrained")
    colours = plt.get_cmap("tab10")
    ax.add_patch(Rectangle((0, 0), width, height, facecolor="white", edgecolor="grey"))
    names = rows[worker].astype(str).tolist()
    for i, name in enumerate(names):
        drawn = shapes.coords[shapes.offsets[i] : shapes.offsets[i + 1]]
        for j, (left, top, w, h) in enumerate(drawn):
            ax.add_patch(
                Rectangle(
                    (left * width, top * height),
                    w * width,
                    h * height,
                    fill=False,
                    linestyle="--",
                    linewidth=1.0,
                    edgecolor=colours(i % 10),
                    label=name if j == 0 else None,
                )
            )
    for k, (left, top, w, h, confidence) in enumerate(fused):
        ax.add_patch(
            Rectangle(
                (left * width, top * height),
                w * width,
                h * height,
                fill=False,
                linewidth=2.5,
                edgecolor="black",
                label="aggregate" if k == 0 else None,
            )
        )
        ax.annotate(
            f"{confidence:.2f}",
            (left * width, top * height),
            xytext=(2, -2),
            textcoords="offset points",
            fontsize="small",
            va="bottom",
        )
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)  # y down, as on the image
    ax.set_aspect("equal")
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize="small")
    if title is None:
        title = f"{task_id}: {len(names)} workers, {len(fused)} aggregated boxes"
    ax.set_title(title)
    return ax
