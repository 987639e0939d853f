"""Segmentation masks compressed to vote patterns, the unit every segmentation method works on.

A pixel's *vote pattern* is the tuple of the task's responses' votes for it (in or out
of each mask). Majority vote, RASA and segmentation EM treat pixels with the same
pattern alike at every step (the EM prior of a pixel starts as its vote share, a
function of its pattern, and is replaced by its posterior, again a function of the
pattern), so each task is reduced once to its distinct patterns and their pixel
counts: at most ``2**k`` cells for ``k`` responses, whatever the image size. The
methods then run on ``(tasks, patterns, responses)`` arrays, all tasks with the same
number of responses and image size at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError

__all__ = ["PatternGroup", "pattern_groups"]

#: Up to this many responses per task every one of the ``2**k`` patterns gets a cell.
DENSE_MAX_RESPONSES = 12


@dataclass(frozen=True)
class PatternGroup:
    """Tasks with the same number of responses and the same image size.

    Attributes
    ----------
    tasks : numpy.ndarray
        ``(T,)`` task codes.
    slots : numpy.ndarray
        ``(T, k)`` positions of each task's responses (in input order).
    votes : numpy.ndarray
        ``(T, Q, k)`` float64, 1.0 where pattern ``q`` has response ``j`` voting "in".
    counts : numpy.ndarray
        ``(T, Q)`` float64: pixels with pattern ``q`` (0 for absent patterns).
    codes : numpy.ndarray
        ``(T, height * width)``: the pattern of each pixel.
    shape : tuple of int
        ``(height, width)`` of the masks.
    """

    tasks: np.ndarray
    slots: np.ndarray
    votes: np.ndarray
    counts: np.ndarray
    codes: np.ndarray
    shape: tuple[int, int]

    def expand(self, table: np.ndarray) -> list[np.ndarray]:
        """Per-pattern values ``(T, Q)`` spread back over each task's pixels, as 2-D arrays."""
        picked = np.take_along_axis(table, self.codes.astype(np.intp, copy=False), axis=1)
        return [row.reshape(self.shape) for row in picked]


def _code_dtype(k: int) -> type[np.unsignedinteger]:
    for dtype in (np.uint8, np.uint16, np.uint32):
        if k <= np.iinfo(dtype).bits:
            return dtype
    return np.uint64


def _dense(masks: Sequence[np.ndarray], slots: np.ndarray, shape: tuple[int, int]) -> PatternGroup:
    n_tasks, k = slots.shape
    n_patterns = 1 << k
    codes = np.zeros((n_tasks, shape[0] * shape[1]), dtype=_code_dtype(k))
    for t in range(n_tasks):
        row = codes[t]
        for j in range(k):
            bit = masks[slots[t, j]].ravel().astype(row.dtype)
            if j:
                bit <<= j
            row |= bit
    counts = (
        np.stack([np.bincount(row, minlength=n_patterns) for row in codes])
        if n_tasks
        else (np.zeros((0, n_patterns), dtype=np.int64))
    )
    table = ((np.arange(n_patterns)[:, None] >> np.arange(k)[None, :]) & 1).astype(np.float64)
    return PatternGroup(
        tasks=np.zeros(0, dtype=np.intp),
        slots=slots,
        votes=np.broadcast_to(table, (n_tasks, n_patterns, k)),
        counts=counts.astype(np.float64),
        codes=codes,
        shape=shape,
    )


def _sparse(masks: Sequence[np.ndarray], slots: np.ndarray, shape: tuple[int, int]) -> PatternGroup:
    n_tasks, k = slots.shape
    pixels = shape[0] * shape[1]
    uniques: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    codes = np.zeros((n_tasks, pixels), dtype=np.intp)
    for t in range(n_tasks):
        stacked = np.stack([masks[slots[t, j]].ravel() for j in range(k)], axis=1)
        packed = np.packbits(stacked, axis=1)
        rows, inverse, count = np.unique(packed, axis=0, return_inverse=True, return_counts=True)
        uniques.append(np.unpackbits(rows, axis=1, count=k).astype(np.float64))
        counts.append(count)
        codes[t] = inverse.ravel()
    width = max(len(c) for c in counts)
    votes = np.zeros((n_tasks, width, k))
    cells = np.zeros((n_tasks, width))
    for t in range(n_tasks):
        votes[t, : len(counts[t])] = uniques[t]
        cells[t, : len(counts[t])] = counts[t]
    return PatternGroup(np.zeros(0, dtype=np.intp), slots, votes, cells, codes, shape)


def pattern_groups(
    masks: Sequence[np.ndarray], task_codes: np.ndarray, tasks: pd.Index
) -> list[PatternGroup]:
    """Group the tasks by (responses, height, width) and compress each group to vote patterns.

    Parameters
    ----------
    masks : sequence of numpy.ndarray
        One 2-D bool mask per response.
    task_codes : numpy.ndarray
        The task code of each response (``0..len(tasks)-1``; every task has a response).
    tasks : pandas.Index
        Task ids, for error messages.

    Raises
    ------
    InvalidArgumentError
        If the masks of one task differ in shape.
    """
    order = np.argsort(task_codes, kind="stable")
    bounds = np.searchsorted(task_codes[order], np.arange(len(tasks) + 1))
    groups: dict[tuple[int, int, int], list[int]] = {}
    for t in range(len(tasks)):
        members = order[bounds[t] : bounds[t + 1]]
        shape = masks[members[0]].shape
        for member in members[1:]:
            if masks[member].shape != shape:
                raise InvalidArgumentError(
                    f"The masks of task {tasks[t]!r} differ in size ({shape} and "
                    f"{masks[member].shape}); every response to a task must be drawn on the "
                    "same image at the same resolution."
                )
        groups.setdefault((len(members), shape[0], shape[1]), []).append(t)
    out = []
    for (k, height, width), members_of in groups.items():
        task_array = np.asarray(members_of, dtype=np.intp)
        slots = order[bounds[task_array][:, None] + np.arange(k)[None, :]]
        build = _dense if k <= DENSE_MAX_RESPONSES else _sparse
        group = build(masks, slots, (height, width))
        out.append(
            PatternGroup(task_array, slots, group.votes, group.counts, group.codes, (height, width))
        )
    return out
