"""Short human-readable descriptions of Toloka frames, for reprs and plot titles.

Everything here reads ``df.attrs["toloka"]`` (the provenance the reader, the
responses reader and the aggregations record) and the frame's own columns;
nothing here holds or prints a token, and a URL's user and password are cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .._http.endpoint import without_userinfo
from ..aggregation._registry import METHODS
from ..schema import ATTRS_KEY

__all__ = [
    "algorithm_name",
    "frame_pools",
    "pools_text",
    "provenance",
    "provenance_summary",
    "shorten",
]

#: Pool ids listed by name before "and N more".
_MAX_POOLS = 3


def provenance(frame: pd.DataFrame) -> Mapping[str, Any]:
    """``frame.attrs["toloka"]``, or an empty mapping when absent or not a mapping."""
    meta = frame.attrs.get(ATTRS_KEY)
    return meta if isinstance(meta, Mapping) else {}


def shorten(text: str, width: int = 16) -> str:
    """``text`` cut in the middle with an ellipsis when longer than ``width`` characters."""
    if width < 3 or len(text) <= width:
        return text
    head = (width - 1) - (width - 1) // 2
    tail = (width - 1) // 2
    return f"{text[:head]}…{text[len(text) - tail :]}"


def algorithm_name(type_: object) -> str | None:
    """A readable algorithm name for an aggregation ``type`` (None when unknown)."""
    if type_ is None:
        return None
    key = str(getattr(type_, "value", type_)).upper()
    row = METHODS.get(key)  # the registry's titles
    return row.title if row is not None else str(type_)


def frame_pools(frame: pd.DataFrame) -> list[str]:
    """The pools a frame is about: from its provenance, else from its ``pool_id`` column."""
    meta = provenance(frame)
    if meta.get("pool_id") is not None:
        return [str(meta["pool_id"])]
    pools = meta.get("pool_ids")
    if isinstance(pools, list) and pools:
        return [str(p) for p in pools]
    if "pool_id" in frame.columns:
        values = frame["pool_id"].dropna().astype(str).unique()
        return sorted(str(v) for v in values)
    return []


def pools_text(pools: Sequence[str]) -> str:
    """``pool 1001``, ``pools 1001, 1002`` or ``pools 1, 2, 3 and 4 more``."""
    if not pools:
        return ""
    if len(pools) == 1:
        return f"pool {pools[0]}"
    shown = ", ".join(pools[:_MAX_POOLS])
    more = len(pools) - _MAX_POOLS
    return f"pools {shown}" + (f" and {more} more" if more > 0 else "")


def _fields_text(meta: Mapping[str, Any]) -> str:
    fields = meta.get("fields")
    if isinstance(fields, (list, tuple)) and fields:
        return ", ".join(str(f) for f in fields)
    return ""


def provenance_summary(frame: pd.DataFrame) -> str:
    """One line saying where a frame's data comes from, e.g. for ``repr(df.toloka)``."""
    meta = provenance(frame)
    if not meta:
        return f"no Toloka provenance (df.attrs[{ATTRS_KEY!r}] is not set)"
    pools = pools_text(frame_pools(frame))
    kind = meta.get("kind")
    algorithm = algorithm_name(meta.get("type"))
    fields = _fields_text(meta)
    what = f"{algorithm} of {fields}" if algorithm and fields else (algorithm or fields)
    details: list[str] = []
    if kind == "responses":
        status = meta.get("status")
        status_text = "all statuses" if status is None else ", ".join(map(str, status))
        head = "raw responses" + (f" of {pools}" if pools else "")
        details.append(f"status {status_text}")
    elif kind in ("local_aggregation", "aggregated"):  # "aggregated": files of 0.1 dev versions
        head = "aggregated on this machine" + (f": {pools}" if pools else "")
        if what:
            details.append(what)
    elif kind == "worker_quality":
        head = "worker quality" + (f" in {pools}" if pools else "")
        if what:
            details.append(what)
    elif kind == "joined_aggregates":
        head = "tasks with answers aggregated by the server" + (f": {pools}" if pools else "")
        if what:
            details.append(what)
        strategies = meta.get("strategies")
        if isinstance(strategies, Mapping) and strategies:
            details.append("strategy " + ", ".join(sorted({str(s) for s in strategies.values()})))
    else:
        head = "aggregated by the server" + (f": {pools}" if pools else "")
        if what:
            details.append(what)
        skill = meta.get("answer_weight_skill_id")
        if skill is not None:
            details.append(f"skill {skill}")
        if meta.get("operation_id"):
            details.append(f"operation {meta['operation_id']}")
        if meta.get("finished"):
            details.append(f"finished {meta['finished']}")
        if meta.get("base_url"):
            details.append(f"from {without_userinfo(str(meta['base_url']))[0]}")
    return head + (f" ({'; '.join(details)})" if details else "")
