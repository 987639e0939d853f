"""Every registry method that runs on Dask equals pandas; the others are refused by name."""

from __future__ import annotations

import logging

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from conftest import make_responses

import pandas_toloka as ptk
import pandas_toloka.dask as ptd
from pandas_toloka.aggregation._registry import METHODS, Method, method_names
from pandas_toloka.errors import DroppedResponsesWarning

BINARY = {"result": {"type": "STRING", "allowed_values": ["no", "yes"]}}
#: The registry's methods fitted per pool (the per-task ones and Dawid-Skene's EM are in
#: test_aggregate.py), and Dawid-Skene with golden= (fitted per pool too).
#: The embedding methods (per pool too) need an embedding column: test_texts_dask.py.
PER_POOL = [
    name
    for name in METHODS
    if METHODS[name].dask == "per_pool" and METHODS[name].kind != "embedding"
]


@pytest.fixture(scope="module")
def pools() -> pd.DataFrame:
    """Two small binary pools that share task ids (pools never merge), some rows rejected."""
    frames = []
    for i, pool in enumerate(["81", "82"]):
        frame = make_responses(30 + i, 40, per_task=4, n_workers=12)
        frame["result"] = np.where(frame["result"] == "cat", "yes", "no")
        frame.insert(0, "pool_id", pool)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True).astype(
        {c: "string[pyarrow]" for c in ("pool_id", "task_id", "worker_id", "result")}
    )
    out["task_id"] = out["task_id"].str.replace(r"^t\d+-", "t-", regex=True)  # shared ids
    out["status"] = np.where(np.arange(len(out)) % 13 == 4, "REJECTED", "ACCEPTED")
    return out


#: What the pools fixture leaves out, and counts: its REJECTED rows.
DROPPED = r"dropped 25 of 320 response\(s\): 25 not of status \['ACCEPTED'\]\.$"


def _check_equal(result: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert result.dtypes.to_dict() == expected.dtypes.to_dict()
    result = result.sort_values(["pool_id", "task_id"], ignore_index=True)
    labels = [c for c in expected.columns if c != "confidence"]
    pd.testing.assert_frame_equal(result[labels], expected[labels])
    difference = np.abs(
        result["confidence"].to_numpy(float) - expected["confidence"].to_numpy(float)
    )
    assert difference.max(initial=0.0) <= 1e-9


def test_every_registry_method_runs_on_dask() -> None:
    # The pairwise rankings run through pandas_toloka.dask.rank (tests/dask/test_rank.py).
    off = {m for m in METHODS if METHODS[m].kind == "pairwise"}
    assert method_names(dask=True) == tuple(m for m in METHODS if m not in off)
    assert set(PER_POOL) | set(method_names(kind="embedding")) == set(METHODS) - off - {
        "DAWID_SKENE",
        "MAJORITY_VOTE",
        "WEIGHTED_DYNAMIC_OVERLAP",
        "ROVER",  # per task: tests/dask/test_texts_dask.py
        *method_names(kind="segmentation"),  # per task: tests/dask/test_areas_dask.py
        *method_names(kind="boxes"),
    }
    # the embedding methods: ClosestToAverage per task, the others per pool
    assert [METHODS[m].dask for m in method_names(kind="embedding")] == ["per_task"] + [
        "per_pool"
    ] * 4


@pytest.mark.parametrize("kind", PER_POOL)
def test_per_pool_methods_equal_pandas(dask_client, pools, kind, caplog) -> None:
    # Rows in another order than the pools': MACE's first start (crowd-kit's) depends on it.
    frame = pools.sample(frac=1.0, random_state=4)
    with pytest.warns(DroppedResponsesWarning, match=DROPPED):
        expected = frame.toloka.aggregate_locally(kind, output_spec=BINARY)
    assert expected["pool_id"].nunique() == 2 and expected["task_id"].duplicated().any()
    spread = dd.from_pandas(frame, npartitions=3, sort=False)
    with (
        caplog.at_level(logging.INFO, logger="pandas_toloka.dask"),
        pytest.warns(DroppedResponsesWarning, match=DROPPED),
    ):
        result = spread.toloka.aggregate_locally(kind, output_spec=BINARY)
    assert "pools span partitions: shuffling" in caplog.text
    computed = result.compute()
    assert result._meta.attrs["toloka"] == expected.attrs["toloka"]
    _check_equal(computed, expected)


def test_golden_and_method_kwargs_equal_pandas(dask_client, pools) -> None:
    golden = {"t-0001": "yes", "t-0002": "no"}
    by_pool = dd.concat([dd.from_pandas(g, npartitions=1) for _, g in pools.groupby("pool_id")])
    for kind, kwargs in (
        ("DAWID_SKENE", {"golden": golden, "n_iter": 20}),
        ("MACE", {"golden": golden, "method_kwargs": {"seed": 3, "n_restarts": 2}}),
        ("GLAD", {"golden": golden, "method_kwargs": {"m_step_max_iter": 5}}),
    ):
        with pytest.warns(DroppedResponsesWarning, match=DROPPED):
            expected = pools.toloka.aggregate_locally(kind, output_spec=BINARY, **kwargs)
        assert expected["golden"].sum() == 4  # two golden tasks in each pool
        with pytest.warns(DroppedResponsesWarning, match=DROPPED):
            result = ptd.aggregate_locally(by_pool, kind, output_spec=BINARY, **kwargs)
        _check_equal(result.compute(), expected)


def test_refusals_come_from_the_registry(pools, monkeypatch) -> None:
    ddf = dd.from_pandas(pools, npartitions=2)
    # A method the registry does not mark for Dask is refused, naming those that run.
    toy = Method("LOCAL_TOY", "toy", "categorical", ptk.aggregation.wawa, ptk.aggregation.fit_wawa)
    monkeypatch.setitem(METHODS, "LOCAL_TOY", toy)
    with pytest.raises(
        ptk.InvalidArgumentError, match=r"one of \['DAWID_SKENE', .*'KOS'.*\], got 'LOCAL_TOY'"
    ):
        ptd.aggregate_locally(ddf, "LOCAL_TOY")
    with pytest.warns(DroppedResponsesWarning, match=DROPPED):
        toy_result = pools.toloka.aggregate_locally("local_toy", output_spec=BINARY)
    assert toy_result["pool_id"].nunique() == 2
    with pytest.raises(ptk.InvalidArgumentError, match="golden= is supported by"):
        ptd.aggregate_locally(ddf, "WAWA", golden={"t-0001": "yes"})
    with pytest.raises(ptk.InvalidArgumentError, match="takes only"):
        ptd.aggregate_locally(ddf, "MACE", method_kwargs={"sed": 1})
    with pytest.raises(ptk.InvalidArgumentError, match="n_restarts"):
        ptd.aggregate_locally(ddf, "MACE", output_spec=BINARY, method_kwargs={"n_restarts": 0})


def test_worker_quality_per_pool_equals_pandas(dask_client, pools) -> None:
    frame = pools.sample(frac=1.0, random_state=5)
    spread = dd.from_pandas(frame, npartitions=3, sort=False)
    for kwargs in (
        {},  # Dawid-Skene: distributed EM, one fit per pool (confusion: test_aggregate.py)
        {"type": "GLAD"},
        {"type": "DAWID_SKENE", "golden": {"t-0001": "yes"}},
    ):
        with pytest.warns(DroppedResponsesWarning, match=DROPPED):
            expected = frame.toloka.worker_quality(output_spec=BINARY, **kwargs)
        # Two pools sharing task ids: fitted apart, so each pool has its own rows.
        assert expected["pool_id"].tolist() == sorted(expected["pool_id"].tolist())
        assert set(expected["pool_id"]) == {"81", "82"}
        with pytest.warns(DroppedResponsesWarning, match=DROPPED):
            result = ptd.worker_quality(spread, output_spec=BINARY, **kwargs)
        assert result.attrs["toloka"] == expected.attrs["toloka"], kwargs
        values = [c for c in expected.columns if expected[c].dtype == np.float64]
        pd.testing.assert_frame_equal(result.drop(columns=values), expected.drop(columns=values))
        for column in values:
            difference = np.abs(result[column] - expected[column]).max()
            assert difference <= 1e-9, (kwargs, column)
