"""``ddf.toloka.rank``: pairwise rankings of a Dask DataFrame of comparisons.

The order-free rankings (all but Elo) read the comparisons only through how
many times each ``(left, right, winner[, worker])`` happened, and those counts
are a reduction: each partition counts its rows, the counts are summed by key
across partitions on the cluster, and the small table that comes back is
ranked in this process with ``counts=`` — the same numbers as ranking the
rows with pandas, bootstrap intervals included. Elo depends on the order of
the comparisons, so it is refused here (compute the frame, in the order you
mean, and rank it with pandas).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import dask.dataframe as dd
import pandas as pd

from .._frame.local import select_rows
from .._frame.ranking import PAIRWISE_METHODS, rank_by_pool
from .._read.args import check_statuses
from ..aggregation._registry import get_method
from ..errors import InvalidArgumentError, MissingColumnsError

__all__ = ["COUNT_COLUMN", "rank"]

#: The column of the counted table holding each key's count.
COUNT_COLUMN = "__count__"


def _count_rows(
    frame: pd.DataFrame, keys: list[Hashable], statuses: tuple[str, ...] | None
) -> pd.DataFrame:
    """One partition's distinct keys and how many rows had each (nulls kept as keys).

    The rows counted are those pandas' rank selects (``_frame.local.select_rows``:
    the wanted statuses, the results export's ``APPROVED`` as ``ACCEPTED``).
    """
    frame = select_rows(frame, statuses, [])
    counted = frame.groupby(keys, dropna=False, observed=True, sort=False).size()
    return counted.rename(COUNT_COLUMN).reset_index()


def rank(
    ddf: dd.DataFrame,
    method: str = "BRADLEY_TERRY",
    *,
    left: Hashable = "left",
    right: Hashable = "right",
    winner: Hashable = "winner",
    worker: Hashable = "worker_id",
    pool_id: str | int | None = None,
    status: str | Sequence[str] | None = "ACCEPTED",
    **options: Any,
) -> pd.DataFrame:
    """Rank the items of each pool of a Dask DataFrame of comparisons.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        One row per comparison, as for :meth:`pandas_toloka.TolokaAccessor.rank`.
    method, left, right, winner, worker, pool_id, status, **options
        As for :meth:`pandas_toloka.TolokaAccessor.rank`; every pairwise method
        but 'ELO' (its ratings depend on the order of the rows).

    Returns
    -------
    pandas.DataFrame
        The ranking (small: one row per pool and item), equal to the pandas
        one of the same rows.

    Raises
    ------
    InvalidArgumentError
        For 'ELO', a method that is not pairwise, or ``counts=`` in the options.
    MissingColumnsError
        If a needed column is absent.
    """
    row = get_method(method, what="method", among=PAIRWISE_METHODS)
    if row.name == "ELO":
        raise InvalidArgumentError(
            "ELO depends on the order of the comparisons, which a Dask DataFrame does not "
            "fix: compute the frame (sorted as you mean) and rank it with pandas."
        )
    if "counts" in options:
        raise InvalidArgumentError("counts= is set by the Dask reduction; do not pass it.")
    statuses = check_statuses(status)
    keys: list[Hashable] = [left, right, winner]
    if row.name == "NOISY_BRADLEY_TERRY":
        keys.append(worker)
    if "pool_id" in ddf.columns:
        keys.insert(0, "pool_id")
    missing = [str(k) for k in keys if k not in ddf.columns]
    if missing:
        raise MissingColumnsError(missing, [str(c) for c in ddf.columns], purpose=f"for {row.name}")
    wanted = keys + (["status"] if "status" in ddf.columns else [])
    meta = _count_rows(ddf._meta[wanted], keys, statuses)
    partial = ddf[wanted].map_partitions(_count_rows, keys, statuses, meta=meta)
    totals = partial.groupby(keys, dropna=False, observed=True).agg({COUNT_COLUMN: "sum"})
    table = totals.compute().reset_index()
    return rank_by_pool(
        table,
        method=row.name,
        left=left,
        right=right,
        winner=winner,
        worker=worker,
        pool_id=pool_id,
        status=None,
        options={**options, "counts": COUNT_COLUMN},
    )
