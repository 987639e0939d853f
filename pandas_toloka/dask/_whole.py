"""Partitions that hold whole tasks: the survey, the shuffle, and the Dawid–Skene fits.

Every algorithm needs all of a task's responses in one partition. A survey
pass notes, per partition and pool, the rows and the smallest and largest
task id; when no two partitions' ranges of a pool overlap (or the task column
is an index with known divisions) nothing moves, otherwise the rows are
shuffled by task once. For Dawid–Skene the survey comes with the codes of the
responses, so that the data is read once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Hashable
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa

from .. import schema
from . import _em
from ._fit import FitResult, distributed_client, fit_many
from ._partitions import (
    ROW_ORDER,
    PoolSurvey,
    RowSpec,
    counted,
    pool_rows,
    survey,
    tasks_are_whole,
)

__all__ = ["dawid_skene_fits", "shuffle_method", "whole_pools", "whole_tasks"]

logger = logging.getLogger(__name__)


def _survey(
    ddf: dd.DataFrame,
    spec: RowSpec,
    *,
    with_answers: bool,
    skilled: frozenset[Any] | None = None,
) -> list[dict[Any, Any]]:
    parts = [
        dask.delayed(survey)(p, spec, with_answers=with_answers, skilled=skilled)
        for p in ddf.to_delayed()
    ]
    return list(dask.compute(*parts))


def whole_tasks(
    ddf: dd.DataFrame,
    spec: RowSpec,
    whole: bool,
    with_answers: bool,
    skilled: frozenset[Any] | None = None,
) -> tuple[dd.DataFrame, list[dict[Any, PoolSurvey]], bool]:
    """The survey, and the frame with every task inside one partition (shuffled if needed);
    ``skilled`` (skill weighting) has the survey count the responses of other workers."""
    surveys = _survey(ddf, spec, with_answers=with_answers, skilled=skilled)
    if whole or tasks_are_whole(surveys):
        return ddf, surveys, False
    return _shuffled(ddf, spec), surveys, True


def whole_pools(
    ddf: dd.DataFrame, spec: RowSpec
) -> tuple[dd.DataFrame, list[dict[Any, PoolSurvey]]]:
    """The survey, and the frame with every pool inside one partition (shuffled if needed).

    For the methods that couple a pool's tasks through its workers (GLAD, MACE, ...):
    each pool is then fitted whole, by the pandas function, on the worker holding it.
    """
    surveys = _survey(ddf, spec, with_answers=False)
    holders: dict[Any, int] = {}
    for part in surveys:
        for pool, entry in part.items():
            holders[pool] = holders.get(pool, 0) + (entry.n_rows > 0)
    if all(n <= 1 for n in holders.values()):
        return ddf, surveys
    if "pool_id" not in ddf.columns:  # one pool, spread: gather it
        logger.info("the pool spans partitions: gathering its responses into one partition")
        return ddf.repartition(npartitions=1), surveys
    return _shuffled(ddf, spec, on="pool_id"), surveys


def shuffle_method(*, nested: bool = False) -> str:
    """The shuffle to move responses with: ``"tasks"`` unless dask's config names another.

    distributed's default, the peer-to-peer (P2P) shuffle, is made for data
    larger than memory; it runs out of band, on every worker at once, so a
    worker that stalls or restarts mid-shuffle (a loaded machine, a memory
    limit) cancels the computation ("lost dependencies"). Responses are small
    (a pool is fitted whole in one partition anyway): the task-based shuffle
    is ordinary tasks, retried like any other. A user who wants P2P sets
    ``dask.config.set({"dataframe.shuffle.method": "p2p"})``; nested Arrow
    columns (an embedding) always go by tasks, as P2P cannot read them back.
    """
    chosen = dask.config.get("dataframe.shuffle.method", None)
    if nested or chosen is None:
        return "tasks"
    return str(chosen)


def _shuffled(ddf: dd.DataFrame, spec: RowSpec, *, on: Hashable | None = None) -> dd.DataFrame:
    """The rows that matter, shuffled by task (or ``on``) once (persisted on a distributed
    cluster)."""
    what = "tasks" if on is None else "pools"
    on = spec.task if on is None else on
    logger.info("%s span partitions: shuffling the responses by %r once", what, on)
    wanted = {spec.task, spec.worker, "pool_id", "status", *spec.columns, *spec.extra}
    rows = ddf[[c for c in ddf.columns if c in wanted]]
    # dask's P2P shuffle cannot carry Arrow dictionary columns: move their values instead
    # (the fields' types come from the resolved spec, not from these dtypes).
    plain = {
        column: pd.ArrowDtype(dtype.pyarrow_dtype.value_type)
        for column, dtype in rows.dtypes.items()
        if isinstance(dtype, pd.ArrowDtype) and pa.types.is_dictionary(dtype.pyarrow_dtype)
    }
    rows = rows.astype(plain) if plain else rows
    if on == "pool_id":
        # 1, "1" and 1.0 name one pool (as in pandas): shuffle on its id text. A pool is then
        # fitted whole, and some methods (MACE's first start, as crowd-kit's) depend on the
        # order of its rows: carry each row's place in the frame, to restore it (ROW_ORDER).
        rows = rows.assign(pool_id=rows["pool_id"].map_partitions(_id_text, meta=_ID_META))
        rows = rows.map_partitions(_with_row_order, meta=_with_row_order(rows._meta))
    shuffled = rows.shuffle(on=on, shuffle_method=shuffle_method(nested=bool(spec.extra)))
    try:
        from distributed import get_client

        return get_client().persist(shuffled)
    except ValueError:  # local schedulers: computed again where used
        return shuffled


_ID_META = pd.Series([], dtype="string[pyarrow]", name="pool_id")


def _with_row_order(
    frame: pd.DataFrame, partition_info: dict[str, Any] | None = None
) -> pd.DataFrame:
    """The partition with its rows' places in the whole frame (partition, then row)."""
    number = 0 if partition_info is None else int(partition_info["number"])
    order = (number << 40) + np.arange(len(frame), dtype=np.int64)
    return frame.assign(**{ROW_ORDER: order})


def _id_text(ids: pd.Series) -> pd.Series:
    """Ids as the text the server writes (``9`` and ``9.0`` become ``"9"``)."""
    return pd.Series(schema.id_array(ids).to_pylist(), index=ids.index, dtype="string[pyarrow]")


def _codes_and_survey(
    frame: pd.DataFrame, spec: RowSpec
) -> tuple[dict[Any, _em.LocalCodes], dict[Any, PoolSurvey]]:
    """A partition's responses factorised per pool, and the survey of them (one read)."""
    (fc,) = spec.fields
    codes: dict[Any, _em.LocalCodes] = {}
    surveys: dict[Any, PoolSurvey] = {}
    for pool, n, accepted, rows in pool_rows(frame, spec):
        local = _em.local_codes(rows, spec.task, spec.worker, fc.column)
        entry = counted(PoolSurvey(n_rows=len(rows)), n, accepted, rows)
        if len(local.tasks):
            with contextlib.suppress(TypeError):  # unorderable ids: as if spanning partitions
                entry.task_min, entry.task_max = local.tasks.min(), local.tasks.max()
        codes[pool], surveys[pool] = local, entry
    return codes, surveys


def _survey_of(result: tuple[Any, dict[Any, PoolSurvey]]) -> dict[Any, PoolSurvey]:
    return result[1]


def _codes_of(result: tuple[dict[Any, _em.LocalCodes], Any], pool: Any) -> _em.LocalCodes:
    return result[0][pool]


def _codes_pass(client: Any, frame: dd.DataFrame, spec: RowSpec) -> tuple[list[Any], list[Any]]:
    parts = [dask.delayed(_codes_and_survey)(p, spec) for p in frame.to_delayed()]
    futures = client.compute(parts)
    return futures, client.gather(client.map(_survey_of, futures, pure=False))


def dawid_skene_fits(
    ddf: dd.DataFrame,
    spec: RowSpec,
    whole: bool,
    *,
    n_iter: int,
    tol: float,
    fit_all: bool = False,
) -> tuple[dd.DataFrame, list[dict[Any, Any]], frozenset[Any], dict[Any, FitResult]]:
    """Read the partitions once into codes (shuffling by task first if needed), then fit.

    Pools whose rows all lie in one partition are left to the pandas function
    (returned as ``single``) unless ``fit_all``; the others are fitted by
    distributed EM. Returns the frame whose partitions hold whole tasks, the
    survey, the single-partition pools and the fits.
    """
    client = distributed_client("Dawid-Skene")
    (fc,) = spec.fields
    futures, surveys = _codes_pass(client, ddf, spec)
    frame, shuffled = ddf, False
    if not (whole or tasks_are_whole(surveys)):
        del futures
        frame, shuffled = _shuffled(ddf, spec), True
        futures, surveys = _codes_pass(client, frame, spec)
    holders: dict[Any, list[int]] = {}
    for i, part in enumerate(surveys):
        for pool in part:
            holders.setdefault(pool, []).append(i)
    spread = sorted(
        (p for p, where in holders.items() if fit_all or shuffled or len(where) > 1), key=str
    )
    single = frozenset(p for p in holders if p not in spread)
    codes = {
        pool: [client.submit(_codes_of, futures[i], pool, pure=False) for i in holders[pool]]
        for pool in spread
    }
    del futures
    labels = schema.label_space(fc.field)
    sizes = {pool: [surveys[i][pool].n_rows for i in holders[pool]] for pool in spread}
    fits = (
        fit_many(client, codes, labels=labels, n_iter=n_iter, tol=tol, sizes=sizes) if codes else {}
    )
    return frame, surveys, single, fits
