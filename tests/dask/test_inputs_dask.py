"""inputs= of Dask's aggregate_locally: the tasks' input columns, from the frame's own columns."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from conftest import SPEC, make_responses
from test_dropped_counts import area_responses

import pandas_toloka as ptk  # noqa: F401 - registers df.toloka
import pandas_toloka.dask as ptd
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError

INPUT_SPEC = {"image": {"type": "URL", "required": True}, "size": {"type": "INTEGER"}}


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    """Two pools of responses carrying their tasks' inputs, as read_responses(inputs=) does."""
    frames = []
    for i, pool in enumerate(["81", "82"]):
        frame = make_responses(30 + i, 40)
        frame.insert(0, "pool_id", pool)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True).astype(
        {"pool_id": "string[pyarrow]", "task_id": "string[pyarrow]", "worker_id": "string[pyarrow]"}
    )
    out["status"] = np.where(np.arange(len(out)) % 13 == 3, "REJECTED", "ACCEPTED")
    out["image"] = ("https://example.com/" + out["task_id"].astype(str)).astype("string[pyarrow]")
    out["size"] = out["task_id"].astype(str).str[-2:].astype("int64")
    out.attrs["toloka"] = {
        "kind": "responses",
        "library": "pandas-toloka",
        "pool_id": "81",
        "status": None,
        "output_spec": SPEC,
        "input_spec": INPUT_SPEC,
    }
    return out


#: What the responses fixture leaves out, and counts: its REJECTED rows.
DROPPED = r"dropped 19 of 240 response\(s\): 19 not of status \['ACCEPTED'\]\.$"


def test_dask_inputs_equal_the_pandas_accessor(dask_client, responses) -> None:  # type: ignore[no-untyped-def]
    # The input columns are joined to the result's partitions whichever way these were
    # built (per task, per pool, distributed EM); one pool per partition keeps this fast.
    with pytest.warns(DroppedResponsesWarning, match=DROPPED):
        expected = responses.toloka.aggregate_locally("MAJORITY_VOTE", fields="result", inputs=True)
    assert list(expected.columns[-2:]) == ["image", "size"]
    assert expected["size"].dtype == "int64[pyarrow]"
    ddf = dd.concat([dd.from_pandas(g, npartitions=1) for _, g in responses.groupby("pool_id")])
    ddf._meta.attrs = responses.attrs
    with pytest.warns(DroppedResponsesWarning, match=DROPPED):
        by_name = ptd.aggregate_locally(
            ddf, "MAJORITY_VOTE", fields="result", inputs=["image", "size"]
        )
    with pytest.warns(DroppedResponsesWarning, match=DROPPED):
        lazy = ddf.toloka.aggregate_locally("MAJORITY_VOTE", fields="result", inputs=True)
    for meta in (by_name._meta, lazy._meta):
        assert meta.dtypes.to_dict() == expected.dtypes.to_dict()
        assert meta.attrs["toloka"]["input_spec"] == expected.attrs["toloka"]["input_spec"]
    got = lazy.compute().sort_values(["pool_id", "task_id"], ignore_index=True)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, atol=1e-9)


def test_dask_inputs_check_names_now_and_values_at_compute(dask_client, responses) -> None:  # type: ignore[no-untyped-def]
    ddf = dd.from_pandas(responses, npartitions=2)
    ddf._meta.attrs = responses.attrs
    with pytest.raises(InvalidArgumentError, match=r"no input field 'photo'"):
        ptd.aggregate_locally(ddf, "MAJORITY_VOTE", fields="result", inputs="photo")
    bare = dd.from_pandas(responses.drop(columns=["image", "size"]), npartitions=2)
    with pytest.raises(MissingColumnsError, match="image"):
        ptd.aggregate_locally(bare, "MAJORITY_VOTE", fields="result", inputs="image")
    # a task whose rows disagree, in two partitions: an error naming it when computed
    broken = responses.copy()
    first = broken.index[broken["task_id"] == broken["task_id"].iloc[0]]
    broken.loc[first[-1], "image"] = "https://example.com/other"
    with pytest.warns(DroppedResponsesWarning, match=DROPPED):
        lazy = ptd.aggregate_locally(
            dd.from_pandas(broken, npartitions=2), "MAJORITY_VOTE", fields="result", inputs="image"
        )
    with pytest.raises(InvalidArgumentError, match=rf"task {broken['task_id'].iloc[0]!r}"):
        lazy.compute()


def test_dask_area_selection_gets_its_inputs(dask_client) -> None:  # type: ignore[no-untyped-def]
    frame = area_responses().assign(image=lambda f: "https://x/" + f["task_id"])
    spec = {"boxes": {"type": "JSON"}}
    with pytest.warns(DroppedResponsesWarning):
        expected = frame.toloka.aggregate_locally("BOXES", output_spec=spec, inputs="image")
    with pytest.warns(DroppedResponsesWarning):
        lazy = ptd.aggregate_locally(
            dd.from_pandas(frame, npartitions=2), "BOXES", output_spec=spec, inputs="image"
        )
    got = lazy.compute().sort_values("task_id", ignore_index=True)
    assert got.columns.tolist() == expected.columns.tolist()
    assert got["image"].tolist() == expected["image"].tolist()


def test_dask_refuses_inputs_for_a_ranking_as_pandas_does(responses) -> None:  # type: ignore[no-untyped-def]
    ddf = dd.from_pandas(responses, npartitions=2)
    for inputs, message in ((True, "ranks items"), (0, "inputs must")):
        with pytest.raises(InvalidArgumentError, match=message) as on_dask:
            ddf.toloka.aggregate_locally("BRADLEY_TERRY", inputs=inputs)
        with pytest.raises(InvalidArgumentError) as on_pandas:
            responses.toloka.aggregate_locally("BRADLEY_TERRY", inputs=inputs)
        assert str(on_dask.value) == str(on_pandas.value)
