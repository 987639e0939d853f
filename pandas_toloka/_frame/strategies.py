"""Server-side aggregation's two strategies: what each costs, which to choose, how each runs.

Both give the same answers:

``by_task``
    ``POST /aggregated-solutions/aggregate-by-task`` once per distinct
    ``(pool_id, task_id)``, run concurrently by a bounded thread pool over the
    one pooled :class:`Client` session (each call retried by the client).
    Costs ``n`` requests and about ``ceil(n / max_workers)`` round trips of
    wall time.
``by_pool``
    One ``aggregate-by-pool`` operation per distinct pool, read with the
    reader (:func:`open_aggregated_solutions`) and filtered to the listed
    tasks. Costs 1 POST, the polls while the operation runs (seconds on the
    bundled server; minutes to hours on Toloka) and ``ceil(pool size /
    100,000)`` pages — independent of ``n`` — and uses one unit of the
    aggregation quota (5 per minute, 30 per hour, 200 per day).

``auto`` decides per pool: ``by_task`` while the pool has at most
:data:`BY_TASK_MAX_TASKS` distinct tasks in the frame, ``by_pool`` above.
At the default 16 workers and a 0.1 s round trip, 1,000 per-task calls take
about 6 s, which is about what waiting for even a quick pool operation
costs, and they leave the scarce aggregation quota untouched.
"""

from __future__ import annotations

import concurrent.futures as cf
import re
import threading
from typing import Any, Literal, get_args

import pyarrow as pa
import pyarrow.compute as pc

from .._read.prefetch import settled
from ..client import AggregationType, Client
from ..errors import InvalidArgumentError, NotFoundError
from ..reader import open_aggregated_solutions
from ..schema import OutputField

__all__ = [
    "BY_TASK_MAX_TASKS",
    "STRATEGIES",
    "Strategy",
    "check_strategy",
    "choose_strategy",
    "run_by_pool",
    "run_by_task",
]

#: ``strategy="auto"`` uses per-task calls for pools with at most this many distinct tasks.
BY_TASK_MAX_TASKS = 1_000
#: ``strategy=`` of :meth:`pandas_toloka.accessor.TolokaAccessor.aggregate`.
Strategy = Literal["auto", "by_task", "by_pool"]
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)


def check_strategy(strategy: str) -> str:
    """Validate ``strategy=``."""
    if strategy not in STRATEGIES:
        raise InvalidArgumentError(f"strategy must be one of {list(STRATEGIES)}, got {strategy!r}.")
    return strategy


def choose_strategy(
    n_tasks: int, strategy: str = "auto", *, threshold: int = BY_TASK_MAX_TASKS
) -> str:
    """The strategy for one pool with ``n_tasks`` distinct tasks to aggregate (see module notes)."""
    check_strategy(strategy)
    if strategy != "auto":
        return strategy
    return "by_task" if n_tasks <= threshold else "by_pool"


def _about_task(error: NotFoundError, task_id: str) -> bool:
    """Whether a 404 of aggregate-by-task says the task has no answer, not that the skill is unknown.

    The pool was checked before, so the 404 is about the task or the skill; the
    task id must appear as a whole token (task ``"9"`` is not in ``"Skill '999'"``)
    and nothing else in the message may be about a skill.
    """
    token = re.compile(r"(?<![\w.-])" + re.escape(task_id) + r"(?![\w.-])")
    text = error.message
    return token.search(text) is not None and "skill" not in token.sub("", text).lower()


def run_by_task(
    client: Client,
    pairs: list[tuple[str, str]],
    *,
    kind: AggregationType,
    fields: list[OutputField],
    skill: str | None,
    max_workers: int,
    bar: Any,
) -> tuple[list[dict[str, Any]], int]:
    """Aggregate (pool, task) pairs one request each, concurrently.

    Returns the answers and how many tasks the server has no answer for (404
    naming the task). A 404 about anything else (an unknown skill) is raised.
    """
    names = [f.name for f in fields]
    lock = threading.Lock()
    missing = 0

    def one(pair: tuple[str, str]) -> dict[str, Any] | None:
        nonlocal missing
        pool_id, task_id = pair
        try:
            return client.aggregate_by_task(
                task_id, pool_id=pool_id, type=kind, fields=names, answer_weight_skill_id=skill
            )
        except NotFoundError as exc:
            if not _about_task(exc, task_id):
                raise
            with lock:
                missing += 1
            return None
        finally:
            bar.update(1)

    items: list[dict[str, Any]] = []
    workers = max(1, min(max_workers, len(pairs)))
    with cf.ThreadPoolExecutor(
        max_workers=workers, thread_name_prefix="toloka-aggregate"
    ) as executor:
        futures = [executor.submit(one, pair) for pair in pairs]
        try:
            for future in futures:
                item = settled(future)  # wakes for Ctrl-C
                if item is not None:
                    items.append(item)
        except BaseException:
            for pending in futures:
                pending.cancel()
            raise
    return items, missing


def run_by_pool(
    client: Client,
    pool_id: str,
    task_ids: list[str],
    *,
    kind: AggregationType,
    fields: list[OutputField],
    skill: str | None,
    progress: bool,
) -> tuple[pa.Table, int]:
    """Aggregate the whole pool with one operation and keep the listed tasks."""
    with open_aggregated_solutions(
        pool_id,
        type=kind,
        fields=[f.name for f in fields],
        answer_weight_skill_id=skill,
        client=client,
        progress_bar=progress,
    ) as stream:
        table = stream.read_table()
    wanted = pa.array(task_ids, type=pa.string())
    table = table.filter(pc.is_in(table.column("task_id"), value_set=wanted))
    return table, len(task_ids) - table.num_rows
