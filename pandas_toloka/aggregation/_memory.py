"""The memory guard of the confusion-matrix methods (Dawid–Skene and one-coin Dawid–Skene).

Their EM keeps dense float64 arrays of ``W x K x K`` cells (soft counts,
confusion matrices and their logarithms, the E-step's lookup tables) and of
``T x K`` (posteriors): memory quadratic in the number of labels ``K``. With
the labels of a free-text field (thousands of distinct answers) that is
gigabytes, so the fits refuse, before allocating any of it, a problem whose
dense arrays would pass ``max_memory``.
"""

from __future__ import annotations

from ..errors import InvalidArgumentError

__all__ = ["DEFAULT_MAX_MEMORY", "check_em_memory", "check_max_memory", "em_memory"]

#: The default ``max_memory`` of the confusion-matrix fits: 1 GiB.
DEFAULT_MAX_MEMORY = 1 << 30

#: Dense ``W x K x K`` float64 arrays alive at EM's peak, rounded up (measured: about
#: 6.1 times one such array with tracemalloc, at 10 to 100 workers and 200 to 1,000 labels).
_CUBE_COPIES = 7
#: Dense ``T x K`` float64 arrays alive at once (posteriors, their log, the E-step's).
_TASK_COPIES = 3


def em_memory(n_tasks: int, n_workers: int, n_labels: int) -> int:
    """Bytes of the dense arrays of one Dawid–Skene EM fit at its peak (an upper estimate).

    ``8 * (7 * W * K**2 + 3 * T * K)``; the arrays of size ``O(n)`` (codes, the
    task layout) come on top, as they do for every method.
    """
    cube = n_workers * n_labels * n_labels
    return 8 * (_CUBE_COPIES * cube + _TASK_COPIES * n_tasks * n_labels)


def check_max_memory(max_memory: object) -> int | None:
    """Validate ``max_memory=``: a positive number of bytes, or None for no limit."""
    if max_memory is None:
        return None
    if isinstance(max_memory, bool) or not isinstance(max_memory, int) or max_memory <= 0:
        raise InvalidArgumentError(
            f"max_memory must be a positive number of bytes or None, got {max_memory!r}"
        )
    return max_memory


def _size(n_bytes: float) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes / 1024:.1f} KiB"


def check_em_memory(
    method: str, n_tasks: int, n_workers: int, n_labels: int, max_memory: int | None
) -> None:
    """Refuse a fit whose dense arrays would pass ``max_memory`` bytes (None: no limit).

    Raises
    ------
    InvalidArgumentError
        Naming the sizes, the estimate, and what to do instead.
    """
    if max_memory is None:
        return
    needed = em_memory(n_tasks, n_workers, n_labels)
    if needed <= max_memory:
        return
    raise InvalidArgumentError(
        f"{method} on {n_labels:,} distinct labels, {n_workers:,} workers and {n_tasks:,} tasks "
        f"would need about {_size(needed)} (its memory grows with workers x labels**2), more "
        f"than max_memory={max_memory:,} bytes ({_size(max_memory)}). Use a coarser label set "
        "(e.g. map free text onto a few categories), or a method without per-worker "
        "confusion matrices, whose memory grows with tasks x labels instead: MAJORITY_VOTE "
        "or WAWA; or raise max_memory (None: no limit)."
    )
