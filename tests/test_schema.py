"""Tests of the type mapping: output spec -> Arrow -> pandas, strictness, round trips."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from pandas_toloka import schema
from pandas_toloka.errors import InvalidArgumentError, OutputValueError

SPEC = {
    "result": {"type": "STRING", "allowed_values": ["cat", "dog", "bird"]},
    "text": {"type": "STRING", "required": False},
    "score": {"type": "INTEGER", "min_value": 1, "max_value": 5},
    "weight": {"type": "FLOAT"},
    "sure": {"type": "BOOLEAN"},
    "meta": {"type": "JSON"},
    "tags": {"type": "ARRAY_STRING"},
    "counts": {"type": "ARRAY_INTEGER"},
}


@pytest.fixture
def fields() -> list[schema.OutputField]:
    return list(schema.parse_output_spec(SPEC).values())


def _item(task_id: str, confidence: object = 0.5, **values: object) -> dict:
    return {"pool_id": "7", "task_id": task_id, "confidence": confidence, "output_values": values}


def test_parse_output_spec_keeps_order_and_attributes() -> None:
    parsed = schema.parse_output_spec(SPEC)
    assert list(parsed) == list(SPEC)
    assert parsed["result"].allowed_values == ("cat", "dog", "bird")
    assert parsed["text"].required is False
    assert parsed["score"].n_options == 5
    assert parsed["sure"].n_options == 2
    assert parsed["result"].n_options == 3
    assert parsed["weight"].n_options is None
    assert [f.name for f in parsed.values() if f.is_aggregatable] == [
        "result",
        "text",
        "score",
        "weight",
        "sure",
    ]
    assert parsed["result"].to_spec() == {
        "type": "STRING",
        "required": True,
        "allowed_values": ["cat", "dog", "bird"],
    }


@pytest.mark.parametrize(
    "spec, match",
    [
        ({"x": {"type": "DATE"}}, "unknown type 'DATE'"),
        ({"x": "STRING"}, "must be a mapping"),
        ({"x": {"type": "STRING", "allowed_values": []}}, "non-empty list"),
        ({"x": {"type": "STRING", "allowed_values": ["a", "a"]}}, "duplicates"),
        ({"x": {"type": "INTEGER", "allowed_values": [1, "2"]}}, "is not of type INTEGER"),
    ],
)
def test_parse_output_spec_rejects_bad_specs(spec: dict, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        schema.parse_output_spec(spec)


def test_options_count_falls_back_to_observed() -> None:
    parsed = schema.parse_output_spec(SPEC)
    assert schema.options_count(parsed["result"], observed=2) == 3
    assert schema.options_count(parsed["weight"], observed=7) == 7
    assert schema.options_count(parsed["weight"], observed=1) == 2


def test_page_to_batch_types_every_field(fields: list[schema.OutputField]) -> None:
    items = [
        _item(
            "a",
            1,
            result="dog",
            text="héllo",
            score=5.0,
            weight=2,
            sure=True,
            meta={"k": [1, None]},
            tags=["x"],
            counts=[1, 2],
        ),
        _item(
            "b",
            0,
            result=None,
            text=None,
            score=None,
            weight=None,
            sure=None,
            meta=None,
            tags=None,
            counts=None,
        ),
        {"pool_id": "7", "task_id": "c", "confidence": 0.25},
    ]
    batch = schema.aggregated_page_to_batch(items, fields)
    assert batch.schema == schema.aggregated_schema(fields)
    rows = batch.to_pylist()
    assert rows[0] == {
        "pool_id": "7",
        "task_id": "a",
        "confidence": 1.0,
        "result": "dog",
        "text": "héllo",
        "score": 5,
        "weight": 2.0,
        "sure": True,
        "meta": '{"k": [1, null]}',
        "tags": ["x"],
        "counts": [1, 2],
    }
    assert isinstance(rows[0]["confidence"], float) and isinstance(rows[0]["score"], int)
    assert all(
        v is None for k, v in rows[1].items() if k not in ("pool_id", "task_id", "confidence")
    )
    assert rows[2]["result"] is None and rows[2]["confidence"] == 0.25
    # the dictionary keeps every allowed value, in the spec's order, even unseen ones
    assert batch.column("result").dictionary.to_pylist() == ["cat", "dog", "bird"]


@pytest.mark.parametrize(
    "values, field_name, bad",
    [
        ({"score": 1.5}, "score", 1.5),
        ({"score": "3"}, "score", "3"),
        ({"score": True}, "score", True),
        ({"score": 2**70}, "score", 2**70),
        ({"weight": "x"}, "weight", "x"),
        ({"weight": False}, "weight", False),
        ({"sure": 1}, "sure", 1),
        ({"result": "fish"}, "result", "fish"),
        ({"result": 3}, "result", 3),
        ({"text": 3}, "text", 3),
        ({"counts": [1, "a"]}, "counts", [1, "a"]),
        ({"counts": 3}, "counts", 3),
        ({"tags": "x"}, "tags", "x"),
    ],
)
def test_values_that_do_not_fit_name_task_and_field(
    fields: list[schema.OutputField], values: dict, field_name: str, bad: object
) -> None:
    items = [_item("good", result="cat"), _item("bad-task", **values)]
    with pytest.raises(OutputValueError, match="bad-task") as info:
        schema.aggregated_page_to_batch(items, fields)
    assert info.value.task_id == "bad-task"
    assert info.value.field == field_name
    assert info.value.value == bad
    assert field_name in str(info.value)


def test_missing_task_id_and_bad_confidence_are_errors(fields: list[schema.OutputField]) -> None:
    with pytest.raises(OutputValueError, match="without task_id"):
        schema.aggregated_page_to_batch([{"pool_id": "7", "confidence": 1}], fields)
    with pytest.raises(OutputValueError, match="numeric confidence"):
        schema.aggregated_page_to_batch([_item("a", confidence="high")], fields)


def test_field_named_like_a_meta_column_is_prefixed() -> None:
    fields = list(
        schema.parse_output_spec(
            {"task_id": {"type": "STRING"}, "ok": {"type": "BOOLEAN"}}
        ).values()
    )
    item = {
        "pool_id": "7",
        "task_id": "t1",
        "confidence": 1,
        "output_values": {"task_id": "answer", "ok": False},
    }
    batch = schema.aggregated_page_to_batch([item], fields)
    assert batch.schema.names == ["pool_id", "task_id", "confidence", "output_values.task_id", "ok"]
    assert batch.column("task_id").to_pylist() == ["t1"]
    assert batch.column("output_values.task_id").to_pylist() == ["answer"]
    assert schema.responses_schema(fields).names[-2:] == ["output_values.task_id", "ok"]


def test_empty_page_has_full_schema(fields: list[schema.OutputField]) -> None:
    batch = schema.aggregated_page_to_batch([], fields)
    assert batch.num_rows == 0 and batch.schema == schema.aggregated_schema(fields)
    frame = schema.empty_frame(schema.aggregated_schema(fields))
    assert list(frame.columns) == schema.aggregated_schema(fields).names
    assert frame["score"].dtype == pd.ArrowDtype(pa.int64())


def test_to_pandas_backends(fields: list[schema.OutputField]) -> None:
    batch = schema.aggregated_page_to_batch(
        [_item("a", 1, result="cat", score=3, sure=False)], fields
    )
    arrow = schema.to_pandas(batch)
    assert arrow["confidence"].dtype == pd.ArrowDtype(pa.float64())
    assert arrow["score"].dtype == pd.ArrowDtype(pa.int64())
    nullable = schema.to_pandas(batch, dtype_backend="numpy_nullable")
    assert nullable["score"].dtype == pd.Int64Dtype()
    assert nullable["sure"].dtype == pd.BooleanDtype()
    assert nullable["confidence"].dtype == pd.Float64Dtype()
    assert isinstance(nullable["task_id"].dtype, pd.StringDtype)
    assert list(nullable["result"].cat.categories) == ["cat", "dog", "bird"]
    with pytest.raises(InvalidArgumentError, match="only 'numpy_nullable' and 'pyarrow'"):
        schema.to_pandas(batch, dtype_backend="numpy")


@pytest.mark.parametrize("dtype_backend", ["pyarrow", "numpy_nullable"])
def test_parquet_round_trip_is_lossless(tmp_path, fields, dtype_backend: str) -> None:
    items = [
        _item(
            "a", 1, result="dog", score=5, weight=0.1, sure=True, meta=[1], tags=["x"], counts=[1]
        ),
        _item("b", 0.5, text="ü"),
    ]
    frame = schema.to_pandas(
        schema.aggregated_page_to_batch(items, fields), dtype_backend=dtype_backend
    )
    frame.attrs["toloka"] = {"pool_id": "7", "fields": ["result"]}
    path = tmp_path / "out.parquet"
    frame.to_parquet(path)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, frame)
    assert back.attrs == frame.attrs


def test_type_mapping_table_covers_every_type() -> None:
    table = schema.type_mapping_table()
    for toloka_type in schema.ARROW_TYPES:
        assert f"| {toloka_type} |" in table
    assert "`dictionary<values=string, indices=int32, ordered=0>` | `category` of `str`" in table


def test_numbers_outside_declared_bounds_are_errors(fields: list[schema.OutputField]) -> None:
    with pytest.raises(OutputValueError, match=r"outside \[1, 5\]") as info:
        schema.aggregated_page_to_batch([_item("t9", score=6)], fields)
    assert (info.value.task_id, info.value.field, info.value.value) == ("t9", "score", 6)
    batch = schema.aggregated_page_to_batch([_item("t1", score=1), _item("t5", score=5)], fields)
    assert batch.column("score").to_pylist() == [1, 5]


def test_default_aggregation_fields_skip_hidden_and_unaggregatable() -> None:
    spec = schema.parse_output_spec(
        {
            "result": {"type": "STRING", "allowed_values": ["a", "b"]},
            "secret": {"type": "BOOLEAN", "hidden": True},
            "photo": {"type": "FILE"},
        }
    )
    assert [f.name for f in schema.default_aggregation_fields(spec)] == ["result"]


def test_label_space_of_a_bounded_integer_is_its_range_only_when_small() -> None:
    from pandas_toloka.schema._fields import MAX_RANGE_LABELS

    label_space, OutputField = schema.label_space, schema.OutputField
    small = OutputField.from_spec("n", {"type": "INTEGER", "min_value": 1, "max_value": 100})
    assert MAX_RANGE_LABELS == 100 and label_space(small) == list(range(1, 101))
    wide = OutputField.from_spec("n", {"type": "INTEGER", "min_value": 0, "max_value": 100})
    assert label_space(wide) is None  # 101 values: the observed answers are the label space
    assert wide.n_options == 101  # Y of aggregation by skill still counts the whole range
    open_ended = OutputField.from_spec("n", {"type": "INTEGER", "min_value": 0})
    assert label_space(open_ended) is None
    assert label_space(OutputField.from_spec("b", {"type": "BOOLEAN"})) == [False, True]
