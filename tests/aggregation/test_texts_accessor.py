"""``df.toloka.aggregate_locally`` with the text and embedding methods: the functions' answers in
the local aggregation schema, per pool, with options through ``method_kwargs=``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pandas_toloka  # noqa: F401  (registers df.toloka)
from pandas_toloka.aggregation import rover, text_hrrasa
from pandas_toloka.errors import (
    DroppedResponsesWarning,
    InvalidArgumentError,
    MissingColumnsError,
)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pool_id": ["p1"] * 5 + ["p2"] * 3,
            "task_id": ["t1", "t1", "t1", "t2", "t2", "t1", "t1", "t1"],
            "worker_id": ["a", "b", "c", "a", "b", "a", "b", "c"],
            "text": ["a b c d", "b z d e", "b c d e f", "x y", "x", "q r", "q r", "q s"],
            "emb": [
                [1.0, 0.0],
                [1.0, 0.1],
                [0.0, 1.0],
                [1.0, 1.0],
                [1.0, 0.9],
                [1.0, 0.0],
                [1.0, 0.0],
                [0.2, 1.0],
            ],
            "status": ["ACCEPTED"] * 7 + ["REJECTED"],
        }
    )


# The one REJECTED row of _frame() is left out, and counted.
_DROPPED = r"dropped 1 of 8 response\(s\): 1 not of status \['ACCEPTED'\]\.$"


def test_rover_through_the_accessor(tmp_path: Path) -> None:
    frame = _frame()
    with pytest.warns(DroppedResponsesWarning, match=_DROPPED):
        result = frame.toloka.aggregate_locally(type="rover", fields="text")
    assert list(result.columns) == ["pool_id", "task_id", "confidence", "text"]
    assert result["text"].tolist() == ["b c d e", "x y", "q r"]
    accepted = frame[frame["status"] == "ACCEPTED"]
    for pool, group in accepted.groupby("pool_id"):
        mine = result[result["pool_id"] == pool]
        expected = rover(group, text="text")
        assert mine["text"].tolist() == expected["text"].tolist()
        np.testing.assert_allclose(mine["confidence"], expected["confidence"])
    assert result.attrs["toloka"]["type"] == "ROVER"
    path = tmp_path / "rover.parquet"
    result.to_parquet(path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), result)


def test_rover_options_through_method_kwargs() -> None:
    frame = _frame()
    with pytest.warns(DroppedResponsesWarning, match=_DROPPED):
        result = frame.toloka.aggregate_locally(
            type="ROVER", fields="text", method_kwargs={"detokenizer": "_".join}
        )
    assert result["text"].tolist() == ["b_c_d_e", "x_y", "q_r"]


def test_embedding_methods_through_the_accessor() -> None:
    frame = _frame()
    with pytest.warns(DroppedResponsesWarning, match=_DROPPED):
        result = frame.toloka.aggregate_locally(
            type="TEXT_HRRASA", fields="text", n_iter=5, method_kwargs={"embedding": "emb"}
        )
    accepted = frame[frame["status"] == "ACCEPTED"]
    expected = [
        text_hrrasa(group, text="text", embedding="emb", n_iter=5)["text"].tolist()
        for _, group in accepted.groupby("pool_id")
    ]
    assert result["text"].tolist() == sum(expected, [])
    for kind in ("CLOSEST_TO_AVERAGE", "RASA", "HRRASA", "TEXT_RASA"):
        with pytest.warns(DroppedResponsesWarning, match=_DROPPED):
            out = frame.toloka.aggregate_locally(
                type=kind, fields="text", method_kwargs={"embedding": "emb"}
            )
        assert list(out.columns) == ["pool_id", "task_id", "confidence", "text"]
        assert len(out) == 3


def test_errors() -> None:
    frame = _frame()
    with pytest.raises(InvalidArgumentError, match="does not take n_iter"):
        frame.toloka.aggregate_locally(type="ROVER", fields="text", n_iter=3)
    with pytest.raises(InvalidArgumentError, match="takes only"):
        frame.toloka.aggregate_locally(type="ROVER", fields="text", method_kwargs={"alpha": 1})
    with pytest.raises(InvalidArgumentError, match="golden= is supported by"):
        frame.toloka.aggregate_locally(type="ROVER", fields="text", golden={"t1": "a"})
    with pytest.raises(MissingColumnsError, match="embedding"):
        frame.toloka.aggregate_locally(type="RASA", fields="text")
