"""A process-wide thread pool for the aggregation kernels.

NumPy's ``take``, ``bincount`` and ufuncs release the GIL, so the per-shard
work of an EM iteration (:class:`._layout.TaskGrid`) runs in parallel on
threads. Results never depend on the number of threads: the work is split
into shards by the data alone, and partial results are combined in shard
order.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ..errors import InvalidArgumentError

__all__ = ["MAX_THREADS", "THREADS_VARIABLE", "n_threads", "parallel_map"]

#: Threads used at most, whatever the machine.
MAX_THREADS = 8

T = TypeVar("T")
R = TypeVar("R")

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid = -1
_local = threading.local()


#: Environment variable that caps the threads (e.g. 1 in each of many worker processes).
THREADS_VARIABLE = "PANDAS_TOLOKA_MAX_THREADS"


def n_threads() -> int:
    """The CPUs this process may run on (its affinity), capped at :data:`MAX_THREADS` and at
    ``$PANDAS_TOLOKA_MAX_THREADS`` when set.

    Raises
    ------
    InvalidArgumentError
        If the variable is set to something other than a positive integer.
    """
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        available = os.cpu_count() or 1
    cap = MAX_THREADS
    setting = os.environ.get(THREADS_VARIABLE, "").strip()
    if setting:
        if not setting.isdigit() or int(setting) < 1:
            raise InvalidArgumentError(
                f"{THREADS_VARIABLE} must be a positive integer (the most threads the "
                f"aggregation kernels may use), got {setting!r}."
            )
        cap = min(cap, int(setting))
    return max(1, min(available, cap))


def _mark_pool_thread() -> None:
    _local.in_pool = True


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_pid
    with _lock:
        # A forked child inherits the pool object but not its threads: make a new one.
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(
                n_threads(),
                thread_name_prefix="pandas-toloka-kernels",
                initializer=_mark_pool_thread,
            )
            _pool_pid = os.getpid()
        return _pool


def _after_fork_in_child() -> None:
    # The lock may have been held by another thread at the fork; the pool's threads are gone.
    global _lock, _pool
    _lock = threading.Lock()
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def parallel_map(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[function(x) for x in items]``, on the pool's threads when that can help.

    Calls from a pool thread itself run inline, so nested use cannot deadlock.
    """
    if len(items) <= 1 or n_threads() == 1 or getattr(_local, "in_pool", False):
        return [function(item) for item in items]
    return list(_executor().map(function, items))
