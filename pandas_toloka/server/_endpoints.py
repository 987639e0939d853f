"""The API endpoints: query parsing and the answer of each route.

Every endpoint takes the :class:`Context`, the :class:`Request` and the path
parameters, and returns ``(status, json_object)`` (or ``(status, bytes)`` of
JSON already encoded, or ``(status, PageBody)`` for a page sent in pieces) or raises
:class:`~._errors.ApiError`. The HTTP transport lives in :mod:`._http`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._protocol import API_PREFIX, EXPORT_PATH, MAX_PAGE_SIZE
from ._aggregate import Aggregator, check_request, parse_request
from ._assignments import assignment_page
from ._errors import ApiError, not_found, validation_error
from ._export import Document, export_tsv
from ._fastjson import PageBody
from ._faults import Faults
from ._operations import Operation, OperationRunner
from ._serialize import key_range, page_bounds, parse_datetime
from ._store import ASSIGNMENT_STATUSES, Pool, Store

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "ROUTES", "Context", "Document", "Request"]

MAX_LIMIT = MAX_PAGE_SIZE
DEFAULT_LIMIT = 50


@dataclass
class Context:
    """What the endpoints of one server share."""

    store: Store
    aggregator: Aggregator
    runner: OperationRunner
    faults: Faults


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None


Answer = tuple[int, Any]

# ------------------------------------------------------------------ query helpers


_INTEGER = re.compile(r"-?[0-9]{1,18}", re.ASCII)  # int() of 5,000 digits raises


def _limit(query: Mapping[str, str]) -> int:
    text = query.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    if not _INTEGER.fullmatch(text):  # int() would also take "1_000", " 5", "+5", "٥"
        raise validation_error("limit", f"limit must be a positive integer, got {text[:32]!r}")
    value = int(text)
    if not 1 <= value <= MAX_LIMIT:
        raise validation_error("limit", f"limit must be between 1 and {MAX_LIMIT}, got {value}")
    return value


def _choice(query: Mapping[str, str], name: str, allowed: Sequence[str]) -> str | None:
    value = query.get(name)
    if value is not None and value not in allowed:
        raise validation_error(name, f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def _bounds(query: Mapping[str, str], key: str) -> dict[str, str | None]:
    return {op: query.get(f"{key}_{op}") for op in ("gt", "gte", "lt", "lte")}


def _datetime_param(query: Mapping[str, str], name: str) -> str | None:
    """A datetime filter, normalized to the served format so strings compare as times."""
    text = query.get(name)
    if text is None:
        return None
    try:
        value = parse_datetime(text)
    except (ValueError, OverflowError):  # OverflowError: a zone offset past year 1 or 9999
        raise validation_error(
            name, f"{name} must be an ISO-8601 datetime, got {text[:64]!r}"
        ) from None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _in_bounds(value: str, bounds: Mapping[str, str | None]) -> bool:
    gt, gte, lt, lte = bounds["gt"], bounds["gte"], bounds["lt"], bounds["lte"]
    return (
        (gt is None or value > gt)
        and (gte is None or value >= gte)
        and (lt is None or value < lt)
        and (lte is None or value <= lte)
    )


def _page_objects(
    objects: list[dict[str, Any]], query: Mapping[str, str], *, sort_keys: Sequence[str] = ("id",)
) -> Answer:
    """Keyset paging of small in-memory lists: ``sort``, ``id_*`` filters, ``limit``."""
    allowed = [k for key in sort_keys for k in (key, "-" + key)]
    sort = _choice(query, "sort", allowed) or sort_keys[0]
    limit = _limit(query)
    bounds = _bounds(query, "id")
    items = [o for o in objects if _in_bounds(str(o["id"]), bounds)]
    key = sort.lstrip("-")
    items.sort(key=lambda o: (str(o.get(key, "")), str(o["id"])), reverse=sort.startswith("-"))
    return 200, {"items": items[:limit], "has_more": len(items) > limit}


# ------------------------------------------------------------------ aggregation


def _rate_limit(ctx: Context) -> None:
    if not ctx.faults.enforce_rate_limits:
        return
    hit = ctx.faults.rate_limiter.acquire()
    if hit is not None:
        interval, retry_after = hit
        raise ApiError(
            429,
            "TOO_MANY_REQUESTS",
            f"Too many aggregation requests (quota per {interval})",
            {"interval": interval},
            headers={"Retry-After": str(retry_after)},
        )


def aggregate_by_pool(ctx: Context, request: Request) -> Answer:
    _rate_limit(ctx)
    aggregation = parse_request(request.body, by_task=False)
    pool = check_request(aggregation, ctx.store)
    ctx.aggregator.check_size(aggregation, pool)
    fault = ctx.faults.take(request.method, request.path, kinds=frozenset({"fail_operation"}))
    fail = str(fault.params.get("message", "injected failure")) if fault is not None else None
    operation = ctx.runner.submit(aggregation, pool, fail=fail)
    if operation is None:
        raise ApiError(
            429,
            "TOO_MANY_REQUESTS",
            f"{ctx.runner.max_active} operations are already PENDING or RUNNING "
            "(max_active_operations); wait for one to finish",
            headers={"Retry-After": "1"},
        )
    # The operation as submitted (PENDING), as Toloka answers: with no operation_delay
    # the background thread may already have moved it on.
    return 201, operation.as_submitted or operation.to_json()


def aggregate_by_task(ctx: Context, request: Request) -> Answer:
    # The documented quota (5/min, 30/h, 200/day) is the pool aggregation's; the
    # reference gives none for one task, so enforce_rate_limits leaves it alone.
    aggregation = parse_request(request.body, by_task=True)
    pool = check_request(aggregation, ctx.store)
    ctx.aggregator.check_size(aggregation, pool)
    return 201, ctx.aggregator.aggregate_task(aggregation, pool)


def _operation(ctx: Context, operation_id: str) -> Operation:
    operation = ctx.runner.get(operation_id)
    if operation is None:
        if ctx.runner.was_evicted(operation_id):
            raise ApiError(
                404,
                "DOES_NOT_EXIST",
                f"Operation {operation_id} was evicted: this server keeps at most "
                f"{ctx.runner.max_finished} finished operations, each for {ctx.runner.ttl:g} s "
                "(max_finished_operations, operation_ttl); start the aggregation again",
            )
        raise not_found("Operation", operation_id)
    return operation


def get_operation(ctx: Context, request: Request, operation_id: str) -> Answer:
    return 200, _operation(ctx, operation_id).to_json()


def list_operations(ctx: Context, request: Request) -> Answer:
    query = request.query
    kind = _choice(query, "type", ["SOLUTION.AGGREGATE", *_OTHER_OPERATION_TYPES])
    status = _choice(query, "status", ["PENDING", "RUNNING", "SUCCESS", "FAIL"])
    submitted = {op: _datetime_param(query, f"submitted_{op}") for op in ("gt", "gte", "lt", "lte")}
    objects = []
    for operation in ctx.runner.all():
        data = operation.to_json()
        if kind is not None and data["type"] != kind:
            continue
        if status is not None and data["status"] != status:
            continue
        if not _in_bounds(operation.submitted.strftime("%Y-%m-%dT%H:%M:%S.%f"), submitted):
            continue
        objects.append(data)
    return _page_objects(objects, query, sort_keys=("id", "submitted"))


_OTHER_OPERATION_TYPES = ("POOL.OPEN", "POOL.CLOSE", "TASK.BATCH_CREATE", "PROJECT.ARCHIVE")


def aggregated_solutions(ctx: Context, request: Request, operation_id: str) -> Answer:
    operation = _operation(ctx, operation_id)
    query = request.query
    sort = _choice(query, "sort", ["task_id", "-task_id"])
    limit = _limit(query)
    table, rows = operation.result, operation.rows
    if operation.status != "SUCCESS" or table is None or rows is None:
        raise ApiError(
            409,
            "INAPPROPRIATE_STATUS",
            f"Operation {operation_id} is {operation.status}: results exist only after SUCCESS",
        )
    keys = table.column("task_id").chunk(0) if table.num_rows else pa.array([], pa.string())
    lo, hi = key_range(keys, **_bounds(query, "task_id"))
    if sort is None:
        order = operation.unsorted_order()
        selected = order[(order >= lo) & (order < hi)]
        has_more = len(selected) > limit
        return 200, PageBody(rows, has_more, positions=selected[:limit])
    start, stop, has_more = page_bounds(lo, hi, limit, descending=sort == "-task_id")
    if sort == "-task_id":
        positions = np.arange(stop - 1, start - 1, -1, dtype=np.int64)
        return 200, PageBody(rows, has_more, positions=positions)
    return 200, PageBody(rows, has_more, start=start, stop=stop)


# ------------------------------------------------------------------ pools, projects, skills


def get_pool(ctx: Context, request: Request, pool_id: str) -> Answer:
    pool = ctx.store.pool(pool_id)
    if pool is None:
        raise not_found("Pool", pool_id)
    return 200, pool.to_json()


def list_pools(ctx: Context, request: Request) -> Answer:
    pools = [p.to_json() for p in ctx.store.pools()]
    for key in ("project_id", "status"):
        if key in request.query:
            pools = [p for p in pools if str(p.get(key)) == request.query[key]]
    return _page_objects(pools, request.query, sort_keys=("id", "created"))


def get_project(ctx: Context, request: Request, project_id: str) -> Answer:
    project = ctx.store.project(project_id)
    if project is None:
        raise not_found("Project", project_id)
    return 200, project.to_json()


def list_projects(ctx: Context, request: Request) -> Answer:
    return _page_objects(
        [p.to_json() for p in ctx.store.projects()], request.query, sort_keys=("id", "created")
    )


def user_skills(ctx: Context, request: Request) -> Answer:
    query = request.query
    skills = ctx.store.skills()
    if "skill_id" in query:
        skills = skills[skills["skill_id"] == query["skill_id"]]
    if "user_id" in query:
        skills = skills[skills["worker_id"] == query["user_id"]]
    values = skills["value"].to_numpy(dtype=float)
    objects = [
        {
            "id": f"{s}:{w}",
            "skill_id": s,
            "user_id": w,
            "value": round(v),
            "exact_value": v,
            "created": c,
            "modified": m,
        }
        for s, w, v, c, m in zip(
            skills["skill_id"].tolist(),
            skills["worker_id"].tolist(),
            values.tolist(),
            skills["created"].tolist(),
            skills["modified"].tolist(),
        )
    ]
    return _page_objects(objects, query)


# ------------------------------------------------------------------ tasks


def _task_positions(
    pool: Pool, query: Mapping[str, str], limit: int, descending: bool
) -> tuple[np.ndarray, bool]:
    """The rows of up to ``limit`` tasks of one pool in page order, and whether more match.

    Vectorised over the pool's sorted columns: no Python object per task.
    """
    tasks = pool.tasks
    lo, hi = key_range(tasks.ids, **_bounds(query, "id"))
    overlap = _overlap_bounds(query)
    created = {op: _datetime_param(query, f"created_{op}") for op in ("gt", "gte", "lt", "lte")}
    if not overlap and all(v is None for v in created.values()):  # a page is a slice
        start, stop, more = page_bounds(lo, hi, limit, descending=descending)
        page = np.arange(start, stop, dtype=np.int64)
        return (page[::-1] if descending else page), more
    selected = np.arange(lo, hi, dtype=np.int64)
    if overlap:
        values = tasks.overlap[lo:hi]
        keep = np.ones(hi - lo, dtype=bool)
        for op, bound in overlap.items():
            keep &= _COMPARE[op](values, bound)
        selected = selected[keep]
    if any(v is not None for v in created.values()):
        # served texts of one width compare as the times they spell
        texts = tasks.created.take(pa.array(selected, pa.int64()))
        keep = np.ones(len(selected), dtype=bool)
        for op, since in created.items():
            if since is not None and len(selected):
                test = _TEXT_COMPARE[op](texts, pa.scalar(since, pa.string()))
                keep &= test.to_numpy(zero_copy_only=False)
        selected = selected[keep]
    if descending:
        selected = selected[::-1]
    return selected[:limit], len(selected) > limit


_COMPARE: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "eq": np.equal,
    "gt": np.greater,
    "gte": np.greater_equal,
    "lt": np.less,
    "lte": np.less_equal,
}
_TEXT_COMPARE: dict[str, Callable[[pa.Array, pa.Scalar], pa.Array]] = {
    "gt": pc.greater,
    "gte": pc.greater_equal,
    "lt": pc.less,
    "lte": pc.less_equal,
}


def _overlap_bounds(query: Mapping[str, str]) -> dict[str, int]:
    bounds = {}
    for op in _COMPARE:
        name = "overlap" if op == "eq" else f"overlap_{op}"
        text = query.get(name)
        if text is None:
            continue
        if not _INTEGER.fullmatch(text):
            raise validation_error(name, f"{name} must be an integer, got {text[:32]!r}")
        bounds[op] = int(text)
    return bounds


def _merged_page(
    items: list[tuple[str, str]], limit: int, descending: bool, more: bool, *, pools: int
) -> bytes:
    """The page of ``(id, json)`` items gathered from ``pools`` pools (each in id order): in
    id order, cut at ``limit``, as ``{"items": [...], "has_more": ...}`` bytes."""
    if pools > 1:
        items = sorted(items, key=lambda item: item[0], reverse=descending)
    body = ",".join(text for _, text in items[:limit])
    return ('{"items":[' + body + '],"has_more":' + ("true" if more else "false") + "}").encode(
        "utf-8"
    )


def _page_of_rows(rows: pa.Array, positions: np.ndarray, more: bool) -> PageBody:
    """The page of the JSON ``rows`` at ``positions``: a slice when they run in order."""
    n = len(positions)
    if n and positions[0] + n - 1 == positions[-1] and (n == 1 or positions[1] > positions[0]):
        return PageBody(rows, more, start=int(positions[0]), stop=int(positions[-1]) + 1)
    return PageBody(rows, more, positions=positions)


def list_tasks(ctx: Context, request: Request) -> Answer:
    query = request.query
    sort = _choice(query, "sort", ["id", "-id"]) or "id"
    descending = sort == "-id"
    limit = _limit(query)
    if "pool_id" in query:
        pool = ctx.store.pool(query["pool_id"])
        if pool is None:
            raise not_found("Pool", query["pool_id"])
        positions, more = _task_positions(pool, query, limit, descending)
        # the pool's pre-encoded tasks, sent from their Arrow buffers as the solutions are
        return 200, _page_of_rows(pool.tasks.json, positions, more)
    ids: list[pa.Array] = []
    rows: list[pa.Array] = []
    more = False
    for pool in ctx.store.pools():
        positions, pool_more = _task_positions(pool, query, limit, descending)
        take = pa.array(positions, pa.int64())
        ids.append(pool.tasks.ids.take(take))
        rows.append(pool.tasks.json.take(take))
        more = more or pool_more
    if not ids:
        return 200, PageBody(pa.array([], pa.string()), False)
    merged = pa.concat_arrays(rows)
    order = pc.array_sort_indices(  # stable: equal ids keep the pools' order
        pa.concat_arrays(ids), order="descending" if descending else "ascending"
    ).to_numpy()
    return 200, PageBody(merged, more or len(order) > limit, positions=order[:limit])


def get_task(ctx: Context, request: Request, task_id: str) -> Answer:
    for pool in ctx.store.pools():
        lo, hi = key_range(pool.tasks.ids, gte=task_id, lte=task_id)
        if hi > lo:
            return 200, pool.tasks.json[lo].as_py().encode("utf-8")
    raise not_found("Task", task_id)


# ------------------------------------------------------------------ assignments


def export_assignments(ctx: Context, request: Request, pool_id: str) -> Answer:
    pool = ctx.store.pool(pool_id)
    if pool is None:
        raise not_found("Pool", pool_id)
    return 200, export_tsv(pool, request.query)


def assignments(ctx: Context, request: Request) -> Answer:
    query = request.query
    status = _choice(query, "status", ASSIGNMENT_STATUSES)
    sort = _choice(query, "sort", ["id", "-id"]) or "id"
    descending = sort == "-id"
    limit = _limit(query)
    bounds = _bounds(query, "id")
    if "pool_id" in query:
        pool = ctx.store.pool(query["pool_id"])
        if pool is None:
            raise not_found("Pool", query["pool_id"])
        pools = [pool]
    else:
        pools = ctx.store.pools()
    items: list[tuple[str, str]] = []
    total = 0
    for pool in pools:
        page, matching = assignment_page(pool, status, bounds, limit, descending)
        items.extend(page)
        total += matching
    return 200, _merged_page(items, limit, descending, total > limit, pools=len(pools))


Endpoint = Callable[..., Answer]

#: (method, whole path pattern with ``{name}`` segments, endpoint), matched in order.
ROUTES: list[tuple[str, str, Endpoint]] = [
    ("POST", API_PREFIX + "/aggregated-solutions/aggregate-by-pool", aggregate_by_pool),
    ("POST", API_PREFIX + "/aggregated-solutions/aggregate-by-task", aggregate_by_task),
    ("GET", API_PREFIX + "/aggregated-solutions/{operation_id}", aggregated_solutions),
    ("GET", API_PREFIX + "/operations", list_operations),
    ("GET", API_PREFIX + "/operations/{operation_id}", get_operation),
    ("GET", API_PREFIX + "/pools", list_pools),
    ("GET", API_PREFIX + "/pools/{pool_id}", get_pool),
    ("GET", API_PREFIX + "/projects", list_projects),
    ("GET", API_PREFIX + "/projects/{project_id}", get_project),
    ("GET", API_PREFIX + "/assignments", assignments),
    ("GET", API_PREFIX + "/tasks", list_tasks),
    ("GET", API_PREFIX + "/tasks/{task_id}", get_task),
    ("GET", API_PREFIX + "/user-skills", user_skills),
    ("GET", EXPORT_PATH, export_assignments),
]
