"""Matching shapes across responses: greedy complete-linkage clustering, many tasks at once.

Within a task, every shape starts as its own cluster. The two clusters whose *least*
similar pair of shapes is the most similar are merged, as long as that similarity
reaches the threshold; two shapes of the same response are never similar (so a
cluster holds at most one shape per response). Every pair of shapes in a final
cluster is at least threshold-similar. Ties go to the pair of clusters first in
shape order. Tasks with the same number of shapes run together as ``(G, m, m)``
arrays; a task needs at most ``m - 1`` merges.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "box_iou",
    "complete_linkage",
    "grouped_median",
    "linkage",
    "pairwise_box_iou",
    "pairwise_point_similarity",
    "point_similarity",
    "shape_groups",
]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes ``(..., 4)`` given as ``left, top, width, height`` (broadcasting).

    Two boxes whose union has no area have IoU 0.
    """
    left = np.maximum(a[..., 0], b[..., 0])
    right = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2])
    top = np.maximum(a[..., 1], b[..., 1])
    bottom = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter
    positive = union > 0
    iou = np.where(positive, inter / np.where(positive, union, 1.0), 0.0)
    return np.minimum(iou, 1.0)  # rounding may put identical boxes a hair above 1


def pairwise_box_iou(block: np.ndarray) -> np.ndarray:
    """``(G, m, m)`` IoU of every two boxes of ``block`` (``(G, m, 4)``, left/top/width/height)."""
    # Computed as (m, m, G), tasks innermost: long contiguous loops for the ufuncs.
    x0, y0 = block[..., 0].T.copy(), block[..., 1].T.copy()
    x1, y1 = x0 + block[..., 2].T, y0 + block[..., 3].T
    area = (block[..., 2] * block[..., 3]).T
    width = np.minimum(x1[:, None, :], x1[None, :, :])
    width -= np.maximum(x0[:, None, :], x0[None, :, :])
    np.maximum(width, 0, out=width)
    height = np.minimum(y1[:, None, :], y1[None, :, :])
    height -= np.maximum(y0[:, None, :], y0[None, :, :])
    np.maximum(height, 0, out=height)
    inter = np.multiply(width, height, out=width)
    union = area[:, None, :] + area[None, :, :]
    union -= inter
    positive = union > 0
    np.divide(inter, union, out=inter, where=positive)
    inter[~positive] = 0.0
    np.minimum(inter, 1.0, out=inter)
    return np.ascontiguousarray(inter.transpose(2, 0, 1))


def point_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Minus the Euclidean distance of points ``(..., 2)`` (broadcasting)."""
    return -np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1])


def pairwise_point_similarity(block: np.ndarray) -> np.ndarray:
    """``(G, m, m)`` minus the distance of every two points of ``block`` (``(G, m, 2)``)."""
    x, y = block[..., 0].T.copy(), block[..., 1].T.copy()
    distance = np.hypot(x[:, None, :] - x[None, :, :], y[:, None, :] - y[None, :, :])
    return np.ascontiguousarray(np.negative(distance).transpose(2, 0, 1))


def shape_groups(offsets: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Tasks grouped by their number of shapes ``m``: ``m -> (task codes, (G, m) shape indices)``.

    ``offsets`` (``n_tasks + 1``) delimits each task's shapes in a task-sorted array.
    """
    counts = np.diff(offsets)
    out = {}
    for m in np.unique(counts):
        tasks = np.flatnonzero(counts == m)
        out[int(m)] = (tasks, offsets[tasks][:, None] + np.arange(m)[None, :])
    return out


def complete_linkage(similarity: np.ndarray, threshold: float) -> np.ndarray:
    """Cluster the shapes of each task by complete linkage (see :func:`linkage`)."""
    return linkage(similarity, threshold, method="complete")


def linkage(similarity: np.ndarray, threshold: float, *, method: str = "average") -> np.ndarray:
    """Cluster the shapes of each task, greedily, by average or complete linkage.

    Parameters
    ----------
    similarity : numpy.ndarray
        ``(G, m, m)`` symmetric similarities, ``-inf`` for pairs that may never
        share a cluster (shapes of the same response). Modified in place.
    threshold : float
        Clusters merge while their linkage is at least this: the mean
        similarity of their cross pairs (``"average"``) or the least
        (``"complete"``).
    method : {"average", "complete"}

    Returns
    -------
    numpy.ndarray
        ``(G, m)`` intp: each shape's cluster, named by its smallest shape index.
    """
    n_tasks, m, _ = similarity.shape
    labels = np.tile(np.arange(m, dtype=np.intp), (n_tasks, 1))
    if m < 2 or n_tasks == 0:
        return labels
    diagonal = np.arange(m)
    if method == "complete":
        score = similarity
        score[score < threshold] = -np.inf
        score[:, diagonal, diagonal] = -np.inf
        sums = blocked = sizes = None
    else:
        blocked = ~np.isfinite(similarity)
        blocked[:, diagonal, diagonal] = True
        sums = np.where(blocked, 0.0, similarity)
        sizes = np.ones((n_tasks, m))
        score = np.where(blocked, -np.inf, sums)
    flat = score.reshape(n_tasks, m * m)
    for _ in range(m - 1):
        best = flat.argmax(axis=1)  # first maximum: the pair (a, b), a < b, first in order
        value = np.take_along_axis(flat, best[:, None], axis=1)[:, 0]
        rows = np.flatnonzero(value >= threshold)
        if rows.size == 0:
            break
        a, b = np.divmod(best[rows], m)
        if sums is None:
            merged = np.minimum(score[rows, a, :], score[rows, b, :])
        else:
            assert blocked is not None and sizes is not None
            sums[rows, a, :] += sums[rows, b, :]
            sums[rows, :, a] = sums[rows, a, :]
            sizes[rows, a] += sizes[rows, b]
            blocked[rows, a, :] |= blocked[rows, b, :]
            blocked[rows, :, a] = blocked[rows, a, :]
            blocked[rows, b, :] = True
            blocked[rows, :, b] = True
            pairs = sizes[rows, a][:, None] * sizes[rows]
            merged = np.where(blocked[rows, a, :], -np.inf, sums[rows, a, :] / pairs)
        score[rows, a, :] = merged
        score[rows, :, a] = merged
        score[rows, a, a] = -np.inf
        score[rows, b, :] = -np.inf
        score[rows, :, b] = -np.inf
        block = labels[rows]
        labels[rows] = np.where(block == b[:, None], a[:, None], block)
    return labels


def grouped_median(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` (``(n, d)``) within each group (``0..n_groups-1``, each non-empty);
    an even count gives the mean of the two middle values."""
    if n_groups == 0:
        return np.zeros((0, values.shape[1]))
    sizes = np.bincount(groups, minlength=n_groups)
    order = np.argsort(groups, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    position = np.arange(len(groups)) - np.repeat(starts, sizes)
    width = int(sizes.max()) if n_groups else 0
    low, high = (sizes - 1) // 2, sizes // 2
    rows = np.arange(n_groups)
    out = np.empty((n_groups, values.shape[1]))
    for j in range(values.shape[1]):
        padded = np.full((n_groups, width), np.inf)  # padding sorts last
        padded[groups[order], position] = values[order, j]
        padded.sort(axis=1)
        out[:, j] = (padded[rows, low] + padded[rows, high]) / 2
    return out
