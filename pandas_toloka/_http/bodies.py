"""What the client sends: the JSON bodies of aggregation requests and query strings.

Pure functions without network access, used by :class:`pandas_toloka.Client`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._protocol import AggregationType
from .._read.args import field_names, id_text

__all__ = ["aggregation_body", "query"]


def aggregation_body(
    pool_id: str | int,
    type: str | AggregationType,
    fields: str | Sequence[str],
    answer_weight_skill_id: str | int | None,
) -> dict[str, Any]:
    """The JSON body of ``aggregate-by-pool`` (and, with ``task_id`` added, ``aggregate-by-task``)."""
    kind = AggregationType.parse(type)
    names = field_names(fields)
    body: dict[str, Any] = {
        "type": kind.value,
        "pool_id": id_text(pool_id, name="pool_id"),
        "fields": [{"name": name} for name in names or ()],
    }
    if answer_weight_skill_id is not None:
        body["answer_weight_skill_id"] = id_text(
            answer_weight_skill_id, name="answer_weight_skill_id"
        )
    return body


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
