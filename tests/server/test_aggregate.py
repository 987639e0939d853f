"""Aggregation requests: validation errors and results, over real HTTP."""

from __future__ import annotations

import pandas as pd
import pytest

from .conftest import CAT_DOG, cat_dog_responses

BY_TASK = "/aggregated-solutions/aggregate-by-task"


def _error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["request_id"]
    return body


def test_dawid_skene_with_two_fields_is_400_naming_fields(server, api):
    server.add_pool(
        "9",
        responses=cat_dog_responses().assign(sure=True),
        output_spec={**CAT_DOG, "sure": {"type": "BOOLEAN"}},
    )
    body = _error(api.aggregate("9", fields=("result", "sure")), 400, "VALIDATION_ERROR")
    assert "fields" in body["payload"]


def test_weighted_without_skill_is_400(api):
    body = _error(api.aggregate("8", kind="WEIGHTED_DYNAMIC_OVERLAP"), 400, "VALIDATION_ERROR")
    assert "answer_weight_skill_id" in body["payload"]


@pytest.mark.parametrize(
    "body",
    [
        {"pool_id": "7", "fields": [{"name": "result"}]},
        {"type": "MAJORITY", "pool_id": "7", "fields": [{"name": "result"}]},
        {"type": "DAWID_SKENE", "fields": [{"name": "result"}]},
        {"type": "DAWID_SKENE", "pool_id": "7"},
        {"type": "DAWID_SKENE", "pool_id": "7", "fields": [{}]},
        ["not", "an", "object"],
    ],
)
def test_malformed_bodies_are_400(api, body):
    _error(api.post("/aggregated-solutions/aggregate-by-pool", body), 400, "VALIDATION_ERROR")


def test_unknown_pool_is_404(api):
    _error(api.aggregate("404404"), 404, "DOES_NOT_EXIST")
    _error(
        api.post(
            BY_TASK,
            {
                "type": "DAWID_SKENE",
                "pool_id": "404404",
                "task_id": "t000",
                "fields": [{"name": "result"}],
            },
        ),
        404,
        "DOES_NOT_EXIST",
    )


def test_field_not_in_spec_is_400_with_path(api):
    body = _error(api.aggregate("7", fields=("colour",)), 400, "VALIDATION_ERROR")
    assert "fields[0].name" in body["payload"]


def test_non_aggregatable_field_is_400(server, api):
    responses = cat_dog_responses().assign(tags=[["a"]] * 18)
    server.add_pool(
        "10",
        responses=responses,
        output_spec={**CAT_DOG, "tags": {"type": "ARRAY_STRING"}},
        smart_mixing=True,
    )
    body = _error(api.aggregate("10", fields=("tags",)), 400, "VALIDATION_ERROR")
    assert "fields[0].name" in body["payload"]


def test_skill_aggregation_needs_a_mixer(api):
    _error(
        api.aggregate("7", kind="WEIGHTED_DYNAMIC_OVERLAP", answer_weight_skill_id="s1"),
        409,
        "ONLY_FOR_POOL_WITH_MIXER",
    )


def test_unknown_skill_is_404(api):
    _error(
        api.aggregate("8", kind="WEIGHTED_DYNAMIC_OVERLAP", answer_weight_skill_id="nope"),
        404,
        "DOES_NOT_EXIST",
    )


def test_dynamic_overlap_config_allows_skill_aggregation(server, api):
    server.add_pool(
        "11",
        responses=cat_dog_responses(),
        output_spec=CAT_DOG,
        dynamic_overlap_config={
            "type": "BASIC",
            "max_overlap": 5,
            "min_confidence": 0.9,
            "answer_weight_skill_id": "s1",
            "fields": [{"name": "result"}],
        },
    )
    assert (
        api.aggregate(
            "11", kind="WEIGHTED_DYNAMIC_OVERLAP", answer_weight_skill_id="s1"
        ).status_code
        == 201
    )


def test_weighted_by_pool_matches_the_documented_confidence(api):
    operation_id = api.run("8", kind="WEIGHTED_DYNAMIC_OVERLAP", answer_weight_skill_id="s1")
    items = api.get(f"/aggregated-solutions/{operation_id}", sort="task_id").json()["items"]
    assert [i["output_values"]["result"] for i in items] == ["cat", "dog"] * 3
    # skills 90 and 80 agree, 70 disagrees, Y = 2
    p_answer, p_other = 0.9 * 0.8 * 0.3, 0.1 * 0.2 * 0.7
    assert items[0]["confidence"] == pytest.approx(p_answer / (p_answer + p_other))


def test_weighted_with_only_hopeless_workers_succeeds_with_a_finite_confidence(server, api):
    # 60 skill-0 workers say cat and 60 say dog: every option's posterior underflows.
    # It used to give a NaN confidence: the operation FAILed ("JSON cannot carry NaN")
    # and aggregate-by-task answered 500.
    workers = [f"h{i}" for i in range(120)]
    responses = pd.DataFrame({"task_id": "t", "worker_id": workers, "result": ["cat", "dog"] * 60})
    skills = pd.DataFrame({"worker_id": workers, "skill_id": "zero", "value": 0})
    server.add_pool(
        "60", responses=responses, output_spec=CAT_DOG, skills=skills, smart_mixing=True
    )
    operation_id = api.run("60", kind="WEIGHTED_DYNAMIC_OVERLAP", answer_weight_skill_id="zero")
    items = api.get(f"/aggregated-solutions/{operation_id}").json()["items"]
    assert items == [
        {"pool_id": "60", "task_id": "t", "confidence": 0.5, "output_values": {"result": "cat"}}
    ]
    body = {
        "type": "WEIGHTED_DYNAMIC_OVERLAP",
        "pool_id": "60",
        "task_id": "t",
        "answer_weight_skill_id": "zero",
        "fields": [{"name": "result"}],
    }
    response = api.post(BY_TASK, body)
    assert response.status_code == 201, response.text
    assert response.json()["confidence"] == 0.5


def test_dawid_skene_on_a_widely_bounded_integer_field(server, api):
    # INTEGER 0..1,000,000: the label space is the answers seen, not a million labels
    # (which needed 2 x 10**6 x 10**6 confusion cells: 500 INTERNAL_ERROR / FAIL before).
    spec = {"count": {"type": "INTEGER", "min_value": 0, "max_value": 1_000_000}}
    responses = pd.DataFrame(
        {
            "task_id": ["a", "a", "a", "b", "b", "b"],
            "worker_id": ["w1", "w2", "w3"] * 2,
            "count": [41, 41, 40, 7, 7, 999_999],
        }
    )
    server.add_pool("61", responses=responses, output_spec=spec)
    operation_id = api.run("61", fields=("count",))
    items = api.get(f"/aggregated-solutions/{operation_id}", sort="task_id").json()["items"]
    assert [i["output_values"] for i in items] == [{"count": 41}, {"count": 7}]
    body = {"type": "DAWID_SKENE", "pool_id": "61", "task_id": "b", "fields": [{"name": "count"}]}
    response = api.post(BY_TASK, body)
    assert response.status_code == 201, response.text
    assert response.json()["output_values"] == {"count": 7}


def test_by_task_both_algorithms(api):
    for kind, extra in (
        ("DAWID_SKENE", {}),
        ("WEIGHTED_DYNAMIC_OVERLAP", {"answer_weight_skill_id": "s1"}),
    ):
        response = api.post(
            BY_TASK,
            {
                "type": kind,
                "pool_id": "8",
                "task_id": "t001",
                "fields": [{"name": "result"}],
                **extra,
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["pool_id"] == "8" and body["task_id"] == "t001"
        assert body["output_values"] == {"result": "dog"}
        assert isinstance(body["confidence"], float) and 0.5 < body["confidence"] <= 1


def test_by_task_unknown_task_is_404(api):
    _error(
        api.post(
            BY_TASK,
            {
                "type": "DAWID_SKENE",
                "pool_id": "7",
                "task_id": "zzz",
                "fields": [{"name": "result"}],
            },
        ),
        404,
        "DOES_NOT_EXIST",
    )
    _error(
        api.post(BY_TASK, {"type": "DAWID_SKENE", "pool_id": "7", "fields": [{"name": "result"}]}),
        400,
        "VALIDATION_ERROR",
    )


def test_dawid_skene_by_task_uses_the_pool_model(demo_server, demo_api):
    operation_id = demo_api.run("1001")
    items = demo_api.get(f"/aggregated-solutions/{operation_id}", sort="task_id", limit=5).json()[
        "items"
    ]
    fits = []
    original = demo_server.aggregator.dawid_skene_model
    for item in items:
        answer = demo_api.post(
            BY_TASK,
            {
                "type": "DAWID_SKENE",
                "pool_id": "1001",
                "task_id": item["task_id"],
                "fields": [{"name": "result"}],
            },
        ).json()
        assert answer["output_values"] == item["output_values"]
        assert answer["confidence"] == pytest.approx(item["confidence"])
        fits.append(original(demo_server.store.pool("1001"), "result"))
    assert all(model is fits[0] for model in fits)  # fitted once per (pool, field), cached


def test_only_accepted_responses_count(server, api):
    responses = cat_dog_responses(2)
    noise = pd.DataFrame(
        {
            "task_id": ["t000"] * 5,
            "worker_id": [f"x{i}" for i in range(5)],
            "result": "dog",
            "status": ["REJECTED", "SUBMITTED", "REJECTED", "SKIPPED", "EXPIRED"],
        }
    )
    server.add_pool(
        "12", responses=pd.concat([responses.assign(status="ACCEPTED"), noise]), output_spec=CAT_DOG
    )
    operation_id = api.run("12")
    items = api.get(f"/aggregated-solutions/{operation_id}", sort="task_id").json()["items"]
    assert items[0]["output_values"] == {"result": "cat"}


def test_typed_output_values(server, api):
    responses = pd.DataFrame(
        {
            "task_id": ["a", "a", "b", "b"],
            "worker_id": ["w1", "w2", "w1", "w2"],
            "score": [3, 3, 5, 5],
            "ok": [True, True, False, False],
            "x": [0.5, 0.5, 1.5, 1.5],
        }
    )
    spec = {
        "score": {"type": "INTEGER", "min_value": 1, "max_value": 5},
        "ok": {"type": "BOOLEAN"},
        "x": {"type": "FLOAT", "allowed_values": [0.5, 1.5]},
    }
    server.add_pool("13", responses=responses, output_spec=spec)
    values = {}
    for name in spec:
        operation_id = api.run("13", fields=(name,))
        items = api.get(f"/aggregated-solutions/{operation_id}", sort="task_id").json()["items"]
        values[name] = [i["output_values"][name] for i in items]
        assert all(type(i["confidence"]) is float and i["confidence"] > 0.99 for i in items)
    assert values == {"score": [3, 5], "ok": [True, False], "x": [0.5, 1.5]}
    assert all(type(v) is int for v in values["score"]) and all(
        type(v) is bool for v in values["ok"]
    )
