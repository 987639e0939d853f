"""Aggregate raw responses on this machine, with the server's algorithms and output schema.

The glue between a responses frame (from :func:`read_responses` or any
crowd-kit style frame) and :mod:`pandas_toloka.aggregation`. It feeds the
algorithms exactly what the bundled server feeds them — the pool's ACCEPTED
responses with an answer, the label space of :func:`schema.label_space` for
Dawid–Skene, ``Y`` from :func:`schema.options_count` for skill weighting — and
types the result with :func:`schema.aggregated_schema`, so that the result
equals :func:`read_aggregated_solutions` on the same pool. Which fields, of
which types, in which columns, and the skills come from :mod:`.inputs`.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .._frame.methods import check_local_type
from .._read.args import check_statuses
from ..aggregation import (
    AggregationModel,
    DawidSkeneModel,
)
from ..aggregation._methods import method_options
from ..aggregation._registry import METHODS, get_method, method_names
from ..aggregation.report import golden_worker_accuracy
from ..errors import InvalidArgumentError, MissingColumnsError
from ..schema import DtypeBackend, OutputField
from .from_pool import Connection, GoldenLabels, PoolTasks, pool_skills, resolve_golden
from .inputs import (
    ATTRS_KEY,
    FieldColumn,
    frame_output_spec,
    normalize_skills,
    resolve_field_columns,
)
from .local_texts import TEXT_KINDS, accepted_options, extra_columns, run_text_method
from .rows import Dropped, check_input, pool_groups, select_rows, text_ids
from .task_inputs import (
    frame_inputs,
    join_inputs,
    values_of,
)

__all__ = [
    "aggregate_local",
    "check_method_kwargs",
    "check_skill_arguments",
    "fit_local",
    "model_quality",
    "run_method",
    "worker_quality",
]

logger = logging.getLogger(__name__)


Golden: TypeAlias = Mapping[Any, Any] | pd.Series
#: What ``golden=`` of a local method takes: "pool", a frame of tasks, or a mapping/Series.
GoldenArgument: TypeAlias = str | pd.DataFrame | Mapping[Any, Any] | pd.Series


def _options(n_iter: int | None, tol: float | None) -> dict[str, Any]:
    """The iteration options the caller set (None leaves the method's default)."""
    options: dict[str, Any] = {}
    if n_iter is not None:
        options["n_iter"] = n_iter
    if tol is not None:
        options["tol"] = tol
    return options


def check_method_kwargs(
    kind: str,
    method_kwargs: Mapping[str, Any] | None,
    *,
    n_iter: int | None = None,
    tol: float | None = None,
) -> dict[str, Any]:
    """Validate the names in ``method_kwargs=`` (and that ``n_iter=``/``tol=`` apply) for
    ``type=kind``; :func:`aggregate_local` checks the values by running the method on no rows."""
    takes: tuple[str, ...]
    if kind in TEXT_KINDS:
        takes = accepted_options(kind)
    else:
        # A method without a model (skill weighting) has its options set from the frame.
        takes = method_options(kind) if METHODS[kind].fit is not None else ()
    for name, value in (("n_iter", n_iter), ("tol", tol)):
        if value is not None and name not in takes:
            raise InvalidArgumentError(f"type={kind!r} does not take {name}=.")
    if method_kwargs is None:
        return {}
    if not isinstance(method_kwargs, Mapping):
        raise InvalidArgumentError(
            f"method_kwargs must be a mapping of option name -> value, "
            f"got {type(method_kwargs).__name__}."
        )
    own = {"n_iter", "tol", "golden"}
    passed = [name for name in method_kwargs if name in own]
    if passed:
        raise InvalidArgumentError(
            f"Pass {', '.join(f'{name}=' for name in sorted(passed))} to aggregate_locally "
            "itself, not in method_kwargs."
        )
    allowed = tuple(o for o in takes if o not in own)
    unknown = [name for name in method_kwargs if name not in allowed]
    if unknown:
        what = f"takes only {list(allowed)}" if allowed else "takes no method_kwargs"
        raise InvalidArgumentError(f"type={kind!r} {what}; got {sorted(map(str, unknown))}.")
    return dict(method_kwargs)


def run_method(
    kind: str,
    rows: pd.DataFrame,
    accepted: pd.DataFrame,
    fields: list[FieldColumn],
    *,
    task: Hashable,
    worker: Hashable,
    skills: pd.DataFrame | None,
    n_iter: int | None,
    tol: float | None,
    golden: Golden | None,
    options: Mapping[str, Any] | None = None,
    n_options: Mapping[Hashable, int] | None = None,
) -> pd.DataFrame:
    """One pool's aggregation by the registry's function of ``kind``, fed as the server feeds
    its algorithms (the label space of the field; ``Y`` counted on the accepted answers,
    unless ``n_options`` gives it, as Dask counts it over every partition)."""
    row = METHODS[kind]
    columns = [fc.column for fc in fields]
    if kind in TEXT_KINDS:
        return run_text_method(
            kind,
            rows,
            columns[0],
            task=task,
            worker=worker,
            iteration=_options(n_iter, tol),
            options=options or {},
        )
    if row.kind == "skill_weighted":
        assert skills is not None
        # Y from the pool's accepted answers to each field, as the server counts them.
        if n_options is None:
            n_options = {
                fc.column: schema.options_count(fc.field, int(accepted[fc.column].nunique()))
                for fc in fields
            }
        return row.function(
            rows,
            skills,
            fields=columns,
            n_options=n_options,
            task=task,
            worker=worker,
            skill_worker="worker_id",
            skill_value="value",
        )
    kwargs: dict[str, Any] = {
        "task": task,
        "worker": worker,
        "label": columns[0],
        "labels": schema.label_space(fields[0].field),
    }
    if golden is not None:
        kwargs["golden"] = golden
    return row.function(rows, **kwargs, **_options(n_iter, tol), **(options or {}))


def to_table(
    result: pd.DataFrame, pool_id: str | None, fields: list[FieldColumn], task: Hashable
) -> pa.Table:
    task_ids = schema.id_array(result[task])  # as the server writes ids: 9 and 9.0 become "9"
    arrays = [
        pa.array([pool_id] * len(result), type=pa.string()),
        task_ids,
        pa.array(result["confidence"].to_numpy(dtype=np.float64), type=pa.float64()),
    ]
    for fc in fields:
        values = result[fc.column].astype(object).tolist()
        arrays.append(schema.field_to_arrow(values, fc.field, task_ids=task_ids))
    target = schema.aggregated_schema([fc.field for fc in fields])
    if "golden" in result.columns:
        arrays.append(pa.array(result["golden"].to_numpy(dtype=bool), type=pa.bool_()))
        target = target.append(pa.field("golden", pa.bool_()))
    return pa.Table.from_arrays(arrays, schema=target)


def check_skill_arguments(type: object, skills: object, skill_id: object) -> None:
    """``skills=`` and ``answer_weight_skill_id=`` weigh answers: a skill-weighted method's only.

    Any other method would ignore them, so they are refused, before any work.
    """
    if skills is None and skill_id is None:
        return
    name = getattr(type, "value", type)
    try:
        row = get_method(name, what="type")
    except InvalidArgumentError:
        return  # the unknown type is refused with its choices where it is resolved
    if row.kind != "skill_weighted":
        raise InvalidArgumentError(
            f"skills= and answer_weight_skill_id= weigh answers in "
            f"{list(method_names(kind='skill_weighted'))} only; type={name!r} would ignore "
            "them: drop them."
        )


def aggregate_local(
    frame: pd.DataFrame,
    *,
    type: str,
    fields: str | Sequence[str] | None,
    skills: pd.DataFrame | pd.Series | None,
    task: Hashable,
    worker: Hashable,
    pool_id: str | int | None,
    output_spec: Mapping[str, Any] | None,
    status: str | Sequence[str] | None,
    skill_id: str | int | None,
    n_iter: int | None,
    tol: float | None,
    dtype_backend: DtypeBackend,
    golden: GoldenArgument | None = None,
    method_kwargs: Mapping[str, Any] | None = None,
    connection: Connection | None = None,
    inputs: object = None,
) -> pd.DataFrame:
    """Aggregate a responses frame pool by pool; see :meth:`TolokaAccessor.aggregate_locally`."""
    connection = connection or Connection()
    kind = check_local_type(type)
    options = check_method_kwargs(kind, method_kwargs, n_iter=n_iter, tol=tol)
    if golden is not None and not METHODS[kind].golden:
        raise InvalidArgumentError(
            f"golden= is supported by {list(method_names(golden=True))}, not by type={kind!r}."
        )
    schema.check_dtype_backend(dtype_backend)
    missing = [str(c) for c in (task, worker) if c not in frame.columns]
    if missing:
        raise MissingColumnsError(
            missing,
            list(frame.columns),
            purpose="to aggregate responses",
            arguments={str(task): "task", str(worker): "worker"},
        )
    statuses = check_statuses(status)
    check_input(frame, statuses)
    frame = text_ids(frame, task, worker)
    spec = frame_output_spec(frame, output_spec)
    extra = extra_columns(kind, options) if kind in TEXT_KINDS else []
    reserved = [task, worker, *schema.RESPONSES_META_COLUMNS, *extra]
    resolved = resolve_field_columns(frame, fields, type=kind, reserved=reserved, output_spec=spec)
    columns = [fc.column for fc in resolved]
    missing_extra = [str(c) for c in extra if c not in frame.columns]
    if missing_extra:
        raise MissingColumnsError(missing_extra, list(frame.columns), purpose=f"for {kind}")
    groups = pool_groups(frame, pool_id)
    pool_tasks = PoolTasks(connection, purpose="golden='pool' (or inputs= read from the pool)")
    skill_frame = None
    if METHODS[kind].kind == "skill_weighted":
        if skills is None and connection.given:
            skills = pool_skills(connection, skill_id)
        skill_frame = normalize_skills(skills, like=frame[worker], skill_id=skill_id)
    if METHODS[kind].kind != "skill_weighted":
        # The method checks its options' values first thing: run it once on no rows, so a
        # bad value is refused before any pool is aggregated (and even when there is none).
        no_rows = frame.iloc[:0]
        run_method(
            kind,
            no_rows[[task, worker, *columns, *extra]],
            no_rows,
            resolved,
            task=task,
            worker=worker,
            skills=None,
            n_iter=n_iter,
            tol=tol,
            golden=None,
            options=options,
        )
    tables = []
    dropped = Dropped()
    labels = resolve_golden(
        golden,
        frame,
        field=resolved[0].field.name,
        task=task,
        pools=[pool for pool, _ in groups],
        connection=connection,
        tasks=pool_tasks,
    )
    # after every other argument is checked (the tasks it may read are golden='pool''s too)
    plan, found = frame_inputs(
        frame,
        inputs,
        reserved=[*reserved, *columns],
        pools=[pool for pool, _ in groups],
        connection=connection,
        tasks=pool_tasks,
    )
    for pool, group in groups:
        accepted = select_rows(group, statuses, [])
        rows = accepted.dropna(subset=columns)[[task, worker, *columns, *extra]]
        dropped.count(group, accepted, rows)
        if skill_frame is not None:
            skilled = skill_frame.loc[skill_frame["value"].notna(), "worker_id"]
            dropped.unknown_worker += int((~rows[worker].isin(skilled)).sum())
        logger.info("aggregating %d response(s) of pool %s locally with %s", len(rows), pool, kind)
        result = run_method(
            kind,
            rows,
            accepted,
            resolved,
            task=task,
            worker=worker,
            skills=skill_frame,
            n_iter=n_iter,
            tol=tol,
            golden=None if labels is None else labels.anchors(pool),
            options=options,
        )
        table = to_table(result, pool, resolved, task)
        if plan is not None:
            held = [values_of(group, plan, task=task, pool=pool)] if plan.from_frame else []
            table = join_inputs(table, [*held, *found], plan, plan.schema(table.schema))
        tables.append(table)
    dropped.warn("aggregate_locally", len(frame), statuses, [fc.field.name for fc in resolved])
    target = schema.aggregated_schema([fc.field for fc in resolved])
    if golden is not None:
        target = target.append(pa.field("golden", pa.bool_()))
    if plan is not None:
        target = plan.schema(target)
    table = pa.concat_tables(tables) if tables else target.empty_table()
    table = table.take(
        pc.sort_indices(table, sort_keys=[("pool_id", "ascending"), ("task_id", "ascending")])
    )
    out = schema.to_pandas(table, dtype_backend=dtype_backend)
    out.attrs[ATTRS_KEY] = schema.make_provenance(
        "local_aggregation",
        type=kind,
        fields=[fc.field.name for fc in resolved],
        output_spec={fc.field.name: fc.field.to_spec() for fc in resolved},
        pool_ids=sorted(str(pool) for pool, _ in groups if pool is not None),
        **({} if plan is None else {"input_spec": plan.input_spec()}),
    )
    return out


def fit_local(
    frame: pd.DataFrame,
    *,
    type: str,
    fields: str | Sequence[str] | None,
    task: Hashable,
    worker: Hashable,
    pool_id: str | int | None,
    output_spec: Mapping[str, Any] | None,
    status: str | Sequence[str] | None,
    n_iter: int | None,
    tol: float | None,
    golden: GoldenArgument | None = None,
    method_kwargs: Mapping[str, Any] | None = None,
    purpose: str = "to fit a model",
    method: str = "fit_locally",
    connection: Connection | None = None,
) -> tuple[
    dict[str | None, AggregationModel],
    OutputField,
    list[tuple[str | None, pd.DataFrame]],
    GoldenLabels | None,
]:
    """Fit a method with a model pool by pool, on the rows :func:`aggregate_local` aggregates.

    Returns the models by pool id (None: a frame without pools), the field they
    were fitted on, each pool's rows of the wanted status, and the known solutions
    of the control tasks (``golden=``, resolved).
    """
    kind = check_local_type(type)
    row = METHODS[kind]
    if row.fit is None or row.kind != "categorical":
        raise InvalidArgumentError(
            f"type={kind!r} has no fitted model; use one of {list(method_names(fitted=True))}."
        )
    options = check_method_kwargs(kind, method_kwargs, n_iter=n_iter, tol=tol)
    if golden is not None and not row.golden:
        raise InvalidArgumentError(
            f"golden= is supported by {list(method_names(golden=True))}, not by type={kind!r}."
        )
    missing = [str(c) for c in (task, worker) if c not in frame.columns]
    if missing:
        raise MissingColumnsError(missing, list(frame.columns), purpose=purpose)
    statuses = check_statuses(status)
    check_input(frame, statuses)
    frame = text_ids(frame, task, worker)
    spec = frame_output_spec(frame, output_spec)
    reserved = [task, worker, *schema.RESPONSES_META_COLUMNS]
    (fc,) = resolve_field_columns(frame, fields, type=kind, reserved=reserved, output_spec=spec)
    labels = schema.label_space(fc.field)
    kwargs: dict[str, Any] = {"task": task, "worker": worker, "label": fc.column, "labels": labels}
    kwargs.update(_options(n_iter, tol), **options)
    # Option values are checked by a fit on no rows, before any pool is fitted.
    row.fit(frame.iloc[:0][[task, worker, fc.column]], **kwargs)
    groups = pool_groups(frame, pool_id)
    known = resolve_golden(
        golden,
        frame,
        field=fc.field.name,
        task=task,
        pools=[pool for pool, _ in groups],
        connection=connection or Connection(),
    )
    models: dict[str | None, AggregationModel] = {}
    accepted_rows = []
    dropped = Dropped()
    for pool, group in groups:
        accepted = select_rows(group, statuses, [])
        rows = accepted.dropna(subset=[fc.column])[[task, worker, fc.column]]
        dropped.count(group, accepted, rows)
        logger.info("fitting %s on %d response(s) of pool %s", kind, len(rows), pool)
        if known is not None:
            kwargs["golden"] = known.anchors(pool)
        models[pool] = row.fit(rows, **kwargs)
        accepted_rows.append((pool, accepted))
    dropped.warn(method, len(frame), statuses, [fc.field.name])
    return models, fc.field, accepted_rows, known


def model_quality(
    model: AggregationModel, pool: str | None, *, confusion: bool, pool_column: bool
) -> pd.DataFrame:
    """A fitted model's workers (or confusion matrices), after a ``pool_id`` column if asked."""
    if confusion:
        assert isinstance(model, DawidSkeneModel)  # confusion=True needs Dawid-Skene
        out = model.confusion_frame()
    else:
        out = model.worker_quality()
    if pool_column:  # one fit per pool, as aggregate_locally: say which
        out.insert(0, "pool_id", pd.array([pool] * len(out), dtype="string[pyarrow]"))
    return out


def worker_quality(
    frame: pd.DataFrame,
    *,
    type: str = "DAWID_SKENE",
    field: str | None,
    task: Hashable,
    worker: Hashable,
    pool_id: str | int | None = None,
    output_spec: Mapping[str, Any] | None,
    status: str | Sequence[str] | None,
    confusion: bool,
    n_iter: int | None,
    tol: float | None,
    golden: GoldenArgument | None = None,
    method_kwargs: Mapping[str, Any] | None = None,
    connection: Connection | None = None,
) -> pd.DataFrame:
    """Each worker's quality (or confusion matrices), pool by pool; see
    :meth:`TolokaAccessor.worker_quality`."""
    kind = check_local_type(type)
    if confusion and kind != "DAWID_SKENE":
        raise InvalidArgumentError(f"confusion=True needs type='DAWID_SKENE', not {kind!r}.")
    models, fitted, accepted, labels = fit_local(
        frame,
        type=kind,
        fields=field,
        task=task,
        worker=worker,
        pool_id=pool_id,
        output_spec=output_spec,
        status=status,
        n_iter=n_iter,
        tol=tol,
        golden=golden,
        method_kwargs=method_kwargs,
        purpose="to estimate worker quality",
        method="worker_quality",
        connection=connection,
    )
    pieces = []
    for (pool, model), (_, rows) in zip(models.items(), accepted, strict=True):
        out = model_quality(model, pool, confusion=confusion, pool_column="pool_id" in frame)
        if labels is not None and not confusion:
            observed = golden_worker_accuracy(
                rows, labels.known(pool), task=task, worker=worker, label=model.label_column
            )
            out = out.merge(observed, on=worker, how="left", sort=False)
            out["n_golden"] = out["n_golden"].fillna(0).astype(np.int64)
        pieces.append(out)
    if not pieces:  # no pool at all: the columns of one fitted on no rows
        empty, _, _, _ = fit_local(
            frame.iloc[:0].drop(columns="pool_id"),
            type=kind,
            fields=field,
            task=task,
            worker=worker,
            pool_id=None,
            output_spec=output_spec,
            status=status,
            n_iter=n_iter,
            tol=tol,
            method_kwargs=method_kwargs,
        )
        (model,) = empty.values()
        pieces = [model_quality(model, None, confusion=confusion, pool_column=True)]
        if golden is not None and not confusion:
            pieces[0]["n_golden"] = pd.Series([], dtype=np.int64)
            pieces[0]["golden_accuracy"] = pd.Series([], dtype=np.float64)
    out = pd.concat(pieces, ignore_index=True) if len(pieces) != 1 else pieces[0]
    out.attrs[ATTRS_KEY] = schema.make_provenance(
        "worker_quality",
        type=kind,
        fields=[fitted.name],
        output_spec={fitted.name: fitted.to_spec()},
        pool_ids=sorted(str(pool) for pool in models if pool is not None),
    )
    return out
