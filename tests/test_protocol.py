"""Tests of the wire-protocol facts shared by the client side and the server."""

from __future__ import annotations

import datetime as dt

import pytest

from pandas_toloka._protocol import AggregationType, format_datetime, parse_datetime
from pandas_toloka.errors import InvalidArgumentError

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-04-13T16:39:12", dt.datetime(2023, 4, 13, 16, 39, 12, tzinfo=UTC)),
        ("2023-04-13T16:39:12.4", dt.datetime(2023, 4, 13, 16, 39, 12, 400000, tzinfo=UTC)),
        ("2023-04-13T16:39:12.422", dt.datetime(2023, 4, 13, 16, 39, 12, 422000, tzinfo=UTC)),
        ("2023-04-13T16:39:12.12345", dt.datetime(2023, 4, 13, 16, 39, 12, 123450, tzinfo=UTC)),
        ("2023-04-13T16:39:12.123456", dt.datetime(2023, 4, 13, 16, 39, 12, 123456, tzinfo=UTC)),
        ("2023-04-13T16:39:12.422Z", dt.datetime(2023, 4, 13, 16, 39, 12, 422000, tzinfo=UTC)),
        ("2023-04-13T18:39:12+02:00", dt.datetime(2023, 4, 13, 16, 39, 12, tzinfo=UTC)),
    ],
)
def test_parse_datetime_reads_every_fraction_length_as_utc(
    text: str, expected: dt.datetime
) -> None:
    assert parse_datetime(text) == expected
    assert parse_datetime(text).tzinfo is not None


def test_format_datetime_is_utc_milliseconds_without_zone() -> None:
    aware = dt.datetime(2023, 4, 13, 18, 39, 12, 422999, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_datetime(aware) == "2023-04-13T16:39:12.422"
    assert format_datetime(dt.datetime(2023, 1, 1)) == "2023-01-01T00:00:00.000"
    assert parse_datetime(format_datetime(aware)) == aware.replace(microsecond=422000)


def test_parse_datetime_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_datetime("yesterday")


def test_aggregation_type_parses_names_in_any_case() -> None:
    assert AggregationType.parse("dawid_skene") is AggregationType.DAWID_SKENE
    assert (
        AggregationType.parse(AggregationType.WEIGHTED_DYNAMIC_OVERLAP).value
        == "WEIGHTED_DYNAMIC_OVERLAP"
    )
    assert str(AggregationType.DAWID_SKENE) == "DAWID_SKENE"
    with pytest.raises(InvalidArgumentError, match="DAWID_SKENE"):
        AggregationType.parse("MEDIAN")
