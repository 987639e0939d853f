"""``df.toloka.aggregation_report``: the report of :mod:`pandas_toloka.aggregation`, with
``truth="pool"`` able to read the pool's control tasks.

:func:`pandas_toloka.aggregation.aggregation_report` never sends a request (the
aggregation package does not import the client): its ``truth="pool"`` reads the
known solutions from the ``golden.<label>`` columns of ``responses=``. On the
accessor, ``truth="pool"`` without such columns reads each pool's control tasks
with :func:`~pandas_toloka.read_tasks` through ``client=`` (or ``token=``/``url=``),
the connection path of ``golden="pool"`` (:mod:`.from_pool`), and hands their
known solutions down.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd

from .. import schema
from ..aggregation import aggregation_report
from ..aggregation._golden import GOLDEN_PREFIX, KnownSolutions, known_solutions_from_frame
from ..aggregation.report import check_n_bins
from ..errors import InvalidArgumentError
from .from_pool import Connection, PoolTasks

__all__ = ["report_with_truth"]

logger = logging.getLogger(__name__)


def _pools(result: pd.DataFrame) -> list[str | None]:
    """The pools of an aggregation result: its ``pool_id`` column, else its provenance."""
    pools: list[str | None] = []
    if "pool_id" in result.columns:
        present = result["pool_id"].dropna()
        if len(present):
            pools.extend(sorted({str(v) for v in schema.id_array(present).to_pylist()}))
        return pools
    meta: Mapping[str, Any] = schema.get_provenance(result) or {}
    named = meta.get("pool_ids") or ([meta["pool_id"]] if meta.get("pool_id") else [])
    pools.extend(str(pool) for pool in named)
    return pools or [None]


def pool_truth(
    result: pd.DataFrame, *, label: Hashable, connection: Connection
) -> dict[Any, KnownSolutions | Any]:
    """Task id -> ``{label: correctness weight}`` of the control tasks of the result's pools."""
    tasks = PoolTasks(connection, purpose="truth='pool'").read(_pools(result))
    known: dict[Any, Any] = {}
    for pool, frame in tasks.items():
        found = known_solutions_from_frame(frame, field=str(label), task="task_id")
        logger.info("pool %s: %d control task(s) as truth", pool, len(found))
        known.update(found)
    return known


def report_with_truth(
    result: pd.DataFrame,
    truth: Mapping[Any, Any] | pd.Series | pd.DataFrame | str,
    *,
    task: Hashable,
    label: Hashable | None,
    n_bins: int,
    responses: pd.DataFrame | None,
    worker: Hashable,
    connection: Connection,
) -> pd.Series:
    """:func:`aggregation_report` of ``result``, ``truth="pool"`` read from the API when
    neither ``responses=`` carries ``golden.<label>`` columns; see
    :meth:`TolokaAccessor.aggregation_report`."""
    check_n_bins(n_bins)
    if label is None:
        meta: Mapping[str, Any] = schema.get_provenance(result) or {}
        fields = list(meta.get("fields") or [])
        label = schema.result_column_name(str(fields[0])) if len(fields) == 1 else "result"
    if isinstance(truth, str) and truth == "pool":
        has_golden = responses is not None and GOLDEN_PREFIX + str(label) in responses.columns
        if not has_golden:
            if not connection.given:
                raise InvalidArgumentError(
                    f"truth='pool' takes the control tasks' known solutions from the "
                    f"{GOLDEN_PREFIX + str(label)!r} column of responses= (a results export), "
                    "or reads them with read_tasks: pass client= (or token=/url=)."
                )
            truth = pool_truth(result, label=label, connection=connection)
    return aggregation_report(
        result,
        truth,
        task=task,
        label=label,
        n_bins=n_bins,
        responses=responses,
        worker=worker,
    )
