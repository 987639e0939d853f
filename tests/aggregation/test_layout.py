"""Tests of the per-task response layout used by Dawid-Skene's EM."""

from __future__ import annotations

import numpy as np
import pytest

from pandas_toloka.aggregation import _layout
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
@pytest.mark.parametrize("shard_responses", [None, 7, 100])
def test_sums_equal_plain_bincount(per_task: np.ndarray, shard_responses, monkeypatch) -> None:
    if shard_responses is not None:  # cut small pools into several shards
        monkeypatch.setattr(_layout, "SHARD_RESPONSES", shard_responses)
    rng = np.random.default_rng(int(per_task.sum()))
    n_tasks, n_cells = len(per_task), 17
    task = rng.permutation(np.repeat(np.arange(n_tasks), per_task))
    cell = rng.integers(0, n_cells, len(task))
    layout = TaskGrid.build(task, cell, n_tasks, n_cells)
    assert layout.depth <= MAX_DEPTH
    shards = layout.shards
    if shard_responses is not None and n_tasks > 1:
        assert len(shards) > 1
    assert [s.start for s in shards] == [0] + [s.stop for s in shards[:-1]]
    assert shards[-1].stop == n_tasks
    grid_size = sum(s.grid.size for s in shards)
    assert grid_size <= 1.5 * len(task) + n_tasks
    in_grid = sum(int((s.grid != n_cells).sum()) + len(s.rest_task) for s in shards)
    assert in_grid == len(task)

    table = rng.normal(size=n_cells)
    values = rng.normal(size=n_tasks)
    np.testing.assert_allclose(
        layout.task_sums(table), np.bincount(task, weights=table[cell], minlength=n_tasks)
    )
    np.testing.assert_allclose(
        layout.cell_sums(values), np.bincount(cell, weights=values[task], minlength=n_cells)
    )
    many = rng.normal(size=(3, n_tasks))
    expected = [np.bincount(cell, weights=row[task], minlength=n_cells) for row in many]
    np.testing.assert_allclose(layout.cell_sums_many(many), expected)


def test_shards_depend_on_the_data_not_the_threads(monkeypatch) -> None:
    from pandas_toloka.aggregation import _threads

    rng = np.random.default_rng(3)
    task = rng.integers(0, 4000, 20_000)
    task[:4000] = np.arange(4000)  # every task present
    cell = rng.integers(0, 50, len(task))
    monkeypatch.setattr(_layout, "SHARD_RESPONSES", 2000)
    threaded = TaskGrid.build(task, cell, 4000, 50)
    monkeypatch.setattr(_threads, "n_threads", lambda: 1)
    inline = TaskGrid.build(task, cell, 4000, 50)
    assert len(threaded.shards) == _layout.MAX_SHARDS
    assert [(s.start, s.stop) for s in threaded.shards] == [
        (s.start, s.stop) for s in inline.shards
    ]
    values = rng.random(4000)
    np.testing.assert_array_equal(threaded.cell_sums(values), inline.cell_sums(values))
    table = rng.random(50)
    np.testing.assert_array_equal(threaded.task_sums(table), inline.task_sums(table))


def test_one_shard_on_request(monkeypatch) -> None:
    monkeypatch.setattr(_layout, "SHARD_RESPONSES", 10)
    task = np.repeat(np.arange(100), 3)
    layout = TaskGrid.build(task, task % 7, 100, 7, shards=False)
    assert len(layout.shards) == 1


@pytest.mark.parametrize("n_groups", [1, 7, 70_000])
def test_stable_group_order_is_a_stable_sort(n_groups: int, monkeypatch) -> None:
    rng = np.random.default_rng(n_groups)
    codes = rng.integers(0, n_groups, 5000).astype(np.intp)
    expected = np.argsort(codes, kind="stable")
    np.testing.assert_array_equal(_layout.stable_group_order(codes, n_groups), expected)
    monkeypatch.setattr(_layout, "_groupsort_indexer", None)  # the pure NumPy radix sort
    np.testing.assert_array_equal(_layout.stable_group_order(codes, n_groups), expected)


def test_a_pickled_layout_leaves_its_buffers_out_and_still_sums() -> None:
    import pickle

    rng = np.random.default_rng(5)
    task = rng.permutation(np.repeat(np.arange(400), 5))
    cell = rng.integers(0, 30, len(task))
    layout = TaskGrid.build(task, cell, 400, 30)
    shard = layout.shards[0]
    plain = pickle.dumps((shard.start, shard.stop, shard.grid, shard.rest_task, shard.rest_cell))
    assert len(pickle.dumps(shard)) < len(plain) + 500  # no scratch buffer inside
    again = pickle.loads(pickle.dumps(layout))
    table, values = rng.random(30), rng.random(400)
    np.testing.assert_array_equal(again.task_sums(table), layout.task_sums(table))
    np.testing.assert_array_equal(again.cell_sums(values), layout.cell_sums(values))
