"""df.toloka.agreement: how much the workers of each pool agree, one row per pool.

The responses are selected as :mod:`.local` selects them for local aggregation
(the pool's ACCEPTED responses with an answer, the field resolved from the
output spec; the rows left out counted in one :class:`DroppedResponsesWarning`),
then :mod:`pandas_toloka.agreement` measures each pool.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import schema
from .._read.args import check_statuses
from ..agreement import (
    Level,
    accuracy_on_aggregates,
    fleiss_kappa,
    krippendorff_alpha,
    task_uncertainty,
)
from ..agreement._alpha import check_level
from ..errors import MissingColumnsError
from ..schema import DtypeBackend
from .inputs import ATTRS_KEY, frame_output_spec, resolve_field_columns
from .rows import Dropped, check_input, pool_groups, select_rows, text_ids

__all__ = ["AGREEMENT_COLUMNS", "agreement_by_pool"]

logger = logging.getLogger(__name__)

#: The columns of the summary, after ``pool_id``, with their Arrow types.
AGREEMENT_COLUMNS: dict[str, pa.DataType] = {
    "n_responses": pa.int64(),
    "n_tasks": pa.int64(),
    "n_workers": pa.int64(),
    "krippendorff_alpha": pa.float64(),
    "fleiss_kappa": pa.float64(),
    "agreement_with_majority": pa.float64(),
    "mean_task_entropy": pa.float64(),
}


def _measure(
    rows: pd.DataFrame, *, task: Hashable, worker: Hashable, label: Hashable, level: Level
) -> dict[str, Any]:
    if rows.empty:
        nan = float("nan")
        return {
            "n_responses": 0,
            "n_tasks": 0,
            "n_workers": 0,
            "krippendorff_alpha": nan,
            "fleiss_kappa": nan,
            "agreement_with_majority": nan,
            "mean_task_entropy": nan,
        }
    entropy = task_uncertainty(rows, task=task, worker=worker, label=label)["entropy"]
    return {
        "n_responses": len(rows),
        "n_tasks": int(rows[task].nunique()),
        "n_workers": int(rows[worker].nunique()),
        "krippendorff_alpha": krippendorff_alpha(
            rows, level=level, task=task, worker=worker, label=label
        ),
        "fleiss_kappa": fleiss_kappa(rows, task=task, worker=worker, label=label),
        "agreement_with_majority": accuracy_on_aggregates(
            rows, task=task, worker=worker, label=label
        ),
        "mean_task_entropy": float(entropy.mean()),
    }


def agreement_by_pool(
    frame: pd.DataFrame,
    *,
    field: str | None,
    task: Hashable,
    worker: Hashable,
    pool_id: str | int | None,
    output_spec: Mapping[str, Any] | None,
    status: str | Sequence[str] | None,
    level: Level,
    dtype_backend: DtypeBackend,
) -> pd.DataFrame:
    """One row of agreement figures per pool; see :meth:`TolokaAccessor.agreement`."""
    level = check_level(level)
    schema.check_dtype_backend(dtype_backend)
    missing = [str(c) for c in (task, worker) if c not in frame.columns]
    if missing:
        raise MissingColumnsError(missing, list(frame.columns), purpose="to measure agreement")
    statuses = check_statuses(status)
    check_input(frame, statuses)
    frame = text_ids(frame, task, worker)
    spec = frame_output_spec(frame, output_spec)
    reserved = [task, worker, *schema.RESPONSES_META_COLUMNS]
    (fc,) = resolve_field_columns(
        frame, field, type="MAJORITY_VOTE", reserved=reserved, output_spec=spec
    )
    pools: list[str | None] = []
    figures: list[dict[str, Any]] = []
    groups = pool_groups(frame, pool_id)
    dropped = Dropped()
    for pool, group in groups:
        accepted = select_rows(group, statuses, [])
        rows = accepted.dropna(subset=[fc.column])[[task, worker, fc.column]]
        dropped.count(group, accepted, rows)
        logger.info("measuring agreement on %d response(s) of pool %s", len(rows), pool)
        pools.append(None if pool is None else str(pool))
        figures.append(_measure(rows, task=task, worker=worker, label=fc.column, level=level))
    dropped.warn("agreement", len(frame), statuses, [fc.field.name])
    arrays = {"pool_id": pa.array(pools, type=pa.string())}
    for name, kind in AGREEMENT_COLUMNS.items():
        arrays[name] = (
            pa.array(np.asarray([f[name] for f in figures]), type=kind)
            if figures
            else pa.array([], type=kind)
        )
    out = schema.to_pandas(pa.table(arrays), dtype_backend=dtype_backend)
    out.attrs[ATTRS_KEY] = schema.make_provenance(
        "agreement",
        fields=[fc.field.name],
        output_spec={fc.field.name: fc.field.to_spec()},
        pool_ids=sorted(p for p in pools if p is not None),
        level=level,
    )
    return out
