"""Demo data: deterministic, with ground truth on which Dawid-Skene beats majority vote."""

from __future__ import annotations

import pandas as pd

from pandas_toloka.aggregation import majority_vote
from pandas_toloka.server import demo_data, demo_pools, make_demo_data
from pandas_toloka.server.demo import SKILL_ID


def _accuracy(items, truth: pd.Series) -> float:
    answers = pd.Series({i["task_id"]: i["output_values"]["result"] for i in items})
    return float((answers == truth.reindex(answers.index)).mean())


def test_deterministic():
    a, b = demo_data(), demo_data()
    for pool_id in a.pools:
        pd.testing.assert_frame_equal(a.pools[pool_id].responses, b.pools[pool_id].responses)
    pd.testing.assert_frame_equal(a.skills, b.skills)
    assert not demo_data(seed=1).pools["1001"].responses.equals(a.pools["1001"].responses)


def test_shape():
    pools = demo_pools()
    cats = pools["1001"]
    assert cats.responses["task_id"].nunique() == 2000 and len(cats.responses) == 10000
    assert set(cats.responses["status"]) == {"ACCEPTED", "REJECTED"}
    assert pools["1002"].smart_mixing and set(pools["1002"].output_spec) == {"result", "sure"}
    assert set(demo_data().skills["skill_id"]) == {SKILL_ID}


def test_dawid_skene_beats_majority_vote_over_http(demo_api):
    truth = demo_pools()["1001"].ground_truth.set_index("task_id")["result"]
    ds = _accuracy(demo_api.all_pages(demo_api.run("1001"), 100000), truth)
    responses = demo_pools()["1001"].responses
    mv = majority_vote(responses[responses["status"] == "ACCEPTED"], labels=["cat", "dog"])
    mv_accuracy = float(
        (mv.set_index("task_id")["result"].astype(str) == truth.reindex(mv["task_id"])).mean()
    )
    assert ds > mv_accuracy + 0.05, (ds, mv_accuracy)


def test_skill_aggregation_beats_majority_vote(demo_api):
    truth = demo_pools()["1002"].ground_truth.set_index("task_id")["result"]
    operation_id = demo_api.run(
        "1002",
        kind="WEIGHTED_DYNAMIC_OVERLAP",
        answer_weight_skill_id=SKILL_ID,
        fields=("result", "sure"),
    )
    items = demo_api.all_pages(operation_id, 100000)
    assert all(set(i["output_values"]) == {"result", "sure"} for i in items)
    responses = demo_pools()["1002"].responses
    mv = majority_vote(responses[responses["status"] == "ACCEPTED"], label="result")
    mv_accuracy = float(
        (mv.set_index("task_id")["result"].astype(str) == truth.reindex(mv["task_id"])).mean()
    )
    assert _accuracy(items, truth) > mv_accuracy


def test_make_demo_data_layout(tmp_path):
    root = make_demo_data(tmp_path / "data")
    for path in (
        "skills.parquet",
        "projects/11.json",
        "projects/12.json",
        "pools/1001/pool.json",
        "pools/1001/responses.parquet",
        "pools/1001/ground_truth.parquet",
        "pools/1002/pool.json",
    ):
        assert (root / path).exists(), path
    written = pd.read_parquet(root / "pools" / "1001" / "responses.parquet")
    assert len(written) == 10000
