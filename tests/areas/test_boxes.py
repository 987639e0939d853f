"""Bounding boxes and points: matching, fusion, confidence, worker quality, golden, input forms."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pandas_toloka.aggregation import (
    bounding_boxes,
    fit_bounding_boxes,
    fit_points,
    parse_areas,
    points,
)
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError


def box(left: float, top: float, width: float = 0.2, height: float = 0.2) -> dict[str, float]:
    return {"left": left, "top": top, "width": width, "height": height}


def frame(rows: list[tuple[str, str, object]], column: str = "boxes") -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task_id", "worker_id", column])


def test_two_objects_fused_by_median_edges_with_vote_share() -> None:
    df = frame(
        [
            ("img", "a", [box(0.10, 0.10), box(0.60, 0.60)]),
            ("img", "b", [box(0.62, 0.60), box(0.12, 0.10)]),
            ("img", "c", [box(0.11, 0.12, 0.22)]),
            ("img", "d", []),
        ]
    )
    result = bounding_boxes(df, flat=True)
    assert result["task_id"].tolist() == ["img", "img"]
    # 3 of 4 drew the first object, 2 of 4 the second (kept: ties in at 0.5)
    assert result["confidence"].tolist() == [0.75, 0.5]
    first = result.iloc[0]
    assert first["left"] == pytest.approx(0.11)
    assert first["top"] == pytest.approx(0.10)
    # right edges 0.30, 0.32, 0.33 -> median 0.32; width = 0.32 - 0.11
    assert first["width"] == pytest.approx(0.21)
    assert first["height"] == pytest.approx(0.20)
    second = result.iloc[1]
    assert second["left"] == pytest.approx(0.61)


def test_min_confidence_and_iou_threshold() -> None:
    df = frame(
        [
            ("img", "a", [box(0.1, 0.1)]),
            ("img", "b", [box(0.15, 0.1)]),  # IoU with a's: 0.15*0.2 / (0.25*0.2) = 0.6
            ("img", "c", []),
        ]
    )
    assert len(bounding_boxes(df, flat=True)) == 1
    assert len(bounding_boxes(df, flat=True, iou_threshold=0.7)) == 0  # two singletons of 1/3
    assert len(bounding_boxes(df, flat=True, iou_threshold=0.7, min_confidence=0.3)) == 2
    assert len(bounding_boxes(df, flat=True, min_confidence=0.7)) == 0


def test_complete_linkage_never_chains_average_linkage_may() -> None:
    # IoU(a, b) = 0.67, IoU(b, c) = 0.6, IoU(a, c) = 0.38: {a, b} forms first. Complete
    # linkage keeps c out (its least IoU with them is 0.38); average linkage compares the
    # mean, 0.49: below 0.5, above 0.45.
    df = frame(
        [
            ("img", "a", [box(0.10, 0.1)]),
            ("img", "b", [box(0.14, 0.1)]),
            ("img", "c", [box(0.19, 0.1)]),
        ]
    )
    flat = bounding_boxes(df, min_confidence=0.0, linkage="complete", flat=True)
    assert flat["confidence"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert flat["left"].tolist() == pytest.approx([0.12, 0.19])
    assert len(bounding_boxes(df, min_confidence=0.0, flat=True)) == 2
    for method, expected in (("average", 1), ("complete", 2)):
        flat = bounding_boxes(df, iou_threshold=0.45, linkage=method, min_confidence=0.0, flat=True)
        assert len(flat) == expected, method
    assert bounding_boxes(df, iou_threshold=0.45, flat=True)["left"].tolist() == [0.14]


def test_one_box_per_response_in_an_object() -> None:
    # d drew the object twice: the closer box joins a's, the other stays alone (an extra)
    df = frame([("img", "a", [box(0.10, 0.1)]), ("img", "d", [box(0.12, 0.1), box(0.11, 0.1)])])
    model = fit_bounding_boxes(df, min_confidence=0.0)
    assert model.to_frame(flat=True)["confidence"].tolist() == [1.0, 0.5]
    assert model.to_frame(flat=True)["left"].tolist() == pytest.approx([0.105, 0.12])
    quality = fit_bounding_boxes(df, min_confidence=0.6).worker_quality().set_index("worker_id")
    assert quality.loc["d", "n_matched"] == 1
    assert quality.loc["d", "n_extra"] == 1


def test_nested_output_is_typed_and_round_trips_through_parquet(tmp_path: object) -> None:
    df = frame([("i1", "a", [box(0.1, 0.1)]), ("i1", "b", [box(0.1, 0.1)]), ("i2", "a", [])])
    result = bounding_boxes(df)
    assert result["task_id"].tolist() == ["i1", "i2"]
    arrow = result["boxes"].dtype.pyarrow_dtype
    assert [f.name for f in arrow.value_type] == ["left", "top", "width", "height", "confidence"]
    assert result["boxes"].list.len().tolist() == [1, 0]
    path = tmp_path / "boxes.parquet"  # type: ignore[operator]
    result.to_parquet(path)
    back = pd.read_parquet(path, dtype_backend="pyarrow")
    assert back["boxes"].dtype == result["boxes"].dtype
    assert back["boxes"].tolist() == result["boxes"].tolist()


def test_input_forms_give_the_same_result() -> None:
    rows = [
        ("i1", "a", [box(0.1, 0.1), box(0.5, 0.5)]),
        ("i1", "b", [box(0.11, 0.1)]),
        ("i1", "c", [box(0.5, 0.52)]),
        ("i2", "a", []),
        ("i2", "b", [box(0.3, 0.3)]),
    ]
    plain = bounding_boxes(frame(rows))
    as_json = frame(
        [(t, w, json.dumps([dict(b, shape="rectangle") for b in v])) for t, w, v in rows]
    )
    parsed = parse_areas(as_json["boxes"])["rectangles"]
    arrow = frame(rows).assign(boxes=parsed)
    for other in (as_json, arrow):
        assert bounding_boxes(other).equals(plain)


def test_worker_quality_counts_matches_misses_and_extras() -> None:
    df = frame(
        [
            ("img", "a", [box(0.1, 0.1), box(0.6, 0.6)]),
            ("img", "b", [box(0.1, 0.1), box(0.6, 0.6)]),
            ("img", "c", [box(0.1, 0.1), box(0.3, 0.7)]),  # one extra, misses the second
        ]
    )
    quality = fit_bounding_boxes(df).worker_quality().set_index("worker_id")
    assert quality["n_shapes"].tolist() == [2, 2, 2]
    assert quality["n_matched"].tolist() == [2, 2, 1]
    assert quality["n_missed"].tolist() == [0, 0, 1]
    assert quality["n_extra"].tolist() == [0, 0, 1]
    assert quality["mean_iou"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert quality.loc["c", "precision"] == 0.5
    assert quality.loc["c", "recall"] == 0.5


def test_golden_tasks_answer_with_known_boxes_and_score_workers() -> None:
    df = frame(
        [
            ("gold", "a", [box(0.1, 0.1)]),
            ("gold", "b", [box(0.5, 0.5)]),  # wrong place
            ("gold", "c", [box(0.5, 0.5)]),
            ("img", "a", [box(0.3, 0.3)]),
            ("img", "b", [box(0.3, 0.3)]),
        ]
    )
    model = fit_bounding_boxes(df, golden={"gold": [box(0.1, 0.1)], "unseen": []})
    result = model.to_frame(flat=True)
    gold = result[result["task_id"] == "gold"]
    assert gold[["left", "top", "confidence"]].values.tolist() == [[0.1, 0.1, 1.0]]
    assert result["golden"].tolist() == [True, False]
    quality = model.worker_quality().set_index("worker_id")
    assert quality.loc["a", "n_matched"] == 2
    assert quality.loc["b", "n_matched"] == 1  # the ordinary task only
    assert quality.loc["b", "n_missed"] == 1 and quality.loc["b", "n_extra"] == 1


def test_empty_answers_nulls_and_all_empty_tasks() -> None:
    df = frame([("i1", "a", []), ("i1", "b", []), ("i2", "a", None), ("i2", "b", [box(0.1, 0.1)])])
    with pytest.warns(DroppedResponsesWarning, match="dropped 1 of 4"):
        result = bounding_boxes(df)
    assert result["boxes"].list.len().tolist() == [0, 1]
    quality = fit_bounding_boxes(df.iloc[[0, 1]]).worker_quality()
    assert quality["precision"].tolist() == [1.0, 1.0]
    assert quality["recall"].tolist() == [1.0, 1.0]
    assert quality["mean_iou"].isna().all()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([{"left": 0.1, "top": 0.1, "width": -0.1, "height": 0.1}], "negative"),
        ([{"left": 0.1, "top": 0.1, "width": 0.1}], "missing or non-finite"),
        ([{"shape": "point", "left": 0.1, "top": 0.1}], "parse_areas"),
        ("not json", "not valid JSON"),
        (3, "list of shapes"),
    ],
)
def test_bad_boxes_are_refused_with_the_row(value: object, message: str) -> None:
    df = frame([("i1", "a", [box(0.1, 0.1)]), ("i1", "b", value)])
    with pytest.raises(InvalidArgumentError, match=message):
        bounding_boxes(df)


def test_bad_arguments() -> None:
    df = frame([("i1", "a", [box(0.1, 0.1)])])
    with pytest.raises(MissingColumnsError):
        bounding_boxes(df, boxes="rectangles")
    with pytest.raises(InvalidArgumentError, match="iou_threshold"):
        bounding_boxes(df, iou_threshold=0)
    with pytest.raises(InvalidArgumentError, match="min_confidence"):
        bounding_boxes(df, min_confidence=1.5)
    with pytest.raises(InvalidArgumentError, match="golden="):
        bounding_boxes(df, golden=[box(0.1, 0.1)])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="linkage"):
        bounding_boxes(df, linkage="single")
    with pytest.raises(InvalidArgumentError, match="max_distance"):
        points(df.rename(columns={"boxes": "points"}), max_distance=-1)


def test_points_matched_by_distance() -> None:
    df = frame(
        [
            ("img", "a", [{"left": 0.50, "top": 0.50}, {"left": 0.1, "top": 0.1}]),
            ("img", "b", [{"left": 0.52, "top": 0.50}]),
            ("img", "c", [{"left": 0.51, "top": 0.53}, {"left": 0.9, "top": 0.9}]),
        ],
        column="points",
    )
    result = points(df, flat=True)
    assert result[["left", "top", "confidence"]].values.tolist() == [[0.51, 0.5, 1.0]]
    model = fit_points(df, golden={"other": []})
    quality = model.worker_quality().set_index("worker_id")
    assert quality.loc["b", "mean_distance"] == pytest.approx(0.01)
    assert quality["n_extra"].tolist() == [1, 0, 1]
    assert points(df, max_distance=0.02, flat=True).empty


def test_many_tasks_vectorised_like_one_by_one() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for t in range(30):
        objects = rng.uniform(0, 0.7, size=(int(rng.integers(0, 4)), 2))
        for w in range(int(rng.integers(1, 6))):
            drawn = [box(*(o + rng.normal(0, 0.02, 2))) for o in objects if rng.random() < 0.8]
            if rng.random() < 0.2:
                drawn.append(box(*rng.uniform(0, 0.8, 2)))
            rows.append((f"t{t:02d}", f"w{w}", drawn))
    df = frame(rows)
    together = bounding_boxes(df, flat=True)
    alone = pd.concat(
        [bounding_boxes(part, flat=True) for _, part in df.groupby("task_id")], ignore_index=True
    )
    pd.testing.assert_frame_equal(together, alone)
    assert len(together) > 20


def test_arrow_column_with_nulls_and_slices() -> None:
    values = pa.array(
        [[box(0.1, 0.1)], None, [], [box(0.1, 0.1)]],
        type=pa.list_(pa.struct([(k, pa.float64()) for k in ("left", "top", "width", "height")])),
    )
    df = pd.DataFrame(
        {
            "task_id": ["x", "x", "y", "x"],
            "worker_id": ["a", "b", "a", "c"],
            "boxes": pd.arrays.ArrowExtensionArray(values),
        }
    ).iloc[1:]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = bounding_boxes(df, flat=True)
    assert len(caught) == 1 and issubclass(caught[0].category, DroppedResponsesWarning)
    assert result["task_id"].tolist() == ["x"]
    assert result["confidence"].tolist() == [1.0]
