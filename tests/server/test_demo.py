"""Demo data: deterministic, with ground truth on which Dawid-Skene beats majority vote."""

from __future__ import annotations

import pandas as pd
import pytest

from pandas_toloka.aggregation import majority_vote
from pandas_toloka.server import LocalTolokaServer, demo_data, make_demo_data
from pandas_toloka.server.demo import (
    BY_TASK_POOL_ID,
    BY_TASK_SKILL_ID,
    BY_TASK_TASK_ID,
    SKILL_ID,
    TOLOKA_POOL_ID,
    TOLOKA_SKILL_ID,
    TOLOKA_TASK_ID,
    DemoData,
)

from .conftest import TOKEN


@pytest.fixture(scope="module")
def demo() -> DemoData:
    """The demo data, built once for the module (~0.3 CPU s a build); tests only read it."""
    return demo_data()


def _accuracy(items, truth: pd.Series) -> float:
    answers = pd.Series({i["task_id"]: i["output_values"]["result"] for i in items})
    return float((answers == truth.reindex(answers.index)).mean())


def test_deterministic(demo):
    a, b = demo, demo_data()  # two builds
    for pool_id in a.pools:
        pd.testing.assert_frame_equal(a.pools[pool_id].responses, b.pools[pool_id].responses)
    pd.testing.assert_frame_equal(a.skills, b.skills)
    assert not demo_data(seed=1).pools["1001"].responses.equals(a.pools["1001"].responses)


def test_shape(demo):
    pools = demo.pools
    cats = pools["1001"]
    assert cats.responses["task_id"].nunique() == 2000 and len(cats.responses) == 10000
    assert set(cats.responses["status"]) == {"ACCEPTED", "REJECTED"}
    assert pools["1002"].smart_mixing and set(pools["1002"].output_spec) == {"result", "sure"}
    assert SKILL_ID in set(demo.skills["skill_id"])


def test_dawid_skene_beats_majority_vote_over_http(demo_api, demo):
    truth = demo.pools["1001"].ground_truth.set_index("task_id")["result"]
    ds = _accuracy(demo_api.all_pages(demo_api.run("1001"), 100000), truth)
    responses = demo.pools["1001"].responses
    mv = majority_vote(responses[responses["status"] == "ACCEPTED"], labels=["cat", "dog"])
    mv_accuracy = float(
        (mv.set_index("task_id")["result"].astype(str) == truth.reindex(mv["task_id"])).mean()
    )
    assert ds > mv_accuracy + 0.05, (ds, mv_accuracy)


def test_skill_aggregation_beats_majority_vote(demo_api, demo):
    truth = demo.pools["1002"].ground_truth.set_index("task_id")["result"]
    operation_id = demo_api.run(
        "1002",
        kind="WEIGHTED_DYNAMIC_OVERLAP",
        answer_weight_skill_id=SKILL_ID,
        fields=("result", "sure"),
    )
    items = demo_api.all_pages(operation_id, 100000)
    assert all(set(i["output_values"]) == {"result", "sure"} for i in items)
    responses = demo.pools["1002"].responses
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


# --------------------------------------------------------------------------- Toloka's own examples


def test_toloka_example_pools_shape(demo):
    data = demo
    pool = data.pools[TOLOKA_POOL_ID]
    assert set(pool.output_spec) == {"result", "sure"}
    assert pool.output_spec["result"]["allowed_values"] == ["cat", "dog"]
    ids = pool.ground_truth["task_id"]
    assert len(ids) == 2000 and ids.is_unique and TOLOKA_TASK_ID in set(ids)
    assert ids.str.fullmatch(r"[0-9a-f]{10}--[0-9a-f]{24}").all()
    overlap = pool.responses.groupby("task_id").size()
    assert set(overlap) == {3, 5}  # dynamic overlap
    by_task = data.pools[BY_TASK_POOL_ID]
    assert by_task.smart_mixing and BY_TASK_TASK_ID in set(by_task.ground_truth["task_id"])
    shape = r"[0-9a-f]{8}-[0-9a-f]{6}-[0-9a-f]{8}-[0-9a-f]{6}"  # as the REST reference's id
    assert by_task.ground_truth["task_id"].str.fullmatch(shape).all()
    assert set(data.skills["skill_id"]) == {SKILL_ID}  # one table, as examples pass it
    skills = data.all_skills.groupby("skill_id")["worker_id"].nunique().to_dict()
    assert skills == {SKILL_ID: 51, TOLOKA_SKILL_ID: 51, BY_TASK_SKILL_ID: 51}


def test_toloka_recipe_requests_answer_as_documented(demo_api, demo):
    """The bodies of Toloka's aggregation recipe and toloka-kit's docstring, verbatim."""
    pool = demo.pools[TOLOKA_POOL_ID]
    truth = pool.ground_truth.set_index("task_id")
    accepted = pool.responses[pool.responses["status"] == "ACCEPTED"]
    mv = majority_vote(accepted, labels=["cat", "dog"]).set_index("task_id")["result"]
    mv_accuracy = float((mv.astype(str) == truth["result"].reindex(mv.index)).mean())
    ds = demo_api.all_pages(demo_api.run(TOLOKA_POOL_ID), 100000)
    assert len(ds) == 2000 and _accuracy(ds, truth["result"]) > mv_accuracy + 0.04
    assert TOLOKA_TASK_ID in {item["task_id"] for item in ds}
    for fields in (("result",), ("result", "sure")):
        operation_id = demo_api.run(
            TOLOKA_POOL_ID,
            kind="WEIGHTED_DYNAMIC_OVERLAP",
            answer_weight_skill_id="11294",
            fields=fields,
        )
        items = demo_api.all_pages(operation_id, 100000)
        assert len(items) == 2000 and all(set(i["output_values"]) == set(fields) for i in items)
        assert _accuracy(items, truth["result"]) > mv_accuracy + 0.04


def test_rest_reference_aggregate_by_task_example_answers(demo_api):
    body = {
        "task_id": "afd1234d-12314a-cfd1424d-31214b",
        "pool_id": "283",
        "type": "WEIGHTED_DYNAMIC_OVERLAP",
        "answer_weight_skill_id": "1289",
        "fields": [{"name": "result"}],
    }
    response = demo_api.post("/aggregated-solutions/aggregate-by-task", body)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["task_id"] == BY_TASK_TASK_ID and answer["pool_id"] == "283"
    assert answer["output_values"]["result"] in ("OK", "BAD") and 0 < answer["confidence"] <= 1


def test_example_pools_round_trip_through_a_data_directory(tmp_path, demo):
    root = make_demo_data(tmp_path / "data")
    server = LocalTolokaServer.from_directory(root, token=TOKEN)
    assert server.pool_ids == sorted(demo.pools)
    pool = server.store.pool(TOLOKA_POOL_ID)
    assert (
        pool is not None
        and pool.to_json()["dynamic_overlap_config"]["answer_weight_skill_id"] == "11294"
    )
    assert server.store.pool(BY_TASK_POOL_ID).to_json()["mixer_config"]
