"""Nothing filtered without a count: the accessor paths besides the label methods (ranking,
area selection) count the rows they leave out in one DroppedResponsesWarning."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable

import pandas as pd
import pytest

import pandas_toloka  # noqa: F401 - registers df.toloka
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError


def dropped_messages(call: Callable[[], object]) -> list[str]:
    """The DroppedResponsesWarning messages of one call, each pointing at this file."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    found = [w for w in caught if issubclass(w.category, DroppedResponsesWarning)]
    assert all(w.filename == __file__ for w in found), [w.filename for w in found]
    return [str(w.message) for w in found]


def comparisons() -> pd.DataFrame:
    rows = [
        ("p1", "a", "b", "left", "ACCEPTED"),
        ("p1", "a", "c", "left", "APPROVED"),  # the export's spelling counts as ACCEPTED
        ("p1", "b", "c", "right", "REJECTED"),
        ("p1", "b", "c", "left", "SUBMITTED"),
        ("p1", "c", "a", "right", "ACCEPTED"),
        ("p2", "a", "b", "right", "REJECTED"),  # another pool: counted only when ranked
        ("p2", "a", "b", "left", "ACCEPTED"),
    ]
    return pd.DataFrame(rows, columns=["pool_id", "left", "right", "winner", "status"])


def test_rank_counts_the_rows_of_an_unwanted_status() -> None:
    frame = comparisons()
    (message,) = dropped_messages(lambda: frame.toloka.rank("COUNTING"))
    assert message == "rank: dropped 3 of 7 response(s): 3 not of status ['ACCEPTED']."
    (one_pool,) = dropped_messages(lambda: frame.toloka.rank("COUNTING", pool_id="p1"))
    assert one_pool.startswith("rank: dropped 2 of 7")
    (as_aggregate,) = dropped_messages(
        lambda: frame.toloka.aggregate_locally("COUNTING", fields="winner")
    )
    assert as_aggregate == message
    assert dropped_messages(lambda: frame.toloka.rank("COUNTING", status=None)) == []
    with pytest.raises(InvalidArgumentError, match="no known status"):
        frame.assign(status="DONE").toloka.rank("COUNTING")


def area_responses() -> pd.DataFrame:
    box = {"shape": "rectangle", "left": 0.1, "top": 0.1, "width": 0.2, "height": 0.2}
    rows = [
        ("i1", "w1", [box], "ACCEPTED"),
        ("i1", "w2", [box], "ACCEPTED"),
        ("i1", "w3", [box], "REJECTED"),
        ("i2", "w1", None, "ACCEPTED"),
        ("i2", "w2", [box], "ACCEPTED"),
    ]
    frame = pd.DataFrame(rows, columns=["task_id", "worker_id", "boxes", "status"])
    frame["boxes"] = [None if v is None else json.dumps(v) for v in frame["boxes"]]
    return frame


def test_area_selection_counts_status_and_missing_answers() -> None:
    frame = area_responses()
    spec = {"boxes": {"type": "JSON"}}
    (message,) = dropped_messages(
        lambda: frame.toloka.aggregate_locally("BOXES", fields="boxes", output_spec=spec)
    )
    assert message == (
        "aggregate_locally: dropped 2 of 5 response(s): 1 not of status ['ACCEPTED'], "
        "1 without an answer in ['boxes']."
    )
    with pytest.raises(InvalidArgumentError, match="no known status"):
        frame.assign(status="DONE").toloka.aggregate_locally("BOXES", output_spec=spec)
