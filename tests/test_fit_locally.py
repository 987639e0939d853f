"""df.toloka.fit_locally and worker_quality: one fit per pool, every method's estimates reachable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pandas_toloka.accessor  # noqa: F401  (registers df.toloka)
from pandas_toloka.aggregation import AggregationModel, DawidSkeneModel, _registry, fit_aggregation
from pandas_toloka.aggregation._registry import Method, register
from pandas_toloka.aggregation.skill_votes import fit_wawa, wawa
from pandas_toloka.errors import InvalidArgumentError


def _pool(seed: int, shift: int) -> pd.DataFrame:
    """Tasks t00..t19 (the same ids in every pool), 4 of 6 workers each."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, 20)
    rows = []
    for t in range(20):
        for w in rng.choice(6, 4, replace=False):
            right = rng.random() < 0.6 + 0.06 * ((w + shift) % 6)
            rows.append((f"t{t:02d}", f"w{w}", int(truth[t] if right else 1 - truth[t])))
    return pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])


@pytest.fixture
def two_pools() -> pd.DataFrame:
    first, second = _pool(1, 0), _pool(2, 3)
    return pd.concat([first.assign(pool_id="1"), second.assign(pool_id="2")], ignore_index=True)[
        ["pool_id", "task_id", "worker_id", "result"]
    ]


def test_fit_locally_returns_one_model_per_pool(two_pools) -> None:
    models = two_pools.toloka.fit_locally("GLAD", fields="result")
    assert list(models) == ["1", "2"]
    for pool, model in models.items():
        assert isinstance(model, AggregationModel)
        rows = two_pools[two_pools["pool_id"] == pool].drop(columns="pool_id")
        alone = fit_aggregation(rows, method="GLAD", labels=[0, 1])
        np.testing.assert_array_equal(model.posteriors, alone.posteriors)
        np.testing.assert_array_equal(model.worker_columns["alpha"], alone.worker_columns["alpha"])
    # The answers of the models are aggregate_locally's.
    out = two_pools.toloka.aggregate_locally("GLAD", fields="result")
    for pool, model in models.items():
        mine = out[out["pool_id"] == pool]
        assert mine["result"].tolist() == model.to_frame()["result"].tolist()
    ds = two_pools.toloka.fit_locally(fields="result", pool_id="2", n_iter=5)
    assert list(ds) == ["2"] and isinstance(ds["2"], DawidSkeneModel)
    assert ds["2"].n_iter_run <= 5
    single = two_pools.drop(columns="pool_id").toloka.fit_locally("MACE", method_kwargs={"seed": 2})
    assert list(single) == [None]


def test_worker_quality_never_merges_pools_that_share_task_ids(two_pools) -> None:
    quality = two_pools.toloka.worker_quality("result")
    assert list(quality.columns) == ["pool_id", "worker_id", "n_responses", "accuracy"]
    assert quality.attrs["toloka"]["pool_ids"] == ["1", "2"]
    for pool, group in quality.groupby("pool_id"):
        rows = two_pools[two_pools["pool_id"] == pool].drop(columns="pool_id")
        alone = rows.toloka.worker_quality("result")
        np.testing.assert_allclose(group["accuracy"].to_numpy(), alone["accuracy"].to_numpy())
        assert group["n_responses"].sum() == len(rows)
    merged = two_pools.drop(columns="pool_id").toloka.worker_quality("result")
    assert (
        np.abs(
            merged["accuracy"].to_numpy()
            - quality.groupby("worker_id")["accuracy"].mean().to_numpy()
        ).max()
        > 1e-6
    )  # fitting the two pools as one would have given other accuracies


def test_worker_quality_of_other_methods(two_pools) -> None:
    glad = two_pools.toloka.worker_quality("result", type="GLAD")
    assert list(glad.columns) == ["pool_id", "worker_id", "n_responses", "alpha"]
    assert glad.attrs["toloka"]["type"] == "GLAD"
    mace = two_pools.toloka.worker_quality(
        "result", type="MACE", pool_id="1", method_kwargs={"n_restarts": 2}
    )
    assert set(mace["pool_id"]) == {"1"} and "competence" in mace.columns
    with pytest.raises(InvalidArgumentError, match="confusion=True needs"):
        two_pools.toloka.worker_quality("result", type="GLAD", confusion=True)
    with pytest.raises(InvalidArgumentError, match="has no fitted model"):
        two_pools.toloka.worker_quality("result", type="WEIGHTED_DYNAMIC_OVERLAP")
    with pytest.raises(InvalidArgumentError, match="golden= is supported"):
        two_pools.toloka.fit_locally("WAWA", golden={"t01": 1})
    with pytest.raises(InvalidArgumentError, match="n_restarts"):
        two_pools.toloka.fit_locally("MACE", method_kwargs={"n_restarts": 0})


def test_a_new_method_through_the_accessor(two_pools) -> None:
    # One module (here skill_votes' wawa and fit_wawa) plus one registry row.
    saved = dict(_registry.METHODS)
    try:
        register(Method("MY_WAWA", "my WAWA", "categorical", wawa, fit_wawa))
        out = two_pools.toloka.aggregate_locally("my_wawa", fields="result")
        expected = two_pools.toloka.aggregate_locally("WAWA", fields="result")
        pd.testing.assert_frame_equal(out.drop(columns="result"), expected.drop(columns="result"))
        assert out.attrs["toloka"]["type"] == "MY_WAWA"
        models = two_pools.toloka.fit_locally("MY_WAWA", fields="result")
        assert {m.method for m in models.values()} == {"WAWA"}
    finally:
        _registry.METHODS.clear()
        _registry.METHODS.update(saved)


def test_other_families_are_refused_by_aggregate_locally(two_pools) -> None:
    def pairwise(
        responses: pd.DataFrame,
        *,
        left: str = "left",
        right: str = "right",
        winner: str = "winner",
        worker: str = "worker_id",
    ) -> pd.DataFrame:
        return responses

    saved = dict(_registry.METHODS)
    try:
        register(Method("TOY_PAIRS", "toy pairs", "pairwise", pairwise))
        with pytest.raises(InvalidArgumentError, match="TOY_PAIRS' is a pairwise method.*pairwise"):
            two_pools.toloka.aggregate_locally("TOY_PAIRS")
    finally:
        _registry.METHODS.clear()
        _registry.METHODS.update(saved)
