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
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .._frame.methods import check_local_type
from .._read.args import STATUS_ALIASES, STATUSES, check_statuses, input_names
from ..aggregation import (
    AggregationModel,
    DawidSkeneModel,
)
from ..aggregation._encoding import check_unique_columns, user_stacklevel
from ..aggregation._methods import method_options
from ..aggregation._registry import METHODS, method_names
from ..aggregation.report import golden_worker_accuracy
from ..errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError
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
from .task_inputs import (
    InputsPlan,
    join_inputs,
    needs_tasks,
    plan_inputs,
    served_spec,
    tasks_found,
    values_of,
    with_inputs,
)

__all__ = [
    "FrameInputs",
    "aggregate_local",
    "attach_inputs",
    "fit_local",
    "inputs_for",
    "model_quality",
    "worker_quality",
]

logger = logging.getLogger(__name__)


def select_rows(
    frame: pd.DataFrame, status: tuple[str, ...] | None, columns: list[Hashable]
) -> pd.DataFrame:
    """Rows the server would aggregate: wanted status (when known) and an answer in every field.

    The results export's statuses (``APPROVED``) count as the API's (``ACCEPTED``).
    """
    if status is not None and "status" in frame.columns:
        frame = frame[status_mask(frame, status)]
    return frame.dropna(subset=columns)


def status_mask(frame: pd.DataFrame, status: tuple[str, ...] | None) -> np.ndarray:
    """Which rows :func:`select_rows` keeps for their status (all without a filter or column)."""
    if status is None or "status" not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    return _status_values(frame).isin(list(status)).to_numpy(dtype=bool, na_value=False)


def _status_values(frame: pd.DataFrame) -> pd.Series:
    values = frame["status"]
    if isinstance(values, pd.DataFrame):  # pragma: no cover - refused by check_input first
        raise InvalidArgumentError("responses has several columns named 'status'.")
    return values.astype(object).replace(STATUS_ALIASES)


def check_input(frame: pd.DataFrame, status: tuple[str, ...] | None) -> None:
    """What no frame shape may turn into a bare exception: duplicate columns, unknown statuses.

    Raises
    ------
    InvalidArgumentError
        For columns sharing a name, or a ``status`` column (filtered by
        ``status=``) none of whose values is a known status.
    """
    check_unique_columns(frame, argument="the frame")
    if status is None or "status" not in frame.columns or frame.empty:
        return
    present = _status_values(frame).dropna()
    if len(present) and not present.isin(list(STATUSES)).any():
        seen = sorted(map(str, present.unique()[:10]))
        raise InvalidArgumentError(
            f"The status column holds no known status (it holds {seen}), so status={list(status)} "
            f"would keep no row: statuses are {list(STATUSES)} (the results export's "
            f"{list(STATUS_ALIASES)} count as {[STATUS_ALIASES[a] for a in STATUS_ALIASES]}). "
            "Fix the column, or pass status=None to use every row."
        )


@dataclass
class Dropped:
    """Rows left out of one call, by reason, for its one :class:`DroppedResponsesWarning`."""

    status: int = 0
    missing: int = 0
    unknown_worker: int = 0

    def count(self, group: pd.DataFrame, accepted: pd.DataFrame, rows: pd.DataFrame) -> None:
        self.status += len(group) - len(accepted)
        self.missing += len(accepted) - len(rows)

    def warn(
        self, method: str, total: int, statuses: tuple[str, ...] | None, fields: list[str]
    ) -> None:
        reasons = []
        if self.status:
            reasons.append(f"{self.status} not of status {list(statuses or ())}")
        if self.missing:
            reasons.append(f"{self.missing} without an answer in {fields}")
        if self.unknown_worker:
            reasons.append(f"{self.unknown_worker} from workers without a skill")
        if not reasons:
            return
        dropped = self.status + self.missing + self.unknown_worker
        warnings.warn(
            DroppedResponsesWarning(
                f"{method}: dropped {dropped} of {total} response(s): {', '.join(reasons)}."
            ),
            stacklevel=user_stacklevel(),
        )


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


def text_ids(frame: pd.DataFrame, *columns: Hashable) -> pd.DataFrame:
    """The frame with its task and worker ids read as the server reads them.

    ``1``, ``"1"`` and ``1.0`` are one task (one worker). Only a column that
    mixes kinds of values (text and numbers) can name one id twice; the others
    are left as they are (no copy when none mixes).
    """
    mixed = [
        c
        for c in columns
        if frame[c].dtype == object
        and pd.api.types.infer_dtype(frame[c], skipna=True).startswith("mixed")
    ]
    if not mixed:
        return frame
    out = frame.copy(deep=False)
    for c in mixed:
        out[c] = pd.Series(
            pd.arrays.ArrowExtensionArray(schema.id_array(frame[c])), index=frame.index
        )
    return out


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


def pool_groups(
    frame: pd.DataFrame, pool_id: str | int | None
) -> list[tuple[str | None, pd.DataFrame]]:
    if "pool_id" not in frame.columns:
        meta = schema.get_provenance(frame)
        default = meta.get("pool_id") if meta is not None else None
        name = pool_id if pool_id is not None else default
        return [(None if name is None else schema.id_array([name])[0].as_py(), frame)]
    pools = schema.id_array(frame["pool_id"])
    if pool_id is not None:
        wanted = schema.id_array([pool_id])[0]
        rows = pc.fill_null(pc.equal(pools, wanted), False).to_numpy(zero_copy_only=False)
        return [(wanted.as_py(), frame[rows])]
    if pools.null_count:
        first = pc.index(pools.is_null(), True).as_py()
        raise InvalidArgumentError(
            f"The pool_id column has {pools.null_count} missing value(s) (first in row {first}); "
            "every response needs its pool: fill or drop those rows, or drop the column and pass "
            "pool_id= to name the one pool."
        )
    names = sorted(set(pools.to_pylist()))
    return [(p, frame[pc.equal(pools, p).to_numpy(zero_copy_only=False)]) for p in names]


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
    plan, found = frame_inputs(
        frame,
        inputs,
        reserved=[*reserved, *columns],
        pools=[pool for pool, _ in groups],
        connection=connection,
        tasks=pool_tasks,
    )
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


def frame_inputs(
    frame: pd.DataFrame,
    inputs: object,
    *,
    reserved: Sequence[Hashable],
    pools: Sequence[str | None],
    connection: Connection,
    tasks: PoolTasks,
) -> tuple[InputsPlan | None, list[pa.Table]]:
    """``inputs=`` checked, and the input values read from the pools' tasks when the frame
    lacks some and a connection is given (before any aggregation)."""
    if not (connection.given and needs_tasks(frame, inputs, reserved=reserved)):
        return plan_inputs(frame, inputs, reserved=reserved), []
    read = tasks.read(pools)
    plan = plan_inputs(frame, inputs, reserved=reserved, served=served_spec(read), can_read=True)
    if plan is None or not plan.from_tasks:
        return plan, []
    return plan, [tasks_found(read, plan.from_tasks)]


@dataclass(frozen=True)
class FrameInputs:
    """``inputs=`` of a method whose result is a pandas frame (area selection): the plan
    and every task's values, found before the work."""

    plan: InputsPlan
    found: list[pa.Table]


def inputs_for(
    frame: pd.DataFrame,
    inputs: object,
    *,
    task: Hashable,
    worker: Hashable,
    columns: Sequence[Hashable],
    pool_id: str | int | None,
    connection: Connection,
) -> FrameInputs | None:
    """``inputs=`` checked against the frame (answers in ``columns``), and the values of
    each pool's tasks taken (or read, with a connection), before any aggregation."""
    if input_names(inputs) is False:
        return None
    frame = text_ids(frame, task, worker)
    groups = pool_groups(frame, pool_id)
    plan, found = frame_inputs(
        frame,
        inputs,
        reserved=[task, worker, *schema.RESPONSES_META_COLUMNS, *columns],
        pools=[pool for pool, _ in groups],
        connection=connection,
        tasks=PoolTasks(connection, purpose="inputs= read from the pool"),
    )
    assert plan is not None
    if plan.from_frame and groups:
        held = [values_of(group, plan, task=task, pool=pool) for pool, group in groups]
        found = [pa.concat_tables(held), *found]
    return FrameInputs(plan, found)


def attach_inputs(
    out: pd.DataFrame, prepared: FrameInputs | None, *, dtype_backend: DtypeBackend
) -> pd.DataFrame:
    """A result frame (``pool_id``, ``task_id``, ...) with the input columns of its tasks,
    its provenance recording their input spec."""
    if prepared is None:
        return out
    result = with_inputs(out, prepared.found, prepared.plan, dtype_backend=dtype_backend)
    result.attrs = {ATTRS_KEY: {**out.attrs[ATTRS_KEY], "input_spec": prepared.plan.input_spec()}}
    return result


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
