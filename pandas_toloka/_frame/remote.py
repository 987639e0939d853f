"""Server-side aggregation of a frame's tasks: fields, a strategy per pool, answers joined back.

:func:`aggregate_frame` (behind ``df.toloka.aggregate``) collects the distinct
``(pool_id, task_id)`` pairs of a frame, :func:`aggregate_on_server` resolves
the fields every pool must type alike and runs the strategy chosen per pool
(:mod:`.strategies`: per-task calls or one operation per pool), and
the answers are joined back onto the frame's rows.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .._read.args import check_aggregation_fields, field_names, id_text, resolve_fields
from .._read.progress import count_bar
from ..aggregation._encoding import user_stacklevel
from ..client import AggregationType, Client
from ..errors import (
    InvalidArgumentError,
    MissingAggregatesWarning,
    MissingColumnsError,
)
from ..schema import DtypeBackend, OutputField
from .strategies import check_strategy, choose_strategy, run_by_pool, run_by_task

__all__ = [
    "MissingAggregatesWarning",
    "ServerAggregation",
    "aggregate_frame",
    "aggregate_on_server",
]

logger = logging.getLogger(__name__)

_NO_ANSWER = "the server has no accepted answer for the task (or the task is not in the pool)"
_NOT_IN_RESULTS = (
    "the task is not in the pool's aggregation results (no accepted answer, or not in the pool)"
)


@dataclass
class ServerAggregation:
    """The outcome of :func:`aggregate_on_server`.

    Attributes
    ----------
    table : pyarrow.Table
        Aggregated solutions with :func:`schema.aggregated_schema` of ``fields``,
        one row per (pool, task) that got an answer.
    fields : list of OutputField
    strategies : dict
        Pool id -> the strategy used for it.
    missing : dict
        Reason -> number of distinct tasks without an answer for that reason.
    requests : int
        HTTP requests issued for per-task aggregation.
    skill : str or None
        The skill answers were weighed by (None for Dawid-Skene).
    """

    table: pa.Table
    fields: list[OutputField]
    strategies: dict[str, str]
    missing: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    skill: str | None = None


def _spec_fields(
    client: Client,
    pools: Sequence[str],
    kind: AggregationType,
    names: list[str] | None,
    skill: str | None,
) -> list[OutputField]:
    """Resolve the fields with the reader's rules; every pool must type them the same way."""
    check_aggregation_fields(kind, names, skill)
    chosen: list[OutputField] | None = None
    for pool in pools:
        fields = resolve_fields(schema.parse_output_spec(client.get_output_spec(pool)), names, pool)
        if chosen is None:
            chosen = fields
            names = [f.name for f in fields]
        elif [f.arrow_type for f in fields] != [f.arrow_type for f in chosen]:
            raise InvalidArgumentError(
                f"Pool {pool!r} types the fields {names} differently from pool {pools[0]!r}; "
                "aggregate pools of different projects separately."
            )
    assert chosen is not None
    return chosen


def aggregate_on_server(
    client: Client,
    keys: dict[str, list[str]],
    *,
    type: str | AggregationType,
    fields: str | Sequence[str] | None,
    answer_weight_skill_id: str | int | None,
    strategy: str,
    max_workers: int,
    progress: bool,
    taken: Sequence[Hashable] = (),
) -> ServerAggregation:
    """Aggregate the given tasks of each pool on the server.

    Parameters
    ----------
    client : Client
    keys : dict
        Pool id -> its distinct task ids.
    type, fields, answer_weight_skill_id
        As for :func:`read_aggregated_solutions`.
    strategy : {'auto', 'by_task', 'by_pool'}
    max_workers : int
        Concurrent per-task requests.
    progress : bool
        Show a progress bar over the tasks (by_task) or the operation (by_pool).
    taken : sequence of str, optional
        Column names already in use: if an output column would take one, an
        error is raised once the fields are known, before anything is aggregated.

    Returns
    -------
    ServerAggregation
    """
    check_strategy(strategy)
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise InvalidArgumentError(f"max_concurrency must be a positive int, got {max_workers!r}.")
    kind = AggregationType.parse(type)
    skill = (
        None
        if answer_weight_skill_id is None
        else id_text(answer_weight_skill_id, name="answer_weight_skill_id")
    )
    if kind is AggregationType.DAWID_SKENE and skill is not None:
        logger.warning("DAWID_SKENE ignores answer_weight_skill_id=%s", skill)
        skill = None
    pools = sorted(keys)
    names = field_names(fields)
    chosen = _spec_fields(client, pools, kind, names, skill) if pools else []
    outputs = ["confidence", *(schema.result_column_name(f.name) for f in chosen)]
    if not pools and names is not None:
        outputs += [schema.result_column_name(n) for n in names]
    clash = [c for c in outputs if c in taken]
    if clash:
        raise InvalidArgumentError(
            f"The frame already has column(s) {clash}, which the aggregated answers would "
            "overwrite; rename or drop them first."
        )
    result = ServerAggregation(
        schema.aggregated_schema(chosen).empty_table(), chosen, {}, skill=skill
    )
    if not pools:
        return result
    plan = {pool: choose_strategy(len(keys[pool]), strategy) for pool in pools}
    result.strategies = plan
    tables: list[pa.Table] = []
    pairs = [(pool, task) for pool in pools if plan[pool] == "by_task" for task in keys[pool]]
    if pairs:
        by_task = sorted({pool for pool, _ in pairs})
        label = f"pool {by_task[0]}" if len(by_task) == 1 else f"{len(by_task)} pools"
        with count_bar(
            progress, total=len(pairs), desc=f"{label}: aggregating tasks", unit=" tasks"
        ) as bar:
            items, not_found = run_by_task(
                client,
                pairs,
                kind=kind,
                fields=chosen,
                skill=skill,
                max_workers=max_workers,
                bar=bar,
            )
        result.requests += len(pairs)
        if items:
            tables.append(pa.Table.from_batches([schema.aggregated_page_to_batch(items, chosen)]))
        if not_found:
            result.missing[_NO_ANSWER] = not_found
    for pool in pools:
        if plan[pool] != "by_pool":
            continue
        table, absent = run_by_pool(
            client, pool, keys[pool], kind=kind, fields=chosen, skill=skill, progress=progress
        )
        tables.append(table)
        if absent:
            result.missing[_NOT_IN_RESULTS] = result.missing.get(_NOT_IN_RESULTS, 0) + absent
    logger.info(
        "aggregated %d task(s) of %d pool(s) on the server: %s",
        sum(map(len, keys.values())),
        len(pools),
        plan,
    )
    result.table = pa.concat_tables(tables).cast(result.table.schema) if tables else result.table
    return result


@dataclass
class RowKeys:
    """The (pool, task) key of each row of a frame, and the distinct tasks of each pool."""

    pools: pa.Array
    tasks: pa.Array
    #: Rows with both ids (an empty id is no id: the API requires both).
    valid: pa.Array
    #: Pool id -> its distinct task ids, sorted.
    by_pool: dict[str, list[str]]

    @property
    def n_invalid(self) -> int:
        return len(self.valid) - int(pc.sum(self.valid.cast(pa.int64())).as_py() or 0)


def row_keys(
    frame: pd.DataFrame, *, task: Hashable, pool_column: Hashable, pool_id: str | None
) -> RowKeys:
    """Extract the keys to aggregate: ids normalized as text (``9`` and ``9.0`` are ``"9"``)."""
    tasks = schema.id_array(frame[task])
    if pool_id is not None:
        pools = pa.array([pool_id] * len(frame), type=pa.string())
    else:
        pools = schema.id_array(frame[pool_column])
    valid = pc.fill_null(
        pc.and_(pc.greater(pc.utf8_length(pools), 0), pc.greater(pc.utf8_length(tasks), 0)), False
    )
    by_pool: dict[str, list[str]] = {}
    if len(frame):
        distinct = (
            pa.table({"pool": pools, "task": tasks})
            .filter(valid)
            .group_by(["pool", "task"])
            .aggregate([])
            .sort_by([("pool", "ascending"), ("task", "ascending")])
        )
        for p, t in zip(distinct.column("pool").to_pylist(), distinct.column("task").to_pylist()):
            by_pool.setdefault(p, []).append(t)
    return RowKeys(pools, tasks, valid, by_pool)


def _missing_message(missing: dict[str, int], n_tasks: int, n_rows: int) -> str:
    reasons = "; ".join(f"{count} because {reason}" for reason, count in missing.items())
    total = sum(missing.values())
    return (
        f"{total} of {n_tasks} task(s) got no aggregated answer ({n_rows} row(s) keep missing "
        f"values for confidence and the fields): {reasons}."
    )


def _join_answers(
    frame: pd.DataFrame, keys: RowKeys, outcome: ServerAggregation, dtype_backend: DtypeBackend
) -> tuple[pd.DataFrame, int]:
    """The frame with the answers as new columns; and how many rows got none."""
    added = [schema.result_column_name(f.name) for f in outcome.fields]
    result = outcome.table
    separator = "\x1f"
    wanted = pc.binary_join_element_wise(keys.pools, keys.tasks, separator)
    answered = pc.binary_join_element_wise(
        result.column("pool_id"), result.column("task_id"), separator
    )
    position = pc.index_in(wanted, value_set=answered.combine_chunks())
    answers = schema.to_pandas(
        result.select(["confidence", *added]).take(position), dtype_backend=dtype_backend
    )
    out = frame.copy()
    for column in answers.columns:
        out[column] = answers[column].array
    return out, int(position.null_count)


def aggregate_frame(
    frame: pd.DataFrame,
    *,
    client: Client,
    type: str | AggregationType,
    fields: str | Sequence[str] | None,
    answer_weight_skill_id: str | int | None,
    task: Hashable,
    pool_column: Hashable,
    pool_id: str | int | None,
    strategy: str,
    max_workers: int,
    progress: bool,
    dtype_backend: DtypeBackend,
) -> pd.DataFrame:
    """Aggregate a frame's tasks on the server and join the answers back; see ``df.toloka.aggregate``."""
    schema.check_dtype_backend(dtype_backend)
    check_strategy(strategy)
    needed = [task] if pool_id is not None else [task, pool_column]
    missing_columns = [str(c) for c in needed if c not in frame.columns]
    if missing_columns:
        hint = "" if pool_id is not None else " (or pass pool_id=)"
        raise MissingColumnsError(
            missing_columns, list(frame.columns), purpose=f"to aggregate tasks on the server{hint}"
        )
    pool = None if pool_id is None else id_text(pool_id, name="pool_id")
    keys = row_keys(frame, task=task, pool_column=pool_column, pool_id=pool)
    outcome = aggregate_on_server(
        client,
        keys.by_pool,
        type=type,
        fields=fields,
        answer_weight_skill_id=answer_weight_skill_id,
        strategy=strategy,
        max_workers=max_workers,
        progress=progress,
        taken=list(frame.columns),
    )
    out, unanswered = _join_answers(frame, keys, outcome, dtype_backend)
    if keys.n_invalid:
        outcome.missing["the row has no task id or pool id"] = keys.n_invalid
    if unanswered:
        n_tasks = sum(map(len, keys.by_pool.values())) + keys.n_invalid
        warnings.warn(
            _missing_message(outcome.missing, n_tasks, unanswered),
            MissingAggregatesWarning,
            stacklevel=user_stacklevel(),  # the user's call, through any decorator
        )
    out.attrs = dict(frame.attrs)
    out.attrs[schema.ATTRS_KEY] = schema.make_provenance(
        "joined_aggregates",
        type=AggregationType.parse(type).value,
        fields=[f.name for f in outcome.fields],
        answer_weight_skill_id=outcome.skill,
        output_spec={f.name: f.to_spec() for f in outcome.fields},
        strategies=outcome.strategies,
    )
    return out
