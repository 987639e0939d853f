"""Local aggregation never raises a bare exception for a frame's shape, and counts what it drops."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import pandas_toloka  # noqa: F401 - registers df.toloka
from pandas_toloka.aggregation import dawid_skene, majority_vote
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError

ROWS = [
    ("t1", "w1", "a"),
    ("t1", "w2", "b"),
    ("t1", "w3", "a"),
    ("t2", "w1", "b"),
    ("t2", "w2", "b"),
    ("t2", "w3", "a"),
]


def _frame(**columns: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=["task_id", "worker_id", "result"])
    for name, values in columns.items():
        frame[name] = pd.Series(values, dtype=object)
    return frame


Call = Callable[[pd.DataFrame], object]
EVERY_PATH: dict[str, Call] = {
    "dawid_skene": lambda f: dawid_skene(f, label="result"),
    "majority_vote": lambda f: majority_vote(f, label="result"),
    "aggregate_locally": lambda f: f.toloka.aggregate_locally(type="DAWID_SKENE", fields="result"),
    "worker_quality": lambda f: f.toloka.worker_quality(field="result"),
    "fit_locally": lambda f: f.toloka.fit_locally(type="DAWID_SKENE", fields="result"),
    "agreement": lambda f: f.toloka.agreement("result"),
}


@pytest.mark.parametrize("path", list(EVERY_PATH))
def test_duplicate_column_names_are_a_typed_error(path: str) -> None:
    frame = _frame()
    frame.insert(3, "extra", frame["result"])
    frame.columns = ["task_id", "worker_id", "result", "result"]
    with pytest.raises(
        InvalidArgumentError, match=r"several columns named \['result'\].*duplicated"
    ):
        EVERY_PATH[path](frame)


@pytest.mark.parametrize("path", list(EVERY_PATH))
def test_mixed_text_and_number_labels_are_refused_by_every_path(path: str) -> None:
    frame = _frame(result=["1", 1, "1", 1, 1, "1"])
    with pytest.raises(
        InvalidArgumentError, match=r"mixes values of types \['int', 'str'\].*astype"
    ):
        EVERY_PATH[path](frame)


@pytest.mark.parametrize("path", list(EVERY_PATH))
@pytest.mark.parametrize("value", [["a"], {"a": 1}], ids=["list", "dict"])
def test_labels_that_are_lists_or_dicts_are_a_typed_error(path: str, value: object) -> None:
    frame = _frame(result=[value] * len(ROWS))
    with pytest.raises(
        InvalidArgumentError, match=rf"holds {type(value).__name__} values.*scalars"
    ):
        EVERY_PATH[path](frame)


ACCESSOR = ["aggregate_locally", "worker_quality", "fit_locally", "agreement"]


@pytest.mark.parametrize("path", ACCESSOR)
def test_a_status_column_of_unknown_values_names_the_allowed_statuses(path: str) -> None:
    frame = _frame(status=["DONE"] * len(ROWS))
    with pytest.raises(InvalidArgumentError, match=r"no known status.*'ACCEPTED'.*status=None"):
        EVERY_PATH[path](frame)


def _one_warning(call: Call, frame: pd.DataFrame) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(frame)
    dropped = [w for w in caught if issubclass(w.category, DroppedResponsesWarning)]
    assert len(dropped) == 1, [str(w.message) for w in caught]
    assert dropped[0].filename == __file__  # points at the caller
    return str(dropped[0].message)


@pytest.mark.parametrize("path", ACCESSOR)
def test_each_accessor_path_counts_every_dropped_row_in_one_warning(path: str) -> None:
    # the export's APPROVED counts as ACCEPTED; one row rejected, one without an answer
    frame = _frame(status=["APPROVED", "ACCEPTED", "REJECTED", "ACCEPTED", "APPROVED", "ACCEPTED"])
    frame.loc[4, "result"] = None
    message = _one_warning(EVERY_PATH[path], frame)
    assert message.startswith(f"{path}: dropped 2 of 6 response(s)")
    assert "1 not of status ['ACCEPTED']" in message
    assert "1 without an answer in ['result']" in message


def test_a_frame_with_nothing_to_drop_warns_nothing() -> None:
    frame = _frame(status=["ACCEPTED"] * len(ROWS))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DroppedResponsesWarning)
        out = frame.toloka.aggregate_locally(type="DAWID_SKENE", fields="result")
    assert len(out) == 2


def test_workers_without_a_skill_are_counted_too() -> None:
    frame = _frame(status=["ACCEPTED"] * 5 + ["REJECTED"])
    skills = pd.DataFrame({"worker_id": ["w1", "w2"], "value": [80.0, np.nan]})
    message = _one_warning(
        lambda f: f.toloka.aggregate_locally(
            type="WEIGHTED_DYNAMIC_OVERLAP", fields="result", skills=skills
        ),
        frame,
    )
    # one row rejected; then w3 has no skill (1 row left) and w2's is null (2 rows)
    assert message.startswith("aggregate_locally: dropped 4 of 6 response(s)")
    assert "3 from workers without a skill" in message
