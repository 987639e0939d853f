"""Fetching pages one ahead of the decoder, on one background thread.

Both pagers (:mod:`.solutions`, :mod:`.assignments`) fetch the next
page while the current one is decoded: at most one request is in flight and at
most one body waits, so memory stays flat however many pages there are. The
thread only runs :meth:`Client.get_bytes` (whose session is shared safely between
threads) and, for assignments, decoding that releases the GIL; its exceptions
reach the caller unchanged through :meth:`concurrent.futures.Future.result`.

Leaving the ``with`` block (the pages are exhausted, an error, Ctrl-C, or a
generator closed early) waits for the request in flight to end and stops the
thread, so no thread outlives the iteration.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["PREFETCH_THREAD_PREFIX", "discard", "one_ahead"]

#: Name prefix of the background thread (tests look for leftovers by it).
PREFETCH_THREAD_PREFIX = "pandas-toloka-prefetch"


def one_ahead() -> ThreadPoolExecutor:
    """A single-thread executor for the page requests; use it as a context manager."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=PREFETCH_THREAD_PREFIX)


def discard(future: Future[Any] | None) -> None:
    """Drop a request that turned out not to be needed (its result and errors are ignored)."""
    if future is not None:
        future.cancel()
