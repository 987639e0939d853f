"""Asynchronous aggregation operations: records, background runner, kept results.

Each ``aggregate-by-pool`` request becomes an :class:`Operation` run on a
daemon thread: ``PENDING`` → ``RUNNING`` (progress rising) → ``SUCCESS`` or
``FAIL``. ``operation_delay`` seconds are spent in ``PENDING`` and again in
``RUNNING`` before the aggregation itself, so a client can observe the
lifecycle. The results of a successful operation are kept as an Arrow table
sorted by ``task_id``, with each row's JSON encoded once; every page is cut
from them without re-aggregating or re-encoding.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import uuid
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from ._aggregate import AggregationRequest, Aggregator
from ._fastjson import solution_rows
from ._serialize import format_datetime, utc_now
from ._store import Pool, column_name

__all__ = ["Operation", "OperationRunner"]

logger = logging.getLogger(__name__)


class Operation:
    """One ``SOLUTION.AGGREGATE`` operation and, once it succeeds, its results."""

    type = "SOLUTION.AGGREGATE"

    def __init__(self, request: AggregationRequest, pool: Pool) -> None:
        self.id = str(uuid.uuid4())
        self.request = request
        self.pool = pool
        self.status = "PENDING"
        self.submitted = utc_now()
        self.started: datetime | None = None
        self.finished: datetime | None = None
        self.progress = 0
        self.details: dict[str, Any] = {}
        self.result: pa.Table | None = None
        self.rows: pa.Array | None = None  # one JSON object per result row, in task_id order
        self._order: np.ndarray | None = None
        self._lock = threading.Lock()
        self.done = threading.Event()
        #: The JSON of the operation when it was submitted (PENDING), set by the runner.
        self.as_submitted: dict[str, Any] | None = None
        #: ``time.monotonic()`` when it finished (SUCCESS or FAIL), for the time-to-live.
        self.finished_at: float | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """The aggregated output fields."""
        return self.request.fields

    @property
    def result_columns(self) -> list[str]:
        """The results-table column of each aggregated field."""
        return [column_name(name) for name in self.request.fields]

    def to_json(self) -> dict[str, Any]:
        """The operation as ``GET /operations/{id}`` returns it."""
        with self._lock:
            parameters: dict[str, Any] = {
                "pool_id": self.pool.id,
                "algorithm": self.request.type,
                "aggregated_output_fields": list(self.request.fields),
                "project_id": self.pool.project.id,
            }
            if self.request.skill_id is not None:
                parameters["answer_weight_skill_id"] = self.request.skill_id
            out: dict[str, Any] = {
                "id": self.id,
                "type": self.type,
                "status": self.status,
                "submitted": format_datetime(self.submitted),
            }
            if self.started is not None:
                out["started"] = format_datetime(self.started)
            if self.finished is not None:
                out["finished"] = format_datetime(self.finished)
            out["progress"] = self.progress
            out["parameters"] = parameters
            out["details"] = dict(self.details)
            return out

    def set_progress(self, value: int) -> None:
        """Raise the progress (it never goes down)."""
        with self._lock:
            self.progress = max(self.progress, min(100, int(value)))

    def start(self) -> None:
        with self._lock:
            self.status = "RUNNING"
            self.started = utc_now()

    def succeed(self, result: pa.Table, rows: pa.Array) -> None:
        with self._lock:
            self.result = result
            self.rows = rows
            self.progress = 100
            self.status = "SUCCESS"
            self.finished = utc_now()
            self.finished_at = time.monotonic()
        self.done.set()

    def fail(self, message: str) -> None:
        with self._lock:
            if self.started is None:
                self.started = utc_now()
            self.status = "FAIL"
            self.finished = utc_now()
            self.details = {"message": message}
            self.finished_at = time.monotonic()
        self.done.set()

    def unsorted_order(self) -> np.ndarray:
        """A deterministic shuffle of the result rows: the order served without ``sort``."""
        with self._lock:
            if self._order is None:
                assert self.result is not None
                seed = int(uuid.UUID(self.id).hex[:16], 16)
                self._order = np.random.default_rng(seed).permutation(self.result.num_rows)
            return self._order


class OperationRunner:
    """Starts operations on daemon threads and keeps them by id, within bounds.

    Finished operations (SUCCESS or FAIL) are kept for ``ttl`` seconds and at
    most ``max_finished`` of them (the oldest finished go first); the ids of
    evicted ones are remembered (a bounded number) so that asking for one says
    it was evicted rather than that it never existed. At most ``max_active``
    operations are PENDING or RUNNING at once.

    Parameters
    ----------
    aggregator : Aggregator
    delay : float
        Seconds spent in PENDING and again in RUNNING before aggregating.
    max_running : int
        How many aggregations run at once; others wait in PENDING.
    max_finished : int
        Finished operations kept.
    ttl : float
        Seconds a finished operation is kept.
    max_active : int
        Operations PENDING or RUNNING at once; :meth:`submit` refuses more.
    """

    #: How many evicted ids are remembered for the "evicted" answer.
    EVICTED_IDS_KEPT = 100_000

    def __init__(
        self,
        aggregator: Aggregator,
        *,
        delay: float = 0.0,
        max_running: int = 2,
        max_finished: int = 32,
        ttl: float = 3600.0,
        max_active: int = 64,
    ) -> None:
        self.aggregator = aggregator
        self.delay = float(delay)
        self.max_finished = max_finished
        self.ttl = ttl
        self.max_active = max_active
        self._slots = threading.BoundedSemaphore(max_running)
        self._lock = threading.Lock()
        self._operations: dict[str, Operation] = {}
        self._finished: collections.OrderedDict[str, float] = collections.OrderedDict()
        self._evicted: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._stop = threading.Event()

    def submit(
        self, request: AggregationRequest, pool: Pool, *, fail: str | None = None
    ) -> Operation | None:
        """Create an operation and start it in the background; ``None`` if too many are active.

        ``fail`` (from the ``fail_operation`` fault) makes it end in FAIL with that message.
        :attr:`Operation.as_submitted` is its JSON taken before the thread starts: the
        PENDING operation the ``aggregate-by-pool`` answer carries, whatever the thread
        has done by the time the answer is sent.
        """
        operation = Operation(request, pool)
        operation.as_submitted = operation.to_json()
        with self._lock:
            self._evict()
            if len(self._operations) - len(self._finished) >= self.max_active:
                return None
            self._operations[operation.id] = operation
        thread = threading.Thread(
            target=self._run,
            args=(operation, fail),
            name=f"toloka-operation-{operation.id[:8]}",
            daemon=True,
        )
        thread.start()
        return operation

    def get(self, operation_id: str) -> Operation | None:
        with self._lock:
            self._evict()
            return self._operations.get(operation_id)

    def was_evicted(self, operation_id: str) -> bool:
        """Whether this id belonged to a finished operation that is no longer kept."""
        with self._lock:
            return operation_id in self._evicted

    def all(self) -> list[Operation]:
        with self._lock:
            self._evict()
            return list(self._operations.values())

    def _finish(self, operation: Operation) -> None:
        with self._lock:
            self._finished[operation.id] = time.monotonic()
            self._evict()

    def _evict(self) -> None:
        """Drop finished operations past their time-to-live or over the cap (lock held)."""
        expired = time.monotonic() - self.ttl
        while self._finished:
            oldest, finished_at = next(iter(self._finished.items()))
            if len(self._finished) <= self.max_finished and finished_at > expired:
                break
            del self._finished[oldest]
            self._operations.pop(oldest, None)
            self._evicted[oldest] = None
            if len(self._evicted) > self.EVICTED_IDS_KEPT:
                self._evicted.popitem(last=False)
            logger.debug("operation %s evicted", oldest)

    def stop(self) -> None:
        """Cut the pacing waits short (operations still running finish on their own)."""
        self._stop.set()

    def resume(self) -> None:
        """Pace operations again after :meth:`stop` (the server restarted)."""
        self._stop.clear()

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._stop.wait(seconds)

    def _run(self, operation: Operation, fail: str | None) -> None:
        try:
            self._pause(self.delay)
            with self._slots:
                operation.start()
                steps = 4
                for step in range(1, steps + 1):
                    self._pause(self.delay / steps)
                    operation.set_progress(step * 15)
                if fail is not None:
                    raise RuntimeError(fail)
                result = self.aggregator.aggregate_pool(
                    operation.request, operation.pool, operation.set_progress
                )
                rows = solution_rows(
                    result, operation.pool.id, operation.fields, operation.result_columns
                )
            operation.succeed(result, rows)
            logger.info(
                "operation %s succeeded: %d aggregated tasks", operation.id, result.num_rows
            )
        except Exception as exc:  # an aggregation failure is the operation's FAIL, not a crash
            logger.warning("operation %s failed: %s", operation.id, exc, exc_info=fail is None)
            operation.fail(str(exc) or type(exc).__name__)
        finally:
            self._finish(operation)
