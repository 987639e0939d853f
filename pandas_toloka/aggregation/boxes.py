"""Bounding boxes and points: shapes matched across workers, fused, with worker quality.

No anchor library aggregates these; the method (matching, fusion, tie rules) is
described in ``docs/areas.md``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import InvalidArgumentError
from ._area_fit import AreaFit, fit_areas
from ._area_types import FUSED_BOX_TYPE, FUSED_POINT_TYPE, list_of

__all__ = ["AreasModel", "bounding_boxes", "fit_bounding_boxes", "fit_points", "points"]

_FIELDS = {"box": ("left", "top", "width", "height"), "point": ("left", "top")}


@dataclass(frozen=True, eq=False, kw_only=True)
class AreasModel:
    """Fitted bounding boxes or points.

    Attributes
    ----------
    method : str
        ``"BOXES"`` or ``"POINTS"``.
    fit : AreaFit
        The arrays: the aggregated objects (``object_task``, ``object_coords``,
        ``object_confidence``, sorted by task, decreasing confidence, top,
        left), each response's counts, and ``golden`` (bool per task, or None).
    task_column, worker_column, shapes_column : hashable
        Column names of the frames this model returns.
    """

    method: str
    fit: AreaFit
    task_column: Hashable = "task_id"
    worker_column: Hashable = "worker_id"
    shapes_column: Hashable = "boxes"

    def __repr__(self) -> str:
        return (
            f"AreasModel(method={self.method!r}, n_tasks={len(self.fit.tasks)}, "
            f"n_workers={len(self.fit.workers)}, n_objects={len(self.fit.object_task)})"
        )

    @property
    def _kind(self) -> str:
        return "box" if self.method == "BOXES" else "point"

    @property
    def n_dropped(self) -> int:
        """Responses left out because their value was null."""
        return self.fit.n_dropped

    def to_frame(self, *, flat: bool = False) -> pd.DataFrame:
        """The aggregated shapes.

        Parameters
        ----------
        flat : bool, default False
            False: one row per task, sorted by task, the shapes in one list
            column. True: one row per aggregated shape (tasks with none have
            no row), sorted by task, then decreasing confidence, top, left.

        Returns
        -------
        pandas.DataFrame
            Nested (default): :attr:`task_column` and :attr:`shapes_column`,
            ``pd.ArrowDtype`` of ``list<struct<left, top, width, height,
            confidence: double>>`` (points: ``list<struct<left, top,
            confidence>>``), then ``golden`` (bool) when ``golden=`` was
            given. Flat: :attr:`task_column`, ``left``, ``top`` (``width``,
            ``height``), ``confidence`` (float64), then ``golden``.
        """
        fit = self.fit
        names = _FIELDS[self._kind]
        if flat:
            data: dict[Hashable, object] = {self.task_column: fit.tasks.take(fit.object_task).array}
            for j, name in enumerate(names):
                data[name] = fit.object_coords[:, j].copy()
            data["confidence"] = fit.object_confidence.copy()
            if fit.golden is not None:
                data["golden"] = fit.golden[fit.object_task]
            return pd.DataFrame(data)
        struct_type = FUSED_BOX_TYPE if self._kind == "box" else FUSED_POINT_TYPE
        values = pa.StructArray.from_arrays(
            [pa.array(fit.object_coords[:, j]) for j in range(len(names))]
            + [pa.array(fit.object_confidence)],
            fields=list(struct_type),
        )
        counts = np.bincount(fit.object_task, minlength=len(fit.tasks))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        column = pa.ListArray.from_arrays(pa.array(offsets), values, type=list_of(struct_type))
        data = {
            self.task_column: fit.tasks.array,
            self.shapes_column: pd.arrays.ArrowExtensionArray(column),
        }
        if fit.golden is not None:
            data["golden"] = fit.golden.copy()
        return pd.DataFrame(data)

    def worker_quality(self) -> pd.DataFrame:
        """Each worker against the aggregate (or the known shapes of golden tasks).

        A worker's shape *matches* an aggregated shape when it is in the
        cluster the aggregated shape was fused from (on golden tasks: when
        the greedy matching pairs it with a known shape).

        Returns
        -------
        pandas.DataFrame
            One row per worker, sorted: :attr:`worker_column`, ``n_responses``,
            ``n_shapes`` (drawn), ``n_matched``, ``n_missed`` (aggregated
            shapes of the worker's tasks they drew nothing for), ``n_extra``
            (drawn, matched to nothing), all int64; then ``mean_iou`` (boxes)
            or ``mean_distance`` (points): over the matched shapes, NaN for a
            worker with none; ``precision`` = matched / drawn and ``recall`` =
            matched / (matched + missed), each 1.0 when its denominator is 0.
        """
        fit = self.fit
        n = len(fit.workers)
        w = fit.response_worker

        def total(values: np.ndarray) -> np.ndarray:
            return np.bincount(w, weights=values, minlength=n)

        drawn = total(fit.response_shapes).astype(np.int64)
        matched = total(fit.response_matched).astype(np.int64)
        missed = total(fit.response_missed).astype(np.int64)
        similarity = total(fit.response_similarity)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(matched > 0, similarity / np.maximum(matched, 1), math.nan)
            precision = np.where(drawn > 0, matched / np.maximum(drawn, 1), 1.0)
            recall = np.where(matched + missed > 0, matched / np.maximum(matched + missed, 1), 1.0)
        return pd.DataFrame(
            {
                self.worker_column: fit.workers.array,
                "n_responses": np.bincount(w, minlength=n).astype(np.int64),
                "n_shapes": drawn,
                "n_matched": matched,
                "n_missed": missed,
                "n_extra": drawn - matched,
                ("mean_iou" if self._kind == "box" else "mean_distance"): (
                    mean if self._kind == "box" else -mean
                ),
                "precision": precision,
                "recall": recall,
            }
        )


def _number(value: object, name: str, low: float, high: float, *, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}.")
    number = float(value)
    if not (low < number if low_open else low <= number) or not number <= high:
        bracket = "(" if low_open else "["
        raise InvalidArgumentError(f"{name} must be in {bracket}{low}, {high}], got {value!r}.")
    return number


def _linkage(value: object) -> str:
    if value not in ("average", "complete"):
        raise InvalidArgumentError(f"linkage must be 'average' or 'complete', got {value!r}.")
    return str(value)


def _fusion(value: object) -> str:
    if value not in ("median", "weighted"):
        raise InvalidArgumentError(f"fusion must be 'median' or 'weighted', got {value!r}.")
    return str(value)


def fit_bounding_boxes(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    boxes: Hashable = "boxes",
    iou_threshold: float = 0.5,
    min_confidence: float = 0.5,
    golden: Mapping[object, object] | pd.Series | None = None,
    linkage: str = "average",
    fusion: str = "median",
) -> AreasModel:
    """Fit :func:`bounding_boxes` and return the model (with :meth:`~AreasModel.worker_quality`).

    Parameters and errors are those of :func:`bounding_boxes`.

    Returns
    -------
    AreasModel
    """
    threshold = _number(iou_threshold, "iou_threshold", 0.0, 1.0, low_open=True)
    share = _number(min_confidence, "min_confidence", 0.0, 1.0)
    fit = fit_areas(
        responses,
        task=task,
        worker=worker,
        column=boxes,
        kind="box",
        threshold=threshold,
        min_confidence=share,
        golden=golden,
        method="bounding_boxes",
        linkage_method=_linkage(linkage),
        fusion=_fusion(fusion),
    )
    return AreasModel(
        method="BOXES", fit=fit, task_column=task, worker_column=worker, shapes_column=boxes
    )


def bounding_boxes(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    boxes: Hashable = "boxes",
    iou_threshold: float = 0.5,
    min_confidence: float = 0.5,
    golden: Mapping[object, object] | pd.Series | None = None,
    linkage: str = "average",
    fusion: str = "median",
    flat: bool = False,
) -> pd.DataFrame:
    """Aggregate the rectangles workers drew on each image.

    Within each task the boxes of all responses are matched by greedy
    agglomerative clustering on IoU: clusters merge in decreasing order of
    their linkage (the mean IoU of their boxes, or the least with
    ``linkage="complete"``) while it is at least ``iou_threshold``, and never
    take two boxes of one response. Each cluster is one object: its edges (left, top,
    right, bottom) are the medians of its boxes' edges, its ``confidence`` the
    share of the task's responses that drew it. Objects with confidence of at
    least ``min_confidence`` are the answer.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. ``boxes`` holds each response's rectangles in
        relative coordinates: an Arrow ``list<struct<left, top, width,
        height, ...>>`` column (the ``rectangles`` column of
        :func:`parse_areas`), or lists of dicts ``{"left", "top", "width",
        "height"}`` (other keys ignored; a ``"shape"`` other than
        ``"rectangle"`` is an error), or their JSON text. An empty list is a
        worker who drew nothing: it counts in every box's confidence
        denominator. A null is no answer: dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning`.
    task, worker, boxes : hashable, default "task_id", "worker_id", "boxes"
        Column names.
    iou_threshold : float, default 0.5
        In (0, 1]: the least linkage at which two clusters of boxes merge.
    min_confidence : float, default 0.5
        In [0, 1]: the least share of responses an object needs (ties in: with
        4 responses, a box two of them drew is kept).
    golden : mapping or Series, optional
        Known boxes of control tasks: task id -> list of boxes (as in the
        ``boxes`` column; an empty list for "no object"). Those tasks answer
        with the known boxes (confidence 1.0) and their responses are scored
        against them in :meth:`AreasModel.worker_quality`, matched one to one
        greedily by IoU (at least ``iou_threshold``).
    linkage : {"average", "complete"}, default "average"
        How two clusters compare: the mean IoU of their cross pairs, or the
        least (then every two boxes of an object overlap by ``iou_threshold``:
        stricter, more objects split).
    fusion : {"median", "weighted"}, default "median"
        How a cluster's boxes become one: the median of each edge, or the
        quality-weighted median of each edge. The weights come from a first
        median pass: a box weighs its worker's mean IoU with the median-fused
        boxes of the kept clusters (``min_confidence``) their boxes fell in,
        so a careful worker's edges count more than a sloppy one's (equal
        weights give the plain median). A cluster whose weights are all zero
        keeps its median. Matching and confidence do not change.
    flat : bool, default False
        Return one row per aggregated box instead of one row per task.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task`` and ``boxes``, a
        ``pd.ArrowDtype(list<struct<left, top, width, height, confidence:
        double>>)`` column (boxes in decreasing confidence, then top, then
        left; an empty list when no box reached ``min_confidence``), then
        ``golden`` (bool) with ``golden=``. With ``flat=True``: ``task``,
        ``left``, ``top``, ``width``, ``height``, ``confidence`` per box.
        Both survive a Parquet round trip.

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If a task or worker id is null, a box has a missing or non-finite
        coordinate or a negative size, or an option is out of range.

    See Also
    --------
    fit_bounding_boxes : The same, as a model with per-worker quality.
    points : The same for points, matched by distance.

    Examples
    --------
    >>> box = {"left": 0.1, "top": 0.1, "width": 0.4, "height": 0.4}
    >>> df = pd.DataFrame({
    ...     "task_id": ["img1", "img1", "img1"],
    ...     "worker_id": ["a", "b", "c"],
    ...     "boxes": [[box], [dict(box, left=0.12)], []],
    ... })
    >>> bounding_boxes(df, flat=True)
      task_id  left  top  width  height  confidence
    0    img1  0.11  0.1    0.4     0.4    0.666667
    """
    model = fit_bounding_boxes(
        responses,
        task=task,
        worker=worker,
        boxes=boxes,
        iou_threshold=iou_threshold,
        min_confidence=min_confidence,
        golden=golden,
        linkage=linkage,
        fusion=fusion,
    )
    return model.to_frame(flat=flat)


def fit_points(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    points: Hashable = "points",
    max_distance: float = 0.05,
    min_confidence: float = 0.5,
    golden: Mapping[object, object] | pd.Series | None = None,
    linkage: str = "average",
) -> AreasModel:
    """Fit :func:`points` and return the model (with :meth:`~AreasModel.worker_quality`).

    Parameters and errors are those of :func:`points`.

    Returns
    -------
    AreasModel
    """
    distance = _number(max_distance, "max_distance", 0.0, math.inf)
    share = _number(min_confidence, "min_confidence", 0.0, 1.0)
    fit = fit_areas(
        responses,
        task=task,
        worker=worker,
        column=points,
        kind="point",
        threshold=-distance,
        min_confidence=share,
        golden=golden,
        method="points",
        linkage_method=_linkage(linkage),
    )
    return AreasModel(
        method="POINTS", fit=fit, task_column=task, worker_column=worker, shapes_column=points
    )


def points(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    points: Hashable = "points",
    max_distance: float = 0.05,
    min_confidence: float = 0.5,
    golden: Mapping[object, object] | pd.Series | None = None,
    linkage: str = "average",
    flat: bool = False,
) -> pd.DataFrame:
    """Aggregate the points workers put on each image.

    As :func:`bounding_boxes`, with the Euclidean distance in relative
    coordinates instead of IoU: clusters merge while the mean distance of
    their points (the largest with ``linkage="complete"``) is at most
    ``max_distance``, and the object is the median of its points' ``left``
    and ``top``.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response; ``points`` holds lists of ``{"left", "top"}``
        (the ``points`` column of :func:`parse_areas`), as for
        :func:`bounding_boxes`.
    task, worker, points : hashable, default "task_id", "worker_id", "points"
        Column names.
    max_distance : float, default 0.05
        The largest linkage distance at which clusters merge, in relative
        units (on a non-square image, a relative unit across is not one down).
    min_confidence : float, default 0.5
        The least share of responses an object needs.
    golden : mapping or Series, optional
        Known points of control tasks, as for :func:`bounding_boxes`.
    linkage : {"average", "complete"}, default "average"
        As for :func:`bounding_boxes`.
    flat : bool, default False
        One row per aggregated point instead of one row per task.

    Returns
    -------
    pandas.DataFrame
        As :func:`bounding_boxes`, with ``list<struct<left, top, confidence>>``.

    Raises
    ------
    MissingColumnsError, InvalidArgumentError
        As :func:`bounding_boxes`.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "task_id": ["img1", "img1"],
    ...     "worker_id": ["a", "b"],
    ...     "points": [[{"left": 0.5, "top": 0.5}], [{"left": 0.52, "top": 0.5}]],
    ... })
    >>> points(df, flat=True)
      task_id  left  top  confidence
    0    img1  0.51  0.5         1.0
    """
    model = fit_points(
        responses,
        task=task,
        worker=worker,
        points=points,
        max_distance=max_distance,
        min_confidence=min_confidence,
        golden=golden,
        linkage=linkage,
    )
    return model.to_frame(flat=flat)
