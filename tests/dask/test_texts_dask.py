"""ROVER on Dask frames: partitions holding whole tasks give the pandas accessor's result."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import pandas_toloka  # noqa: F401  (registers df.toloka)
import pandas_toloka.dask as ptd
from pandas_toloka.errors import InvalidArgumentError

WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran"]


def _transcriptions() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = []
    for pool in ("p1", "p2"):
        for t in range(30):
            truth = list(rng.choice(WORDS, size=int(rng.integers(2, 7))))
            for w in rng.choice(8, size=int(rng.integers(1, 5)), replace=False):
                words = [x if rng.random() > 0.25 else str(rng.choice(WORDS)) for x in truth]
                rows.append((pool, f"t{t:02d}", f"w{w}", " ".join(words[: len(words) - (w % 2)])))
    frame = pd.DataFrame(rows, columns=["pool_id", "task_id", "worker_id", "text"])
    return frame.astype("string[pyarrow]")


def test_rover_on_whole_task_partitions_equals_pandas(dask_client: object) -> None:
    frame = _transcriptions()
    expected = frame.toloka.aggregate_locally(type="ROVER", fields="text")
    # Three partitions, each a block of whole tasks (rows in their original order).
    blocks = [
        frame[frame["task_id"] < "t10"],
        frame[(frame["task_id"] >= "t10") & (frame["task_id"] < "t20")],
        frame[frame["task_id"] >= "t20"],
    ]
    ddf = dd.concat([dd.from_pandas(block, npartitions=1) for block in blocks])
    result = ptd.aggregate_locally(ddf, type="ROVER", fields="text").compute()
    result = result.sort_values(["pool_id", "task_id"], ignore_index=True)
    pd.testing.assert_frame_equal(result, expected)


def test_embedding_methods_are_not_on_dask() -> None:
    ddf = dd.from_pandas(_transcriptions(), npartitions=1)
    with pytest.raises(InvalidArgumentError, match="compute the frame"):
        ptd.aggregate_locally(ddf, type="RASA", fields="text")
