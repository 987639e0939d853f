"""``aggregate_locally`` for the text and embedding methods (ROVER, RASA, ...).

The categorical glue (:mod:`.local`) selects the pool's rows and types the
result; this module says what differs for these methods: which options they
take through ``method_kwargs=``, which extra column they read (the embedding),
and how they are called (the aggregated field is their ``text``/``output``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd

from ..aggregation._registry import get_method, method_names

__all__ = ["TEXT_KINDS", "accepted_options", "extra_columns", "run_text_method"]

#: The methods this module runs.
TEXT_KINDS = method_names(kind="text") + method_names(kind="embedding")


def _field_parameter(kind: str) -> str:
    """The method's parameter naming the aggregated column."""
    parameters = get_method(kind).parameters
    return "text" if "text" in parameters else "output"


def accepted_options(kind: str) -> tuple[str, ...]:
    """The names ``method_kwargs=`` (and ``n_iter=``/``tol=``) may hold for ``kind``: the
    method's options without the aggregated column (that is ``fields=``), plus the
    embedding column's name for the embedding methods."""
    row = get_method(kind)
    options = tuple(o for o in row.options if o != _field_parameter(kind))
    return options + (("embedding",) if row.kind == "embedding" else ())


def extra_columns(kind: str, options: Mapping[str, Any]) -> list[Hashable]:
    """Columns the method reads besides task, worker and the field: the embedding."""
    if get_method(kind).kind == "embedding":
        return [options.get("embedding", "embedding")]
    return []


def run_text_method(
    kind: str,
    rows: pd.DataFrame,
    column: Hashable,
    *,
    task: Hashable,
    worker: Hashable,
    iteration: Mapping[str, Any],
    options: Mapping[str, Any],
) -> pd.DataFrame:
    """Run ``kind`` on one pool's rows: the result has ``task``, ``column`` and ``confidence``."""
    row = get_method(kind)
    kwargs: dict[str, Any] = {"task": task, "worker": worker, _field_parameter(kind): column}
    # The Dask layer passes its iteration defaults to every method: keep those it takes.
    taken = {name: value for name, value in iteration.items() if name in row.parameters}
    return row.function(rows, **kwargs, **taken, **options)
