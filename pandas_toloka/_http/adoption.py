"""Recognising the operation a failed start request may have created, to adopt it.

``aggregate-by-pool`` is not idempotent: when its answer is lost, the client
looks for an operation that the same request started, instead of starting a
second aggregation.

The rule: an operation is adopted only if it matches the request (pool,
algorithm, fields, skill) and was submitted at or after the first attempt
was sent, as the *server's* clock tells. The client knows that clock from the
``Date`` headers of the answers it got (:class:`.clock.ServerClock`): each answer
bounds the difference between the server's clock and the client's monotonic
clock, to within the header's one-second resolution plus the round trip, and
the bounds of every answer are intersected. The first attempt's send time is
converted with the *lower* bound, so the operation the request started is
never missed (a second aggregation is never started for it); an identical
aggregation started by someone else is taken for it only if it was submitted
less than that uncertainty (about a second) before the first attempt.
An operation without a readable ``submitted`` time is never adopted.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

from .._protocol import parse_datetime

__all__ = ["newest_matching_operation"]


def _submitted(op: Mapping[str, Any]) -> _dt.datetime | None:
    text = op.get("submitted")
    if not isinstance(text, str):
        return None
    try:
        return parse_datetime(text)
    except ValueError:
        return None


def newest_matching_operation(
    operations: Iterable[Mapping[str, Any]], body: Mapping[str, Any], since: _dt.datetime
) -> dict[str, Any] | None:
    """The newest operation submitted at or after ``since`` that ``body`` would have started.

    Same pool, algorithm and fields (and skill, when the operation says it).
    ``since`` is an aware datetime in the server's clock; an operation whose
    ``submitted`` is missing or unreadable is never adopted.
    """
    wanted_fields = sorted(f["name"] for f in body["fields"])
    matches: list[tuple[_dt.datetime, Mapping[str, Any]]] = []
    for op in operations:
        params = op.get("parameters")
        submitted = _submitted(op)
        if not isinstance(params, dict) or submitted is None or submitted < since:
            continue
        if str(params.get("pool_id")) != body["pool_id"] or params.get("algorithm") != body["type"]:
            continue
        names = params.get("aggregated_output_fields") or []
        if not isinstance(names, list) or sorted(map(str, names)) != wanted_fields:
            continue
        skill = params.get("answer_weight_skill_id")
        if skill is not None and body.get("answer_weight_skill_id") not in (None, str(skill)):
            continue
        matches.append((submitted, op))
    if not matches:
        return None
    return dict(max(matches, key=lambda pair: pair[0])[1])
