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
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

try:  # pandas' counting sort (private, so optional): see stable_group_order
    from pandas._libs.algos import groupsort_indexer as _groupsort_indexer
except ImportError:  # pragma: no cover - depends on the pandas version
    _groupsort_indexer = None

__all__ = ["TaskGrid", "stable_group_order"]

logger = logging.getLogger(__name__)

#: Tasks with more responses than this keep the extra ones in the remainder.
MAX_DEPTH = 32
#: The grid holds at most this many cells per response (padding bound).
PADDING = 1.5


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
class TaskGrid:
    """Responses arranged by task.

    Attributes
    ----------
    grid : numpy.ndarray
        ``(depth, n_tasks)`` cell ids; ``n_cells`` (a dummy cell) where a task
        has fewer than ``depth`` responses.
    rest_task, rest_cell : numpy.ndarray
        Task and cell of the responses beyond ``depth`` in their task.
    n_tasks, n_cells : int
        Number of tasks and of (real) cells.
    """

    grid: np.ndarray
    rest_task: np.ndarray
    rest_cell: np.ndarray
    n_tasks: int
    n_cells: int
    _scratch: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Reused by every task_sums call: EM would otherwise allocate it each iteration.
        object.__setattr__(self, "_scratch", np.empty(self.grid.shape))

    @classmethod
    def build(cls, task: np.ndarray, cell: np.ndarray, n_tasks: int, n_cells: int) -> TaskGrid:
        """Lay out responses given as task and cell codes (any order, every task present).

        Within a task, responses keep their input order (the grouping sort is
        stable), so sums are reproducible.
        """
        n = len(task)
        counts = np.bincount(task, minlength=n_tasks)
        depth = int(
            min(counts.max(initial=1), MAX_DEPTH, max(1, int(PADDING * n) // max(n_tasks, 1)))
        )
        order = stable_group_order(task, n_tasks)
        sorted_task = task[order]
        sorted_cell = cell[order]
        del order
        starts = np.cumsum(counts) - counts
        rank = np.arange(n, dtype=np.intp) - starts[sorted_task]
        in_grid = rank < depth
        grid = np.full((depth, n_tasks), n_cells, dtype=np.intp)
        if in_grid.all():
            grid.ravel()[rank * n_tasks + sorted_task] = sorted_cell
        else:
            grid[rank[in_grid], sorted_task[in_grid]] = sorted_cell[in_grid]
        rest = ~in_grid
        logger.debug(
            "TaskGrid: %d responses, depth %d, %d in the remainder", n, depth, int(rest.sum())
        )
        return cls(grid, sorted_task[rest], sorted_cell[rest], n_tasks, n_cells)

    @property
    def depth(self) -> int:
        """Rows of the grid."""
        return int(self.grid.shape[0])

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
        extended = np.empty(self.n_cells + 1)
        extended[:-1] = table
        extended[-1] = 0.0  # the dummy cell of padded slots
        # mode='clip' (ids are in range anyway): with 'raise' NumPy buffers ``out``.
        gathered = np.take(extended, self.grid, out=self._scratch, mode="clip")
        # Row by row, in order (a reduction over the outer axis of a C-contiguous array).
        out = gathered.sum(axis=0)
        if len(self.rest_task):
            out += np.bincount(
                self.rest_task, weights=np.take(table, self.rest_cell), minlength=self.n_tasks
            )
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
