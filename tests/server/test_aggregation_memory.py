"""The bundled server never runs an unbounded Dawid–Skene fit: free text with thousands of
distinct answers is refused 400 at the request, before any operation starts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pandas_toloka.server import LocalTolokaServer

from .conftest import TOKEN, Api

FREE_TEXT = {"comment": {"type": "STRING"}, "result": {"type": "BOOLEAN"}}


@pytest.fixture
def free_text_api():
    n = 16_000  # the probe's reproduction: 8,000 distinct answers, past 7 GB unguarded
    rng = np.random.default_rng(0)
    responses = pd.DataFrame(
        {
            "task_id": [f"t{i // 2}" for i in range(n)],
            "worker_id": [f"w{w}" for w in rng.integers(0, 3, n)],
            "comment": [f"answer {i}" for i in rng.permutation(np.arange(n) // 2)],
            "result": rng.random(n) < 0.5,
        }
    )
    server = LocalTolokaServer(token=TOKEN)
    server.add_pool("9", responses=responses, output_spec=FREE_TEXT)
    with server:
        api = Api(server)
        yield api
        api.session.close()


@pytest.mark.parametrize("by_task", [False, True])
def test_free_text_dawid_skene_is_refused_before_it_starts(free_text_api, by_task):
    api = free_text_api
    path = "/aggregated-solutions/aggregate-by-" + ("task" if by_task else "pool")
    body = {"type": "DAWID_SKENE", "pool_id": "9", "fields": [{"name": "comment"}]}
    if by_task:
        body["task_id"] = "t1"
    response = api.post(path, body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "VALIDATION_ERROR" and error["request_id"]
    detail = error["payload"]["fields[0].name"]
    assert detail["code"] == "VALUE_INVALID"
    assert "8,000 distinct answers" in detail["message"]
    assert "WEIGHTED_DYNAMIC_OVERLAP" in detail["message"]
    assert api.get("/operations").json()["items"] == []  # nothing started
    assert api.server.aggregator._models == {}  # and nothing fitted


def test_a_field_with_few_values_of_the_same_pool_still_aggregates(free_text_api):
    operation = free_text_api.run("9", fields=("result",))
    page = free_text_api.get(f"/aggregated-solutions/{operation}", limit=100_000).json()
    assert len(page["items"]) == 8_000
