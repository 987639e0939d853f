"""Nothing filtered without a count, on Dask: every path gives the pandas accessor's one
DroppedResponsesWarning, with the same counts, on the driver (the partitions' own are
counted by the survey, not lost on the workers)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from conftest import SPEC, make_responses
from test_dropped_counts import area_responses, comparisons

import pandas_toloka as ptk  # noqa: F401 - registers df.toloka
import pandas_toloka.dask as ptd
from pandas_toloka.errors import DroppedResponsesWarning


def _messages(call: Callable[[], object]) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    found = [w for w in caught if issubclass(w.category, DroppedResponsesWarning)]
    assert all(w.filename == __file__ for w in found), [w.filename for w in found]
    return [str(w.message) for w in found]


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    frames = []
    for i, pool in enumerate(["91", "92"]):
        frame = make_responses(50 + i, 20)
        frame.insert(0, "pool_id", pool)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True).astype(
        {"pool_id": "string[pyarrow]", "task_id": "string[pyarrow]", "worker_id": "string[pyarrow]"}
    )
    out["status"] = np.where(np.arange(len(out)) % 11 == 4, "REJECTED", "ACCEPTED")
    out["result"] = out["result"].astype("string[pyarrow]")
    out.loc[out.index % 13 == 6, "result"] = pd.NA
    return out


def _by_pool(frame: pd.DataFrame) -> dd.DataFrame:
    return dd.concat([dd.from_pandas(g, npartitions=1) for _, g in frame.groupby("pool_id")])


SKILLS = pd.DataFrame({"worker_id": [f"w{w:02d}" for w in range(0, 25, 2)], "value": 70.0})

PATHS: dict[str, tuple[Callable[[pd.DataFrame], object], Callable[[dd.DataFrame], object]]] = {
    # per task (the survey of whole_tasks), with workers without a skill
    "WEIGHTED_DYNAMIC_OVERLAP": (
        lambda f: f.toloka.aggregate_locally(
            "WEIGHTED_DYNAMIC_OVERLAP", fields="result", skills=SKILLS, output_spec=SPEC
        ),
        lambda d: ptd.aggregate_locally(
            d, "WEIGHTED_DYNAMIC_OVERLAP", fields="result", skills=SKILLS, output_spec=SPEC
        ),
    ),
    # Dawid-Skene (the codes pass), per pool (whole_pools)
    "DAWID_SKENE": (
        lambda f: f.toloka.aggregate_locally(fields="result", output_spec=SPEC),
        lambda d: d.toloka.aggregate_locally(fields="result", output_spec=SPEC),
    ),
    "GLAD": (
        lambda f: f.toloka.aggregate_locally("GLAD", fields="result", output_spec=SPEC),
        lambda d: ptd.aggregate_locally(d, "GLAD", fields="result", output_spec=SPEC),
    ),
    "worker_quality": (  # distributed EM over every pool (fit_all)
        lambda f: f.toloka.worker_quality("result", output_spec=SPEC),
        lambda d: d.toloka.worker_quality("result", output_spec=SPEC),
    ),
    "agreement": (
        lambda f: f.toloka.agreement("result", output_spec=SPEC),
        lambda d: ptd.agreement(d, "result", output_spec=SPEC),
    ),
}


@pytest.mark.parametrize("path", list(PATHS))
def test_every_dask_path_warns_the_pandas_counts(dask_client, responses, path) -> None:  # type: ignore[no-untyped-def]
    pandas_call, dask_call = PATHS[path]
    (expected,) = _messages(lambda: pandas_call(responses))
    assert "not of status" in expected and "without an answer" in expected
    if path == "WEIGHTED_DYNAMIC_OVERLAP":
        assert "from workers without a skill" in expected
    ddf = _by_pool(responses)

    def run() -> None:
        out = dask_call(ddf)
        if isinstance(out, dd.DataFrame):
            out.compute()

    assert _messages(run) == [expected]


def test_dask_rank_and_areas_warn_the_pandas_counts(dask_client) -> None:  # type: ignore[no-untyped-def]
    frame = comparisons()
    (expected,) = _messages(lambda: frame.toloka.rank("COUNTING", pool_id="p1"))
    ddf = dd.from_pandas(frame, npartitions=2)
    assert _messages(lambda: ptd.rank(ddf, "COUNTING", pool_id="p1")) == [expected]
    areas = area_responses()
    spec = {"boxes": {"type": "JSON"}}
    (expected,) = _messages(lambda: areas.toloka.aggregate_locally("BOXES", output_spec=spec))
    lazy = dd.from_pandas(areas, npartitions=2)
    assert _messages(lambda: ptd.aggregate_locally(lazy, "BOXES", output_spec=spec).compute()) == [
        expected
    ]
