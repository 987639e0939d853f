"""Krippendorff's alpha from the coincidences of the values within each task."""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import Literal, get_args

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError
from ._common import cells, encode_units, pairs_within_groups

__all__ = ["Level", "check_level", "krippendorff_alpha"]

logger = logging.getLogger(__name__)

#: Levels of measurement: which distance two values are apart.
Level = Literal["nominal", "ordinal", "interval", "ratio"]

#: Up to this many ``tasks x labels`` cells alpha is computed from the dense count matrix.
_DENSE_CELLS = 1 << 23
#: Rows of the ``values x values`` distance matrix computed at once (ratio data).
_BLOCK_CELLS = 1 << 22


def krippendorff_alpha(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    level: Level = "nominal",
) -> float:
    r"""Krippendorff's alpha: agreement beyond chance between the responses to each task.

    ``alpha = 1 - D_o / D_e``: one minus the observed disagreement between the
    values given to the same task over the disagreement expected if the values
    were paired at random. 1 is perfect agreement, 0 agreement at chance level,
    negative values systematic disagreement. Values are paired within a task
    whatever worker gave them, so missing responses (any number of workers per
    task) are part of the definition: tasks with fewer than two responses are
    left out, as they hold no pair.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. Responses with a missing label are dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning` saying how many.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names. ``worker`` must exist and hold no null, but does not change
        the result: a worker who answers a task twice gives it two values.
    level : {"nominal", "ordinal", "interval", "ratio"}, default "nominal"
        Level of measurement, which sets the distance ``delta(c, k)`` between two
        values: ``c != k`` (nominal); the squared distance between the values'
        mid-ranks in the pairable values (ordinal, any sortable labels, ordered
        categoricals in category order); ``(c - k)**2`` (interval) or
        ``((c - k) / (c + k))**2`` (ratio, 0 where ``c + k == 0``), both for
        numeric labels only.

    Returns
    -------
    float
        Alpha. Two degenerate cases have a documented value: when every pairable
        value is the same (no disagreement observed or expected, ``0/0``), alpha
        is 1.0, as crowd-kit returns (the ``krippendorff`` package raises); when no
        task has two responses, nothing can be measured and alpha is NaN -- the
        only NaN this function returns.

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If ``level`` is unknown, a task or worker id is null, or ``level`` is
        "interval" or "ratio" and the labels are not numbers.

    See Also
    --------
    fleiss_kappa : Agreement beyond chance from the label shares.
    cohen_kappa : Agreement of each pair of workers.

    Notes
    -----
    With ``n_uc`` responses of value ``c`` in task ``u`` of ``m_u >= 2``
    responses, the coincidences are ``o_ck = sum_u n_uc (n_uk - [c = k]) /
    (m_u - 1)``, ``n_c = sum_k o_ck`` and ``n = sum_c n_c``; then ``alpha = 1 -
    (n - 1) sum_ck o_ck delta(c, k) / sum_ck n_c n_k delta(c, k)``. The sums are
    computed from per-task value counts in closed form for nominal, ordinal and
    interval data, and from the pairs of distinct values within each task for
    ratio data. See ``docs/agreement.md``.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2", "t3", "t3"],
    ...                    "worker_id": ["a", "b", "a", "b", "a", "b"],
    ...                    "result": ["yes", "yes", "no", "no", "yes", "no"]})
    >>> round(krippendorff_alpha(df), 6)
    0.444444
    """
    if level not in get_args(Level):
        raise InvalidArgumentError(f"level must be one of {list(get_args(Level))}, got {level!r}.")
    tasks, labels = encode_units(
        responses, task=task, worker=worker, label=label, method="krippendorff_alpha"
    )
    values = None
    if level in ("interval", "ratio"):
        values = _numeric_values(labels.uniques, label=label, level=level)
    alpha = alpha_from_codes(tasks.codes, labels.codes, tasks.size, labels.size, level, values)
    logger.debug(
        "krippendorff_alpha(%s): %d responses, %d tasks -> %r",
        level,
        len(tasks.codes),
        tasks.size,
        alpha,
    )
    return alpha


def check_level(level: object) -> Level:
    """``level`` if it is a level of measurement, else an :class:`InvalidArgumentError`."""
    if not isinstance(level, str) or level not in get_args(Level):
        raise InvalidArgumentError(f"level must be one of {list(get_args(Level))}, got {level!r}.")
    return level  # type: ignore[return-value]


def _numeric_values(uniques: pd.Index, *, label: Hashable, level: str) -> np.ndarray:
    if not (
        pd.api.types.is_numeric_dtype(uniques.dtype) or pd.api.types.is_bool_dtype(uniques.dtype)
    ):
        raise InvalidArgumentError(
            f"level={level!r} needs numeric labels, but the label column {label!r} has dtype "
            f"{uniques.dtype}; convert it to numbers or use level='nominal' or 'ordinal'."
        )
    values = np.asarray(uniques.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    if not np.isfinite(values).all():
        raise InvalidArgumentError(
            f"level={level!r} needs finite numbers, but the label column {label!r} holds "
            f"{values[~np.isfinite(values)][:3].tolist()!r}; drop or fix those responses."
        )
    return values


def alpha_from_codes(
    task_codes: np.ndarray,
    label_codes: np.ndarray,
    n_tasks: int,
    n_labels: int,
    level: str,
    values: np.ndarray | None = None,
) -> float:
    """Alpha from integer codes; ``values`` are the labels' numbers (interval and ratio)."""
    if level != "ratio" and n_tasks * max(n_labels, 1) <= _DENSE_CELLS:
        return _alpha_dense(task_codes, label_codes, n_tasks, max(n_labels, 1), level, values)
    size = np.bincount(task_codes, minlength=n_tasks)
    pairable = size[task_codes] >= 2
    tasks, labels = task_codes[pairable], label_codes[pairable]
    n_c = np.bincount(labels, minlength=n_labels).astype(np.float64)
    n = float(n_c.sum())
    if n == 0:
        return float("nan")  # no task with two responses: nothing to measure
    if np.count_nonzero(n_c) == 1:
        return 1.0  # one value: D_o = D_e = 0, perfect observed agreement
    weight = 1.0 / (size - 1).clip(min=1)  # 1 / (m_u - 1), tasks of one response unused
    if level == "nominal":
        cell = cells(tasks, labels, n_tasks, n_labels)
        same = np.bincount(
            cell.group, weights=cell.count.astype(np.float64) ** 2, minlength=n_tasks
        )
        observed = float((weight * (size.astype(np.float64) ** 2 - same))[size >= 2].sum())
        expected = n * n - float((n_c**2).sum())
    elif level in ("ordinal", "interval"):
        x = _positions(n_c) if level == "ordinal" else values
        assert x is not None
        observed, expected = _squared_sums(tasks, x[labels], size, weight, n_c, x, n_tasks)
    else:
        assert values is not None
        observed, expected = _ratio_sums(tasks, labels, weight, n_c, values, n_tasks, n_labels)
    if expected == 0:
        return 1.0
    return float(1.0 - (n - 1.0) * observed / expected)


def _positions(n_c: np.ndarray) -> np.ndarray:
    """Ordinal data: each value's mid-rank among the pairable values (``delta = (r_c - r_k)^2``)."""
    return np.cumsum(n_c) - n_c / 2.0


def _alpha_dense(
    task_codes: np.ndarray,
    label_codes: np.ndarray,
    n_tasks: int,
    n_labels: int,
    level: str,
    values: np.ndarray | None,
) -> float:
    """Nominal, ordinal and interval alpha from the ``tasks x labels`` count matrix."""
    counts = np.bincount(task_codes * n_labels + label_codes, minlength=n_tasks * n_labels).reshape(
        n_tasks, n_labels
    )
    size = counts.sum(axis=1)
    pair = size >= 2
    if not pair.any():
        return float("nan")  # no task with two responses: nothing to measure
    if not pair.all():
        counts, size = counts[pair], size[pair]
    counts, size = counts.astype(np.float64), size.astype(np.float64)
    n_c = counts.sum(axis=0)
    n = float(n_c.sum())
    if np.count_nonzero(n_c) == 1:
        return 1.0  # one value: D_o = D_e = 0, perfect observed agreement
    weight = 1.0 / (size - 1.0)
    if level == "nominal":
        same = np.einsum("ij,ij->i", counts, counts)
        observed = float(weight @ (size * size - same))
        expected = n * n - float(n_c @ n_c)
    else:
        x = _positions(n_c) if level == "ordinal" else values
        assert x is not None
        # sum_{i != j} (x_i - x_j)^2 = 2 m sum_i (x_i - mean)^2, from deviations to each mean
        mean = (counts @ x) / size
        deviation = x[None, :] - mean[:, None]
        spread = np.einsum("ij,ij->i", counts, deviation * deviation)
        observed = float((2.0 * size * weight) @ spread)
        centre = float(n_c @ x) / n
        expected = 2.0 * n * float(n_c @ ((x - centre) ** 2))
    if expected == 0:
        return 1.0
    return float(1.0 - (n - 1.0) * observed / expected)


def _squared_sums(
    tasks: np.ndarray,
    x: np.ndarray,
    size: np.ndarray,
    weight: np.ndarray,
    n_c: np.ndarray,
    domain: np.ndarray,
    n_tasks: int,
) -> tuple[float, float]:
    """``sum_ck o_ck (x_c - x_k)^2`` and ``sum_ck n_c n_k (x_c - x_k)^2`` by deviations from means.

    Within a task, ``sum_{i != j} (x_i - x_j)^2 = 2 m sum_i (x_i - mean)^2``; centring
    on each task's mean (and the pairable values' mean) avoids the cancellation of
    ``2 m S2 - 2 S1^2``.
    """
    sizes = size.astype(np.float64)
    mean = np.bincount(tasks, weights=x, minlength=n_tasks) / np.maximum(sizes, 1.0)
    deviation = x - mean[tasks]
    spread = np.bincount(tasks, weights=deviation * deviation, minlength=n_tasks)
    observed = float((2.0 * sizes * spread * weight)[size >= 2].sum())
    n = n_c.sum()
    used = n_c > 0
    centre = float((n_c[used] * domain[used]).sum() / n)
    expected = float(2.0 * n * (n_c[used] * (domain[used] - centre) ** 2).sum())
    return observed, expected


def _ratio_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    total = a + b
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(a - b, total, out=out, where=total != 0)
    return out * out


def _ratio_sums(
    tasks: np.ndarray,
    labels: np.ndarray,
    weight: np.ndarray,
    n_c: np.ndarray,
    values: np.ndarray,
    n_tasks: int,
    n_labels: int,
) -> tuple[float, float]:
    """The two sums for ratio data: observed over the pairs of distinct values in each task,
    expected over the ``values x values`` matrix in row blocks."""
    cell = cells(tasks, labels, n_tasks, n_labels)
    first, second = pairs_within_groups(np.bincount(cell.group, minlength=n_tasks))
    pair_weight = 2.0 * cell.count[first] * cell.count[second] * weight[cell.group[first]]
    observed = float(
        (pair_weight * _ratio_distance(values[cell.label[first]], values[cell.label[second]])).sum()
    )
    used = np.flatnonzero(n_c)
    domain, counts = values[used], n_c[used]
    rows = max(1, _BLOCK_CELLS // max(len(domain), 1))
    expected = 0.0
    for start in range(0, len(domain), rows):
        stop = start + rows
        block = _ratio_distance(domain[start:stop, None], domain[None, :])
        expected += float(counts[start:stop] @ block @ counts)
    return observed, expected
