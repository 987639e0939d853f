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

from .. import schema
from .._frame.ranking import PAIRWISE_METHODS, rank_by_pool
from .._frame.rows import Dropped, check_input, status_mask
from .._read.args import check_statuses
from ..aggregation._registry import get_method
from ..errors import InvalidArgumentError, MissingColumnsError

__all__ = ["COUNT_COLUMN", "rank"]

#: The column of the counted table holding each key's count.
COUNT_COLUMN = "__count__"


#: The column of the counted table saying whether its rows are of a wanted status.
KEPT_COLUMN = "__kept__"


def _count_rows(
    frame: pd.DataFrame, keys: list[Hashable], statuses: tuple[str, ...] | None
) -> pd.DataFrame:
    """One partition's distinct keys and how many rows had each (nulls kept as keys), and
    whether they are of a wanted status.

    The rows kept are those pandas' rank selects (``_frame.rows.status_mask``, the
    filter of ``select_rows``: the wanted statuses, the results export's ``APPROVED``
    as ``ACCEPTED``); the others are counted for the ``DroppedResponsesWarning``.
    """
    frame = frame[keys].assign(**{KEPT_COLUMN: status_mask(frame, statuses)})
    counted = frame.groupby([*keys, KEPT_COLUMN], dropna=False, observed=True, sort=False).size()
    return counted.rename(COUNT_COLUMN).reset_index()


def _warn_status(
    table: pd.DataFrame, statuses: tuple[str, ...] | None, pool_id: str | int | None, winner: Any
) -> None:
    """The rows left out for their status, in the warning the pandas accessor gives."""
    unwanted = table[~table[KEPT_COLUMN].to_numpy(dtype=bool)]
    if pool_id is not None and "pool_id" in unwanted.columns and len(unwanted):
        named = schema.id_array([pool_id])[0].as_py()
        unwanted = unwanted[
            schema.id_array(unwanted["pool_id"]).to_numpy(zero_copy_only=False) == named
        ]
    total = int(table[COUNT_COLUMN].sum())
    dropped = Dropped(status=int(unwanted[COUNT_COLUMN].sum()))
    dropped.warn("rank", total, statuses, [str(winner)])


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
    check_input(ddf._meta, statuses)  # duplicate columns (the values: in each partition)
    wanted = keys + (["status"] if "status" in ddf.columns else [])
    meta = _count_rows(ddf._meta[wanted], keys, statuses)
    partial = ddf[wanted].map_partitions(_count_rows, keys, statuses, meta=meta)
    totals = partial.groupby([*keys, KEPT_COLUMN], dropna=False, observed=True).agg(
        {COUNT_COLUMN: "sum"}
    )
    table = totals.compute().reset_index()
    _warn_status(table, statuses, pool_id, winner)
    kept = table[table[KEPT_COLUMN].to_numpy(dtype=bool)].drop(columns=KEPT_COLUMN)
    return rank_by_pool(
        kept.reset_index(drop=True),
        method=row.name,
        left=left,
        right=right,
        winner=winner,
        worker=worker,
        pool_id=pool_id,
        status=None,
        options={**options, "counts": COUNT_COLUMN},
    )
