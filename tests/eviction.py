"""Evict an aggregation at a known moment: between its wait and its first page.

A short ``operation_ttl`` would race with a loaded machine: the operation could
expire while the client still polls it (or not before its page is read). Here
the first page request is held on the server; once it is held, every finished
operation expires (TTL 0), then the request goes on and finds its operation gone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pandas_toloka.server import LocalTolokaServer

__all__ = ["evicted_at_the_first_page"]

_BOUND = 60.0  # seconds; never reached when the page request comes


@contextmanager
def evicted_at_the_first_page(server: LocalTolokaServer) -> Iterator[None]:
    """Inside the block, the next aggregated-solutions page request finds its operation evicted.

    The server's time to live is restored on leaving the block, so that
    operations started afterwards stay.
    """
    ttl = server.operations.ttl
    page = server.faults.add(
        "hold", method="GET", path="/api/v1/aggregated-solutions/", timeout=_BOUND
    )
    leaving = threading.Event()

    def evict_then_release() -> None:
        for _ in range(int(_BOUND / 0.01)):  # bounded: the block may end without a page
            if page.held.wait(0.01) or leaving.is_set():
                break
        if page.held.is_set():
            server.operations.ttl = 0.0  # the held request's look-up evicts its operation
        page.release()

    thread = threading.Thread(target=evict_then_release, name="evict-at-first-page")
    thread.start()
    try:
        yield
    finally:
        leaving.set()
        thread.join(_BOUND)
        server.operations.ttl = ttl
