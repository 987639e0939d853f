"""Edit distances between many pairs of token sequences at once.

The dynamic programme of the edit distance fills a table row by row; one row
is computed for every pair in a batch together, with NumPy. Inside a row, the
cell to the left feeds the next one (a deletion), a chain that is a running
minimum: with deletion costs ``del_j`` and their prefix sums ``P_j``,

    d[i, j] = min(c_j, d[i, j-1] + del_j) = P_j + min_{k <= j} (c_k - P_k),

where ``c_j`` is the best of the diagonal and vertical moves (``c_0 = i``).
``numpy.minimum.accumulate`` computes it for the whole row. The Python loop
runs over the rows (the longest sequence's length), never over pairs or cells.
"""

from __future__ import annotations

import numpy as np

__all__ = ["edit_distances", "padded", "pairs_within", "row_minimum"]

#: Cells of a batch's row (pairs x columns) above which the pairs are split into batches.
BATCH_CELLS = 1 << 19


def row_minimum(base: np.ndarray, prefix: np.ndarray) -> np.ndarray:
    """``d[:, j] = min_{k <= j} (base[:, k] + prefix[:, j] - prefix[:, k])``.

    Parameters
    ----------
    base : numpy.ndarray
        ``(n, m)`` cost of reaching each cell without a move along the row.
    prefix : numpy.ndarray
        ``(n, m)`` or ``(m,)`` prefix sums of the costs of moves along the row
        (``prefix[..., 0] == 0``).
    """
    return prefix + np.minimum.accumulate(base - prefix, axis=1)


def padded(codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray, fill: int) -> np.ndarray:
    """Rows of a flat code array as a ``(n, max(lengths))`` matrix padded with ``fill``."""
    width = int(lengths.max()) if len(lengths) else 0
    out = np.full((len(lengths), width), fill, dtype=np.int64)
    if width == 0:
        return out
    column = np.arange(width)
    inside = column[None, :] < lengths[:, None]
    out[inside] = codes[(starts[:, None] + column[None, :])[inside]]
    return out


def edit_distances(
    codes: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
) -> np.ndarray:
    """Levenshtein distances (unit costs) between pairs of token sequences.

    Parameters
    ----------
    codes : numpy.ndarray
        Integer token codes of all sequences, concatenated.
    starts, lengths : numpy.ndarray
        Where each sequence starts in ``codes`` and how many tokens it has.
    first, second : numpy.ndarray
        Sequence numbers of the pairs: pair ``p`` is ``(first[p], second[p])``.

    Returns
    -------
    numpy.ndarray
        ``int64`` distance of each pair: the fewest substitutions, insertions
        and deletions that turn one sequence into the other.
    """
    n = len(first)
    out = np.zeros(n, dtype=np.int64)
    if n == 0:
        return out
    len_a, len_b = lengths[first], lengths[second]
    # Longest rows first, so that the pairs still running at row i are a prefix;
    # batches of similar sizes keep the padding small.
    order = np.lexsort((len_b, -len_a))
    begin = 0
    while begin < n:
        width = int(len_b[order[begin]]) + 1
        end = begin + 1
        while end < n and (end - begin + 1) * max(width, int(len_b[order[end]]) + 1) <= BATCH_CELLS:
            width = max(width, int(len_b[order[end]]) + 1)
            end += 1
        batch = order[begin:end]
        out[batch] = _batch_distances(
            codes, starts[first[batch]], len_a[batch], starts[second[batch]], len_b[batch]
        )
        begin = end
    return out


def _batch_distances(
    codes: np.ndarray,
    start_a: np.ndarray,
    len_a: np.ndarray,
    start_b: np.ndarray,
    len_b: np.ndarray,
) -> np.ndarray:
    """Distances of one batch, its pairs sorted by decreasing ``len_a``."""
    a = padded(codes, start_a, len_a, -1)
    b = padded(codes, start_b, len_b, -2)
    n, width = len(len_a), b.shape[1] + 1
    columns = np.arange(width, dtype=np.int32)
    row = np.broadcast_to(columns, (n, width))
    result = len_b.astype(np.int64)  # for empty first sequences
    base = np.empty((n, width), dtype=np.int32)
    for i in range(1, a.shape[1] + 1):
        live = int(np.searchsorted(-len_a, -i, side="right"))  # pairs with len_a >= i
        prev = row[:live]
        substitution = prev[:, :-1] + (a[:live, i - 1, None] != b[:live])
        base[:live, 0] = i
        np.minimum(substitution, prev[:, 1:] + 1, out=base[:live, 1:])
        row = row_minimum(base[:live], columns)
        done = np.flatnonzero(len_a[:live] == i)
        result[done] = row[done, len_b[done]]
    return result


def pairs_within(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``i < j`` of rows of the same group (group ``g`` is rows
    ``first[g] .. first[g] + count[g] - 1``), grouped by group size."""
    lefts, rights = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for size in np.unique(count[count > 1]):
        starts = first[count == size]
        a, b = np.triu_indices(int(size), k=1)
        lefts.append((starts[:, None] + a[None, :]).ravel())
        rights.append((starts[:, None] + b[None, :]).ravel())
    return np.concatenate(lefts), np.concatenate(rights)
