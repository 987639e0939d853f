"""POINTS through aggregate_locally (pandas and Dask) and quality-weighted box fusion."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import pandas_toloka  # noqa: F401  (registers df.toloka)
from pandas_toloka.aggregation import bounding_boxes, parse_areas, points
from pandas_toloka.aggregation._linkage import box_iou
from pandas_toloka.aggregation._registry import METHODS
from pandas_toloka.errors import InvalidArgumentError
from pandas_toloka.server._demo_areas import AREAS_POOL_ID, area_pool
from pandas_toloka.server.demo import SEED

SPEC = {"result": {"type": "JSON", "required": True}}


def _point(left: float, top: float) -> dict[str, object]:
    return {"shape": "point", "left": left, "top": top}


def point_responses() -> pd.DataFrame:
    """Two pools; each image has two points most workers put, plus a stray one."""
    rng = np.random.default_rng(7)
    rows = []
    for pool in ("1", "2"):
        for t in range(12):
            targets = rng.uniform(0.1, 0.9, (2, 2))
            for w in range(5):
                shapes = [_point(*(xy + rng.normal(0, 0.005, 2))) for xy in targets if w != 4]
                if w == 3:
                    shapes.append(_point(0.02, 0.98))
                rows.append((pool, f"img{t:02d}", f"w{w}", json.dumps(shapes)))
    frame = pd.DataFrame(rows, columns=["pool_id", "task_id", "worker_id", "result"])
    frame["status"] = "ACCEPTED"
    return frame


def test_points_row() -> None:
    row = METHODS["POINTS"]
    assert (row.kind, row.roles, row.dask, row.golden) == (
        "boxes",
        ("task", "worker", "points"),
        "per_task",
        True,
    )
    assert "max_distance" in row.options and "points" not in row.options


def test_points_through_aggregate_locally_equal_the_function() -> None:
    responses = point_responses()
    result = responses.toloka.aggregate_locally(
        "POINTS", fields="result", method_kwargs={"max_distance": 0.03}
    )
    assert list(result.columns) == ["pool_id", "task_id", "result"]
    assert len(result) == 24
    assert result.attrs["toloka"]["type"] == "POINTS"
    for pool, group in responses.groupby("pool_id"):
        frame = group[["task_id", "worker_id"]].join(parse_areas(group["result"])["points"])
        expected = points(frame, max_distance=0.03)
        got = result[result["pool_id"] == pool]
        assert got["task_id"].tolist() == expected["task_id"].tolist()
        assert got["result"].tolist() == expected["points"].tolist()
    # every image: the two shared points, the stray one (1 of 5) left out
    assert all(len(v) == 2 for v in result["result"])


def test_points_refuses_box_options() -> None:
    with pytest.raises(InvalidArgumentError, match="iou_threshold"):
        point_responses().toloka.aggregate_locally("POINTS", method_kwargs={"iou_threshold": 0.5})


def _box(left: float, top: float, width: float, height: float) -> dict[str, float]:
    return {"left": left, "top": top, "width": width, "height": height}


def test_weighted_fusion_equal_weights_is_the_median() -> None:
    # two workers, both matching the fused boxes equally: the weighted median is the median
    frame = pd.DataFrame(
        {
            "task_id": ["a", "a"],
            "worker_id": ["u", "v"],
            "boxes": [[_box(0.1, 0.1, 0.4, 0.4)], [_box(0.12, 0.1, 0.4, 0.4)]],
        }
    )
    median = bounding_boxes(frame, flat=True)
    weighted = bounding_boxes(frame, fusion="weighted", flat=True)
    pd.testing.assert_frame_equal(weighted, median)
    with pytest.raises(InvalidArgumentError, match="fusion"):
        bounding_boxes(frame, fusion="mean")


def test_weighted_fusion_follows_the_careful_workers() -> None:
    # worker "s" is sloppy on every image; on image "x" the others disagree around it
    rows = []
    for t in range(6):
        rows += [
            (f"i{t}", "p", [_box(0.2, 0.2, 0.3, 0.3)]),
            (f"i{t}", "q", [_box(0.2, 0.2, 0.3, 0.3)]),
            (f"i{t}", "s", [_box(0.26, 0.25, 0.3, 0.3)]),
        ]
    rows += [
        ("x", "p", [_box(0.2, 0.2, 0.3, 0.3)]),
        ("x", "s", [_box(0.24, 0.24, 0.3, 0.3)]),
    ]
    frame = pd.DataFrame(rows, columns=["task_id", "worker_id", "boxes"])
    median = bounding_boxes(frame, flat=True).set_index("task_id")
    weighted = bounding_boxes(frame, fusion="weighted", flat=True).set_index("task_id")
    assert median.loc["x", "left"] == pytest.approx(0.22)  # halfway
    assert weighted.loc["x", "left"] == pytest.approx(0.2)  # the careful worker's edge
    assert weighted.loc["i0", "left"] == pytest.approx(0.2)


def test_weighted_fusion_on_the_demo_pool_is_at_least_as_close_to_the_truth() -> None:
    pool = area_pool(np.random.default_rng([SEED, int(AREAS_POOL_ID)]))  # demo pool 1003
    accepted = pool.responses[pool.responses["status"] == "ACCEPTED"]
    frame = accepted[["task_id", "worker_id"]].join(parse_areas(accepted["result"])["rectangles"])
    truth = pool.ground_truth.set_index("task_id")["result"]

    def mean_iou(result: pd.DataFrame) -> float:
        ious = []
        for task_id, boxes in zip(result["task_id"], result["rectangles"]):
            ours = np.array([[b["left"], b["top"], b["width"], b["height"]] for b in boxes])
            known = np.array(
                [[b["left"], b["top"], b["width"], b["height"]] for b in truth[task_id]]
            )
            iou = box_iou(ours.reshape(-1, 4)[:, None, :], known.reshape(-1, 4)[None, :, :])
            best = iou.max(axis=0) if len(ours) else np.zeros(len(known))
            ious.extend(best[best >= 0.5].tolist())
        return float(np.mean(ious))

    median = bounding_boxes(frame, boxes="rectangles")
    weighted = bounding_boxes(frame, boxes="rectangles", fusion="weighted")
    # same objects found (matching does not change), closer edges: measured 0.9304 vs 0.9259
    assert [len(v) for v in weighted["rectangles"]] == [len(v) for v in median["rectangles"]]
    assert mean_iou(weighted) >= mean_iou(median) + 0.002
