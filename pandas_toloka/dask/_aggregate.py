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
2. Majority vote, skill weighting, ROVER and ClosestToAverage decide each task
   from its own responses: with whole tasks, each partition runs the pandas functions
   (``Y`` of skill weighting is counted pool-wide in the survey).
3. Dawid–Skene couples tasks through the workers' confusion matrices. A pool
   held by one partition is fitted there by the pandas function; a pool
   spread over partitions is fitted by distributed EM (:mod:`._em`).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .._frame.areas import area_column
from .._frame.inputs import frame_output_spec, normalize_skills, resolve_field_columns
from .._frame.local import check_method_kwargs, model_quality, run_method
from .._frame.local import worker_quality as local_worker_quality
from .._frame.local_texts import TEXT_KINDS, extra_columns
from .._frame.methods import LocalType, area_type, check_local_type
from .._frame.task_inputs import (
    InputsPlan,
    found_column,
    plan_inputs,
    task_values,
    values_of,
    with_inputs,
)
from .._read.args import input_names, renamed_arguments
from ..aggregation import DawidSkeneModel
from ..aggregation._encoding import check_iteration_args as _check_iteration_args
from ..aggregation._registry import METHODS, method_names
from ..errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError
from ..schema import DtypeBackend
from . import _em
from ._areas import aggregate_areas_dask
from ._fit import FitResult, distributed_client, on_worker
from ._frames import keep_dtypes
from ._partitions import (
    ROW_ORDER,
    RowSpec,
    aggregate_partition,
    dropped_of,
    finish,
    n_responses,
    result_table,
)
from ._whole import dawid_skene_fits, whole_pools, whole_tasks

__all__ = ["aggregate_locally", "worker_quality"]

logger = logging.getLogger(__name__)


#: The aggregation types this layer runs on Dask frames (the registry's ``dask`` column).
DASK_TYPES = method_names(dask=True)


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
    extra: Sequence[Hashable] = (),
) -> RowSpec:
    meta = ddf._meta
    missing = [str(c) for c in (task, worker) if c not in ddf.columns]
    if missing:
        raise MissingColumnsError(missing, list(ddf.columns), purpose=purpose)
    spec = frame_output_spec(meta, output_spec)
    sample = meta
    if spec is None and any(pd.api.types.is_object_dtype(dtype) for dtype in meta.dtypes):
        sample = ddf.head(1000, npartitions=-1)  # object columns: infer types from values
    reserved = [task, worker, *schema.RESPONSES_META_COLUMNS, *extra]
    resolved = resolve_field_columns(sample, fields, type=kind, reserved=reserved, output_spec=spec)
    missing_extra = [str(c) for c in extra if c not in ddf.columns]
    if missing_extra:
        raise MissingColumnsError(missing_extra, list(ddf.columns), purpose=f"for {kind}")
    wanted = None if status is None else ((status,) if isinstance(status, str) else tuple(status))
    if pool_id is None and "pool_id" not in ddf.columns:
        provenance = schema.get_provenance(meta)
        named = provenance.get("pool_id") if provenance is not None else None
        pool_id = None if named is None else str(named)
    return RowSpec(
        task,
        worker,
        tuple(resolved),
        wanted,
        None if pool_id is None else str(pool_id),
        tuple(extra),
    )


def _inputs_plan(
    ddf: dd.DataFrame,
    inputs: object,
    *,
    task: Hashable,
    worker: Hashable,
    columns: Sequence[Hashable],
) -> InputsPlan | None:
    """``inputs=`` checked against the frame's columns (and the input spec in its meta's
    attrs) before any work; object columns are typed from a sample of their values."""
    if input_names(inputs) is False:
        return None
    reserved = [task, worker, *schema.RESPONSES_META_COLUMNS, *columns]
    sample = ddf._meta
    if any(pd.api.types.is_object_dtype(dtype) for dtype in sample.dtypes):
        sample = ddf.head(1000, npartitions=-1)
        sample.attrs = ddf._meta.attrs
    return plan_inputs(sample, inputs, reserved=reserved)


def _warn_dropped(method: str, surveys: list[dict[Any, Any]], spec: RowSpec) -> None:
    """The one :class:`DroppedResponsesWarning` of a call, from the survey's counts, as the
    pandas accessor words it."""
    dropped_of(surveys).warn(
        method, n_responses(surveys), spec.status, [fc.field.name for fc in spec.fields]
    )


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
    spec: RowSpec,
    dtype_backend: DtypeBackend,
    kind: str,
    surveys: list[dict[Any, Any]],
    *,
    golden: bool = False,
) -> pd.DataFrame:
    """The empty result, with the provenance the pandas accessor gives its result."""
    meta = finish([], spec.fields, dtype_backend, golden=golden)
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


@renamed_arguments(skill_id="answer_weight_skill_id")
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
    answer_weight_skill_id: str | int | None = None,
    n_iter: int | None = None,
    tol: float | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
    golden: Mapping[Any, Any] | pd.Series | None = None,
    method_kwargs: Mapping[str, Any] | None = None,
    inputs: bool | str | Sequence[str] | None = None,
) -> dd.DataFrame:
    """Aggregate a Dask DataFrame of responses, as :meth:`DataFrame.toloka.aggregate_locally` does.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Responses, e.g. from :func:`read_responses` (whose ``meta`` carries the
        output spec), or any frame with task, worker and answer columns. The
        task column may also be the index (known divisions then mean that
        every task lies in one partition).
    type, fields, skills, task, worker, pool_id, output_spec, status, \
answer_weight_skill_id, n_iter, tol, dtype_backend, golden, method_kwargs, inputs
        As for the pandas accessor (``skill_id=`` is the deprecated spelling of
        ``answer_weight_skill_id=``). ``inputs=`` takes the input values from
        the frame's own columns only (``read_responses(inputs=...)`` puts them
        there; nothing is requested): each task's values are gathered from
        every partition (one small task per partition, then one table of a row
        per task, joined to each partition of the result), a task with
        different values on its rows failing the compute with an error naming it
        (label and area methods; a pairwise ranking refuses it). Every method of
        the registry marked for Dask runs (today all of them; see ``docs/dask.md``).
        BOXES, POINTS and the SEGMENTATION_* methods run per task: each partition
        (after a shuffle by task when a task's responses span partitions) runs
        the pandas function (``docs/areas.md``). The embedding methods read
        their embedding column (``method_kwargs={"embedding": ...}``, an Arrow
        list column) with the rows: CLOSEST_TO_AVERAGE per task, RASA, HRRASA,
        TEXT_RASA and TEXT_HRRASA a pool whole on one worker.

    Returns
    -------
    dask.dataframe.DataFrame
        One row per (pool, task) with the pandas accessor's columns and dtypes;
        each partition is sorted by pool and task id, partitions are not
        ordered among themselves (sort after ``compute()`` when order matters).

    Raises
    ------
    InvalidArgumentError
        For a method that does not run on Dask (naming those that do), or any
        argument the pandas accessor refuses; before any work.

    Notes
    -----
    The call reads every partition once to survey it. Majority vote and skill
    weighting decide each task from its own responses: the rows are shuffled
    by task once when a task spans partitions, then stay lazy. Dawid–Skene
    over a pool spread across partitions runs its EM iterations on the cluster
    during the call (it needs a ``distributed`` client). The methods that
    couple a pool's tasks through its workers (GLAD, MACE, WAWA, zero-based
    skill, one-coin Dawid–Skene, KOS, and Dawid–Skene with ``golden=``) fit
    each pool whole on one worker, with the pandas function: the rows are
    shuffled by pool once when a pool spans partitions.
    """
    area = area_type(type)
    if area is not None:
        if skills is not None or answer_weight_skill_id is not None:
            raise InvalidArgumentError(
                f"type={type!r} takes no skills= or answer_weight_skill_id=."
            )
        plan = None
        if input_names(inputs) is not False:
            bare, _ = _prepare(ddf, task)
            _, column = area_column(
                bare._meta,
                fields,
                kind=area,
                output_spec=frame_output_spec(bare._meta, output_spec),
                task=task,
                worker=worker,
            )
            plan = _inputs_plan(bare, inputs, task=task, worker=worker, columns=[column])
        out = aggregate_areas_dask(
            ddf,
            kind=area,
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
        if plan is None:
            return out
        named = None if pool_id is None else str(pool_id)
        backend = schema.check_dtype_backend(dtype_backend)
        return _with_inputs(_prepare(ddf, task)[0], out, plan, task, named, backend)
    kind = check_local_type(type)
    row = METHODS[kind]
    if row.dask is None:
        raise InvalidArgumentError(
            f"On a Dask DataFrame, type must be one of {list(method_names(dask=True))}, "
            f"got {type!r}; compute the frame and use df.toloka.aggregate_locally for {kind}."
        )
    options = check_method_kwargs(kind, method_kwargs, n_iter=n_iter, tol=tol)
    if golden is not None and not row.golden:
        raise InvalidArgumentError(
            f"golden= is supported by {list(method_names(golden=True))}, not by type={kind!r}."
        )
    backend = schema.check_dtype_backend(dtype_backend)
    em_n_iter, em_tol = _iteration_args(n_iter, tol)
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
        extra=extra_columns(kind, options) if kind in TEXT_KINDS else (),
    )
    plan = _inputs_plan(ddf, inputs, task=spec.task, worker=spec.worker, columns=spec.columns)
    skill_frame = (
        normalize_skills(skills, like=ddf._meta[worker], skill_id=answer_weight_skill_id)
        if row.kind == "skill_weighted"
        else None
    )
    if row.kind != "skill_weighted":
        # Option values are checked by one run on no rows, before any work (as in pandas).
        no_rows = ddf._meta.iloc[:0]
        run_method(
            kind,
            no_rows[[spec.task, spec.worker, *spec.columns, *spec.extra]],
            no_rows,
            list(spec.fields),
            task=spec.task,
            worker=spec.worker,
            skills=None,
            n_iter=n_iter,
            tol=tol,
            golden=None,
            options=options,
        )
    with_answers = row.kind == "skill_weighted"  # Y is counted pool-wide in the survey
    per_pool = row.dask == "per_pool" or (row.dask == "distributed_em" and golden is not None)
    em = row.dask == "distributed_em" and not per_pool
    fits: dict[Any, FitResult] = {}
    single: frozenset[Any] = frozenset()
    if per_pool:
        frame, surveys = whole_pools(ddf, spec)
    elif row.dask == "distributed_em":
        frame, surveys, single, fits = dawid_skene_fits(
            ddf, spec, whole, n_iter=em_n_iter, tol=em_tol
        )
    else:
        skilled = None
        if skill_frame is not None:
            skilled = frozenset(skill_frame.loc[skill_frame["value"].notna(), "worker_id"])
        frame, surveys, _ = whole_tasks(ddf, spec, whole, with_answers, skilled)
    _warn_dropped("aggregate_locally", surveys, spec)
    meta = _meta(spec, backend, kind, surveys, golden=golden is not None)
    common: dict[str, Any] = dict(
        kind=kind,
        spec=spec,
        skills=skill_frame,
        n_options=_n_options(surveys, spec) if with_answers else {},
        # None leaves a method's own default; distributed EM resolved Dawid-Skene's.
        n_iter=em_n_iter if em else n_iter,
        tol=em_tol if em else tol,
        dtype_backend=backend,
    )
    if per_pool or row.dask == "per_task":
        common.update(golden=golden, options=options)
    with keep_dtypes():  # the result has the pandas accessor's dtypes
        if per_pool or row.dask == "per_task":
            out = frame.map_partitions(aggregate_partition, pools=None, meta=meta, **common)
        else:
            out = _result_frame(frame, kind, single, fits, meta, common)
        if plan is not None:
            out = _with_inputs(ddf, out, plan, spec.task, spec.pool_id, backend)
        return out


def _with_inputs(
    ddf: dd.DataFrame,
    result: dd.DataFrame,
    plan: InputsPlan,
    task: Hashable,
    pool_id: str | None,
    dtype_backend: DtypeBackend,
) -> dd.DataFrame:
    """The result with its tasks' input columns: each partition's values by task, gathered
    into one table (checked across partitions), joined to every partition of the result.
    ``pool_id`` filters a ``pool_id`` column, or names the pool of a frame without one."""
    wanted = [task, *(column for _, column in plan.from_frame)]
    if "pool_id" in ddf.columns:
        wanted.insert(0, "pool_id")
    elif pool_id is None:
        provenance = schema.get_provenance(ddf._meta)
        named = provenance.get("pool_id") if provenance is not None else None
        pool_id = None if named is None else str(named)
    parts = [
        dask.delayed(_partition_values)(part, plan, task, pool_id)
        for part in ddf[list(dict.fromkeys(wanted))].to_delayed()
    ]
    gathered = dask.delayed(_gathered_values)(parts, [f.name for f in plan.fields])
    meta = with_inputs(result._meta, [], plan, dtype_backend=dtype_backend)
    meta.attrs[schema.ATTRS_KEY] = {
        **result._meta.attrs[schema.ATTRS_KEY],
        "input_spec": plan.input_spec(),
    }
    return result.map_partitions(
        _join_values, gathered, plan=plan, dtype_backend=dtype_backend, meta=meta
    )


def _partition_values(
    frame: pd.DataFrame, plan: InputsPlan, task: Hashable, pool_id: str | None
) -> pa.Table:
    """One partition's input values, one row per task (checked within the partition)."""
    if pool_id is not None and "pool_id" in frame.columns and len(frame):
        pools = schema.id_array(frame["pool_id"])
        wanted = schema.id_array([pool_id])[0]
        frame = frame[pc.fill_null(pc.equal(pools, wanted), False).to_numpy(zero_copy_only=False)]
    return values_of(frame, plan, task=task, pool=pool_id)


def _gathered_values(parts: list[pa.Table], names: list[str]) -> pa.Table:
    """The partitions' values by task as one table, a task in two partitions checked once more."""
    table = pa.concat_tables(parts).combine_chunks()
    columns = [found_column(name) for name in names]
    pools, tasks, values = task_values(
        table.column("pool_id").combine_chunks(),
        table.column("task_id").combine_chunks(),
        [table.column(c).combine_chunks() for c in columns],
        names,
    )
    return pa.Table.from_arrays([pools, tasks, *values], names=["pool_id", "task_id", *columns])


def _join_values(
    frame: pd.DataFrame, values: pa.Table, *, plan: InputsPlan, dtype_backend: DtypeBackend
) -> pd.DataFrame:
    return with_inputs(frame, [values], plan, dtype_backend=dtype_backend)


def _result_frame(
    frame: dd.DataFrame,
    kind: str,
    single: frozenset[Any],
    fits: dict[Any, FitResult],
    meta: pd.DataFrame,
    common: dict[str, Any],
) -> dd.DataFrame:
    spec: RowSpec = common["spec"]
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
    type: LocalType = "DAWID_SKENE",
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    pool_id: str | int | None = None,
    output_spec: Mapping[str, Any] | None = None,
    status: str | Sequence[str] | None = "ACCEPTED",
    confusion: bool = False,
    n_iter: int | None = None,
    tol: float | None = None,
    golden: Mapping[Any, Any] | pd.Series | None = None,
    method_kwargs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Each worker's quality, pool by pool, fitted on the cluster.

    As :meth:`DataFrame.toloka.worker_quality`: one fit per pool (two pools
    sharing task ids never merge), returned as a pandas DataFrame (one row per
    worker of each pool, or per worker and label pair with ``confusion=True``),
    with a ``pool_id`` column when the frame has one. Dawid–Skene without
    ``golden=`` runs distributed EM over the partitions; the other methods (and
    Dawid–Skene with ``golden=``) fit each pool whole on one worker. Needs a
    ``distributed`` client.
    """
    kind = check_local_type(type)
    row = METHODS[kind]
    if row.fit is None:
        raise InvalidArgumentError(
            f"type={kind!r} has no fitted model; use one of {list(method_names(fitted=True))}."
        )
    if confusion and kind != "DAWID_SKENE":
        raise InvalidArgumentError(f"confusion=True needs type='DAWID_SKENE', not {kind!r}.")
    options = check_method_kwargs(kind, method_kwargs, n_iter=n_iter, tol=tol)
    if golden is not None and not row.golden:
        raise InvalidArgumentError(
            f"golden= is supported by {list(method_names(golden=True))}, not by type={kind!r}."
        )
    em_n_iter, em_tol = _iteration_args(n_iter, tol)
    ddf, whole = _prepare(ddf, task)
    spec = _row_spec(
        ddf,
        kind=kind,
        fields=field,
        task=task,
        worker=worker,
        pool_id=pool_id,
        output_spec=output_spec,
        status=status,
        purpose="to estimate worker quality",
    )
    has_pools = "pool_id" in ddf.columns
    pieces: dict[Any, pd.DataFrame] = {}
    (fc,) = spec.fields
    quality: dict[str, Any] = dict(
        type=kind,
        field=fc.field.name,
        task=task,
        worker=worker,
        pool_id=spec.pool_id,
        output_spec={fc.field.name: fc.field.to_spec()},
        status=spec.status,
        confusion=confusion,
        n_iter=n_iter,
        tol=tol,
        golden=golden,
        method_kwargs=options,
    )
    if kind == "DAWID_SKENE" and golden is None:
        _, surveys, _, fits = dawid_skene_fits(
            ddf, spec, whole, n_iter=em_n_iter, tol=em_tol, fit_all=True
        )
        _warn_dropped("worker_quality", surveys, spec)
        for pool, fitted in fits.items():
            model = _fitted_model(fitted, spec, ddf._meta[worker].dtype)
            pieces[pool] = model_quality(model, pool, confusion=confusion, pool_column=has_pools)
    else:
        frame, surveys = whole_pools(ddf, spec)
        _warn_dropped("worker_quality", surveys, spec)
        parts = [dask.delayed(_partition_quality)(part, **quality) for part in frame.to_delayed()]
        for part in dask.compute(*parts):
            pieces.update(part)
    ordered = [pieces[pool] for pool in sorted(pieces, key=lambda p: (p is not None, p))]
    out = (
        pd.concat(ordered, ignore_index=True)
        if len(ordered) > 1
        else ordered[0]
        if ordered
        else _empty_quality(ddf._meta, quality)
    )
    surveys = [dict.fromkeys(p for p in pieces if p is not None)]
    out.attrs[schema.ATTRS_KEY] = _provenance("worker_quality", kind, spec, surveys)
    return out


def _fitted_model(fitted: FitResult, spec: RowSpec, worker_dtype: Any) -> DawidSkeneModel:
    """The Dawid–Skene model of a distributed fit (no task posteriors: they stay in the blocks),
    its workers with the worker column's dtype (as the pandas fit keeps it)."""
    (fc,) = spec.fields
    workers = fitted.encodings.workers
    with contextlib.suppress(TypeError, ValueError):
        workers = workers.astype(worker_dtype)
    K = len(fitted.encodings.labels)
    W = len(fitted.encodings.workers)
    model = fitted.model
    return DawidSkeneModel(
        labels=fitted.encodings.labels,
        tasks=pd.Index([]),
        workers=workers,
        posteriors=np.zeros((0, K)),
        priors=model.priors if model is not None else np.zeros(K),
        confusion=model.confusion if model is not None else np.zeros((W, K, K)),
        n_responses=fitted.worker_counts,
        n_iter_run=fitted.n_iter_run,
        converged=fitted.converged,
        loss_history=fitted.loss_history,
        task_column=spec.task,
        worker_column=spec.worker,
        label_column=fc.column,
    )


def _partition_quality(frame: pd.DataFrame, **quality: Any) -> dict[Any, pd.DataFrame]:
    """The pandas worker_quality of each pool a partition holds whole (by pool id)."""
    if ROW_ORDER in frame.columns:  # shuffled by pool: the rows back in the frame's order
        frame = frame.sort_values(ROW_ORDER, kind="stable").drop(columns=ROW_ORDER)
    if not len(frame):
        return {}
    with warnings.catch_warnings():  # counted by the driver's survey: one warning per call
        warnings.simplefilter("ignore", DroppedResponsesWarning)
        out = local_worker_quality(frame, **quality)
    if "pool_id" not in out.columns:
        pools = [quality["pool_id"]]
        return {pools[0]: out}
    return {
        pool: group.reset_index(drop=True)
        for pool, group in out.groupby("pool_id", sort=True, observed=True)
    }


def _empty_quality(meta: pd.DataFrame, quality: Mapping[str, Any]) -> pd.DataFrame:
    """The columns of a result without any pool or row."""
    return local_worker_quality(meta.iloc[:0], **quality)
