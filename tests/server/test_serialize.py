"""Datetimes, JSON and keyset-page cutting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest

from pandas_toloka.server._serialize import (
    bisect_left,
    bisect_right,
    dumps,
    format_datetime,
    format_timestamps,
    key_range,
    page_bounds,
    parse_datetime,
)


def test_format_datetime_is_utc_without_zone_with_milliseconds():
    moment = datetime(2023, 4, 13, 19, 39, 12, 422999, tzinfo=timezone(timedelta(hours=3)))
    assert format_datetime(moment) == "2023-04-13T16:39:12.422"
    assert format_datetime(datetime(2023, 1, 1)) == "2023-01-01T00:00:00.000"
    assert parse_datetime("2023-04-13T16:39:12.422Z") == datetime(2023, 4, 13, 16, 39, 12, 422000)


def test_format_timestamps_vectorised():
    values = pa.array([datetime(2023, 4, 13, 16, 39, 12, 422500), None], pa.timestamp("us"))
    assert format_timestamps(values).to_pylist() == ["2023-04-13T16:39:12.422", None]


def test_dumps_is_compact_utf8_and_rejects_nan():
    assert dumps({"a": "кот", "b": [1, True]}) == '{"a":"кот","b":[1,true]}'.encode()
    with pytest.raises(ValueError):
        dumps({"x": float("nan")})


def test_bisect_and_key_range():
    keys = pa.array(["a", "b", "b", "c"])
    assert (bisect_left(keys, "b"), bisect_right(keys, "b")) == (1, 3)
    assert key_range(keys, gt="a", lt="c") == (1, 3)
    assert key_range(keys, gte="b", lte="b") == (1, 3)
    assert key_range(keys, gt="c") == (4, 4)
    assert key_range(keys, gt="c", lt="a") == (4, 4)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((0, 6, 3, False), (0, 3, True)),
        ((0, 6, 6, False), (0, 6, False)),
        ((0, 6, 3, True), (3, 6, True)),
        ((2, 2, 5, False), (2, 2, False)),
    ],
)
def test_page_bounds(args, expected):
    lo, hi, limit, descending = args
    assert page_bounds(lo, hi, limit, descending=descending) == expected
