"""Aggregate raw responses on this machine, with the server's algorithms and output schema.

The glue between a responses frame (from :func:`read_responses` or any
crowd-kit style frame) and :mod:`pandas_toloka.aggregation`. It feeds the
algorithms exactly what the bundled server feeds them — the pool's ACCEPTED
responses with an answer, the label space of :func:`schema.label_space` for
Dawid–Skene, ``Y`` from :func:`schema.options_count` for skill weighting — and
types the result with :func:`schema.aggregated_schema`, so that the result
equals :func:`read_aggregated_solutions` on the same pool.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import schema
from .aggregation import (
    DawidSkeneModel,
    dawid_skene,
    fit_dawid_skene,
    majority_vote,
    weighted_dynamic_overlap,
)
from .errors import InvalidArgumentError, MissingColumnsError
from .schema import OutputField

__all__ = [
    "LOCAL_TYPES",
    "FieldColumn",
    "aggregate_local",
    "fit_worker_model",
    "infer_field",
    "normalise_skills",
    "resolve_field_columns",
]

logger = logging.getLogger(__name__)

#: Aggregation types :func:`aggregate_local` runs.
LOCAL_TYPES = ("DAWID_SKENE", "WEIGHTED_DYNAMIC_OVERLAP", "MAJORITY_VOTE")
_ATTRS_KEY = "toloka"
_ACCEPTED = "ACCEPTED"


@dataclass(frozen=True)
class FieldColumn:
    """An output field and the frame column holding its answers."""

    field: OutputField
    column: Hashable


def check_type(type: str) -> str:
    """Validate an aggregation type for local aggregation."""
    kind = str(type).upper() if isinstance(type, str) else type
    if kind not in LOCAL_TYPES:
        raise InvalidArgumentError(f"type must be one of {list(LOCAL_TYPES)}, got {type!r}.")
    return str(kind)


def frame_output_spec(
    frame: pd.DataFrame, output_spec: Mapping[str, Any] | None
) -> Mapping[str, Any] | None:
    """The output spec given, else the one :func:`read_responses` left in ``attrs``."""
    if output_spec is not None:
        return output_spec
    meta = frame.attrs.get(_ATTRS_KEY)
    if isinstance(meta, Mapping) and isinstance(meta.get("output_spec"), Mapping):
        return meta["output_spec"]
    return None


def infer_field(series: pd.Series, name: str) -> OutputField:
    """An :class:`OutputField` for a column without an output spec, from its dtype.

    Categoricals (pandas ``category`` or Arrow dictionary) of strings become a
    STRING field whose ``allowed_values`` are the categories; booleans BOOLEAN;
    integers INTEGER; floats FLOAT; text STRING. ``Y`` of the unbounded kinds
    then falls back to the number of distinct answers observed.
    """
    dtype = series.dtype
    categories: list[Any] | None = None
    if isinstance(dtype, pd.CategoricalDtype):
        categories = list(dtype.categories)
    elif isinstance(dtype, pd.ArrowDtype) and pa.types.is_dictionary(dtype.pyarrow_dtype):
        data = pa.array(series.array)
        if isinstance(data, pa.ChunkedArray):
            data = data.combine_chunks() if data.num_chunks else pa.array([], type=data.type)
        categories = data.dictionary.to_pylist()
    if categories is not None:
        if categories and all(isinstance(c, str) for c in categories):
            return OutputField(name, "STRING", allowed_values=tuple(categories))
        series = series.astype(object)
        dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return OutputField(name, "BOOLEAN")
    if pd.api.types.is_integer_dtype(dtype):
        return OutputField(name, "INTEGER")
    if pd.api.types.is_float_dtype(dtype):
        return OutputField(name, "FLOAT")
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        kind = pd.api.types.infer_dtype(series, skipna=True)
        mapped = {
            "string": "STRING",
            "empty": "STRING",
            "integer": "INTEGER",
            "floating": "FLOAT",
            "mixed-integer-float": "FLOAT",
            "boolean": "BOOLEAN",
        }.get(kind)
        if mapped is not None:
            return OutputField(name, mapped)
    raise InvalidArgumentError(
        f"Cannot aggregate column {name!r} of dtype {dtype}: answers must be strings, "
        "integers, floats or booleans. Pass output_spec= to declare its type."
    )


def resolve_field_columns(
    frame: pd.DataFrame,
    fields: str | Sequence[str] | None,
    *,
    type: str,
    reserved: Sequence[Hashable],
    output_spec: Mapping[str, Any] | None,
) -> list[FieldColumn]:
    """Which fields to aggregate, their types and their columns.

    With an output spec (given or in ``attrs``), a field ``f`` lives in the
    column :func:`schema.result_column_name` names in a responses frame
    (``output_values.f`` when ``f`` clashes with a metadata column), else in
    column ``f``. ``fields=None`` takes the spec's only aggregatable field, as
    :func:`read_aggregated_solutions` does, or, without a spec, the only column
    that is not a task, worker or metadata column.
    """
    spec = schema.parse_output_spec(output_spec) if output_spec is not None else None
    if fields is None:
        if spec is not None:
            names = [f.name for f in schema.default_aggregation_fields(spec)]
        else:
            names = [str(c) for c in frame.columns if c not in reserved]
        if len(names) > 1:  # as read_aggregated_solutions: no guessing between fields
            raise InvalidArgumentError(
                f"There are several fields that can be aggregated: {names}; choose with fields=..."
            )
        if not names:
            raise InvalidArgumentError("There is no field to aggregate; pass fields=.")
    else:
        names = [fields] if isinstance(fields, str) else [str(f) for f in fields]
        if not names or len(set(names)) != len(names):
            raise InvalidArgumentError(f"fields= must name distinct fields, got {fields!r}.")
        if type != "WEIGHTED_DYNAMIC_OVERLAP" and len(names) != 1:
            raise InvalidArgumentError(f"{type} aggregates exactly one field, got fields={names}.")
    resolved: list[FieldColumn] = []
    for name in names:
        prefixed = schema.result_column_name(name, schema.RESPONSES_META_COLUMNS)
        column = prefixed if spec is not None and prefixed in frame.columns else name
        if column not in frame.columns:
            raise MissingColumnsError([column], list(frame.columns), purpose=f"for field {name!r}")
        if spec is not None:
            if name not in spec:
                raise InvalidArgumentError(
                    f"Field {name!r} is not in the output spec; its fields are {list(spec)}."
                )
            field = spec[name]
            if not field.is_aggregatable:
                raise InvalidArgumentError(
                    f"Field {name!r} of type {field.type} cannot be aggregated."
                )
        else:
            field = infer_field(frame[column], name)
        resolved.append(FieldColumn(field, column))
    return resolved


def normalise_skills(
    skills: pd.DataFrame | pd.Series | None,
    *,
    like: pd.Series,
    skill_id: str | None = None,
) -> pd.DataFrame:
    """Skills as a ``worker_id``/``value`` frame whose ids have the workers' dtype.

    Parameters
    ----------
    skills : DataFrame or Series
        A frame with ``worker_id`` and ``value`` (0..100) columns and optionally
        ``skill_id`` (then ``skill_id=`` picks one skill when there are several),
        or a Series of values indexed by worker.
    like : Series
        The responses' worker column, whose dtype the ids take.
    """
    if skills is None:
        raise InvalidArgumentError(
            "WEIGHTED_DYNAMIC_OVERLAP needs skills=: a DataFrame with worker_id and value "
            "(0..100) columns, or a Series of values indexed by worker."
        )
    if isinstance(skills, pd.Series):
        frame = pd.DataFrame(
            {"worker_id": skills.index.to_numpy(dtype=object), "value": skills.to_numpy()}
        )
    elif isinstance(skills, pd.DataFrame):
        needed = ["worker_id", "value"]
        missing = [c for c in needed if c not in skills.columns]
        if missing:
            raise MissingColumnsError(missing, list(skills.columns), purpose="in skills=")
        frame = skills
        if "skill_id" in skills.columns:
            skill_ids = schema.id_array(skills["skill_id"])
            ids = sorted(set(skill_ids.drop_null().to_pylist()))
            if skill_id is not None:
                chosen = pc.fill_null(pc.equal(skill_ids, schema.id_array([skill_id])[0]), False)
                frame = skills[chosen.to_numpy(zero_copy_only=False)]
                if frame.empty:
                    raise InvalidArgumentError(
                        f"skills= has no value of skill_id={skill_id!r}; its skills are {ids}."
                    )
            elif len(ids) > 1:
                raise InvalidArgumentError(
                    f"skills= holds several skills {ids}; pass skill_id= to choose one."
                )
        frame = frame[needed]
    else:
        raise InvalidArgumentError(
            f"skills must be a DataFrame or a Series, got {type(skills).__name__}."
        )
    if frame.empty:
        raise InvalidArgumentError(
            "skills= is empty: WEIGHTED_DYNAMIC_OVERLAP weighs each answer by its worker's skill, "
            "so give at least one worker's value (0..100)."
        )
    try:
        workers = frame["worker_id"].astype(like.dtype)
    except (TypeError, ValueError) as exc:
        workers = frame["worker_id"].astype(str)
        if like.dtype != object and not pd.api.types.is_string_dtype(like.dtype):
            raise InvalidArgumentError(
                f"The skills' worker ids cannot be converted to the workers' dtype {like.dtype}: {exc}"
            ) from exc
    return pd.DataFrame({"worker_id": workers.array, "value": frame["value"].array})


def _select_rows(
    frame: pd.DataFrame, status: str | Sequence[str] | None, columns: list[Hashable]
) -> pd.DataFrame:
    """Rows the server would aggregate: wanted status (when known) and an answer in every field."""
    if status is not None and "status" in frame.columns:
        wanted = [status] if isinstance(status, str) else list(status)
        frame = frame[frame["status"].isin(wanted).to_numpy(dtype=bool, na_value=False)]
    return frame.dropna(subset=columns)


def _run(
    kind: str,
    rows: pd.DataFrame,
    accepted: pd.DataFrame,
    fields: list[FieldColumn],
    *,
    task: Hashable,
    worker: Hashable,
    skills: pd.DataFrame | None,
    n_iter: int,
    tol: float,
) -> pd.DataFrame:
    columns = [fc.column for fc in fields]
    if kind == "WEIGHTED_DYNAMIC_OVERLAP":
        assert skills is not None
        # Y from the pool's accepted answers to each field, as the server counts them.
        n_options = {
            fc.column: schema.options_count(fc.field, int(accepted[fc.column].nunique()))
            for fc in fields
        }
        return weighted_dynamic_overlap(
            rows,
            skills,
            fields=columns,
            n_options=n_options,
            task=task,
            worker=worker,
            skill_worker="worker_id",
            skill_value="value",
        )
    labels = schema.label_space(fields[0].field)
    if kind == "DAWID_SKENE":
        return dawid_skene(
            rows, task=task, worker=worker, label=columns[0], labels=labels, n_iter=n_iter, tol=tol
        )
    return majority_vote(rows, task=task, worker=worker, label=columns[0], labels=labels)


def _to_table(
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
    return pa.Table.from_arrays(
        arrays, schema=schema.aggregated_schema([fc.field for fc in fields])
    )


def _pool_groups(frame: pd.DataFrame, pool_id: str | None) -> list[tuple[str | None, pd.DataFrame]]:
    if "pool_id" not in frame.columns:
        meta = frame.attrs.get(_ATTRS_KEY)
        default = meta.get("pool_id") if isinstance(meta, Mapping) else None
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
    pool_id: str | None,
    output_spec: Mapping[str, Any] | None,
    status: str | Sequence[str] | None,
    skill_id: str | None,
    n_iter: int,
    tol: float,
    dtype_backend: str,
) -> pd.DataFrame:
    """Aggregate a responses frame pool by pool; see :meth:`TolokaAccessor.aggregate_locally`."""
    kind = check_type(type)
    schema.check_dtype_backend(dtype_backend)
    missing = [str(c) for c in (task, worker) if c not in frame.columns]
    if missing:
        raise MissingColumnsError(missing, list(frame.columns), purpose="to aggregate responses")
    spec = frame_output_spec(frame, output_spec)
    reserved = [task, worker, *schema.RESPONSES_META_COLUMNS]
    resolved = resolve_field_columns(frame, fields, type=kind, reserved=reserved, output_spec=spec)
    columns = [fc.column for fc in resolved]
    skill_frame = (
        normalise_skills(skills, like=frame[worker], skill_id=skill_id)
        if kind == "WEIGHTED_DYNAMIC_OVERLAP"
        else None
    )
    tables = []
    for pool, group in _pool_groups(frame, pool_id):
        accepted = _select_rows(group, status, [])
        rows = accepted.dropna(subset=columns)[[task, worker, *columns]]
        logger.info("aggregating %d response(s) of pool %s locally with %s", len(rows), pool, kind)
        result = _run(
            kind,
            rows,
            accepted,
            resolved,
            task=task,
            worker=worker,
            skills=skill_frame,
            n_iter=n_iter,
            tol=tol,
        )
        tables.append(_to_table(result, pool, resolved, task))
    target = schema.aggregated_schema([fc.field for fc in resolved])
    table = pa.concat_tables(tables) if tables else target.empty_table()
    table = table.take(
        pc.sort_indices(table, sort_keys=[("pool_id", "ascending"), ("task_id", "ascending")])
    )
    out = schema.to_pandas(table, dtype_backend=dtype_backend)
    out.attrs[_ATTRS_KEY] = {
        "kind": "aggregated",
        "type": kind,
        "fields": [fc.field.name for fc in resolved],
        "output_spec": {fc.field.name: fc.field.to_spec() for fc in resolved},
    }
    return out


def fit_worker_model(
    frame: pd.DataFrame,
    *,
    field: str | None,
    task: Hashable,
    worker: Hashable,
    output_spec: Mapping[str, Any] | None,
    status: str | Sequence[str] | None,
    n_iter: int,
    tol: float,
) -> DawidSkeneModel:
    """Fit Dawid–Skene on a responses frame, as :func:`aggregate_local` would, and return the model."""
    missing = [str(c) for c in (task, worker) if c not in frame.columns]
    if missing:
        raise MissingColumnsError(
            missing, list(frame.columns), purpose="to estimate worker quality"
        )
    spec = frame_output_spec(frame, output_spec)
    reserved = [task, worker, *schema.RESPONSES_META_COLUMNS]
    (fc,) = resolve_field_columns(
        frame, field, type="DAWID_SKENE", reserved=reserved, output_spec=spec
    )
    rows = _select_rows(frame, status, [fc.column])[[task, worker, fc.column]]
    return fit_dawid_skene(
        rows,
        task=task,
        worker=worker,
        label=fc.column,
        labels=schema.label_space(fc.field),
        n_iter=n_iter,
        tol=tol,
    )
