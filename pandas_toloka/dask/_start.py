"""Start the aggregations of many pools from the driver, with few of them running at once.

Toloka limits ``aggregate-by-pool`` calls (the quota in
``../shared/toloka-api.md``), and the pandas reader starts one pool at a time.
:func:`start_aggregations` keeps at most ``max_concurrent_operations``
operations running: it starts that many (the POSTs in parallel threads, each
retried and adopted as :func:`pandas_toloka.read_aggregated_solutions` does),
polls them, and starts the next pool whenever one finishes. It returns as soon
as the last pool is started; the Dask partitions then wait for their own
operation and page through its results.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .._protocol import AggregationTypeName
from .._read.operations import AggregationJob, start_or_resume
from ..client import AggregationType, Client
from ..errors import InvalidArgumentError, TolokaError

__all__ = ["check_pool_ids", "check_positive", "run_in_threads", "start_aggregations_with"]

logger = logging.getLogger(__name__)

_DONE = ("SUCCESS", "FAIL")
T = TypeVar("T")
R = TypeVar("R")


def check_pool_ids(pool_ids: object) -> list[str]:
    """Pool ids as distinct non-empty strings, in the order given."""
    if isinstance(pool_ids, (str, bytes, int)) or not isinstance(pool_ids, Iterable):
        raise InvalidArgumentError(
            f"pool_ids must be a list of pool ids (one partition each), got {pool_ids!r}; "
            "wrap a single pool in a list."
        )
    pools = []
    for pool in pool_ids:
        if isinstance(pool, bool) or not isinstance(pool, (str, int)) or not str(pool).strip():
            raise InvalidArgumentError(f"pool_ids holds {pool!r}, which is not a pool id.")
        pools.append(str(pool))
    if not pools:
        raise InvalidArgumentError("pool_ids is empty; give at least one pool.")
    duplicated = sorted({p for p in pools if pools.count(p) > 1})
    if duplicated:
        raise InvalidArgumentError(
            f"pool_ids lists pool(s) {duplicated} more than once; each pool is one partition."
        )
    return pools


def check_positive(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{name} must be an integer >= 1, got {value!r}.")
    return value


def run_in_threads(function: Callable[[T], R], items: Sequence[T], threads: int) -> list[R]:
    """``[function(item) for item in items]`` on up to ``threads`` threads; the first error wins."""
    if len(items) <= 1 or threads == 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(min(threads, len(items)), thread_name_prefix="pandas-toloka") as pool:
        return list(pool.map(function, items))


def _with_started(error: TolokaError, started: Mapping[str, str]) -> None:
    """Say in ``error`` which aggregations were started, so that they can be resumed."""
    error.operation_ids = dict(started)  # type: ignore[attr-defined]
    if not started:
        return
    note = f" (aggregations already started, resume them with operation_ids={dict(started)!r})"
    if error.args and isinstance(error.args[0], str):
        error.args = (error.args[0] + note, *error.args[1:])


def start_aggregations_with(
    client: Client,
    pool_ids: Sequence[str],
    *,
    type: AggregationTypeName | AggregationType | None,
    fields: str | Sequence[str] | None,
    answer_weight_skill_id: str | int | None,
    operation_ids: Mapping[str, str],
    max_concurrent_operations: int,
) -> dict[str, AggregationJob]:
    """Start (or resume) one aggregation per pool, at most ``max_concurrent_operations`` running.

    Returns
    -------
    dict
        Pool id -> its checked :class:`AggregationJob` (operation and fields),
        in the order of ``pool_ids``.

    Raises
    ------
    TolokaError
        The first error met; its ``operation_ids`` attribute (and message) hold
        the aggregations started so far.
    """
    requests: dict[str, AggregationJob] = {}
    started: dict[str, str] = {}

    def resume(pool: str) -> AggregationJob:
        return start_or_resume(
            client,
            pool,
            type=type,
            fields=fields,
            answer_weight_skill_id=answer_weight_skill_id,
            operation_id=str(operation_ids[pool]),
        )

    def start(pool: str) -> AggregationJob:
        request = start_or_resume(
            client,
            pool,
            type=type,
            fields=fields,
            answer_weight_skill_id=answer_weight_skill_id,
            operation_id=None,
        )
        started[pool] = request.operation_id
        return request

    limit = max_concurrent_operations
    try:
        resumed = [p for p in pool_ids if p in operation_ids]
        for pool, request in zip(resumed, run_in_threads(resume, resumed, limit)):
            requests[pool] = request
        queue = [p for p in pool_ids if p not in operation_ids]
        running: dict[str, str] = {}  # operation id -> pool
        delay = client.poll_min
        while queue:
            free = limit - len(running)
            if free > 0:
                batch, queue = queue[:free], queue[free:]
                for pool, request in zip(batch, run_in_threads(start, batch, limit)):
                    requests[pool] = request
                    if request.operation.get("status") not in _DONE:
                        running[request.operation_id] = pool
                delay = client.poll_min
                continue
            time.sleep(delay)
            delay = min(delay * 1.5, client.poll_max)
            ids = list(running)
            for op_id, operation in zip(ids, run_in_threads(client.get_operation, ids, limit)):
                if operation.get("status") in _DONE:
                    del running[op_id]
                    delay = client.poll_min
    except TolokaError as exc:
        _with_started(exc, started)
        raise
    logger.info(
        "started %d aggregation(s), resumed %d; %d still running",
        len(started),
        len(operation_ids),
        len(running),
    )
    return {pool: requests[pool] for pool in pool_ids}


def operation_map(value: Mapping[str, Any] | None, pools: Sequence[str]) -> dict[str, str]:
    """Check ``operation_ids=``: a mapping pool -> operation id, pools among ``pools``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"operation_ids must map pool ids to operation ids, got {type(value).__name__}."
        )
    out = {str(pool): str(op) for pool, op in value.items()}
    unknown = sorted(set(out) - set(pools))
    if unknown:
        raise InvalidArgumentError(
            f"operation_ids names pool(s) {unknown} that are not in pool_ids."
        )
    return out
