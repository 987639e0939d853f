"""Recognising the operation a failed start request may have created, to adopt it.

``aggregate-by-pool`` is not idempotent: when its answer is lost, the client
looks for an operation that the same request started, instead of starting a
second aggregation.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

from ._protocol import parse_datetime

__all__ = ["newest_matching_operation"]


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
