"""Operations: the background lifecycle, FAIL, GET and list with filters and paging."""

from __future__ import annotations

import re
import threading
import time
import uuid

import pytest

from pandas_toloka.server import LocalTolokaServer

from .conftest import CAT_DOG, TOKEN, Api, cat_dog_responses

DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$")


@pytest.fixture
def slow_api():
    server = LocalTolokaServer(token=TOKEN, operation_delay=0.3)
    server.add_pool("7", responses=cat_dog_responses(), output_spec=CAT_DOG, project_id="70")
    with server:
        yield Api(server)


def test_lifecycle_pending_running_progress_success(slow_api, monkeypatch):
    # Each pacing wait of the operation (one before it starts, one before each progress
    # step) waits for the test instead of the clock: the test lets one through, then waits
    # for the state it leads to, so every state is seen however loaded the machine is.
    gate = threading.Semaphore(0)
    monkeypatch.setattr(
        slow_api.server.operations, "_pause", lambda seconds: gate.acquire(timeout=30)
    )
    response = slow_api.aggregate("7")
    assert response.status_code == 201
    operation = response.json()
    assert (
        operation["status"] == "PENDING"
        and "started" not in operation
        and "finished" not in operation
    )
    assert uuid.UUID(operation["id"]).version == 4

    def changed(previous: dict) -> dict:
        deadline = time.monotonic() + 30
        while True:  # bounded wait for the state the released step leads to
            current = slow_api.get(f"/operations/{previous['id']}").json()
            key = ("status", "progress")
            if [current[k] for k in key] != [previous[k] for k in key]:
                return current
            assert time.monotonic() < deadline, f"no change after {previous}"
            time.sleep(0.01)

    seen = []
    for _ in range(5):  # start, then the four progress steps
        seen.append((operation["status"], operation["progress"]))
        gate.release()
        operation = changed(operation)
    while operation["status"] not in ("SUCCESS", "FAIL"):
        seen.append((operation["status"], operation["progress"]))
        operation = changed(operation)
    statuses = [s for s, _ in seen]
    assert statuses[0] == "PENDING" and "RUNNING" in statuses
    assert statuses.index("RUNNING") > statuses.count("PENDING") - 1
    progress = [p for _, p in seen]
    assert progress == sorted(progress)
    assert len({p for s, p in seen if s == "RUNNING"}) >= 2  # it rises while RUNNING
    assert operation["status"] == "SUCCESS" and operation["progress"] == 100
    for key in ("submitted", "started", "finished"):
        assert DATETIME.match(operation[key]), operation[key]
    assert operation["submitted"] <= operation["started"] <= operation["finished"]
    assert operation["type"] == "SOLUTION.AGGREGATE"
    assert operation["parameters"] == {
        "pool_id": "7",
        "algorithm": "DAWID_SKENE",
        "aggregated_output_fields": ["result"],
        "project_id": "70",
    }
    assert operation["details"] == {}


def test_results_before_success_are_409(slow_api):
    operation = slow_api.aggregate("7").json()
    response = slow_api.get(f"/aggregated-solutions/{operation['id']}")
    assert response.status_code == 409 and response.json()["code"] == "INAPPROPRIATE_STATUS"


def test_aggregation_that_raises_ends_in_fail(server, api, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("EM diverged")

    monkeypatch.setattr(server.aggregator, "aggregate_pool", broken)
    operation = api.wait(api.aggregate("7").json()["id"])
    assert operation["status"] == "FAIL"
    assert operation["details"] == {"message": "EM diverged"}
    assert "started" in operation and DATETIME.match(operation["finished"])
    response = api.get(f"/aggregated-solutions/{operation['id']}")
    assert response.status_code == 409


def test_unknown_operation_is_404(api):
    for path in (f"/operations/{uuid.uuid4()}", f"/aggregated-solutions/{uuid.uuid4()}"):
        response = api.get(path)
        assert response.status_code == 404 and response.json()["code"] == "DOES_NOT_EXIST"


def test_list_filters_and_keyset_paging(server, api, monkeypatch):
    done = [api.run("7") for _ in range(4)]
    monkeypatch.setattr(server.aggregator, "aggregate_pool", lambda *a, **k: 1 / 0)
    failed = api.wait(api.aggregate("7").json()["id"])["id"]
    listing = api.get("/operations").json()
    assert listing["has_more"] is False
    ids = [o["id"] for o in listing["items"]]
    assert ids == sorted(ids) and set(ids) == {*done, failed}
    assert [o["id"] for o in api.get("/operations", status="FAIL").json()["items"]] == [failed]
    assert (
        len(api.get("/operations", status="SUCCESS", type="SOLUTION.AGGREGATE").json()["items"])
        == 4
    )
    assert api.get("/operations", type="POOL.OPEN").json() == {"items": [], "has_more": False}
    # keyset paging by id
    seen, params = [], {"sort": "id", "limit": 2}
    while True:
        page = api.get("/operations", **params).json()
        seen += [o["id"] for o in page["items"]]
        if not page["has_more"]:
            break
        params["id_gt"] = page["items"][-1]["id"]
    assert seen == sorted(ids)
    assert [o["id"] for o in api.get("/operations", sort="-id").json()["items"]] == sorted(
        ids, reverse=True
    )


def test_list_submitted_filters(api):
    first = api.run("7")
    time.sleep(0.01)
    second = api.run("7")
    submitted = api.get(f"/operations/{second}").json()["submitted"]
    assert [o["id"] for o in api.get("/operations", submitted_gte=submitted).json()["items"]] == [
        second
    ]
    assert [o["id"] for o in api.get("/operations", submitted_lt=submitted).json()["items"]] == [
        first
    ]
    assert api.get("/operations", submitted_gt="2999-01-01T00:00:00").json()["items"] == []
    assert len(api.get("/operations", submitted_lte="2999-01-01T00:00:00Z").json()["items"]) == 2
    response = api.get("/operations", submitted_gt="yesterday")
    assert response.status_code == 400 and "submitted_gt" in response.json()["payload"]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 100001}, {"limit": "ten"}, {"sort": "name"}, {"status": "DONE"}],
)
def test_list_rejects_bad_parameters(api, params):
    response = api.get("/operations", **params)
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


def test_served_submitted_is_exact_for_filters_and_keyset_paging_by_submitted(api):
    # The served datetime has milliseconds; the operation must be kept at that precision,
    # else submitted_gt=<its own submitted> still matches it and paging by submitted loops.
    done = []
    for _ in range(3):
        done.append(api.run("7"))
        time.sleep(0.003)
    own = api.get(f"/operations/{done[1]}").json()["submitted"]
    assert done[1] in [o["id"] for o in api.get("/operations", submitted_lte=own).json()["items"]]
    assert done[1] not in [
        o["id"] for o in api.get("/operations", submitted_gt=own).json()["items"]
    ]
    seen: list[str] = []
    params = {"sort": "submitted", "limit": 1}
    for _ in range(10):  # bounded: a page that repeats itself would loop forever
        page = api.get("/operations", **params).json()
        assert not (page["has_more"] and not page["items"])
        seen += [o["id"] for o in page["items"]]
        if not page["has_more"]:
            break
        params["submitted_gt"] = page["items"][-1]["submitted"]
    assert seen == done


def test_start_answer_is_the_pending_operation_even_without_delay(api):
    # operation_delay=0: the background thread runs at once, but the 201 answer is the
    # operation as submitted (the protocol: PENDING or RUNNING, never already finished).
    for _ in range(5):
        response = api.aggregate("7")
        assert response.status_code == 201
        operation = response.json()
        assert operation["status"] == "PENDING" and operation["progress"] == 0, operation
        assert "started" not in operation and "finished" not in operation
        assert api.wait(operation["id"])["status"] == "SUCCESS"
