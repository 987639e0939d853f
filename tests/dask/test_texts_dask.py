"""ROVER and the embedding methods on Dask frames give the pandas accessor's result."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import pandas_toloka  # noqa: F401  (registers df.toloka)
import pandas_toloka.dask as ptd
from pandas_toloka.errors import DroppedResponsesWarning, MissingColumnsError

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


def test_rover_options_reach_the_partitions(dask_client: object) -> None:
    frame = _transcriptions()
    options = {"detokenizer": "_".join}
    expected = frame.toloka.aggregate_locally(type="ROVER", fields="text", method_kwargs=options)
    ddf = dd.from_pandas(frame, npartitions=2, sort=False)
    result = ptd.aggregate_locally(ddf, type="ROVER", fields="text", method_kwargs=options)
    result = result.compute().sort_values(["pool_id", "task_id"], ignore_index=True)
    assert result["text"].str.contains("_").any()
    pd.testing.assert_frame_equal(result, expected)


def _with_embeddings() -> pd.DataFrame:
    """The transcriptions with a 3-d embedding per response (lists of floats), some rejected."""
    frame = _transcriptions()
    rng = np.random.default_rng(11)
    # an Arrow list column: dask would turn a column of Python lists into strings
    vectors = pa.array(rng.normal(size=(len(frame), 3)).round(3).tolist(), pa.list_(pa.float64()))
    frame["emb"] = pd.arrays.ArrowExtensionArray(vectors)
    frame["status"] = np.where(rng.random(len(frame)) < 0.05, "REJECTED", "ACCEPTED")
    return frame


@pytest.mark.parametrize(
    ("kind", "n_iter"),
    [
        ("CLOSEST_TO_AVERAGE", None),  # per task
        ("RASA", 5),  # per pool: worker reliabilities couple the tasks
        ("HRRASA", 5),
        ("TEXT_RASA", 5),
        ("TEXT_HRRASA", 5),
    ],
)
def test_embedding_methods_equal_pandas(dask_client: object, kind: str, n_iter: int | None) -> None:
    frame = _with_embeddings()
    options = {"embedding": "emb"}
    # rows shuffled: every task and pool spans the partitions
    ddf = dd.from_pandas(frame.sample(frac=1.0, random_state=2), npartitions=3, sort=False)
    shuffled = frame.sample(frac=1.0, random_state=2)
    # the frame's REJECTED transcriptions are left out, and counted, by both
    dropped = r"dropped 10 of 146 response\(s\): 10 not of status \['ACCEPTED'\]\.$"
    with pytest.warns(DroppedResponsesWarning, match=dropped):
        expected = shuffled.toloka.aggregate_locally(
            type=kind, fields="text", n_iter=n_iter, method_kwargs=options
        )
    with pytest.warns(DroppedResponsesWarning, match=dropped):
        lazy = ptd.aggregate_locally(
            ddf, type=kind, fields="text", n_iter=n_iter, method_kwargs=options
        )
    result = lazy.compute()
    result = result.sort_values(["pool_id", "task_id"], ignore_index=True)
    pd.testing.assert_frame_equal(result, expected)


def test_embedding_methods_need_the_embedding_column_on_dask() -> None:
    ddf = dd.from_pandas(_transcriptions(), npartitions=1)
    with pytest.raises(MissingColumnsError, match="emb"):
        ptd.aggregate_locally(ddf, type="RASA", fields="text", method_kwargs={"embedding": "emb"})
