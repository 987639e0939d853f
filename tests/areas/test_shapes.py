"""parse_areas (Toloka's JSON shapes into typed columns) and rasterize_shapes (scanline fill)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pandas_toloka.aggregation import parse_areas, rasterize_shapes
from pandas_toloka.errors import InvalidArgumentError

RECT = {"shape": "rectangle", "left": 0.1, "top": 0.2, "width": 0.3, "height": 0.4}
POLY = {
    "shape": "polygon",
    "points": [{"left": 0, "top": 0}, {"left": 1, "top": 0}, {"left": 0, "top": 1}],
}
POINT = {"shape": "point", "left": 0.5, "top": 0.6, "label": "eye"}


def test_parse_areas_splits_kinds_keeps_index_and_nulls() -> None:
    values = pd.Series(
        [json.dumps([RECT, POINT, POLY]), None, "[]", [RECT]], index=["a", "b", "c", "d"]
    )
    areas = parse_areas(values)
    assert list(areas.columns) == ["rectangles", "polygons", "points"]
    assert list(areas.index) == ["a", "b", "c", "d"]
    assert areas["rectangles"].list.len().fillna(-1).tolist() == [1, -1, 0, 1]
    assert list(areas["points"].iloc[0]) == [{"left": 0.5, "top": 0.6, "label": "eye"}]
    vertices = areas["polygons"].iloc[0][0]["points"]
    assert [(v["left"], v["top"]) for v in vertices] == [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]
    box_type = areas["rectangles"].dtype.pyarrow_dtype.value_type
    assert [f.name for f in box_type] == ["left", "top", "width", "height", "label"]
    assert box_type.field("left").type == pa.float64()


def test_parse_areas_round_trips_through_parquet(tmp_path: object) -> None:
    areas = parse_areas(pd.Series([json.dumps([RECT, POLY, POINT]), None]))
    path = tmp_path / "areas.parquet"  # type: ignore[operator]
    areas.to_parquet(path)
    back = pd.read_parquet(path, dtype_backend="pyarrow")
    assert back.dtypes.tolist() == areas.dtypes.tolist()
    for column in areas.columns:
        assert pa.array(back[column]).to_pylist() == pa.array(areas[column]).to_pylist()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps([{"shape": "circle", "left": 0.1}]), "unknown shape 'circle'"),
        (json.dumps([{"left": 0.1}]), "unknown shape None"),
        (json.dumps([{"shape": "point", "left": "0.1", "top": 0.2}]), "'left' must be a number"),
        (json.dumps([{"shape": "polygon", "points": [{"left": 0, "top": 0}]}]), "at least 3"),
        (json.dumps([dict(RECT, width=-0.1)]), "width and height must be >= 0"),
        (json.dumps([dict(RECT, label=3)]), "'label' must be a string"),
        (json.dumps(5), "expected a list of shapes"),
        (json.dumps([5]), "expected an object"),
    ],
)
def test_parse_areas_refuses_bad_values_naming_the_row(value: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as caught:
        parse_areas(pd.Series([json.dumps([RECT]), value], index=["ok", "bad"]))
    assert "'bad'" in str(caught.value)


def test_parse_areas_needs_a_series() -> None:
    with pytest.raises(InvalidArgumentError, match="Series"):
        parse_areas([json.dumps([RECT])])  # type: ignore[arg-type]


def test_a_rectangle_covers_the_pixels_whose_centres_are_inside() -> None:
    # [0.25, 0.75) x [0, 0.5) at 4 x 2: columns 1 and 2 of row 0; edges half-open
    mask = rasterize_shapes(
        [RECT | {"left": 0.25, "top": 0.0, "width": 0.5, "height": 0.5}], width=4, height=2
    )
    assert mask.astype(int).tolist() == [[0, 1, 1, 0], [0, 0, 0, 0]]
    # centres exactly on the left/top edge are in, on the right/bottom edge out: centres
    # 0.125, 0.375 | 0.625 across and 0.25 | 0.75 down
    mask = rasterize_shapes(
        [RECT | {"left": 0.125, "top": 0.25, "width": 0.5, "height": 0.5}], width=4, height=2
    )
    assert mask.astype(int).tolist() == [[1, 1, 0, 0], [0, 0, 0, 0]]


def test_two_shapes_sharing_an_edge_share_no_pixel() -> None:
    left = {"shape": "rectangle", "left": 0.0, "top": 0.0, "width": 0.5, "height": 1.0}
    right = {"shape": "rectangle", "left": 0.5, "top": 0.0, "width": 0.5, "height": 1.0}
    a = rasterize_shapes([left], width=10, height=3)
    b = rasterize_shapes([right], width=10, height=3)
    assert not (a & b).any() and (a | b).all()


def test_even_odd_fill_of_a_self_intersecting_polygon() -> None:
    # a five-pointed star drawn in one stroke: its centre pentagon is crossed twice -> a hole
    angles = np.pi / 2 + np.arange(5) * 4 * np.pi / 5
    star = {
        "shape": "polygon",
        "points": [{"left": 0.5 + 0.45 * np.cos(a), "top": 0.5 - 0.45 * np.sin(a)} for a in angles],
    }
    mask = rasterize_shapes([star], width=41, height=41)
    assert not mask[20, 20]  # the centre is outside by the even-odd rule
    assert mask[6, 20]  # inside the top point
    triangle = rasterize_shapes([POLY], width=6, height=6)
    assert triangle.sum() == 15  # centres with x + y < 1


def test_rasterize_takes_json_parsed_values_and_unions_shapes() -> None:
    areas = parse_areas(pd.Series([json.dumps([POLY])]))
    from_column = rasterize_shapes(areas["polygons"].iloc[0], width=6, height=6)
    assert np.array_equal(from_column, rasterize_shapes(json.dumps([POLY]), width=6, height=6))
    corner = {"shape": "rectangle", "left": 0.7, "top": 0.7, "width": 0.3, "height": 0.3}
    both = rasterize_shapes([POLY, corner], width=6, height=6)
    assert both.sum() == from_column.sum() + 4
    assert not rasterize_shapes(None, width=3, height=2).any()
    assert rasterize_shapes([], width=3, height=2).shape == (2, 3)


def test_rasterize_refuses_points_and_bad_sizes() -> None:
    with pytest.raises(InvalidArgumentError, match="rasterise"):
        rasterize_shapes([POINT], width=4, height=4)
    with pytest.raises(InvalidArgumentError, match="width"):
        rasterize_shapes([RECT], width=0, height=4)
