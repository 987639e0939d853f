"""df.toloka.rank: a side-by-side pool's items ranked, pool by pool.

The rows ranked are the pool's ACCEPTED comparisons (as local aggregation
selects responses); each pool is ranked by a pairwise method of the registry
(:mod:`pandas_toloka.aggregation.pairwise`), and the rankings are stacked with
a ``pool_id`` column in front.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import pandas as pd

from .. import schema
from .._read.args import check_statuses, input_names
from ..aggregation._registry import get_method, method_names
from ..errors import InvalidArgumentError, MissingColumnsError
from .rows import Dropped, check_input, pool_groups, select_rows

__all__ = [
    "PAIRWISE_METHODS",
    "is_pairwise",
    "rank_by_pool",
    "rank_for_aggregate",
    "refuse_inputs",
]

logger = logging.getLogger(__name__)

#: The pairwise methods of the registry, in its order.
PAIRWISE_METHODS = method_names(kind="pairwise")


def is_pairwise(type: object) -> bool:
    """Whether ``type=`` names a pairwise method (case-insensitive)."""
    name = getattr(type, "value", type)
    return isinstance(name, str) and name.upper() in PAIRWISE_METHODS


def refuse_inputs(type: object, inputs: object) -> None:
    """``inputs=`` checked (:func:`input_names`) and refused for a pairwise ``type``: a
    ranking has a row per item, not per task (pandas and Dask accessors alike)."""
    if input_names(inputs) is not False and is_pairwise(type):
        raise InvalidArgumentError(
            f"inputs= adds input columns to one row per task; type={type!r} ranks items "
            "(a row per item): join read_tasks(pool_id) on the item ids instead."
        )


def rank_for_aggregate(
    frame: pd.DataFrame,
    *,
    type: str,
    fields: str | Sequence[str] | None,
    worker: Hashable,
    pool_id: str | int | None,
    status: str | Sequence[str] | None,
    n_iter: int | None,
    tol: float | None,
    method_kwargs: Mapping[str, Any] | None,
) -> pd.DataFrame:
    """``aggregate_locally(type=<a pairwise method>)``: :func:`rank_by_pool`, the winner
    column from ``fields=`` (default ``"winner"``), ``left``/``right`` and the method's
    options from ``method_kwargs=``."""
    options = dict(method_kwargs or {})
    for name, value in (("n_iter", n_iter), ("tol", tol)):
        if value is not None:
            options[name] = value
    if fields is not None and not isinstance(fields, str):
        raise InvalidArgumentError(
            f"type={type!r} ranks by one winner column: pass fields= as one column name."
        )
    return rank_by_pool(
        frame,
        method=type,
        left=options.pop("left", "left"),
        right=options.pop("right", "right"),
        winner=fields if fields is not None else options.pop("winner", "winner"),
        worker=worker,
        pool_id=pool_id,
        status=status,
        options=options,
    )


def rank_by_pool(
    frame: pd.DataFrame,
    *,
    method: object = "BRADLEY_TERRY",
    left: Hashable = "left",
    right: Hashable = "right",
    winner: Hashable = "winner",
    worker: Hashable = "worker_id",
    pool_id: str | int | None = None,
    status: str | Sequence[str] | None = "ACCEPTED",
    options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Rank the items of each pool; see :meth:`TolokaAccessor.rank`."""
    row = get_method(method, what="method", among=PAIRWISE_METHODS)
    options = dict(options or {})
    taken = {"left", "right", "winner", "worker"} & set(options)
    if taken:
        raise InvalidArgumentError(
            f"Pass {', '.join(sorted(taken))} as arguments of their own, not as options."
        )
    unknown = sorted(set(options) - set(row.options))
    if unknown:
        raise InvalidArgumentError(
            f"method={row.name!r} takes the options {list(row.options)}; got {unknown}."
        )
    # the wanted statuses only (counted here); rows with a missing value are the method's to
    # count and drop, in its own warning
    statuses = check_statuses(status)
    check_input(frame, statuses)
    roles = {"left": left, "right": right, "winner": winner, "worker": worker}
    needed = [left, right, winner] + ([worker] if row.name == "NOISY_BRADLEY_TERRY" else [])
    missing = [str(c) for c in needed if c not in frame.columns]
    if missing:  # before the warning counts rows of a frame that cannot be ranked
        raise MissingColumnsError(missing, list(frame.columns), purpose=f"for {row.name}")
    parts = []
    pools: list[str] = []
    dropped = Dropped()
    selected = []
    for pool, group in pool_groups(frame, pool_id):
        rows = select_rows(group, statuses, [])
        dropped.status += len(group) - len(rows)
        selected.append((pool, rows))
    dropped.warn("rank", len(frame), statuses, [str(winner)])
    for pool, rows in selected:
        if pool is not None:
            pools.append(str(pool))
        ranking = row.function(rows, **roles, **options)
        if pool is not None:
            ids = pd.array([pool] * len(ranking), dtype=pd.StringDtype("pyarrow"))
            ranking.insert(0, "pool_id", ids)
        parts.append(ranking)
        logger.info("ranked pool %s by %s: %d items", pool, row.name, len(ranking))
    if parts:
        out = pd.concat(parts, ignore_index=True)
    else:  # no pool at all (an empty frame): a ranked pool's columns, the options checked
        out = row.function(frame.iloc[:0], **roles, **options)
        if "pool_id" in frame.columns:
            out.insert(0, "pool_id", pd.array([], dtype=pd.StringDtype("pyarrow")))
    out.attrs[schema.ATTRS_KEY] = _provenance(
        frame, method=row.name, function=row.function, roles=roles, options=options, pools=pools
    )
    return out


def _provenance(
    frame: pd.DataFrame,
    *,
    method: str,
    function: Any,
    roles: Mapping[str, Hashable],
    options: Mapping[str, Any],
    pools: list[str],
) -> schema.Provenance:
    """The ``ranking`` record: the method, its columns, bootstrap size and seed, the pools."""
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    chosen = {**defaults, **options}
    seed = chosen.get("seed")
    source = schema.get_provenance(frame)
    known = source.get("output_spec", {}) if source else {}
    winner = str(roles["winner"])
    spec = known.get(winner) or {"type": "STRING", "required": True}
    return schema.make_provenance(
        "ranking",
        method=method,
        left=str(roles["left"]),
        right=str(roles["right"]),
        winner=winner,
        n_bootstrap=int(chosen.get("n_bootstrap", 0)),
        seed=None if seed is None else int(seed),
        pool_ids=sorted(pools),
        output_spec={winner: spec},
    )
