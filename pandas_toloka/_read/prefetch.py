"""Fetching pages one ahead of the decoder, on one background thread.

Both pagers (:mod:`.solutions`, :mod:`.assignments`) fetch the next
page while the current one is decoded: at most one request is in flight and at
most one body waits, so memory stays flat however many pages there are. The
thread only runs :meth:`Client.get_bytes` (whose session is shared safely between
threads) and, for assignments, decoding that releases the GIL; its exceptions
reach the caller unchanged through :meth:`concurrent.futures.Future.result`.

Leaving the ``with`` block (the pages are exhausted, an error, or a generator
closed early) waits for the request in flight to end and stops the thread, so no
thread outlives the iteration. Ctrl-C is the exception: it returns at once, and the
request in flight ends on its own (its answer is dropped) -- waiting for it could
keep a notebook's interrupt waiting for a stalled server's read timeout.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

__all__ = ["PREFETCH_THREAD_PREFIX", "discard", "one_ahead", "settled"]

_T = TypeVar("_T")

#: Seconds between the wakes of a wait for a page (see :func:`settled`).
_WAKE = 0.1

#: Name prefix of the background thread (tests look for leftovers by it).
PREFETCH_THREAD_PREFIX = "pandas-toloka-prefetch"


@contextlib.contextmanager
def one_ahead() -> Iterator[ThreadPoolExecutor]:
    """A single-thread executor for the page requests, stopped when the block is left."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=PREFETCH_THREAD_PREFIX)
    interrupted = False
    try:
        yield executor
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        executor.shutdown(wait=not interrupted, cancel_futures=interrupted)


def discard(future: Future[Any] | None) -> None:
    """Drop a request that turned out not to be needed (its result and errors are ignored)."""
    if future is not None:
        future.cancel()


def settled(future: Future[_T]) -> _T:
    """``future.result()``, waking every 0.1 s so that a Ctrl-C is handled at once.

    The kernel may deliver a SIGINT to any thread; one delivered to a prefetch
    thread does not end the main thread's wait on a lock, and Python would raise
    the ``KeyboardInterrupt`` only when the page arrives. Waking lets it run.
    """
    while not wait([future], timeout=_WAKE).done:
        pass
    return future.result()
