"""A bounded pool of daemon worker threads that go away when idle.

:class:`Workers` runs submitted jobs on at most ``size`` threads, in the order
submitted; a thread is started only when a job waits and fewer than ``size``
run, and it ends after ``idle`` seconds without work, so an idle server holds
no worker thread (and a stopped server leaves none behind for long). Unlike
:class:`concurrent.futures.ThreadPoolExecutor`, the threads are daemons: a job
stuck in a simulated delay never holds up the interpreter's exit.
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
from collections.abc import Callable

__all__ = ["Workers"]

logger = logging.getLogger(__name__)

_names = itertools.count(1)


class Workers:
    """Run jobs on at most ``size`` daemon threads (see the module docstring)."""

    def __init__(self, size: int, *, idle: float = 1.0, name: str = "toloka-local-worker") -> None:
        self.size = size
        self.idle = idle
        self.name = name
        self._jobs: collections.deque[Callable[[], None]] = collections.deque()
        self._ready = threading.Condition()
        self._threads = 0
        self._idle = 0  # threads waiting for a job (each counts itself in and out)

    @property
    def threads(self) -> int:
        """Worker threads alive now."""
        with self._ready:
            return self._threads

    def submit(self, job: Callable[[], None]) -> None:
        """Queue ``job``; it runs as soon as a worker thread is free."""
        with self._ready:
            self._jobs.append(job)
            self._ready.notify()
            # Start a thread when the idle ones (each takes one job) are too few.
            if self._threads >= self.size or len(self._jobs) <= self._idle:
                return
            self._threads += 1
        thread = threading.Thread(target=self._run, name=f"{self.name}-{next(_names)}", daemon=True)
        try:
            thread.start()
        except BaseException:
            with self._ready:
                self._threads -= 1
            raise

    def _run(self) -> None:
        while True:
            with self._ready:
                self._idle += 1
                try:
                    while not self._jobs:
                        if not self._ready.wait(self.idle) and not self._jobs:
                            self._threads -= 1
                            return
                finally:
                    self._idle -= 1
                job = self._jobs.popleft()
            try:
                job()
            except Exception:  # a job handles its own errors; never lose the thread to one
                logger.exception("a server job failed")
