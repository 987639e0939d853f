"""Per-partition work of local aggregation: the rows to aggregate, a cheap survey, the pandas run.

The survey (:func:`survey`) reads each partition once and returns, per pool,
the smallest and largest task id, the row count and (for skill weighting)
the distinct answers: a few values per pool and partition. From it the
driver decides whether every task already lies wholly in one partition
(:func:`tasks_are_whole`) and how many options each field of each pool has.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .._frame.inputs import FieldColumn
from .._frame.local import run_method, to_table
from .._frame.rows import Dropped, pool_groups, select_rows, text_ids
from ..aggregation._encoding import build_result
from ..schema import DtypeBackend

__all__ = [
    "ROW_ORDER",
    "PoolSurvey",
    "RowSpec",
    "aggregate_partition",
    "counted",
    "dropped_of",
    "empty_result",
    "n_responses",
    "pool_rows",
    "survey",
    "tasks_are_whole",
]

logger = logging.getLogger(__name__)

#: A column the shuffle by pool adds: each row's place in the frame before it (int64).
ROW_ORDER = "__pandas_toloka_row_order__"


@dataclass(frozen=True)
class RowSpec:
    """Which rows and columns local aggregation reads, as the pandas accessor selects them."""

    task: Hashable
    worker: Hashable
    fields: tuple[FieldColumn, ...]
    status: tuple[str, ...] | None
    pool_id: str | None  # filter of a pool_id column, or the name of a frame without one
    extra: tuple[Hashable, ...] = ()  # other columns the method reads (an embedding)

    @property
    def columns(self) -> list[Hashable]:
        return [fc.column for fc in self.fields]


@dataclass
class PoolSurvey:
    """What one partition holds of one pool.

    ``n_rows`` responses are aggregated; ``n_status`` were left out for their
    status, ``n_missing`` for a missing answer and ``n_unknown_worker`` (skill
    weighting) for a worker without a skill: the counts of the one
    :class:`DroppedResponsesWarning` the driver gives (:func:`dropped_of`).
    """

    n_rows: int = 0
    task_min: Any = None
    task_max: Any = None
    answers: dict[Hashable, set[Any]] = field(default_factory=dict)
    n_status: int = 0
    n_missing: int = 0
    n_unknown_worker: int = 0


def pool_rows(
    frame: pd.DataFrame, spec: RowSpec
) -> list[tuple[str | None, int, pd.DataFrame, pd.DataFrame]]:
    """``(pool, n, accepted, rows)`` per pool of a partition: its ``n`` rows, those of the
    wanted status, then those with answers."""
    out = []
    if ROW_ORDER in frame.columns:  # shuffled by pool: the rows back in the frame's order
        frame = frame.sort_values(ROW_ORDER, kind="stable").drop(columns=ROW_ORDER)
    frame = text_ids(frame, spec.task, spec.worker)  # 1, "1" and 1.0 name one id, as in pandas
    for pool, group in pool_groups(frame, spec.pool_id):
        accepted = select_rows(group, spec.status, [])
        rows = accepted.dropna(subset=spec.columns)[
            [spec.task, spec.worker, *spec.columns, *spec.extra]
        ]
        out.append((pool, len(group), accepted, rows))
    return out


def counted(entry: PoolSurvey, n: int, accepted: pd.DataFrame, rows: pd.DataFrame) -> PoolSurvey:
    """``entry`` with the rows of the pool left out by status and for a missing answer."""
    entry.n_status = n - len(accepted)
    entry.n_missing = len(accepted) - len(rows)
    return entry


def dropped_of(surveys: Sequence[dict[Any, PoolSurvey]]) -> Dropped:
    """The rows every partition left out, for the driver's :class:`DroppedResponsesWarning`."""
    dropped = Dropped()
    for part in surveys:
        for entry in part.values():
            dropped.status += entry.n_status
            dropped.missing += entry.n_missing
            dropped.unknown_worker += entry.n_unknown_worker
    return dropped


def n_responses(surveys: Sequence[dict[Any, PoolSurvey]]) -> int:
    """The responses of the pools surveyed (aggregated or left out)."""
    return sum(e.n_rows + e.n_status + e.n_missing for part in surveys for e in part.values())


def survey(
    frame: pd.DataFrame,
    spec: RowSpec,
    *,
    with_answers: bool,
    skilled: frozenset[Any] | None = None,
) -> dict[Any, PoolSurvey]:
    """Per pool of a partition: rows, task range, what was left out and (optionally) the
    distinct accepted answers and the responses of workers not in ``skilled``."""
    out: dict[Any, PoolSurvey] = {}
    for pool, n, accepted, rows in pool_rows(frame, spec):
        entry = counted(PoolSurvey(n_rows=len(rows)), n, accepted, rows)
        if skilled is not None:
            entry.n_unknown_worker = int((~rows[spec.worker].isin(list(skilled))).sum())
        if len(rows):
            tasks = rows[spec.task]
            try:
                entry.task_min, entry.task_max = tasks.min(), tasks.max()
            except TypeError:  # unorderable ids: the driver then shuffles
                entry.task_min = entry.task_max = None
        if with_answers:
            entry.answers = {c: set(accepted[c].dropna().unique().tolist()) for c in spec.columns}
        out[pool] = entry
    return out


def tasks_are_whole(surveys: Sequence[dict[Any, PoolSurvey]]) -> bool:
    """Whether no task of any pool has rows in two partitions (from the task ranges)."""
    ranges: dict[Any, list[tuple[Any, Any]]] = {}
    for part in surveys:
        for pool, entry in part.items():
            if entry.n_rows == 0:
                continue
            if entry.task_min is None:
                return False
            ranges.setdefault(pool, []).append((entry.task_min, entry.task_max))
    try:
        for spans in ranges.values():
            spans.sort(key=lambda span: span[0])
            for (_, high), (low, _) in zip(spans, spans[1:]):
                if not high < low:
                    return False
    except TypeError:
        return False
    return True


def empty_result(fields: Sequence[FieldColumn], *, golden: bool = False) -> pa.Table:
    """The typed empty result, dictionary columns carrying their allowed values (and a bool
    ``golden`` column last when ``golden=`` was given)."""
    target = schema.aggregated_schema([fc.field for fc in fields])
    if golden:
        target = target.append(pa.field("golden", pa.bool_()))
    arrays = []
    for column in target:
        allowed = next(
            (
                fc.field.allowed_values
                for fc in fields
                if schema.result_column_name(fc.field.name) == column.name
            ),
            None,
        )
        if pa.types.is_dictionary(column.type) and allowed:
            arrays.append(
                pa.DictionaryArray.from_arrays(
                    pa.array([], type=column.type.index_type),
                    pa.array(list(allowed), type=column.type.value_type),
                )
            )
        else:
            arrays.append(pa.array([], type=column.type))
    return pa.Table.from_arrays(arrays, schema=target)


def finish(
    tables: list[pa.Table],
    fields: Sequence[FieldColumn],
    dtype_backend: DtypeBackend,
    *,
    golden: bool = False,
) -> pd.DataFrame:
    """Concatenate result tables, sort by pool and task id, convert as the pandas accessor does."""
    base = empty_result(fields, golden=golden)
    table = pa.concat_tables([base, *tables]).unify_dictionaries() if tables else base
    table = table.combine_chunks()
    table = table.take(
        pc.sort_indices(table, sort_keys=[("pool_id", "ascending"), ("task_id", "ascending")])
    )
    out = schema.to_pandas(table, dtype_backend=dtype_backend)
    like = schema.to_pandas(base, dtype_backend=dtype_backend)
    for column, dtype in like.dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype) and out[column].dtype != dtype:
            out[column] = out[column].astype(dtype)
    return out


def aggregate_partition(
    frame: pd.DataFrame,
    *,
    kind: str,
    spec: RowSpec,
    pools: frozenset[Any] | None,
    skills: pd.DataFrame | None,
    n_options: dict[Any, dict[Hashable, int]],
    n_iter: int | None,
    tol: float | None,
    dtype_backend: DtypeBackend,
    golden: Mapping[Any, Any] | pd.Series | None = None,
    options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Aggregate the pools of one partition whose tasks all lie in it, with the pandas functions.

    ``pools`` limits the pools aggregated (None: all); ``n_options`` gives skill
    weighting the pool-wide ``Y`` of each field, counted over all partitions.
    ``n_iter``/``tol`` None leave the method's defaults; ``golden`` and ``options``
    (``method_kwargs=``) go to the method as in pandas.
    """
    tables = []
    for pool, _, accepted, rows in pool_rows(frame, spec):
        if pools is not None and pool not in pools:
            continue
        result = run_method(
            kind,
            rows,
            accepted,
            list(spec.fields),
            task=spec.task,
            worker=spec.worker,
            skills=skills,
            n_iter=n_iter,
            tol=tol,
            golden=golden,
            options=options,
            n_options=n_options.get(pool),
        )
        tables.append(to_table(result, pool, list(spec.fields), spec.task))
    return finish(tables, spec.fields, dtype_backend, golden=golden is not None)


def result_table(
    pool: Any, spec: RowSpec, tasks: pd.Index, codes: Any, confidence: Any, *, labels: pd.Index
) -> pa.Table:
    """A fitted block's answers as a typed result table."""
    (fc,) = spec.fields
    frame = build_result(spec.task, tasks, {fc.column: labels.take(codes)}, confidence)
    return to_table(frame, pool, list(spec.fields), spec.task)
