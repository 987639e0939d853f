"""Decode pages of ``GET /tasks`` into typed Arrow rows, one per task.

A task carries its ``input_values`` (typed by the project's input spec) and, for a
control task, its ``known_solutions`` (typed by the output spec) and hint. The fast
path reads a page with pyarrow's JSON reader (:func:`pandas_toloka.schema.read_page`)
and types the columns vectorised; a page it cannot vouch for (a JSON input field, a
value of another type) is decoded again by the strict path over strict JSON
(``_protocol.loads_json``), which words the error or accepts it. Pure Arrow: no network, no pandas.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .._http import payloads
from .._protocol import loads_json
from ..schema import InputField, OutputField, WireMismatch, struct_fields
from .assignments import parse_datetimes
from .pager import DecodedPage, PagedResource, last_key

__all__ = ["TASKS", "decode_tasks", "guess_cursor", "join_columns", "tasks_to_table"]

logger = logging.getLogger(__name__)

_ITEM_ID = re.compile(rb'\{[ \t\n\r]*"id"[ \t\n\r]*:[ \t\n\r]*("(?:[^"\\]|\\.)*")')


def join_columns(
    inputs: Sequence[InputField],
    outputs: Sequence[OutputField],
    *,
    golden: bool = False,
    pool_id: bool = True,
) -> list[str]:
    """The columns of :func:`schema.tasks_schema` that joining tasks to answers needs.

    ``pool_id`` (unless ``pool_id=False``: a join that keeps the answers' own),
    ``task_id``, the input columns, and with ``golden`` the control tasks'
    ``golden.<field>`` columns: what :func:`decode_tasks` reads with
    ``columns=`` (the other members of each task are skipped by the JSON reader
    instead of being typed).
    """
    names = ["pool_id"] if pool_id else []
    names += ["task_id"] + [schema.input_column_name(f.name) for f in inputs]
    if golden:
        names += [schema.GOLDEN_PREFIX + f.name for f in outputs]
    return names


def _members(columns: Sequence[str] | None) -> set[str] | None:
    """The members of a task that ``columns`` come from (None: all of them)."""
    if columns is None:
        return None
    members = {"id", "input_values"}
    if "pool_id" in columns:
        members.add("pool_id")
    if any(c.startswith(schema.GOLDEN_PREFIX) for c in columns):
        members.add("known_solutions")
    return members


def _item_type(
    inputs: Sequence[InputField], outputs: Sequence[OutputField]
) -> pa.StructType | None:
    """What the fast path reads of a task; None when an input or output cannot be read fast."""
    input_types = [schema.wire_type(f) for f in inputs]  # type: ignore[arg-type]
    values = schema.output_values_type(outputs)
    if values is None or any(t is None for t in input_types):
        return None
    solution = pa.struct(
        [pa.field("output_values", values), pa.field("correctness_weight", pa.float64())]
    )
    return pa.struct(
        [
            pa.field("id", pa.string()),
            pa.field("pool_id", pa.string()),
            pa.field(
                "input_values",
                pa.struct([pa.field(f.name, t) for f, t in zip(inputs, input_types)]),
            ),
            pa.field("known_solutions", pa.list_(solution)),
            pa.field("message_on_unknown_solution", pa.string()),
            pa.field("overlap", pa.int64()),
            pa.field("infinite_overlap", pa.bool_()),
            pa.field("remaining_overlap", pa.int64()),
            pa.field("origin_task_id", pa.string()),
            pa.field("created", pa.string()),
        ]
    )


def _assemble(
    members: Mapping[str, pa.Array],
    inputs: Mapping[str, pa.Array],
    first: Mapping[str, pa.Array],
    weights: pa.Array,
    known: pa.Array,
    *,
    input_fields: Sequence[InputField],
    output_fields: Sequence[OutputField],
    pool_id: str | None,
) -> pa.Table:
    """The table of :func:`schema.tasks_schema` from columns already typed."""
    target = schema.tasks_schema(input_fields, output_fields)

    pools = members["pool_id"]
    if pool_id is not None:
        pools = pc.fill_null(pools, pool_id)
    columns: list[pa.Array] = [pools, members["id"]]
    columns += [inputs[f.name] for f in input_fields]
    columns += [
        members["overlap"],
        pc.fill_null(members["infinite_overlap"], False),
        members["remaining_overlap"],
        parse_datetimes(members["created"], field="created"),
        members["origin_task_id"],
    ]
    columns += [first[f.name] for f in output_fields]
    columns += [weights, members["message_on_unknown_solution"], known]
    arrays = [
        column.cast(field.type) if column.type != field.type else column
        for column, field in zip(columns, target)
    ]
    return pa.Table.from_arrays(arrays, schema=target)


def _first_solution(known: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Per task, the first known solution (a struct) and where the task has none (null)."""
    lengths = pc.fill_null(pc.list_value_length(known), 0)
    has = pc.greater(lengths, 0)
    starts = known.offsets.slice(0, len(known))
    index = pc.if_else(has, starts, pa.scalar(None, pa.int32()))
    return known.values.take(index), has


def _ids_and_inputs(
    members: Mapping[str, pa.Array],
    typed_inputs: Mapping[str, pa.Array],
    inputs: Sequence[InputField],
    outputs: Sequence[OutputField],
    columns: Sequence[str],
    pool_id: str | None,
) -> pa.Table:
    """``columns`` (``pool_id``, ``task_id`` and input columns only) from columns already typed."""
    target = schema.tasks_schema(inputs, outputs)
    pools = members["pool_id"]
    if pool_id is not None:
        pools = pc.fill_null(pools, pool_id)
    by_column = {"pool_id": pools, "task_id": members["id"]}
    by_column.update({schema.input_column_name(f.name): typed_inputs[f.name] for f in inputs})
    fields = [target.field(name) for name in columns]
    arrays = [
        by_column[f.name].cast(f.type) if by_column[f.name].type != f.type else by_column[f.name]
        for f in fields
    ]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _fast(
    body: bytes,
    inputs: Sequence[InputField],
    outputs: Sequence[OutputField],
    pool_id: str | None,
    columns: Sequence[str] | None,
) -> DecodedPage[pa.Table] | None:
    item_type = _item_type(inputs, outputs)
    if item_type is None:
        return None
    wanted = _members(columns)
    read_type = (
        item_type if wanted is None else pa.struct([f for f in item_type if f.name in wanted])
    )
    join_only = {"pool_id", "task_id", *(schema.input_column_name(f.name) for f in inputs)}
    only_ids_and_inputs = columns is not None and set(columns) <= join_only
    try:
        pieces, has_more = schema.read_page(body, read_type)
        tables, keys = [], []
        for items in pieces:
            members = struct_fields(items)
            for skipped in item_type:  # members not read: typed nulls, dropped below
                if skipped.name not in members:
                    members[skipped.name] = pa.nulls(len(items), skipped.type)
            if members["id"].null_count:
                raise WireMismatch("a task without id")
            raw_inputs = struct_fields(members["input_values"])
            typed_inputs = {f.name: schema.typed_column(raw_inputs[f.name], f) for f in inputs}  # type: ignore[arg-type]
            if only_ids_and_inputs:
                # a join's columns: nothing else to type
                assert columns is not None
                tables.append(
                    _ids_and_inputs(members, typed_inputs, inputs, outputs, columns, pool_id)
                )
                keys.append(members["id"])
                continue
            known = members["known_solutions"]
            solution, _ = _first_solution(known)
            values = struct_fields(solution.field("output_values")) if len(solution) else {}
            first = {
                f.name: schema.typed_column(values[f.name], f)
                if len(solution)
                else pa.nulls(0, f.arrow_type)
                for f in outputs
            }
            weights = (
                solution.field("correctness_weight") if len(solution) else pa.nulls(0, pa.float64())
            )
            plain = known.cast(schema.known_solutions_type(outputs))
            none = pc.equal(pc.fill_null(pc.list_value_length(plain), 0), 0)
            plain = pa.ListArray.from_arrays(  # a task without known solutions: null
                plain.offsets, plain.values, type=plain.type, mask=none
            )
            table = _assemble(
                members,
                typed_inputs,
                first,
                weights,
                plain,
                input_fields=inputs,
                output_fields=outputs,
                pool_id=pool_id,
            )
            tables.append(table if columns is None else table.select(list(columns)))
            keys.append(members["id"])
    except (WireMismatch, pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        logger.debug("strict decoding of a page of tasks: %s", exc)
        return None
    if not tables:
        empty = tasks_to_table([], inputs, outputs)
        return DecodedPage(
            empty if columns is None else empty.select(list(columns)),
            pa.chunked_array([], type=pa.string()),
            has_more,
        )
    return DecodedPage(pa.concat_tables(tables), pa.chunked_array(keys, type=pa.string()), has_more)


def _known_solutions(
    solutions: list[list[dict[str, Any]]], outputs: Sequence[OutputField], task_ids: pa.Array
) -> pa.Array:
    """Every known solution of each task (null: none), its values typed as the outputs are.

    Built column by column through :func:`schema.field_to_arrow`, so a JSON answer
    (an area's shapes) is JSON text and a value outside the spec names its task.
    """
    plain_type = schema.known_solutions_type(outputs)
    counts = np.fromiter((len(s) for s in solutions), np.int64, len(solutions))
    flat = [x for s in solutions for x in s]
    owners = task_ids.take(pa.array(np.repeat(np.arange(len(solutions)), counts)))
    values_type = plain_type.value_type.field("output_values").type
    children = []
    for f in outputs:
        typed = schema.field_to_arrow(
            [(x.get("output_values") or {}).get(f.name) for x in flat], f, task_ids=owners
        )
        children.append(typed.cast(values_type.field(f.name).type))
    values = pa.StructArray.from_arrays(children, fields=list(values_type))
    weights = pa.array([x.get("correctness_weight", 1.0) for x in flat], pa.float64())
    items = pa.StructArray.from_arrays([values, weights], fields=list(plain_type.value_type))
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]), pa.int32())
    mask = pa.array(counts == 0)
    return pa.ListArray.from_arrays(offsets, items, type=plain_type, mask=mask)


def tasks_to_table(
    items: Sequence[Mapping[str, Any]],
    inputs: Sequence[InputField],
    outputs: Sequence[OutputField],
    *,
    pool_id: str | None = None,
) -> pa.Table:
    """Tasks as ``GET /tasks`` returns them -> one typed row each (the strict path).

    Raises
    ------
    OutputValueError
        If an input or known-solution value does not fit its field (names the
        task and the field).
    ShapeError
        If an item is not a task object with a text ``id``.
    """
    if not all(isinstance(item, dict) for item in items):
        raise payloads.ShapeError("expected a list of task objects")
    ids = [item.get("id") for item in items]
    if not all(isinstance(i, str) and i for i in ids):
        raise payloads.ShapeError("expected every task to have a text id")
    task_ids = pa.array(ids, pa.string())

    def texts(key: str) -> pa.Array:
        values = [item.get(key) for item in items]
        if not all(v is None or isinstance(v, str) for v in values):
            raise payloads.ShapeError(f"expected {key!r} of every task to be text")
        return pa.array(values, pa.string())

    def numbers(key: str, kind: pa.DataType) -> pa.Array:
        values = [item.get(key) for item in items]
        try:
            return pa.array(values, kind)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise payloads.ShapeError(
                f"expected {key!r} of every task to be {kind}: {exc}"
            ) from exc

    input_values = [item.get("input_values") or {} for item in items]
    if not all(isinstance(v, dict) for v in input_values):
        raise payloads.ShapeError("expected input_values of every task to be an object")
    typed_inputs = {
        f.name: schema.field_to_arrow([v.get(f.name) for v in input_values], f, task_ids=task_ids)
        for f in inputs
    }
    solutions = [item.get("known_solutions") or [] for item in items]
    if not all(isinstance(s, list) and all(isinstance(x, dict) for x in s) for s in solutions):
        raise payloads.ShapeError("expected known_solutions of every task to be a list of objects")
    first_values = [(s[0].get("output_values") or {}) if s else {} for s in solutions]
    first = {
        f.name: schema.field_to_arrow(
            [v.get(f.name) if isinstance(v, dict) else None for v in first_values],
            f,
            task_ids=task_ids,
        )
        for f in outputs
    }
    weights = pa.array(
        [s[0].get("correctness_weight", 1.0) if s else None for s in solutions], pa.float64()
    )
    known = _known_solutions(solutions, outputs, task_ids)
    members = {
        "id": task_ids,
        "pool_id": texts("pool_id"),
        "message_on_unknown_solution": texts("message_on_unknown_solution"),
        "origin_task_id": texts("origin_task_id"),
        "created": texts("created"),
        "overlap": numbers("overlap", pa.int64()),
        "infinite_overlap": numbers("infinite_overlap", pa.bool_()),
        "remaining_overlap": numbers("remaining_overlap", pa.int64()),
    }
    return _assemble(
        members,
        typed_inputs,
        first,
        weights,
        known,
        input_fields=inputs,
        output_fields=outputs,
        pool_id=pool_id,
    )


def decode_tasks(
    body: bytes,
    *,
    inputs: Sequence[InputField],
    outputs: Sequence[OutputField],
    pool_id: str | None = None,
    columns: Sequence[str] | None = None,
) -> DecodedPage[pa.Table]:
    """One page of ``GET /tasks``: typed rows (:func:`schema.tasks_schema`), ids, ``has_more``.

    With ``columns`` (e.g. :func:`join_columns`) only those columns of
    :func:`schema.tasks_schema` are built, in that order, and the fast path
    reads only the members of a task they come from.

    Raises
    ------
    OutputValueError
        If a value does not fit its field's type (names the task and field).
    ShapeError
        If the body is not a page of tasks, for the transport to fetch it again.
    """
    fast = _fast(body, inputs, outputs, pool_id, columns)
    if fast is not None:
        return fast
    try:
        page = payloads.tasks_page(loads_json(body))
    except ValueError as exc:  # not JSON (json.JSONDecodeError), or not a page (ShapeError)
        raise payloads.ShapeError(f"expected a page of tasks: {exc}") from exc
    table = tasks_to_table(page["items"], inputs, outputs, pool_id=pool_id)
    ids = table.column("task_id")
    if columns is not None:
        table = table.select(list(columns))
    return DecodedPage(table, ids, bool(page["has_more"]))


def guess_cursor(body: bytes) -> str | None:
    """The last task's ``id`` of a page that says ``has_more: true``, read from its raw end.

    The last object opening with an ``"id"`` member (as tasks are served: ``id``
    first); None when the body does not say ``has_more: true`` or none is found.
    A guess: the decoded page confirms it (an input value that is an object
    opening with ``"id"`` makes it wrong, which costs one request).
    """
    return last_key(body, b'{"id"', _ITEM_ID)


#: ``GET /tasks?pool_id=...``: keyset pages on the task id; the next request leaves
#: with the cursor read from the raw end of a body (:func:`guess_cursor`) while the
#: page is decoded on a second background thread (pyarrow's JSON reader releases
#: the GIL).
TASKS = PagedResource(
    name="tasks",
    path=("tasks",),
    sort="id",
    decode=decode_tasks,
    decode_ahead=True,
    guess_cursor=guess_cursor,
    checks_whole=True,  # read_page, or loads_json of the whole body, parses every byte
)
