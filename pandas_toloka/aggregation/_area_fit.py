"""The fit behind :func:`bounding_boxes` and :func:`points`: match, fuse, score.

Shapes are kept in *edge form* internally (boxes as ``left, top, right, bottom``, so
that the median of each edge is the fused box; points as ``left, top``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DroppedResponsesWarning, InvalidArgumentError
from ._encoding import Encoded, check_distinct_names, check_frame, encode_column, user_stacklevel
from ._golden import golden_items, golden_task_ids
from ._linkage import (
    box_iou,
    grouped_median,
    linkage,
    pairwise_box_iou,
    pairwise_point_similarity,
    point_similarity,
    shape_groups,
)
from ._shape_input import read_shapes, shapes_of_value

__all__ = ["AreaFit", "fit_areas"]

logger = logging.getLogger(__name__)


def _similarity(kind: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Pairwise similarity on the user's coordinates (``left, top, width, height`` or points)."""
    return box_iou if kind == "box" else point_similarity


def _to_edges(coords: np.ndarray, kind: str) -> np.ndarray:
    if kind != "box":
        return coords
    return np.column_stack([coords[:, :2], coords[:, :2] + coords[:, 2:]])


def _from_edges(edges: np.ndarray, kind: str) -> np.ndarray:
    if kind != "box":
        return edges
    return np.column_stack([edges[:, :2], np.clip(edges[:, 2:] - edges[:, :2], 0, None)])


@dataclass(frozen=True)
class AreaFit:
    """Everything the model keeps, as arrays (see :class:`AreasModel`)."""

    tasks: pd.Index
    workers: pd.Index
    object_task: np.ndarray
    object_coords: np.ndarray
    object_confidence: np.ndarray
    golden: np.ndarray | None
    response_task: np.ndarray
    response_worker: np.ndarray
    response_shapes: np.ndarray
    response_matched: np.ndarray
    response_missed: np.ndarray
    response_similarity: np.ndarray
    n_dropped: int


def _weighted_fusion(
    edges: np.ndarray,
    median: np.ndarray,
    cluster: np.ndarray,
    in_kept: np.ndarray,
    shape_worker: np.ndarray,
    n_workers: int,
    kind: str,
) -> np.ndarray:
    """Each cluster's weighted median of its shapes' edges, a shape weighted by its worker's
    mean similarity (IoU) with the median-fused shapes of the kept clusters; a cluster whose
    weights are all zero keeps its median."""
    similarity = _similarity(kind)(_from_edges(edges, kind), median[cluster])
    shapes = np.bincount(shape_worker[in_kept], minlength=n_workers)
    total = np.bincount(shape_worker[in_kept], weights=similarity[in_kept], minlength=n_workers)
    worker_weight = np.where(shapes > 0, total / np.maximum(shapes, 1), 0.0)
    weight = worker_weight[shape_worker]
    out = _to_edges(median, kind).copy()
    # Weighted median of each edge: sort each cluster's values, take the first whose
    # cumulative weight reaches half the cluster's (the mean of two when exactly half).
    n_clusters = len(median)
    weight_sum = np.bincount(cluster, weights=weight, minlength=n_clusters)
    has_weight = weight_sum > 0
    for j in range(edges.shape[1]):
        order = np.lexsort((edges[:, j], cluster))
        c, v, w = cluster[order], edges[order, j], weight[order]
        cum = np.cumsum(w)
        start = np.concatenate([[0.0], np.cumsum(weight_sum)[:-1]])
        within = cum - start[c]
        half = weight_sum[c] / 2
        reach = within >= half - 1e-12 * np.maximum(weight_sum[c], 1)
        first = np.full(n_clusters, -1, dtype=np.intp)
        idx = np.flatnonzero(reach)
        first_idx = np.unique(c[idx], return_index=True)
        first[first_idx[0]] = idx[first_idx[1]]
        value = v[np.maximum(first, 0)]
        exact = np.abs(
            within[np.maximum(first, 0)] - half[np.maximum(first, 0)]
        ) <= 1e-12 * np.maximum(weight_sum, 1)
        nxt = np.minimum(first + 1, len(v) - 1)
        same_cluster = (first + 1 < len(v)) & (c[nxt] == np.arange(n_clusters))
        value = np.where(exact & same_cluster, (value + v[nxt]) / 2, value)
        out[has_weight, j] = value[has_weight]
    return _from_edges(out, kind)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(start, start + length)`` for each pair."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.intp)
    shift = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return (np.arange(total) + shift).astype(np.intp)


def _cluster(
    coords: np.ndarray,
    slots: np.ndarray,
    offsets: np.ndarray,
    kind: str,
    threshold: float,
    method: str = "average",
) -> np.ndarray:
    """The cluster representative (a shape index) of each shape; shapes sorted by task."""
    pairwise = pairwise_box_iou if kind == "box" else pairwise_point_similarity
    rep = np.arange(len(coords), dtype=np.intp)
    for m, (_, index) in shape_groups(offsets).items():
        if m < 2:
            continue
        sim = pairwise(coords[index])
        slot = slots[index]
        sim[slot[:, :, None] == slot[:, None, :]] = -np.inf
        labels = linkage(sim, threshold, method=method)
        rep[index] = np.take_along_axis(index, labels, axis=1)
    return rep


def _read_golden(
    golden: Mapping[object, object] | pd.Series | None,
    tasks: Encoded,
    task_like: pd.Series,
    kind: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Golden tasks present in the responses: task codes, shape offsets, user coordinates."""
    width = 4 if kind == "box" else 2
    empty = (np.zeros(0, dtype=np.intp), np.zeros(1, dtype=np.int64), np.zeros((0, width)))
    if golden is None:
        return empty
    keys, values = golden_items(golden, known="shapes (a list of {'left', 'top', ...})")
    if not keys:
        return empty
    key_index = golden_task_ids(keys, task_like)
    positions = tasks.uniques.get_indexer(key_index)
    present = np.flatnonzero(positions >= 0)
    if len(present) < len(keys):
        logger.info("%d golden task(s) have no response and are left out", len(keys) - len(present))
    order = present[np.argsort(positions[present], kind="stable")]
    shapes: list[list[float]] = []
    lengths = []
    for i in order:
        value = shapes_of_value(values[i], kind, f"golden[{keys[i]!r}]")
        if value is None:
            raise InvalidArgumentError(
                f"golden[{keys[i]!r}] is null; give the known shapes (an empty list for none)."
            )
        shapes.extend(value)
        lengths.append(len(value))
    coords = np.asarray(shapes, dtype=np.float64).reshape(-1, width)
    if not np.isfinite(coords).all() or (kind == "box" and (coords[:, 2:] < 0).any()):
        raise InvalidArgumentError(
            "golden= holds a shape with a missing or non-finite coordinate or a negative size."
        )
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    return positions[order].astype(np.intp), offsets, coords


def _match_to_golden(
    coords: np.ndarray,
    response_of_shape: np.ndarray,
    response_offsets: np.ndarray,
    golden_responses: np.ndarray,
    golden_of_response: np.ndarray,
    gold_offsets: np.ndarray,
    gold_coords: np.ndarray,
    kind: str,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-to-one matching of each golden-task response's shapes with the known ones.

    Each (response, known shapes) pair is a small task of two "responses" clustered by
    :func:`complete_linkage`: merges in decreasing similarity pair one shape of each side.
    Returns, per golden response, the matches and the sum of their similarities.
    """
    n = len(golden_responses)
    own_len = np.diff(response_offsets)[golden_responses]
    gold_len = np.diff(gold_offsets)[golden_of_response]
    item_offsets = np.concatenate([[0], np.cumsum(own_len + gold_len)])
    items = np.zeros((int(item_offsets[-1]), coords.shape[1]))
    side = np.zeros(len(items), dtype=np.intp)
    owner = np.repeat(np.arange(n), own_len + gold_len)
    first = item_offsets[:-1]
    own_pos = _ranges(first, own_len)
    gold_pos = _ranges(first + own_len, gold_len)
    items[own_pos] = coords[_ranges(response_offsets[golden_responses], own_len)]
    items[gold_pos] = gold_coords[_ranges(gold_offsets[golden_of_response], gold_len)]
    side[gold_pos] = 1
    rep = _cluster(items, side + 2 * owner, item_offsets, kind, threshold)
    paired = rep != np.arange(len(items))  # the second member of a pair points at the first
    partner_a, partner_b = rep[paired], np.flatnonzero(paired)
    sim = _similarity(kind)(items[partner_a], items[partner_b])
    matched = np.bincount(owner[partner_b], minlength=n)
    total = np.bincount(owner[partner_b], weights=sim, minlength=n)
    return matched, total


def fit_areas(
    responses: object,
    *,
    task: Hashable,
    worker: Hashable,
    column: Hashable,
    kind: str,
    threshold: float,
    min_confidence: float,
    golden: Mapping[object, object] | pd.Series | None,
    method: str,
    linkage_method: str = "average",
    fusion: str = "median",
) -> AreaFit:
    """Validate, match shapes across responses, fuse each cluster (medians, or quality-weighted
    means with ``fusion="weighted"``), score responses."""
    check_distinct_names([task, column], task=task, worker=worker, **{kind + "s": column})
    frame = check_frame(responses, [task, worker, column], purpose=f"for {method}")
    shapes = read_shapes(frame[column], kind=kind)
    n_dropped = int(shapes.missing.sum())
    lengths = np.diff(shapes.offsets)
    if n_dropped:
        warnings.warn(
            DroppedResponsesWarning(
                f"{method}: dropped {n_dropped} of {len(frame)} response(s) whose {column!r} "
                "is missing (an empty list, a worker who drew nothing, is kept)."
            ),
            stacklevel=user_stacklevel(),
        )
        keep = ~shapes.missing
        frame = frame[keep]
        starts, lengths = shapes.offsets[:-1][keep], lengths[keep]
    else:
        starts = shapes.offsets[:-1]
    tasks = encode_column(frame[task], role="task")
    workers = encode_column(frame[worker], role="worker")
    n_tasks = tasks.size
    order = np.argsort(tasks.codes, kind="stable")  # responses by task, input order within
    response_task = tasks.codes[order]
    response_worker = workers.codes[order]
    response_len = lengths[order]
    response_offsets = np.concatenate([[0], np.cumsum(response_len)])
    coords = shapes.coords[_ranges(starts[order], response_len)]
    response_of_shape = np.repeat(np.arange(len(order)), response_len)
    task_of_shape = response_task[response_of_shape]
    task_offsets = np.concatenate([[0], np.cumsum(np.bincount(task_of_shape, minlength=n_tasks))])
    n_responses = np.bincount(response_task, minlength=n_tasks)

    rep = _cluster(coords, response_of_shape, task_offsets, kind, threshold, linkage_method)
    reps, cluster = np.unique(rep, return_inverse=True)
    cluster_task = task_of_shape[reps]
    confidence = np.bincount(cluster, minlength=len(reps)) / n_responses[cluster_task]
    edges = _to_edges(coords, kind)
    fused = _from_edges(grouped_median(edges, cluster, len(reps)), kind)
    kept = confidence >= min_confidence
    if fusion == "weighted":
        shape_worker = response_worker[response_of_shape]
        fused = _weighted_fusion(
            edges, fused, cluster, kept[cluster], shape_worker, len(workers.uniques), kind
        )

    golden_tasks, gold_offsets, gold_coords = _read_golden(golden, tasks, frame[task], kind)
    is_golden = np.zeros(n_tasks, dtype=bool)
    is_golden[golden_tasks] = True

    # Each response against its task's reference: the kept clusters (or the known shapes).
    in_kept = kept[cluster] & ~is_golden[task_of_shape]
    sim_to_fused = _similarity(kind)(coords, fused[cluster])
    matched = np.bincount(response_of_shape[in_kept], minlength=len(order))
    similarity_sum = np.bincount(
        response_of_shape[in_kept], weights=sim_to_fused[in_kept], minlength=len(order)
    )
    reference = np.bincount(cluster_task[kept], minlength=n_tasks)
    gold_count = np.zeros(n_tasks, dtype=np.int64)
    gold_count[golden_tasks] = np.diff(gold_offsets)
    reference[is_golden] = gold_count[is_golden]
    golden_responses = np.flatnonzero(is_golden[response_task])
    if golden_responses.size:
        slot = np.full(n_tasks, -1, dtype=np.intp)
        slot[golden_tasks] = np.arange(len(golden_tasks))
        g_matched, g_total = _match_to_golden(
            coords,
            response_of_shape,
            response_offsets,
            golden_responses,
            slot[response_task[golden_responses]],
            gold_offsets,
            gold_coords,
            kind,
            threshold,
        )
        matched[golden_responses] = g_matched
        similarity_sum[golden_responses] = g_total

    # The objects: kept clusters of ordinary tasks, the known shapes of golden tasks.
    ordinary = kept & ~is_golden[cluster_task]
    object_task = np.concatenate(
        [cluster_task[ordinary], np.repeat(golden_tasks, np.diff(gold_offsets))]
    )
    object_coords = np.vstack([fused[ordinary], gold_coords])
    object_confidence = np.concatenate([confidence[ordinary], np.ones(len(gold_coords))])
    arrange = np.lexsort(
        (object_coords[:, 0], object_coords[:, 1], -object_confidence, object_task)
    )
    logger.debug(
        "%s: %d responses, %d shapes, %d tasks, %d objects",
        method,
        len(order),
        len(coords),
        n_tasks,
        len(arrange),
    )
    return AreaFit(
        tasks=tasks.uniques,
        workers=workers.uniques,
        object_task=object_task[arrange],
        object_coords=object_coords[arrange],
        object_confidence=object_confidence[arrange],
        golden=is_golden if golden is not None else None,
        response_task=response_task,
        response_worker=response_worker,
        response_shapes=response_len,
        response_matched=matched,
        response_missed=reference[response_task] - matched,
        response_similarity=similarity_sum,
        n_dropped=n_dropped,
    )
