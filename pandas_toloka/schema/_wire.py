"""Pages of the API decoded from their JSON bytes straight into typed Arrow arrays.

A page is one JSON object, ``{"items": [...], "has_more": ...}``. pyarrow's
JSON reader reads its items with an explicit schema derived from the output
spec (:func:`wire_type`) straight into typed columns, without one Python
object per item; keys the schema does not name are skipped. A compact page is
read in pieces of whole items (:func:`read_page`), any other layout as
a single JSON value. Pages whose fields include a JSON field (any JSON value,
kept as its text) are left to the strict path: the reader cannot give a
value's text back.

The JSON reader refuses any value of another JSON type than the schema's (a
number in a STRING field, ``1.5`` or ``"3"`` in an INTEGER field, ``1`` in a
BOOLEAN field, a scalar in an ARRAY field, ...), and :func:`typed_column`
checks ``allowed_values`` and bounds on the Arrow arrays. When either says no,
:class:`WireMismatch` is raised and the caller decodes that page again with
the strict path (:mod:`._values`), which words the error (naming the task and
the field) or accepts the few spellings only it allows (``1.0`` in an INTEGER
field, a confidence of ``1E0``). The strict path thus stays the one
definition of what is accepted; this module only makes the common case fast.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from .._protocol import loads_json
from ._fields import OutputField, aggregated_schema

__all__ = [
    "WireMismatch",
    "output_values_type",
    "read_page",
    "solution_item_type",
    "solutions_to_batch",
    "struct_fields",
    "typed_column",
    "wire_type",
]

_STRING = pa.string()
_ITEMS_OPEN = re.compile(rb'"items"[ \t\n\r]*:[ \t\n\r]*\[[ \t\n\r]*')
_FIRST_KEY = re.compile(rb'\{"(?:[^"\\]|\\.)*":')

#: Bytes of a page's items read at a time (see :func:`read_page`).
PIECE_BYTES = 1 << 19
_PIECE_OPEN, _PIECE_CLOSE = b'{"i":[', b"]}"


class WireMismatch(ValueError):
    """The fast decoder cannot vouch for this page; decode it with the strict path."""


def wire_type(field: OutputField) -> pa.DataType | None:
    """The type pyarrow's JSON reader reads a field's values as; None if it cannot.

    The field's Arrow type, except that enumerated strings are read as plain
    strings (the reader builds no dictionaries; :func:`typed_column` encodes
    them) and JSON fields, whose values may be any JSON, cannot be read (their
    column holds the JSON text, which only the strict path produces).
    """
    if field.type in ("JSON", "ARRAY_JSON"):
        return None
    if field.is_categorical:
        return _STRING
    return field.arrow_type


def output_values_type(fields: Sequence[OutputField]) -> pa.StructType | None:
    """The struct type of ``output_values`` holding ``fields``; None if one cannot be read fast."""
    members = []
    for field in fields:
        value_type = wire_type(field)
        if value_type is None:
            return None
        members.append(pa.field(field.name, value_type))
    return pa.struct(members)


def _read_json(data: bytes, schema: pa.Schema) -> pa.Table:
    try:
        return pa_json.read_json(
            pa.BufferReader(data),
            # One block, one thread: the pieces are small, and a block boundary could split a value.
            read_options=pa_json.ReadOptions(block_size=len(data) + 1, use_threads=False),
            parse_options=pa_json.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore"
            ),
        )
    except pa.ArrowException as exc:
        raise WireMismatch(str(exc)) from None


def _checked(items: pa.StructArray) -> pa.StructArray:
    if items.null_count:
        raise WireMismatch("an item is null")
    if not _finite(items):
        # pyarrow's reader takes NaN and Infinity, which JSON does not have: the strict path
        # refuses the page.
        raise WireMismatch("a number is NaN or infinite")
    try:
        # The reader does not check that strings are UTF-8; the strict path does.
        items.validate(full=True)
    except pa.ArrowInvalid as exc:
        raise WireMismatch(str(exc)) from None
    return items


def _finite(array: pa.Array) -> bool:
    """Whether every floating-point value in ``array`` (at any depth) is finite."""
    kind = array.type
    if pa.types.is_floating(kind):
        return not pc.any(pc.invert(pc.is_finite(array))).as_py()
    if pa.types.is_struct(kind):
        return all(_finite(child) for child in array.flatten())
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _finite(array.flatten())
    return True


def _outline(body: bytes) -> tuple[int, int, bytes | None, bool] | None:
    """Where the items of a compact page lie, how they are separated, and ``has_more``.

    None unless ``body`` is ``{..."items":[{"<key>":...},{"<key>":...}]...}`` without
    line breaks between its items. ``,{"<key>":`` (the first item's first key) can only
    stand between two objects of an array: inside a JSON string its quotes would be
    escaped. Should it also stand in an array nested in an item, the piece that holds
    it does not parse, and the page is read as one JSON value instead.
    """
    opening = _ITEMS_OPEN.search(body)
    end = body.rfind(b"]")
    if opening is None or end < opening.end():
        return None
    start = opening.end()
    try:
        outer = loads_json(body[:start] + body[end:])
    except ValueError:
        return None
    if not isinstance(outer, dict) or outer.get("items") != []:
        return None
    has_more = outer.get("has_more")
    if not isinstance(has_more, bool):
        return None
    if start == end:
        return start, end, None, has_more
    first_key = _FIRST_KEY.match(body, start)
    if first_key is None or body.find(b"\n", start, end) >= 0:
        return None
    return start, end, b"," + first_key.group(), has_more


def read_page(body: bytes, item_type: pa.StructType) -> tuple[list[pa.StructArray], bool]:
    """Parse ``{"items": [...], "has_more": ...}`` into the items' struct arrays and ``has_more``.

    A compact page (items separated by ``,`` without line breaks, as servers
    send them) is read :data:`PIECE_BYTES` at a time: each piece, a run of
    whole items cut at the separator before an item, is wrapped as
    ``{"i":[<piece>]}`` (one copy, no search and replace) and read by
    pyarrow's JSON reader as one JSON value. That bounds the reader's working
    memory (about three times what it reads) by the piece, not the page. Any
    other layout is read as one JSON value.

    Every byte of the body is parsed strictly: its head and tail by the
    standard library (one object holding ``items`` and a boolean
    ``has_more``), each piece by pyarrow, which refuses a piece that is not
    whole items separated by commas (a piece cut inside an item leaves its
    brackets open). So a body cut short anywhere, even exactly after an item,
    or with anything after its object, is refused: no separate check of the
    whole body is needed before decoding (:data:`~.pager.PagedResource`'s
    ``checks_whole``).

    Parameters
    ----------
    body : bytes
        The page as the server sent it (UTF-8 JSON).
    item_type : pyarrow.StructType
        The members of an item to keep, with their types.

    Returns
    -------
    items : list of pyarrow.StructArray
        The items in page order, in pieces (none when ``items`` is empty).
    has_more : bool

    Raises
    ------
    WireMismatch
        If the body is not one JSON object with ``items`` and a boolean
        ``has_more`` whose values have the schema's JSON types, an item is
        ``null`` or a string is not UTF-8.
    """
    outline = _outline(body)
    if outline is None:
        return _read_whole(body, item_type)
    start, end, separator, has_more = outline
    if separator is None:
        return [], has_more
    piece_schema = pa.schema([pa.field("i", pa.list_(item_type))])
    view = memoryview(body)
    pieces = []
    try:
        while start < end:
            cut = body.find(separator, start + PIECE_BYTES, end)
            stop = end if cut < 0 else cut
            wrapped = b"".join((_PIECE_OPEN, view[start:stop], _PIECE_CLOSE))
            table = _read_json(wrapped, piece_schema)
            del wrapped
            if table.num_rows != 1:
                raise WireMismatch(f"expected one JSON value per piece, found {table.num_rows}")
            lists = table.column(0).combine_chunks()
            if lists.null_count:
                raise WireMismatch("a piece without items")
            pieces.append(_checked(lists.flatten()))
            start = stop + 1
    except WireMismatch:
        # A bad value, or a separator inside an item: the whole page, as one JSON value, tells.
        del pieces
        return _read_whole(body, item_type)
    finally:
        view.release()
    return pieces, has_more


def _read_whole(body: bytes, item_type: pa.StructType) -> tuple[list[pa.StructArray], bool]:
    page_schema = pa.schema(
        [pa.field("items", pa.list_(item_type)), pa.field("has_more", pa.bool_())]
    )
    table = _read_json(body, page_schema)
    if table.num_rows != 1:
        raise WireMismatch(f"expected one JSON object, found {table.num_rows}")
    lists = table.column("items").combine_chunks()
    has_more = table.column("has_more")[0].as_py()
    if lists.null_count or has_more is None:
        raise WireMismatch("a page without items or has_more")
    items = _checked(lists.flatten())
    return ([items] if len(items) else []), bool(has_more)


def struct_fields(array: pa.StructArray) -> dict[str, pa.Array]:
    """The members of a struct array by name, null where the struct itself is null."""
    return dict(zip((f.name for f in array.type), array.flatten()))


def typed_column(values: pa.Array, field: OutputField) -> pa.Array:
    """A field's values as read by :func:`read_page` -> the field's Arrow type, checked.

    Checks, vectorised, what the JSON types do not: ``allowed_values`` (and
    encodes enumerated strings as a dictionary of all allowed values, in the
    spec's order) and ``min_value``/``max_value``.

    Raises
    ------
    WireMismatch
        If a value is not allowed or out of bounds (the strict path words it).
    """
    target = field.arrow_type
    if field.allowed_values is not None:
        allowed = pa.array(list(field.allowed_values), type=values.type)
        indices = pc.index_in(values, value_set=allowed)
        if indices.null_count != values.null_count:
            raise WireMismatch(f"a value of {field.name!r} is not allowed")
        if field.is_categorical:
            return pa.DictionaryArray.from_arrays(indices.cast(pa.int32()), allowed)
    if field.type in ("INTEGER", "FLOAT"):
        bad = None
        if field.min_value is not None:
            bad = pc.less(values, field.min_value)
        if field.max_value is not None:
            above = pc.greater(values, field.max_value)
            bad = above if bad is None else pc.or_(bad, above)
        if bad is not None and pc.any(bad).as_py():
            raise WireMismatch(f"a value of {field.name!r} is out of bounds")
    if values.type != target:
        values = values.cast(target)
    return values


def solution_item_type(fields: Sequence[OutputField]) -> pa.StructType | None:
    """The struct type of an item of ``GET /aggregated-solutions``; None if it cannot be read fast."""
    values = output_values_type(fields)
    if values is None:
        return None
    return pa.struct(
        [
            pa.field("pool_id", _STRING),
            pa.field("task_id", _STRING),
            pa.field("confidence", pa.float64()),
            pa.field("output_values", values),
        ]
    )


def solutions_to_batch(items: pa.StructArray, fields: Sequence[OutputField]) -> pa.RecordBatch:
    """Items read with :func:`solution_item_type` -> a batch with :func:`aggregated_schema`.

    Raises
    ------
    WireMismatch
        If an item has no task id, or a value is not allowed or out of bounds.
    """
    members = struct_fields(items)
    task_ids = members["task_id"]
    if task_ids.null_count:
        raise WireMismatch("an item has no task_id")
    arrays = [members["pool_id"], task_ids, members["confidence"]]
    values = struct_fields(members["output_values"])
    arrays += [typed_column(values[field.name], field) for field in fields]
    return pa.RecordBatch.from_arrays(arrays, schema=aggregated_schema(fields))
