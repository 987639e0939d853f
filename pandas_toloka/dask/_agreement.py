"""``agreement`` on Dask DataFrames of responses: each pool measured whole, in pandas.

The rows are those of the pandas accessor (:mod:`pandas_toloka._frame.agreement`):
wanted status, an answer; the rows left out are counted by the survey and given in one
:class:`DroppedResponsesWarning` on the driver, as pandas gives it. Every pool is brought into one partition (shuffled by
pool when it spans several, :func:`._whole.whole_pools`), and the worker holding
it runs the pandas function on it; the driver gathers one row per pool.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd

from .. import schema
from .._frame.agreement import agreement_by_pool
from ..agreement import Level
from ..agreement._alpha import check_level
from ..errors import DroppedResponsesWarning
from ..schema import DtypeBackend
from ._aggregate import _prepare, _row_spec
from ._partitions import ROW_ORDER, dropped_of, n_responses
from ._whole import whole_pools

__all__ = ["agreement"]

logger = logging.getLogger(__name__)


def agreement(
    ddf: dd.DataFrame,
    field: str | None = None,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    pool_id: str | int | None = None,
    output_spec: Mapping[str, Any] | None = None,
    status: str | Sequence[str] | None = "ACCEPTED",
    level: Level = "nominal",
    dtype_backend: DtypeBackend = "pyarrow",
) -> pd.DataFrame:
    """How much the workers of each pool agree: one row of figures per pool.

    As :meth:`DataFrame.toloka.agreement` (same rows, figures and dtypes), on a
    Dask DataFrame of responses: each pool is measured whole on the worker that
    holds it (the rows are shuffled by pool once when a pool spans partitions),
    and the rows come back to the driver as a pandas DataFrame, sorted by pool.
    """
    level = check_level(level)
    schema.check_dtype_backend(dtype_backend)
    ddf, _ = _prepare(ddf, task)
    spec = _row_spec(
        ddf,
        kind="MAJORITY_VOTE",
        fields=field,
        task=task,
        worker=worker,
        pool_id=pool_id,
        output_spec=output_spec,
        status=status,
        purpose="to measure agreement",
    )
    (fc,) = spec.fields
    options: dict[str, Any] = dict(
        field=fc.field.name,
        task=task,
        worker=worker,
        pool_id=spec.pool_id,
        output_spec={fc.field.name: fc.field.to_spec()},
        status=spec.status,
        level=level,
        dtype_backend=dtype_backend,
    )
    frame, surveys = whole_pools(ddf, spec)
    dropped_of(surveys).warn("agreement", n_responses(surveys), spec.status, [fc.field.name])
    parts = [dask.delayed(_partition_agreement)(part, **options) for part in frame.to_delayed()]
    pieces: dict[Any, pd.DataFrame] = {}
    for part in dask.compute(*parts):
        pieces.update(part)
    ordered = [pieces[pool] for pool in sorted(pieces, key=lambda p: (p is not None, p))]
    if not ordered:
        return agreement_by_pool(ddf._meta.iloc[:0], **options)
    out = pd.concat(ordered, ignore_index=True)
    out.attrs[schema.ATTRS_KEY] = schema.make_provenance(
        "agreement",
        fields=[fc.field.name],
        output_spec={fc.field.name: fc.field.to_spec()},
        pool_ids=sorted(str(p) for p in pieces if p is not None),
        level=level,
    )
    logger.debug("agreement on Dask: %d pool(s)", len(ordered))
    return out


def _partition_agreement(frame: pd.DataFrame, **options: Any) -> dict[Any, pd.DataFrame]:
    """The pandas agreement of each pool a partition holds whole (by pool id)."""
    if ROW_ORDER in frame.columns:  # shuffled by pool: the rows back in the frame's order
        frame = frame.sort_values(ROW_ORDER, kind="stable").drop(columns=ROW_ORDER)
    if not len(frame):
        return {}
    with warnings.catch_warnings():  # counted by the driver's survey: one warning per call
        warnings.simplefilter("ignore", DroppedResponsesWarning)
        out = agreement_by_pool(frame, **options)
    return {
        pool: out.iloc[[i]].reset_index(drop=True)
        for i, pool in enumerate(out["pool_id"].astype(object).tolist())
    }
