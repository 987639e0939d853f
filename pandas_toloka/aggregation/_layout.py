"""A per-task layout of responses for the sums EM repeats every iteration.

Dawid–Skene needs, per label and per iteration, two sums over all responses:

- per task: ``sum over the task's responses of table[cell_i]`` (E-step), and
- per cell: ``sum over the cell's responses of values[task_i]`` (M-step),

where a *cell* is a (worker, observed label) pair. Doing both with
:func:`numpy.bincount` on responses in arbitrary order makes every access
random. :class:`TaskGrid` instead stores the responses once as a dense
``(depth, n_tasks)`` grid of cell ids (row ``m`` = the ``m``-th response of
every task, a dummy cell where a task has fewer), plus the few responses
beyond ``depth`` as a task-sorted remainder. Per-task sums then become
``depth`` contiguous gathers added row by row, and per-cell sums ``depth``
bincounts whose weights are the task values themselves, with no gather.

Large pools are cut into *shards*, contiguous ranges of tasks with about
:data:`SHARD_RESPONSES` responses each, which EM processes on parallel threads
(:mod:`._threads`). The cut depends on the data alone, so results do not
depend on the number of threads; per-task sums are the same as without
shards, and per-cell sums add the shards' partial sums in shard order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from ._threads import parallel_map

try:  # pandas' counting sort (private, so optional): see stable_group_order
    from pandas._libs.algos import groupsort_indexer as _groupsort_indexer
except ImportError:  # pragma: no cover - depends on the pandas version
    _groupsort_indexer = None

__all__ = ["Shard", "TaskGrid", "stable_group_order"]

logger = logging.getLogger(__name__)

#: Tasks with more responses than this keep the extra ones in the remainder.
MAX_DEPTH = 32
#: The grid holds at most this many cells per response (padding bound).
PADDING = 1.5
#: Responses per shard, about (a shard's per-task arrays then stay in the CPU caches).
SHARD_RESPONSES = 1 << 19
#: Shards at most (what the thread pool can use, and few partial cell sums to add).
MAX_SHARDS = 8
#: Tasks per chunk of a shard's per-task work: a chunk's arrays stay in the L2 cache.
CHUNK_TASKS = 32768

R = TypeVar("R")


def stable_group_order(codes: np.ndarray, n_groups: int) -> np.ndarray:
    """The permutation that sorts ``codes`` (in ``0..n_groups-1``) stably.

    A counting sort, ``O(n + n_groups)``: pandas' ``groupsort_indexer`` (what
    ``groupby`` uses) when available, else a least-significant-digit radix
    sort on 16-bit digits (NumPy's stable sort of ``uint16`` keys is a counting
    sort). Both are several times faster than ``argsort`` at a million codes.
    """
    if _groupsort_indexer is not None:
        try:
            order, _ = _groupsort_indexer(np.asarray(codes, dtype=np.intp), n_groups)
            return np.asarray(order, dtype=np.intp)
        except (TypeError, ValueError):  # pragma: no cover - a pandas without this signature
            pass
    if n_groups <= 1 << 16:
        return np.argsort(codes.astype(np.uint16), kind="stable")
    order = np.arange(len(codes), dtype=np.intp)
    shift = 0
    while n_groups > 1 << shift:
        digit = ((codes[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
    return order


@dataclass(frozen=True)
class Shard:
    """The responses of the tasks ``start..stop-1``, laid out by task.

    Attributes
    ----------
    start, stop : int
        The shard's task range; local task ``t`` is task ``start + t``.
    grid : numpy.ndarray
        ``(depth, stop - start)`` cell ids; ``n_cells`` (a dummy cell) where a
        task has fewer than ``depth`` responses.
    rest_task, rest_cell : numpy.ndarray
        Local task and cell of the responses beyond ``depth`` in their task.
    n_cells : int
        Number of (real) cells.

    Notes
    -----
    :meth:`task_sums` gathers into a buffer of the shard's own, so a shard
    serves one thread at a time: EM gives each shard to one job. Pickles
    (Dask's spilling) leave the buffer out.
    """

    start: int
    stop: int
    grid: np.ndarray = field(repr=False)
    rest_task: np.ndarray = field(repr=False)
    rest_cell: np.ndarray = field(repr=False)
    n_cells: int
    _scratch: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Reused by every task_sums call: EM would otherwise allocate it each iteration.
        width = min(CHUNK_TASKS, self.grid.shape[1])
        object.__setattr__(self, "_scratch", np.empty((self.grid.shape[0], width)))

    def __reduce__(self) -> tuple[type[Shard], tuple[object, ...]]:
        fields = (self.start, self.stop, self.grid, self.rest_task, self.rest_cell, self.n_cells)
        return (type(self), fields)

    @property
    def n_tasks(self) -> int:
        """Tasks in the shard."""
        return self.stop - self.start

    @property
    def nbytes(self) -> int:
        """Memory held by the shard's arrays."""
        return (
            self.grid.nbytes + self.rest_task.nbytes + self.rest_cell.nbytes + self._scratch.nbytes
        )

    def chunks(self) -> list[tuple[int, int]]:
        """Local task ranges of at most :data:`CHUNK_TASKS` tasks covering the shard."""
        return _split(0, self.n_tasks)

    def task_sums(self, extended: np.ndarray, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Per local task in ``lo..hi-1``, the sum of ``extended[cell_i]`` over its responses.

        ``extended`` is the ``(n_cells + 1,)`` table whose last entry (the dummy
        cell of padded slots) is 0. Ranges longer than :data:`CHUNK_TASKS` are
        summed chunk by chunk.
        """
        hi = self.n_tasks if hi is None else hi
        if hi - lo > CHUNK_TASKS:
            return np.concatenate([self.task_sums(extended, a, b) for a, b in _split(lo, hi)])
        width = hi - lo
        scratch = self._scratch if width == self._scratch.shape[1] else self._scratch[:, :width]
        # mode='clip' (ids are in range anyway): with 'raise' NumPy buffers ``out``.
        gathered = np.take(extended, self.grid[:, lo:hi], out=scratch, mode="clip")
        # Row by row, in order (a reduction over the outer axis).
        out = gathered.sum(axis=0)
        if len(self.rest_task):
            # The remainder is sorted by task: this range's part is one slice.
            first, last = np.searchsorted(self.rest_task, [lo, hi])
            if last > first:
                out += np.bincount(
                    self.rest_task[first:last] - lo,
                    weights=np.take(extended, self.rest_cell[first:last]),
                    minlength=width,
                )
        return out

    def cell_sums(self, values: np.ndarray) -> np.ndarray:
        """Per cell, the sum of ``values[local task_i]`` over its responses; ``(n_cells,)``."""
        size = self.n_cells + 1
        out = np.bincount(self.grid[0], weights=values, minlength=size)
        for row in self.grid[1:]:
            out += np.bincount(row, weights=values, minlength=size)
        out = out[:-1]
        if len(self.rest_task):
            out += np.bincount(
                self.rest_cell, weights=np.take(values, self.rest_task), minlength=self.n_cells
            )
        return out


def _split(lo: int, hi: int) -> list[tuple[int, int]]:
    edges = list(range(lo, hi, CHUNK_TASKS)) + [hi]
    return list(zip(edges[:-1], edges[1:]))


def _shard_bounds(counts: np.ndarray, n: int) -> np.ndarray:
    """Task boundaries ``[0, ..., n_tasks]`` of shards with about equal responses."""
    n_tasks = len(counts)
    n_shards = int(min(MAX_SHARDS, max(1, -(-n // SHARD_RESPONSES)), max(n_tasks, 1)))
    if n_shards == 1:
        return np.array([0, n_tasks])
    ends = np.cumsum(counts)
    targets = np.arange(1, n_shards) * (n / n_shards)
    inner = np.searchsorted(ends, targets, side="left") + 1
    return np.unique(np.r_[0, np.clip(inner, 1, n_tasks - 1), n_tasks])


@dataclass(frozen=True)
class TaskGrid:
    """Responses arranged by task, in one or more shards.

    Attributes
    ----------
    shards : tuple of Shard
        Contiguous task ranges covering ``0..n_tasks-1`` in order.
    depth : int
        Rows of every shard's grid.
    n_tasks, n_cells : int
        Number of tasks and of (real) cells.
    """

    shards: tuple[Shard, ...]
    depth: int
    n_tasks: int
    n_cells: int

    @classmethod
    def build(
        cls, task: np.ndarray, cell: np.ndarray, n_tasks: int, n_cells: int, *, shards: bool = True
    ) -> TaskGrid:
        """Lay out responses given as task and cell codes (any order, every task present).

        Within a task, responses keep their input order (the grouping sort is
        stable), so sums are reproducible. ``shards=False`` keeps one shard
        whatever the size (for callers that are parallel already, like Dask's
        partitions).
        """
        n = len(task)
        counts = np.bincount(task, minlength=n_tasks)
        depth = int(
            min(counts.max(initial=1), MAX_DEPTH, max(1, int(PADDING * n) // max(n_tasks, 1)))
        )
        order = stable_group_order(task, n_tasks)
        sorted_cell = cell[order]
        del order
        bounds = _shard_bounds(counts, n) if shards else np.array([0, n_tasks])
        firsts = np.r_[0, np.cumsum(counts)]

        def lay_out(i: int) -> Shard:
            start, stop = int(bounds[i]), int(bounds[i + 1])
            first, last = int(firsts[start]), int(firsts[stop])
            local_counts = counts[start:stop]
            local_task = np.repeat(np.arange(stop - start), local_counts)
            rank = np.arange(last - first) - np.repeat(firsts[start:stop] - first, local_counts)
            local_cell = sorted_cell[first:last]
            in_grid = rank < depth
            grid = np.full((depth, stop - start), n_cells, dtype=np.intp)
            if in_grid.all():
                grid.ravel()[rank * (stop - start) + local_task] = local_cell
                empty = np.zeros(0, dtype=np.intp)
                return Shard(start, stop, grid, empty, empty, n_cells)
            grid[rank[in_grid], local_task[in_grid]] = local_cell[in_grid]
            rest = ~in_grid
            return Shard(start, stop, grid, local_task[rest], local_cell[rest], n_cells)

        parts = tuple(parallel_map(lay_out, range(len(bounds) - 1)))
        logger.debug(
            "TaskGrid: %d responses, depth %d, %d shard(s), %d in the remainder",
            n,
            depth,
            len(parts),
            sum(len(p.rest_task) for p in parts),
        )
        return cls(parts, depth, n_tasks, n_cells)

    @property
    def nbytes(self) -> int:
        """Memory held by the layout's arrays."""
        return sum(shard.nbytes for shard in self.shards)

    def map(self, function: Callable[[Shard], R]) -> list[R]:
        """``[function(shard) for shard in shards]``, on parallel threads when there are several."""
        return parallel_map(function, self.shards)

    def extend(self, table: np.ndarray) -> np.ndarray:
        """``table`` (``(n_cells,)``) with a 0 appended for the dummy cell of padded slots."""
        extended = np.empty(self.n_cells + 1)
        extended[:-1] = table
        extended[-1] = 0.0
        return extended

    def task_sums(self, table: np.ndarray) -> np.ndarray:
        """``out[t] = sum of table[cell_i]`` over the responses ``i`` of task ``t``.

        Parameters
        ----------
        table : numpy.ndarray
            ``(n_cells,)`` float64 value per cell.

        Returns
        -------
        numpy.ndarray
            ``(n_tasks,)`` float64.
        """
        extended = self.extend(table)
        out = np.empty(self.n_tasks)

        def one(shard: Shard) -> None:
            out[shard.start : shard.stop] = shard.task_sums(extended)

        self.map(one)
        return out

    def cell_sums(self, values: np.ndarray) -> np.ndarray:
        """``out[c] = sum of values[task_i]`` over the responses ``i`` in cell ``c``.

        Parameters
        ----------
        values : numpy.ndarray
            ``(n_tasks,)`` float64 value per task.

        Returns
        -------
        numpy.ndarray
            ``(n_cells,)`` float64.
        """
        return self.cell_sums_many(values[None, :])[0]

    def cell_sums_many(self, values: np.ndarray) -> np.ndarray:
        """:meth:`cell_sums` of each row of ``values`` (``(m, n_tasks)``); ``(m, n_cells)``."""

        def one(shard: Shard) -> np.ndarray:
            rows = values[:, shard.start : shard.stop]
            return np.stack([shard.cell_sums(np.ascontiguousarray(row)) for row in rows])

        partials = self.map(one)
        out = partials[0]
        for partial in partials[1:]:
            out += partial
        return out
