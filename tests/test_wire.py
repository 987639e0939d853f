"""Pages decoded straight from JSON bytes (schema._wire) agree with the strict path, value for value.

The strict path (json + schema._values) is the definition of what is accepted;
the fast path must give the same table for every page it accepts, hand every
other page to the strict path (which words the error), and must not fall back
on ordinary pages.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pandas_toloka import schema
from pandas_toloka._http.payloads import ShapeError
from pandas_toloka._read import assignments, solutions
from pandas_toloka.errors import OutputValueError, TolokaError
from pandas_toloka.schema import _wire

SPEC = {
    "result": {"type": "STRING", "allowed_values": ["cat", "dog", "bird"]},
    "text": {"type": "STRING"},
    "score": {"type": "INTEGER", "min_value": 1, "max_value": 5},
    "weight": {"type": "FLOAT", "min_value": 0},
    "level": {"type": "FLOAT", "allowed_values": [0.5, 1, 2]},
    "sure": {"type": "BOOLEAN"},
    "link": {"type": "URL"},
    "tags": {"type": "ARRAY_STRING"},
    "counts": {"type": "ARRAY_INTEGER"},
}
FIELDS = list(schema.parse_output_spec(SPEC).values())


def _item(task_id: Any, confidence: Any = 0.5, **values: Any) -> dict[str, Any]:
    return {"pool_id": "7", "task_id": task_id, "confidence": confidence, "output_values": values}


def _body(items: list[Any], has_more: Any = False, **dumps: Any) -> bytes:
    return json.dumps({"items": items, "has_more": has_more}, **dumps).encode()


def _compact(items: list[Any], has_more: Any = False) -> bytes:
    return _body(items, has_more, separators=(",", ":"), ensure_ascii=False)


def _strict(body: bytes, fields: list[schema.OutputField]) -> Any:
    try:
        table, has_more = solutions._strict_page(body, fields, "op")
    except (OutputValueError, ShapeError) as exc:
        return type(exc), getattr(exc, "task_id", None), getattr(exc, "field", None)
    return table.to_pylist(), has_more


def _decoded(body: bytes, fields: list[schema.OutputField]) -> Any:
    try:
        table, has_more = solutions.decode_solutions_page(body, fields, operation_id="op")
    except (OutputValueError, ShapeError) as exc:
        return type(exc), getattr(exc, "task_id", None), getattr(exc, "field", None)
    assert table.schema == schema.aggregated_schema(fields)
    return table.to_pylist(), has_more


@pytest.fixture
def strict_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the pages handed to the strict path."""
    calls: list[int] = []
    original = solutions._strict_page

    def spy(*args: Any) -> Any:
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(solutions, "_strict_page", spy)
    return calls


GOOD_ITEMS = [
    _item("a", 1, result="dog", text='héllo "q" \\ ,{"pool_id":', score=5, weight=2, level=1),
    _item("b", 0, result=None, text=None, score=None, weight=None, sure=None, tags=None),
    {"pool_id": "7", "task_id": "c", "confidence": 0.25},  # no output_values at all
    _item("d", 0.75, sure=True, link="http://x/?a=1", tags=["x", "y"], counts=[1, None, 3]),
    {"task_id": "e", "output_values": None, "extra": {"items": [1, {"pool_id": 2}]}},
    _item("f", 1e-3, sure=False, tags=[], counts=[], weight=0.0, level=0.5),
]


@pytest.mark.parametrize("piece_bytes", [1, 64, 1 << 19])
def test_ordinary_pages_are_decoded_fast_and_equal_the_strict_path(
    monkeypatch: pytest.MonkeyPatch, strict_calls: list[int], piece_bytes: int
) -> None:
    monkeypatch.setattr(_wire, "PIECE_BYTES", piece_bytes)
    for items in (GOOD_ITEMS, GOOD_ITEMS[:1], []):
        for has_more in (True, False):
            body = _compact(items, has_more)
            expected = _strict(body, FIELDS)
            strict_calls.clear()
            assert _decoded(body, FIELDS) == expected
            assert strict_calls == []  # the fast path vouched for the page itself
    table, _ = solutions.decode_solutions_page(_compact(GOOD_ITEMS), FIELDS)
    assert table.column("result").type == pa.dictionary(pa.int32(), pa.string())
    assert table.column("result").chunk(0).dictionary.to_pylist() == ["cat", "dog", "bird"]
    assert table.column("confidence").to_pylist()[:2] == [1.0, 0.0]


@pytest.mark.parametrize(
    "body",
    [
        _body(GOOD_ITEMS, True, indent=2),  # line breaks: read as one JSON value
        _body(GOOD_ITEMS, True),  # ", " between items
        json.dumps({"has_more": True, "items": GOOD_ITEMS}).encode(),
        b'{"items":[{"task_id":"a","pool_id":"7"},{"pool_id":"7","task_id":"b"}],"has_more":true}',
    ],
)
def test_other_layouts_are_read_whole_and_equal_the_strict_path(
    body: bytes, strict_calls: list[int]
) -> None:
    expected = _strict(body, FIELDS)
    strict_calls.clear()
    assert _decoded(body, FIELDS) == expected
    assert strict_calls == []


BAD_VALUES = [
    ({"score": 1.5}, "score"),
    ({"score": "3"}, "score"),
    ({"score": True}, "score"),
    ({"score": 2**70}, "score"),
    ({"score": 6}, "score"),  # out of bounds
    ({"score": 0}, "score"),
    ({"weight": -0.5}, "weight"),
    ({"weight": "x"}, "weight"),
    ({"weight": False}, "weight"),
    ({"level": 3}, "level"),  # not an allowed value
    ({"sure": 1}, "sure"),
    ({"sure": "true"}, "sure"),
    ({"result": "fish"}, "result"),
    ({"result": 3}, "result"),
    ({"result": ["cat"]}, "result"),
    ({"text": 3}, "text"),
    ({"text": {"k": 1}}, "text"),
    ({"link": False}, "link"),
    ({"counts": [1, "a"]}, "counts"),
    ({"counts": [1.5]}, "counts"),
    ({"counts": 3}, "counts"),
    ({"tags": "x"}, "tags"),
    ({"tags": [1]}, "tags"),
]


@pytest.mark.parametrize(("values", "field"), BAD_VALUES)
def test_a_bad_value_raises_output_value_error_naming_task_and_field(
    values: dict[str, Any], field: str
) -> None:
    body = _compact([_item("ok", result="cat"), _item("bad-task", **values)], True)
    with pytest.raises(OutputValueError, match="bad-task") as info:
        solutions.decode_solutions_page(body, FIELDS)
    assert (info.value.task_id, info.value.field) == ("bad-task", field)
    assert field in str(info.value)
    assert _decoded(body, FIELDS) == _strict(body, FIELDS)


@pytest.mark.parametrize(
    "body",
    [
        _compact([_item("a", confidence="high")]),
        _compact([{"pool_id": "7", "confidence": 1}]),  # no task_id
        _compact([_item(7)]),  # a numeric task id
        _compact([None]),
        _compact([1, 2]),
        b'{"items":{"task_id":"a"},"has_more":false}',
        b'{"items":[{"task_id":"a"}],"has_more":false',
        b'{"items":[{"task_id":"\xff"}],"has_more":false}',  # not UTF-8
        b"[]",
    ],
)
def test_malformed_pages_fail_as_the_strict_path_fails(body: bytes) -> None:
    result = _decoded(body, FIELDS)
    assert result == _strict(body, FIELDS)
    assert result[0] in (OutputValueError, ShapeError)


def test_spellings_only_the_strict_path_accepts_are_still_accepted() -> None:
    body = _compact([_item("a", 1, score=2.0, counts=[1.0]), _item("b", 1e0)])
    table, _ = solutions.decode_solutions_page(body, FIELDS)
    assert table.column("score").to_pylist() == [2, None]
    assert table.column("counts").to_pylist() == [[1], None]
    assert _decoded(body, FIELDS) == _strict(body, FIELDS)


def test_a_separator_inside_a_nested_array_is_not_taken_for_an_item_boundary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_wire, "PIECE_BYTES", 1)
    nested = [{"pool_id": "x", "task_id": "y"}, {"pool_id": "z"}]
    items = [dict(_item("a", sure=True), junk=nested), _item("b")]
    body = _compact(items)
    assert _decoded(body, FIELDS) == _strict(body, FIELDS)
    assert _decoded(body, FIELDS)[0][0]["task_id"] == "a"


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 8),
    st.floats(-1, 6, allow_nan=False),
    st.sampled_from(["cat", "dog", "fish", "", 'a,{"b":', "ü"]),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.dictionaries(st.sampled_from([f.name for f in FIELDS] + ["other"]), VALUES),
        max_size=6,
    ),
    st.booleans(),
)
def test_random_pages_decode_exactly_as_the_strict_path(
    outputs: list[dict[str, Any]], has_more: bool
) -> None:
    items = [_item(f"t{i}", i / 7, **values) for i, values in enumerate(outputs)]
    body = _compact(items, has_more)
    assert _decoded(body, FIELDS) == _strict(body, FIELDS)


# --------------------------------------------------------------------------- assignments

ASSIGNMENT_FIELDS = [f for f in FIELDS if f.name != "text"] + list(
    schema.parse_output_spec({"blob": {"type": "STRING"}}).values()
)


def _assignment(aid: str, tasks: list[str], solutions: Any, **extra: Any) -> dict[str, Any]:
    item = {
        "id": aid,
        "pool_id": "7",
        "user_id": f"w-{aid}",
        "status": "ACCEPTED",
        "submitted": "2024-01-02T03:04:05.678",
        "tasks": [{"id": t, "input_values": {"image": "http://x"}} for t in tasks],
        **extra,
    }
    if solutions is not None:
        item["solutions"] = solutions
    return item


def _answers(*values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"output_values": v} for v in values]


def _strict_assignments(body: bytes, fields: list[schema.OutputField]) -> Any:
    try:
        table, has_more, last = assignments._strict_page(body, fields, "9")
    except (TolokaError, ShapeError) as exc:
        return type(exc), getattr(exc, "task_id", None), getattr(exc, "field", None)
    return table.to_pylist(), has_more, last


def _decoded_assignments(body: bytes, fields: list[schema.OutputField]) -> Any:
    try:
        table, has_more, last = assignments.decode_assignments_page(body, fields, pool_id="9")
    except (TolokaError, ShapeError) as exc:
        return type(exc), getattr(exc, "task_id", None), getattr(exc, "field", None)
    assert table.schema == schema.responses_schema(fields)
    return table.to_pylist(), has_more, last


ASSIGNMENTS = [
    _assignment("a1", ["t1", "t2"], _answers({"result": "cat", "score": 2}, {"sure": True})),
    _assignment("a2", ["t3"], None, status="ACTIVE", submitted=None),  # no solutions yet
    _assignment("a3", ["t1", "t4", "t5"], [None, {}, {"output_values": {"tags": ["x"]}}]),
    _assignment("a4", [], []),
    dict(_assignment("a5", ["t2"], _answers({"counts": [4]})), pool_id=None),
    _assignment("a6", ["t6"], _answers({"result": "bird"}), submitted="2024-01-02T03:04:05Z"),
    _assignment("a7", ["t7"], _answers({}), submitted="2024-01-02T06:04:05+03:00"),
]


@pytest.mark.parametrize("piece_bytes", [1, 1 << 19])
def test_assignment_pages_are_decoded_fast_and_equal_the_strict_path(
    monkeypatch: pytest.MonkeyPatch, piece_bytes: int
) -> None:
    monkeypatch.setattr(_wire, "PIECE_BYTES", piece_bytes)
    calls: list[int] = []
    original = assignments._strict_page
    monkeypatch.setattr(assignments, "_strict_page", lambda *a: calls.append(1) or original(*a))
    for items in (ASSIGNMENTS, ASSIGNMENTS[1:2], []):
        body = _compact(items, True)
        expected = _strict_assignments(body, ASSIGNMENT_FIELDS)
        calls.clear()
        assert _decoded_assignments(body, ASSIGNMENT_FIELDS) == expected
        assert calls == []
    rows, _, last = _decoded_assignments(_compact(ASSIGNMENTS), ASSIGNMENT_FIELDS)
    assert last == "a7" and [r["task_id"] for r in rows[:3]] == ["t1", "t2", "t3"]
    assert len({r["submitted"] for r in rows if r["assignment_id"] in ("a1", "a6", "a7")}) == 2
    assert rows[0]["result"] == "cat" and rows[1]["sure"] is True and rows[2]["result"] is None


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"solutions": _answers({"score": 9})}, OutputValueError),
        ({"solutions": _answers({"result": "fish"})}, OutputValueError),
        ({"solutions": _answers({"sure": "yes"})}, OutputValueError),
        ({"solutions": _answers({}, {})}, ShapeError),  # two solutions for one task
        ({"tasks": [{"input_values": {}}]}, ShapeError),  # a task without id
        ({"submitted": "yesterday"}, OutputValueError),
        ({"user_id": 5}, ShapeError),
        ({"tasks": None}, ShapeError),  # would drop the assignment's rows
        ({"id": None}, ShapeError),  # would make the next cursor "None"
        ({"id": "a0"}, ShapeError),  # before the previous item: out of order
    ],
)
def test_bad_assignments_fail_as_the_strict_path_fails(
    change: dict[str, Any], kind: type[Exception]
) -> None:
    items = [ASSIGNMENTS[0], dict(_assignment("bad", ["tb"], _answers({})), **change)]
    result = _decoded_assignments(_compact(items), ASSIGNMENT_FIELDS)
    assert result == _strict_assignments(_compact(items), ASSIGNMENT_FIELDS)
    assert issubclass(result[0], kind)
    if result[0] is OutputValueError and "solutions" in change:
        assert result[1] == "tb"


def test_a_json_field_is_left_to_the_strict_path(monkeypatch: pytest.MonkeyPatch) -> None:
    fields = list(
        schema.parse_output_spec({"meta": {"type": "JSON"}, "sure": {"type": "BOOLEAN"}}).values()
    )
    assert schema.output_values_type(fields) is None
    calls: list[int] = []
    original = assignments._strict_page
    monkeypatch.setattr(assignments, "_strict_page", lambda *a: calls.append(1) or original(*a))
    items = [_assignment("a1", ["t1"], _answers({"meta": {"k": [1, None]}, "sure": True}))]
    rows, has_more, last = _decoded_assignments(_compact(items, True), fields)
    assert calls == [1] and has_more and last == "a1"
    assert rows[0]["meta"] == '{"k": [1, null]}' and rows[0]["sure"] is True
