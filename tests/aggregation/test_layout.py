"""Tests of the per-task response layout used by Dawid-Skene's EM."""

from __future__ import annotations

import numpy as np
import pytest

from pandas_toloka.aggregation._layout import MAX_DEPTH, TaskGrid


@pytest.mark.parametrize(
    "per_task",
    [
        np.full(50, 5),  # uniform: everything in the grid
        np.r_[np.full(95, 3), np.full(5, 60)],  # skewed: long tasks spill into the remainder
        np.array([200]),  # one task: depth capped at MAX_DEPTH
        np.arange(1, 40),
    ],
)
def test_sums_equal_plain_bincount(per_task: np.ndarray) -> None:
    rng = np.random.default_rng(int(per_task.sum()))
    n_tasks, n_cells = len(per_task), 17
    task = rng.permutation(np.repeat(np.arange(n_tasks), per_task))
    cell = rng.integers(0, n_cells, len(task))
    layout = TaskGrid.build(task, cell, n_tasks, n_cells)
    assert layout.depth <= MAX_DEPTH
    assert layout.grid.size <= 1.5 * len(task) + n_tasks
    assert (layout.grid != n_cells).sum() + len(layout.rest_task) == len(task)

    table = rng.normal(size=n_cells)
    values = rng.normal(size=n_tasks)
    np.testing.assert_allclose(
        layout.task_sums(table), np.bincount(task, weights=table[cell], minlength=n_tasks)
    )
    np.testing.assert_allclose(
        layout.cell_sums(values), np.bincount(cell, weights=values[task], minlength=n_cells)
    )


@pytest.mark.parametrize("n_groups", [1, 7, 70_000])
def test_stable_group_order_is_a_stable_sort(n_groups: int, monkeypatch) -> None:
    from pandas_toloka.aggregation import _layout

    rng = np.random.default_rng(n_groups)
    codes = rng.integers(0, n_groups, 5000).astype(np.intp)
    expected = np.argsort(codes, kind="stable")
    np.testing.assert_array_equal(_layout.stable_group_order(codes, n_groups), expected)
    monkeypatch.setattr(_layout, "_groupsort_indexer", None)  # the pure NumPy radix sort
    np.testing.assert_array_equal(_layout.stable_group_order(codes, n_groups), expected)
