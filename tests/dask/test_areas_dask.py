"""BOXES, POINTS and segmentation on Dask frames equal the pandas accessor (tasks spanning partitions)."""

from __future__ import annotations

import json

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import pandas_toloka.dask  # noqa: F401  (registers ddf.toloka)
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError
from pandas_toloka.server.demo import demo_pools


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    pool = demo_pools()["1003"]
    frame = pool.responses.copy()
    # JSON text, as read_responses gives a JSON field; the first 60 images, two pools
    frame["result"] = frame["result"].map(pd.io.json.ujson_dumps)
    frame = frame[frame["task_id"] < "image-0060"]
    frame["pool_id"] = ["1003" if t < "image-0030" else "2003" for t in frame["task_id"]]
    return frame.reset_index(drop=True)


SPEC = {"result": {"type": "JSON", "required": True}}


@pytest.mark.parametrize(
    ("kind", "options"),
    [("BOXES", None), ("SEGMENTATION_EM", {"width": 24, "height": 16})],
)
def test_equal_to_pandas(
    dask_client: object, responses: pd.DataFrame, kind: str, options: dict | None
) -> None:
    # the demo pool's REJECTED responses among the first 60 images are left out, and counted
    dropped = r"dropped 8 of 300 response\(s\): 8 not of status \['ACCEPTED'\]\.$"
    with pytest.warns(DroppedResponsesWarning, match=dropped):
        expected = responses.toloka.aggregate_locally(kind, output_spec=SPEC, method_kwargs=options)
    # rows in a shuffled order: every task's responses span several partitions
    ddf = dd.from_pandas(responses.sample(frac=1.0, random_state=3), npartitions=4, sort=False)
    with pytest.warns(DroppedResponsesWarning, match=dropped):
        result = ddf.toloka.aggregate_locally(kind, output_spec=SPEC, method_kwargs=options)
    got = result.compute().sort_values(["pool_id", "task_id"]).reset_index(drop=True)
    assert got["task_id"].tolist() == expected["task_id"].tolist()
    pd.testing.assert_frame_equal(got, expected, check_dtype=True)


def test_dask_refuses_bad_area_options(responses: pd.DataFrame) -> None:
    ddf = dd.from_pandas(responses, npartitions=2)
    with pytest.raises(InvalidArgumentError, match="method_kwargs"):
        ddf.toloka.aggregate_locally("MAJORITY_VOTE", method_kwargs={"width": 3})
    with pytest.raises(InvalidArgumentError, match="width"):
        ddf.toloka.aggregate_locally("SEGMENTATION_EM", output_spec=SPEC)


def test_points_equal_to_pandas(dask_client: object) -> None:
    rng = np.random.default_rng(7)
    rows = []
    for pool in ("1", "2"):
        for t in range(12):
            targets = rng.uniform(0.1, 0.9, (2, 2))
            for w in range(5):
                shapes = [
                    {"shape": "point", "left": x + rng.normal(0, 0.005), "top": y}
                    for x, y in targets
                    if w != 4
                ]
                rows.append((pool, f"img{t:02d}", f"w{w}", json.dumps(shapes)))
    responses = pd.DataFrame(rows, columns=["pool_id", "task_id", "worker_id", "result"])
    options = {"max_distance": 0.03}
    expected = responses.toloka.aggregate_locally("POINTS", output_spec=SPEC, method_kwargs=options)
    ddf = dd.from_pandas(responses.sample(frac=1.0, random_state=5), npartitions=3, sort=False)
    result = ddf.toloka.aggregate_locally("POINTS", output_spec=SPEC, method_kwargs=options)
    got = result.compute().sort_values(["pool_id", "task_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=True)
