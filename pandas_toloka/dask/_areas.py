"""Area selection (BOXES, SEGMENTATION_*) on Dask frames: per task, so per partition.

Each task is decided from its own responses, so once every task lies in one
partition (an index with known divisions says so, otherwise the rows are shuffled
by task once) each partition runs the pandas function,
:func:`pandas_toloka._frame.areas.aggregate_areas`, lazily: the result equals the
pandas one row for row. The rows left out (status, no answer) are counted by one
pass over the status and answer columns during the call, and given in one
:class:`DroppedResponsesWarning` on the driver, as pandas gives it.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd

from .._frame.areas import aggregate_areas, area_column
from .._frame.inputs import frame_output_spec
from .._frame.rows import Dropped, pool_groups, select_rows
from .._read.args import check_statuses
from ..errors import DroppedResponsesWarning, InvalidArgumentError
from ..schema import DtypeBackend

__all__ = ["aggregate_areas_dask"]

logger = logging.getLogger(__name__)


def aggregate_areas_dask(
    ddf: dd.DataFrame,
    *,
    kind: str,
    fields: str | Sequence[str] | None,
    task: Hashable,
    worker: Hashable,
    pool_id: str | int | None,
    output_spec: Mapping[str, Any] | None,
    status: str | Sequence[str] | None,
    n_iter: int | None,
    tol: float | None,
    dtype_backend: DtypeBackend,
    golden: Any = None,
    method_kwargs: Mapping[str, Any] | None = None,
) -> dd.DataFrame:
    """One lazy pandas aggregation per partition, after a shuffle by task when needed."""
    if not isinstance(ddf, dd.DataFrame):
        raise InvalidArgumentError(
            f"Expected a dask DataFrame, got {type(ddf).__name__}; for a pandas DataFrame use "
            "df.toloka.aggregate_locally."
        )
    whole = False
    if task not in ddf.columns and ddf.index.name == task:
        whole = bool(ddf.known_divisions)
        ddf = ddf.reset_index()
    run = functools.partial(
        aggregate_areas,
        kind=kind,
        fields=fields,
        task=task,
        worker=worker,
        pool_id=pool_id,
        output_spec=frame_output_spec(ddf._meta, output_spec),
        status=status,
        n_iter=n_iter,
        tol=tol,
        dtype_backend=dtype_backend,
        golden=golden,
        method_kwargs=method_kwargs,
    )
    meta = run(ddf._meta)  # checks every argument before any work
    statuses = check_statuses(status)
    field, column = area_column(
        ddf._meta,
        fields,
        kind=kind,
        output_spec=frame_output_spec(ddf._meta, output_spec),
        task=task,
        worker=worker,
    )
    wanted = [c for c in ("pool_id", "status") if c in ddf.columns] + [column]
    parts = [
        dask.delayed(_left_out)(part, statuses, column, pool_id)
        for part in ddf[list(dict.fromkeys(wanted))].to_delayed()
    ]
    dropped, total = Dropped(), 0
    for n, status_count, missing in dask.compute(*parts):
        total += n
        dropped.status += status_count
        dropped.missing += missing
    dropped.warn("aggregate_locally", total, statuses, [field])
    if not whole and ddf.npartitions > 1:
        logger.info("shuffling the responses by %r so that each task lies in one partition", task)
        ddf = ddf.shuffle(on=task, shuffle_method="tasks")
    return ddf.map_partitions(_quiet, run, meta=meta)


def _left_out(
    frame: pd.DataFrame, statuses: tuple[str, ...] | None, column: Hashable, pool_id: Any
) -> tuple[int, int, int]:
    """A partition's rows, and those of its pools left out for their status or no answer."""
    status = missing = 0
    for _, group in pool_groups(frame, pool_id):
        accepted = select_rows(group, statuses, [])
        status += len(group) - len(accepted)
        missing += int(accepted[column].isna().sum())
    return len(frame), status, missing


def _quiet(frame: pd.DataFrame, run: Callable[[pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
    """The pandas aggregation of a partition, its rows left out counted by the driver."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedResponsesWarning)
        return run(frame)
