"""The labeled dataset: a pool's tasks (what was labeled) next to their aggregated answers.

:func:`join_labeled` is the pure Arrow join, one row per task in the tasks' order
(a left join on ``task_id``: a task without an aggregated answer keeps its row
with empty outputs, and an answer for a task the pool does not list is kept at the
end with empty inputs; both are counted in :class:`LabeledCounts`, never silently).
:func:`read_labeled_table` reads both sides of one pool: the tasks on a thread
(only their ids and inputs typed, received and decoded on two more) while the
aggregation runs on the server and its results are read, then the join. The
CLI's ``export`` and the Dask ``read_labeled_dataset`` partitions share them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .._config import SOLUTIONS_PAGE_SIZE, TASKS_PAGE_SIZE, WAIT_TIMEOUT
from ..client import Client
from ..errors import InvalidArgumentError
from ..reader import AggregatedSolutions, open_aggregated_solutions
from ..schema import Provenance
from ..tasks import open_tasks
from .pager import iter_pages
from .prefetch import settled
from .tasks import TASKS, join_columns

__all__ = [
    "LabeledCounts",
    "LabeledTable",
    "join_labeled",
    "labeled_schema",
    "read_labeled_table",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabeledCounts:
    """How the tasks and the aggregated answers met.

    Attributes
    ----------
    tasks : int
        Tasks the pool lists.
    labeled : int
        Tasks with an aggregated answer.
    unlabeled : int
        Tasks without one (kept, with empty ``confidence`` and outputs).
    unknown : int
        Aggregated answers for task ids the pool's tasks do not list (kept at
        the end, with empty inputs).
    """

    tasks: int
    labeled: int
    unlabeled: int
    unknown: int

    def describe(self) -> list[str]:
        """One sentence per mismatch (none when every task has exactly one answer)."""
        lines = []
        if self.unlabeled:
            lines.append(
                f"{self.unlabeled} of {self.tasks} tasks have no aggregated answer (no accepted "
                "responses, or not aggregated): kept, with empty confidence and outputs"
            )
        if self.unknown:
            lines.append(
                f"{self.unknown} aggregated answers are for tasks the pool's tasks do not list: "
                "kept at the end, with empty inputs"
            )
        return lines


@dataclass
class LabeledTable:
    """One pool's labeled dataset as Arrow, with its provenance and counts."""

    table: pa.Table
    attrs: Provenance
    counts: LabeledCounts
    operation_id: str


def _input_columns(tasks: pa.Schema, inputs: Sequence[str]) -> list[str]:
    """The tasks' columns of the input fields ``inputs`` (named as the field, or prefixed)."""
    columns = []
    for name in inputs:
        column = schema.input_column_name(name)
        if column not in tasks.names:
            raise KeyError(f"the tasks have no input field {name!r}")
        columns.append(column)
    return columns


def labeled_schema(
    tasks: pa.Schema, solutions: pa.Schema, *, inputs: Sequence[str], golden: bool
) -> pa.Schema:
    """The columns of :func:`join_labeled`'s table.

    ``pool_id``, ``task_id``, the input columns (an input named like an output
    column takes the ``input_values.`` prefix), ``confidence``, the aggregated
    outputs, then with ``golden`` the control tasks' ``golden.<field>`` of each
    aggregated field.
    """
    taken = set(solutions.names)
    fields = [solutions.field("pool_id"), solutions.field("task_id")]
    for column in _input_columns(tasks, inputs):
        name = column if column not in taken else schema.INPUT_VALUES_PREFIX + column
        fields.append(pa.field(name, tasks.field(column).type))
    fields += [f for f in solutions if f.name not in ("pool_id", "task_id")]
    if golden:
        fields += [tasks.field(_golden_column(f.name)) for f in _output_fields(solutions)]
    return pa.schema(fields)


def _output_fields(solutions: pa.Schema) -> list[pa.Field]:
    return [f for f in solutions if f.name not in ("pool_id", "task_id", "confidence")]


def _golden_column(field: str) -> str:
    return schema.GOLDEN_PREFIX + field


def _same_ids(left: pa.ChunkedArray, right: pa.ChunkedArray) -> bool:
    """Whether the two id columns hold the same ids in the same order (no nulls)."""
    if len(left) != len(right) or left.null_count or right.null_count:
        return False
    if len(left) == 0:
        return True
    if left.type != right.type:
        right = right.cast(left.type)
    return bool(pc.all(pc.equal(left, right)).as_py())


def _take(column: pa.ChunkedArray, where: pa.ChunkedArray | None) -> pa.ChunkedArray:
    """``column.take(where)`` (all of it for None), keeping a dictionary's values when empty."""
    if where is None:
        return column
    taken = column.take(where)
    if taken.num_chunks == 0 and column.num_chunks > 0:
        return pa.chunked_array([column.chunk(0).slice(0, 0)], column.type)
    return taken


def join_labeled(
    tasks: pa.Table, solutions: pa.Table, *, inputs: Sequence[str], golden: bool = False
) -> tuple[pa.Table, LabeledCounts]:
    """Tasks left-joined with their aggregated answers on ``task_id``, in the tasks' order.

    Parameters
    ----------
    tasks : pyarrow.Table
        A pool's tasks (:func:`pandas_toloka.schema.tasks_schema`, or at least its
        :func:`~pandas_toloka._read.tasks.join_columns`).
    solutions : pyarrow.Table
        Its aggregated solutions (:func:`pandas_toloka.schema.aggregated_schema`).
    inputs : sequence of str
        The input fields to keep.
    golden : bool, default False
        Keep the control tasks' ``golden.<field>`` of the aggregated fields.

    Returns
    -------
    (pyarrow.Table, LabeledCounts)
        The table of :func:`labeled_schema`, and how the two sides met.
    """
    target = labeled_schema(tasks.schema, solutions.schema, inputs=inputs, golden=golden)
    task_ids = tasks.column("task_id")
    answer_ids = solutions.column("task_id")
    if _same_ids(task_ids, answer_ids):
        # the usual case: both endpoints page in task id order and every task has an
        # answer; the rows already line up (no hash table over a million ids)
        where: pa.ChunkedArray | None = None
        labeled, unknown = tasks.num_rows, 0
    else:
        # position of each task's answer (null: none); one hash table over the answers
        where = pc.index_in(task_ids, value_set=answer_ids)
        labeled = len(where) - where.null_count
        known = pc.is_in(answer_ids, value_set=task_ids)
        unknown = len(known) - pc.sum(known).as_py() if len(known) else 0

    columns: list[Any] = [tasks.column("pool_id"), task_ids]
    columns += [tasks.column(c) for c in _input_columns(tasks.schema, inputs)]
    columns += [
        _take(solutions.column(f.name), where)
        for f in solutions.schema
        if f.name not in ("pool_id", "task_id")
    ]
    if golden:
        columns += [tasks.column(_golden_column(f.name)) for f in _output_fields(solutions.schema)]
    table = pa.Table.from_arrays(columns, schema=target)
    if unknown:
        extra = solutions.filter(pc.invert(known))  # only when the hash path ran
        rest = [
            extra.column(f.name)
            if f.name in extra.column_names
            else pa.nulls(extra.num_rows, f.type)
            for f in target
        ]
        table = pa.concat_tables([table, pa.Table.from_arrays(rest, schema=target)])
    counts = LabeledCounts(
        tasks=tasks.num_rows, labeled=labeled, unlabeled=tasks.num_rows - labeled, unknown=unknown
    )
    return table, counts


def read_labeled_table(
    pool_id: str,
    *,
    client: Client,
    type: Any = None,
    fields: str | Sequence[str] | None = None,
    inputs: Sequence[str] | None = None,
    golden: bool = False,
    answer_weight_skill_id: str | None = None,
    operation_id: str | None = None,
    page_size: int = SOLUTIONS_PAGE_SIZE,
    tasks_page_size: int = TASKS_PAGE_SIZE,
    wait_timeout: float | None = WAIT_TIMEOUT,
    progress_bar: bool | None = False,
    on_stream: Callable[[AggregatedSolutions], None] | None = None,
) -> LabeledTable:
    """Read one pool's labeled dataset: tasks (on a thread) and aggregated answers, joined.

    The tasks are read while the aggregation runs on the server, so the two
    reads overlap. ``inputs`` None keeps every input field. ``on_stream`` is
    called with the aggregation's stream once it has finished (the CLI notes its
    operation id, to say how to resume).
    """

    def read_tasks() -> tuple[pa.Table, list[str]]:
        with open_tasks(
            pool_id, client=client, page_size=tasks_page_size, progress_bar=False
        ) as stream:
            # only what the join keeps: the other members of each task are not typed
            columns = join_columns(stream.inputs, stream.outputs, golden=golden)
            pages = iter_pages(
                client,
                TASKS,
                params={"pool_id": stream.pool_id},
                page_size=tasks_page_size,
                scope=f"pool {stream.pool_id!r}",
                context={
                    "inputs": stream.inputs,
                    "outputs": stream.outputs,
                    "pool_id": stream.pool_id,
                    "columns": columns,
                },
            )
            with closing(pages):
                tables = [page.rows for page in pages if page.rows.num_rows]
            table = pa.concat_tables(tables) if tables else stream.empty_table().select(columns)
            return table, [f.name for f in stream.inputs]

    executor = ThreadPoolExecutor(1, thread_name_prefix="pandas-toloka-tasks")
    pending = executor.submit(read_tasks)
    try:
        with open_aggregated_solutions(
            pool_id,
            type=type,
            fields=fields,
            answer_weight_skill_id=answer_weight_skill_id,
            operation_id=operation_id,
            client=client,
            progress_bar=progress_bar,
            page_size=page_size,
            wait_timeout=wait_timeout,
        ) as stream:
            if on_stream is not None:
                on_stream(stream)
            solutions = stream.to_arrow()
            attrs = dict(stream.attrs)
            op_id = stream.operation_id
        tasks, names = settled(pending)
    finally:
        # never wait for the tasks' read after an error or Ctrl-C: it ends with its request
        executor.shutdown(wait=False, cancel_futures=True)
    chosen = names if inputs is None else list(inputs)
    missing = [name for name in chosen if name not in names]
    if missing:
        raise InvalidArgumentError(
            f"pool {pool_id} has no input field(s) {missing}; its input fields are {names}."
        )
    table, counts = join_labeled(tasks, solutions, inputs=chosen, golden=golden)
    for line in counts.describe():
        logger.info("pool %s: %s", pool_id, line)
    return LabeledTable(table, attrs, counts, op_id)  # type: ignore[arg-type]
