"""``aggregate_locally`` and ``worker_quality`` on Dask DataFrames of responses.

The semantics are those of the pandas accessor (:mod:`pandas_toloka._frame.local`):
the same rows (wanted status, an answer in every field), one aggregation per
pool, the label space and ``Y`` from the output spec, the typed result schema.

How the work is split:

1. A survey pass (:func:`._partitions.survey`) gives, per partition and pool,
   the task range and row count. When the ranges of a pool's partitions do
   not overlap — or the task column is an index with known divisions — every
   task lies wholly in one partition. Otherwise the rows are shuffled by task
   once (and persisted).
2. Majority vote and skill weighting decide each task from its own responses:
   with whole tasks, each partition runs the pandas functions
   (``Y`` of skill weighting is counted pool-wide in the survey).
3. Dawid–Skene couples tasks through the workers' confusion matrices. A pool
   held by one partition is fitted there by the pandas function; a pool
   spread over partitions is fitted by distributed EM (:mod:`._em`).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import dask.dataframe as dd
import numpy as np
import pandas as pd

from .. import schema
from .._frame.inputs import frame_output_spec, normalize_skills, resolve_field_columns
from .._frame.methods import AREA_TYPES, LocalType, check_local_type
from ..aggregation import DawidSkeneModel
from ..aggregation._encoding import check_iteration_args as _check_iteration_args
from ..errors import InvalidArgumentError, MissingColumnsError
from ..schema import DtypeBackend
from . import _em
from ._areas import aggregate_areas_dask
from ._fit import FitResult, distributed_client, on_worker
from ._frames import keep_dtypes
from ._partitions import (
    RowSpec,
    aggregate_partition,
    finish,
    result_table,
)
from ._whole import dawid_skene_fits, whole_tasks

__all__ = ["aggregate_locally", "worker_quality"]

logger = logging.getLogger(__name__)


#: The aggregation types this layer runs on Dask frames.
DASK_TYPES = ("DAWID_SKENE", "MAJORITY_VOTE", "WEIGHTED_DYNAMIC_OVERLAP")


def _iteration_args(n_iter: int | None, tol: float | None) -> tuple[int, float]:
    """Dawid–Skene's iteration options, None meaning its defaults (as in pandas)."""
    return _check_iteration_args(100 if n_iter is None else n_iter, 1e-5 if tol is None else tol)


def _prepare(ddf: object, task: Hashable) -> tuple[dd.DataFrame, bool]:
    """The frame with ``task`` as a column; whether a task index with known divisions said it is whole."""
    if not isinstance(ddf, dd.DataFrame):
        raise InvalidArgumentError(
            f"Expected a dask DataFrame, got {type(ddf).__name__}; for a pandas DataFrame use "
            "df.toloka.aggregate_locally."
        )
    if task not in ddf.columns and ddf.index.name == task:
        whole = bool(ddf.known_divisions)
        return ddf.reset_index(), whole
    return ddf, False


def _row_spec(
    ddf: dd.DataFrame,
    *,
    kind: str,
    fields: str | Sequence[str] | None,
    task: Hashable,
    worker: Hashable,
    pool_id: str | int | None,
    output_spec: Mapping[str, Any] | None,
    status: str | Sequence[str] | None,
    purpose: str,
) -> RowSpec:
    meta = ddf._meta
    missing = [str(c) for c in (task, worker) if c not in ddf.columns]
    if missing:
        raise MissingColumnsError(missing, list(ddf.columns), purpose=purpose)
    spec = frame_output_spec(meta, output_spec)
    sample = meta
    if spec is None and any(pd.api.types.is_object_dtype(dtype) for dtype in meta.dtypes):
        sample = ddf.head(1000, npartitions=-1)  # object columns: infer types from values
    reserved = [task, worker, *schema.RESPONSES_META_COLUMNS]
    resolved = resolve_field_columns(sample, fields, type=kind, reserved=reserved, output_spec=spec)
    wanted = None if status is None else ((status,) if isinstance(status, str) else tuple(status))
    if pool_id is None and "pool_id" not in ddf.columns:
        provenance = schema.get_provenance(meta)
        named = provenance.get("pool_id") if provenance is not None else None
        pool_id = None if named is None else str(named)
    return RowSpec(task, worker, tuple(resolved), wanted, None if pool_id is None else str(pool_id))


def _n_options(surveys: list[dict[Any, Any]], spec: RowSpec) -> dict[Any, dict[Hashable, int]]:
    seen: dict[Any, dict[Hashable, set[Any]]] = {}
    for part in surveys:
        for pool, entry in part.items():
            target = seen.setdefault(pool, {c: set() for c in spec.columns})
            for column, values in entry.answers.items():
                target[column] |= values
    return {
        pool: {
            fc.column: schema.options_count(fc.field, len(answers[fc.column])) for fc in spec.fields
        }
        for pool, answers in seen.items()
    }


def _meta(
    spec: RowSpec, dtype_backend: DtypeBackend, kind: str, surveys: list[dict[Any, Any]]
) -> pd.DataFrame:
    """The empty result, with the provenance the pandas accessor gives its result."""
    meta = finish([], spec.fields, dtype_backend)
    meta.attrs[schema.ATTRS_KEY] = _provenance("local_aggregation", kind, spec, surveys)
    return meta


def _provenance(
    record: Literal["local_aggregation", "worker_quality"],
    kind: str,
    spec: RowSpec,
    surveys: list[dict[Any, Any]],
) -> schema.Provenance:
    pools = sorted({str(p) for part in surveys for p in part if p is not None})
    return schema.make_provenance(
        record,
        type=kind,
        fields=[fc.field.name for fc in spec.fields],
        output_spec={fc.field.name: fc.field.to_spec() for fc in spec.fields},
        pool_ids=pools,
    )


def _block_result(
    block: _em.Block, *, pool: Any, spec: RowSpec, labels: pd.Index, dtype_backend: DtypeBackend
) -> pd.DataFrame:
    tables = [result_table(pool, spec, *answer, labels=labels) for answer in _em.answers(block)]
    return finish(tables, spec.fields, dtype_backend)


def aggregate_locally(
    ddf: dd.DataFrame,
    type: LocalType = "DAWID_SKENE",
    *,
    fields: str | Sequence[str] | None = None,
    skills: pd.DataFrame | pd.Series | None = None,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    pool_id: str | int | None = None,
    output_spec: Mapping[str, Any] | None = None,
    status: str | Sequence[str] | None = "ACCEPTED",
    skill_id: str | None = None,
    n_iter: int | None = None,
    tol: float | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
    golden: Mapping[Any, Any] | pd.Series | None = None,
    method_kwargs: Mapping[str, Any] | None = None,
) -> dd.DataFrame:
    """Aggregate a Dask DataFrame of responses, as :meth:`DataFrame.toloka.aggregate_locally` does.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Responses, e.g. from :func:`read_responses` (whose ``meta`` carries the
        output spec), or any frame with task, worker and answer columns. The
        task column may also be the index (known divisions then mean that
        every task lies in one partition).
    type, fields, skills, task, worker, pool_id, output_spec, status, skill_id, n_iter, tol, \
dtype_backend
        As for the pandas accessor.
    golden, method_kwargs
        As for the pandas accessor; on Dask frames for the area types only
        ('BOXES', 'SEGMENTATION_MV', 'SEGMENTATION_RASA', 'SEGMENTATION_EM'),
        which run per task: each partition (after a shuffle by task when a
        task's responses span partitions) runs the pandas function.

    Returns
    -------
    dask.dataframe.DataFrame
        One row per (pool, task) with the pandas accessor's columns and dtypes;
        each partition is sorted by pool and task id, partitions are not
        ordered among themselves (sort after ``compute()`` when order matters).

    Notes
    -----
    The call reads every partition once to survey it (and shuffles the rows
    by task once when a task's responses span partitions). Majority vote and
    skill weighting then stay lazy; Dawid–Skene over a pool spread across
    partitions runs its EM iterations on the cluster during the call (it
    needs a ``distributed`` client) and returns a frame over the fitted blocks.
    """
    kind = check_local_type(type)
    if kind in AREA_TYPES:
        if skills is not None or skill_id is not None:
            raise InvalidArgumentError(f"type={type!r} takes no skills= or skill_id=.")
        return aggregate_areas_dask(
            ddf,
            kind=kind,
            fields=fields,
            task=task,
            worker=worker,
            pool_id=pool_id,
            output_spec=output_spec,
            status=status,
            n_iter=n_iter,
            tol=tol,
            dtype_backend=dtype_backend,
            golden=golden,
            method_kwargs=method_kwargs,
        )
    if golden is not None or method_kwargs is not None:
        raise InvalidArgumentError(
            f"On a Dask DataFrame, golden= and method_kwargs= are for the area types "
            f"{list(AREA_TYPES)}, not {type!r}."
        )
    if kind not in DASK_TYPES:
        raise InvalidArgumentError(
            f"On a Dask DataFrame, type must be one of {[*DASK_TYPES, *AREA_TYPES]}, got {type!r}; "
            f"compute the frame and use df.toloka.aggregate_locally for {kind}."
        )
    backend = schema.check_dtype_backend(dtype_backend)
    n_iter, tol = _iteration_args(n_iter, tol)
    ddf, whole = _prepare(ddf, task)
    spec = _row_spec(
        ddf,
        kind=kind,
        fields=fields,
        task=task,
        worker=worker,
        pool_id=pool_id,
        output_spec=output_spec,
        status=status,
        purpose="to aggregate responses",
    )
    skill_frame = (
        normalize_skills(skills, like=ddf._meta[worker], skill_id=skill_id)
        if kind == "WEIGHTED_DYNAMIC_OVERLAP"
        else None
    )
    with_answers = kind == "WEIGHTED_DYNAMIC_OVERLAP"
    fits: dict[Any, FitResult] = {}
    if kind == "DAWID_SKENE":
        frame, surveys, single, fits = dawid_skene_fits(ddf, spec, whole, n_iter=n_iter, tol=tol)
    else:
        frame, surveys, _ = whole_tasks(ddf, spec, whole, with_answers)
        single = frozenset()
    meta = _meta(spec, backend, kind, surveys)
    common: dict[str, Any] = dict(
        kind=kind,
        spec=spec,
        skills=skill_frame,
        n_options=_n_options(surveys, spec) if with_answers else {},
        n_iter=n_iter,
        tol=tol,
        dtype_backend=backend,
    )
    with keep_dtypes():  # the result has the pandas accessor's dtypes
        return _result_frame(frame, kind, single, fits, meta, common)


def _result_frame(
    frame: dd.DataFrame,
    kind: str,
    single: frozenset[Any],
    fits: dict[Any, FitResult],
    meta: pd.DataFrame,
    common: dict[str, Any],
) -> dd.DataFrame:
    spec: RowSpec = common["spec"]
    if kind != "DAWID_SKENE":
        return frame.map_partitions(aggregate_partition, pools=None, meta=meta, **common)
    pieces = []
    if single:  # pools inside one partition: the pandas function, lazily, partition by partition
        pieces.append(frame.map_partitions(aggregate_partition, pools=single, meta=meta, **common))
    if fits:
        client = distributed_client("Dawid-Skene")
        results = [
            on_worker(
                client,
                address,
                _block_result,
                block,
                pool=pool,
                spec=spec,
                labels=fitted.encodings.labels,
                dtype_backend=common["dtype_backend"],
            )
            for pool, fitted in fits.items()
            for address, block in zip(fitted.addresses, fitted.blocks)
        ]
        pieces.append(dd.from_delayed(results, meta=meta, verify_meta=False))
    if not pieces:
        return dd.from_pandas(meta, npartitions=1)
    return pieces[0] if len(pieces) == 1 else dd.concat(pieces)


def worker_quality(
    ddf: dd.DataFrame,
    field: str | None = None,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    output_spec: Mapping[str, Any] | None = None,
    status: str | Sequence[str] | None = "ACCEPTED",
    confusion: bool = False,
    n_iter: int | None = None,
    tol: float | None = None,
) -> pd.DataFrame:
    """Each worker's quality under Dawid–Skene, fitted on the cluster.

    As :meth:`DataFrame.toloka.worker_quality`: one Dawid–Skene fit over all
    the rows (pools are not separated), returned as a pandas DataFrame (one
    row per worker, or per worker and label pair with ``confusion=True``).
    Needs a ``distributed`` client.
    """
    n_iter, tol = _iteration_args(n_iter, tol)
    ddf, whole = _prepare(ddf, task)
    spec = _row_spec(
        ddf,
        kind="DAWID_SKENE",
        fields=field,
        task=task,
        worker=worker,
        pool_id=None,
        output_spec=output_spec,
        status=status,
        purpose="to estimate worker quality",
    )
    # One fit over every row, whatever its pool: the pools are not told apart.
    columns = [c for c in ddf.columns if c != "pool_id"]
    one_pool = RowSpec(spec.task, spec.worker, spec.fields, spec.status, "all")
    _, _, _, fits = dawid_skene_fits(
        ddf[columns], one_pool, whole, n_iter=n_iter, tol=tol, fit_all=True
    )
    fitted = fits["all"]
    (fc,) = spec.fields
    K = len(fitted.encodings.labels)
    W = len(fitted.encodings.workers)
    model = fitted.model
    model_fit = DawidSkeneModel(
        labels=fitted.encodings.labels,
        tasks=pd.Index([]),
        workers=fitted.encodings.workers,
        posteriors=np.zeros((0, K)),
        priors=model.priors if model is not None else np.zeros(K),
        confusion=model.confusion if model is not None else np.zeros((W, K, K)),
        n_responses=fitted.worker_counts,
        n_iter_run=fitted.n_iter_run,
        converged=fitted.converged,
        loss_history=fitted.loss_history,
        task_column=task,
        worker_column=worker,
        label_column=fc.column,
    )
    out = model_fit.confusion_frame() if confusion else model_fit.worker_quality()
    pools: list[dict[Any, Any]] = []
    if "pool_id" in ddf.columns:  # named in the provenance, as the pandas accessor does
        ids = schema.id_array(ddf["pool_id"].dropna().unique().compute())
        pools = [dict.fromkeys(ids.to_pylist())]
    out.attrs[schema.ATTRS_KEY] = _provenance("worker_quality", "DAWID_SKENE", spec, pools)
    return out
