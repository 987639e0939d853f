"""Seeded bootstrap: resampled comparisons and percentile intervals.

A replicate draws as many comparisons as the data holds, with replacement,
each comparison equally likely. For the methods that read only the tally
(:mod:`._tally`), a replicate is a multinomial draw of the tally's counts
(the same distribution, drawn without materialising the rows). Replicates
come in fixed blocks of :data:`BLOCK`, block ``j`` drawn from
``numpy.random.default_rng([seed, j])``, so the numbers depend on ``seed``
alone, not on the number of threads that fit the blocks.

The interval is the percentile interval: the ``(1 - confidence) / 2`` and
``(1 + confidence) / 2`` quantiles (linear interpolation) of the replicates'
scores.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._threads import parallel_map

__all__ = ["BLOCK", "block_rng", "draw_counts", "percentile_interval", "resample_tally"]

#: Replicates drawn and fitted together.
BLOCK = 50


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The generator of one block of replicates."""
    return np.random.default_rng([seed, block])


def draw_counts(count: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``(size, K)`` resampled counts: ``total`` comparisons drawn with replacement.

    Drawing the rows' kinds (one integer per comparison) is far cheaper than
    numpy's multinomial, which draws one binomial per kind, unless there are
    many more comparisons than kinds.
    """
    total = int(round(float(count.sum())))
    if total == 0 or not len(count):
        return np.zeros((size, len(count)))
    if total > 64 * len(count):
        return rng.multinomial(total, count / count.sum(), size=size).astype(np.float64)
    kind = np.repeat(np.arange(len(count)), np.rint(count).astype(np.int64))
    out = np.empty((size, len(count)))
    for row in range(size):
        out[row] = np.bincount(kind[rng.integers(0, total, size=total)], minlength=len(count))
    return out


def resample_tally(
    count: np.ndarray,
    n_bootstrap: int,
    seed: int,
    score: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """``(n_bootstrap, n)`` replicate scores: ``score`` applied to blocks of resampled counts.

    ``score`` maps ``(b, K)`` counts to ``(b, n)`` scores; blocks run on the
    aggregation thread pool.
    """

    def block(j: int) -> np.ndarray:
        size = min(BLOCK, n_bootstrap - j * BLOCK)
        return score(draw_counts(count, size, block_rng(seed, j)))

    blocks = parallel_map(block, list(range(-(-n_bootstrap // BLOCK))))
    return np.concatenate(blocks, axis=0) if blocks else np.zeros((0, 0))


def percentile_interval(
    point: np.ndarray, replicates: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """The percentile interval of each column of ``replicates``; ``(point, point)``
    when there are none."""
    if not len(replicates):
        return point.copy(), point.copy()
    low, high = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    return low, high
