"""Start (or resume) a pool aggregation and wait for it, with a progress bar.

The arguments are checked locally before anything is started: the algorithm
is known, Dawid-Skene gets exactly one field, skill aggregation gets a skill,
and the fields exist in the project's output spec and can be aggregated.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .._config import WAIT_TIMEOUT
from ..client import AggregationType, Client
from ..errors import (
    InvalidArgumentError,
    NotFoundError,
    OperationFailedError,
    OperationInterruptedError,
    OperationTimeoutError,
    TolokaError,
)
from ..schema import OutputField, parse_output_spec
from .args import check_aggregation_request, resolve_fields
from .progress import percent_bar

__all__ = [
    "AggregationJob",
    "name_operation",
    "resumable",
    "start_or_resume",
    "wait_operation",
]

logger = logging.getLogger(__name__)


_AGGREGATE_OPERATION = "SOLUTION.AGGREGATE"
_DONE = ("SUCCESS", "FAIL")


@dataclass
class AggregationJob:
    """A checked aggregation: what was asked and the operation that computes it."""

    pool_id: str
    type: AggregationType
    fields: list[OutputField]
    answer_weight_skill_id: str | None
    operation: dict[str, Any] = field(default_factory=dict)

    @property
    def operation_id(self) -> str:
        return str(self.operation["id"])


def start_or_resume(
    client: Client,
    pool_id: str | int | None,
    *,
    type: str | AggregationType | None,
    fields: str | Sequence[str] | None,
    answer_weight_skill_id: str | int | None,
    operation_id: str | None,
) -> AggregationJob:
    """Check the arguments, then start an aggregation or fetch the given one.

    Raises
    ------
    InvalidArgumentError
        If the arguments contradict each other, the output spec, or the
        operation given by ``operation_id``.
    """
    pool, kind, names, skill, op_id = check_aggregation_request(
        pool_id,
        type=type,
        fields=fields,
        answer_weight_skill_id=answer_weight_skill_id,
        operation_id=operation_id,
    )
    if op_id is not None:
        return _resume(client, op_id, pool, kind, names, skill)
    assert pool is not None  # checked above
    kind = kind or AggregationType.DAWID_SKENE
    if kind is AggregationType.DAWID_SKENE and skill is not None:
        logger.warning("DAWID_SKENE ignores answer_weight_skill_id=%s", skill)
        skill = None
    spec = parse_output_spec(client.get_output_spec(pool))
    chosen = resolve_fields(spec, names, pool)
    operation = client.aggregate_by_pool(
        pool, type=kind, fields=[f.name for f in chosen], answer_weight_skill_id=skill
    )
    logger.info("Started aggregation %s of pool %s (%s)", operation.get("id"), pool, kind.value)
    return AggregationJob(pool, kind, chosen, skill, operation)


def _resume(
    client: Client,
    operation_id: str,
    pool: str | None,
    kind: AggregationType | None,
    names: list[str] | None,
    skill: str | None,
) -> AggregationJob:
    try:
        operation = client.get_operation(operation_id)
    except NotFoundError as exc:  # evicted, or never there: either way, start again
        name_operation(exc, operation_id, "resuming")
        raise
    if operation.get("type", _AGGREGATE_OPERATION) != _AGGREGATE_OPERATION:
        raise InvalidArgumentError(
            f"Operation {operation_id!r} is a {operation.get('type')} operation, not a pool "
            "aggregation (SOLUTION.AGGREGATE)."
        )
    params = operation.get("parameters") or {}
    op_pool = params.get("pool_id")
    if pool is not None and op_pool is not None and str(op_pool) != pool:
        raise InvalidArgumentError(
            f"Operation {operation_id!r} aggregates pool {op_pool!r}, not pool {pool!r}."
        )
    pool = pool if op_pool is None else str(op_pool)
    if pool is None:
        raise InvalidArgumentError(
            f"Operation {operation_id!r} does not say its pool; pass pool_id."
        )
    op_kind = AggregationType.parse(params["algorithm"]) if params.get("algorithm") else None
    if kind is not None and op_kind is not None and kind is not op_kind:
        raise InvalidArgumentError(
            f"Operation {operation_id!r} runs {op_kind.value}, not {kind.value}; omit type= "
            "or pass the operation's."
        )
    kind = op_kind or kind or AggregationType.DAWID_SKENE
    op_names = params.get("aggregated_output_fields")
    if names is not None and op_names is not None and sorted(names) != sorted(op_names):
        raise InvalidArgumentError(
            f"Operation {operation_id!r} aggregated fields {list(op_names)}, not {names}."
        )
    names = names if names is not None else (list(op_names) if op_names else None)
    op_skill = params.get("answer_weight_skill_id")
    if skill is not None and op_skill is not None and str(op_skill) != skill:
        raise InvalidArgumentError(
            f"Operation {operation_id!r} weighs answers by skill {str(op_skill)!r}, not {skill!r}; "
            "omit answer_weight_skill_id= or pass the operation's."
        )
    skill = skill if skill is not None else op_skill
    spec = parse_output_spec(client.get_output_spec(pool))
    chosen = resolve_fields(spec, names, pool)
    return AggregationJob(pool, kind, chosen, None if skill is None else str(skill), operation)


def wait_operation(
    client: Client,
    operation: dict[str, Any],
    *,
    wait_timeout: float | None = WAIT_TIMEOUT,
    progress: bool = False,
    description: str = "aggregating",
    bar: Any = None,
) -> dict[str, Any]:
    """Poll an operation until SUCCESS, with a gentle back-off and a progress bar.

    ``bar`` continues a bar of the caller (left open, for the caller's next
    step); otherwise a percent bar labelled ``description`` is made and closed.

    Returns
    -------
    dict
        The finished operation.

    Raises
    ------
    OperationFailedError
        If it ends in ``FAIL``.
    OperationTimeoutError
        If it does not finish within ``wait_timeout`` seconds.
    OperationInterruptedError
        On Ctrl-C; the operation goes on on the server.
    """
    op_id = str(operation["id"])
    started = time.monotonic()
    delay = client.poll_min
    owns_bar = bar is None
    if bar is None:
        bar = percent_bar(progress, desc=description)
    interrupted = (
        f"Interrupted while waiting for aggregation {op_id}; it goes on on the server: read it "
        f"later with operation_id={op_id!r}."
    )
    try:
        with resumable(op_id, doing="waiting for", interrupted=interrupted):
            bar.update(_progress_of(operation) - bar.n)
            while operation.get("status") not in _DONE:
                elapsed = time.monotonic() - started
                if wait_timeout is not None and elapsed >= wait_timeout:
                    raise OperationTimeoutError(
                        f"Aggregation {op_id} did not finish within {wait_timeout:g} s (status "
                        f"{operation.get('status')}, {_progress_of(operation)}% done). It goes on on the "
                        f"server: read it later with operation_id={op_id!r}.",
                        operation_id=op_id,
                    )
                pause = delay if wait_timeout is None else min(delay, wait_timeout - elapsed)
                time.sleep(max(pause, 0.0))
                delay = min(delay * 1.5, client.poll_max)
                operation = client.get_operation(op_id)
                bar.update(_progress_of(operation) - bar.n)
    finally:
        if owns_bar:
            bar.close()
    if operation.get("status") == "FAIL":
        details = operation.get("details") or {}
        raise OperationFailedError(
            f"Aggregation {op_id} failed on the server (details: {details or 'none given'}). "
            "Check the pool's data and parameters, then start a new aggregation.",
            operation_id=op_id,
            details=details,
        )
    return operation


@contextmanager
def resumable(operation_id: str, *, doing: str, interrupted: str) -> Iterator[None]:
    """Make errors met while waiting for or reading an operation say how to resume it.

    Every :class:`TolokaError` keeps its type and gains the operation id (see
    :func:`name_operation`); Ctrl-C becomes :class:`OperationInterruptedError`
    with the message ``interrupted``.
    """
    try:
        yield
    except OperationInterruptedError:  # a KeyboardInterrupt that already names it
        raise
    except TolokaError as exc:  # API, connection, protocol and paging errors alike
        name_operation(exc, operation_id, doing)
        raise
    except KeyboardInterrupt as exc:
        raise OperationInterruptedError(interrupted, operation_id=operation_id) from exc


def name_operation(error: TolokaError, operation_id: str, doing: str) -> None:
    """Add the operation to the message of an error met while waiting for or reading it.

    The aggregation goes on (or stays readable) on the server, so the message
    says how to resume, and ``error.operation_id`` holds the id.
    """
    if error.operation_id is not None:
        return
    error.operation_id = operation_id
    if isinstance(error, NotFoundError):  # the operation itself is gone (e.g. evicted)
        note = (
            f" (while {doing} aggregation {operation_id}, which the server no longer has: "
            "start a new aggregation)"
        )
    else:
        note = (
            f" (while {doing} aggregation {operation_id}, which stays on the server: resume "
            f"with operation_id={operation_id!r})"
        )
    if error.args and isinstance(error.args[0], str):
        error.args = (error.args[0] + note, *error.args[1:])
    else:
        error.args = (*error.args, note.strip())


def _progress_of(operation: dict[str, Any]) -> int:
    value = operation.get("progress")
    if operation.get("status") == "SUCCESS":
        return 100
    try:
        return max(0, min(100, int(value or 0)))
    except (TypeError, ValueError):
        return 0
