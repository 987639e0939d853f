"""What the client sends: aggregation bodies, query strings, and recognising an operation.

Pure functions without network access, used by :class:`pandas_toloka.Client`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ._protocol import AggregationType, parse_datetime

__all__ = ["aggregation_body", "field_names", "newest_matching_operation", "query", "raw"]


def field_names(fields: str | Iterable[str]) -> list[str]:
    """``fields=`` as a list of names."""
    return [fields] if isinstance(fields, str) else [str(f) for f in fields]


def aggregation_body(
    pool_id: str,
    type: str | AggregationType,
    fields: str | Sequence[str],
    answer_weight_skill_id: str | None,
) -> dict[str, Any]:
    """The JSON body of ``aggregate-by-pool`` (and, with ``task_id`` added, ``aggregate-by-task``)."""
    kind = AggregationType.parse(type)
    body: dict[str, Any] = {
        "type": kind.value,
        "pool_id": str(pool_id),
        "fields": [{"name": name} for name in field_names(fields)],
    }
    if answer_weight_skill_id is not None:
        body["answer_weight_skill_id"] = str(answer_weight_skill_id)
    return body


def newest_matching_operation(
    operations: Iterable[Mapping[str, Any]], body: Mapping[str, Any], since: _dt.datetime
) -> dict[str, Any] | None:
    """The newest operation submitted since ``since`` that ``body`` would have started.

    Same pool, algorithm and fields (and skill, when the operation says it).
    """
    wanted_fields = sorted(f["name"] for f in body["fields"])
    matches: list[Mapping[str, Any]] = []
    for op in operations:
        params = op.get("parameters") or {}
        submitted = parse_datetime(op["submitted"]) if op.get("submitted") else None
        if submitted is not None and submitted < since:
            continue
        if str(params.get("pool_id")) != body["pool_id"] or params.get("algorithm") != body["type"]:
            continue
        if sorted(params.get("aggregated_output_fields") or []) != wanted_fields:
            continue
        skill = params.get("answer_weight_skill_id")
        if skill is not None and body.get("answer_weight_skill_id") not in (None, str(skill)):
            continue
        matches.append(op)
    if not matches:
        return None
    newest: Mapping[str, Any] = max(matches, key=lambda op: str(op.get("submitted") or ""))
    return dict(newest)


def raw(check: Callable[[bytes], object] | None) -> Callable[[bytes], bytes]:
    """A body "parser" returning the bytes, after ``check`` (which may raise ValueError)."""

    def parse(content: bytes) -> bytes:
        if check is not None:
            check(content)
        return content

    return parse


def query(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Query parameters as sent: None values left out, booleans as ``true``/``false``."""
    if not params:
        return None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out
