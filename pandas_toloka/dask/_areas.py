"""Area selection (BOXES, SEGMENTATION_*) on Dask frames: per task, so per partition.

Each task is decided from its own responses, so once every task lies in one
partition (an index with known divisions says so, otherwise the rows are shuffled
by task once) each partition runs the pandas function,
:func:`pandas_toloka._frame.areas.aggregate_areas`, lazily: the result equals the
pandas one row for row.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import dask.dataframe as dd

from .._frame.areas import aggregate_areas
from .._frame.inputs import frame_output_spec
from ..errors import InvalidArgumentError
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
    if not whole and ddf.npartitions > 1:
        logger.info("shuffling the responses by %r so that each task lies in one partition", task)
        ddf = ddf.shuffle(on=task, shuffle_method="tasks")
    return ddf.map_partitions(run, meta=meta)
