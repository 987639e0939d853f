"""Fault injection, over real HTTP."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from pandas_toloka.errors import InvalidArgumentError
from pandas_toloka.server import LocalTolokaServer
from pandas_toloka.server._faults import Faults, RateLimiter

pytestmark = pytest.mark.reliability


def test_rate_limit_with_retry_after(server, api):
    server.faults.add("rate_limit", count=2, retry_after=1)
    for _ in range(2):
        response = api.get("/pools/7")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert response.json()["code"] == "TOO_MANY_REQUESTS"
    assert api.get("/pools/7").status_code == 200


def test_rate_limit_with_interval_has_no_retry_after(server, api):
    server.faults.add("rate_limit", count=1, interval="MIN")
    response = api.get("/pools/7")
    assert response.status_code == 429
    assert response.json()["payload"] == {"interval": "MIN"}
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, "REMOTE_SERVICE_UNAVAILABLE"), (500, "INTERNAL_ERROR"), (504, "INTERNAL_ERROR")],
)
def test_server_error(server, api, status, code):
    server.faults.add("server_error", count=3, status=status)
    for _ in range(3):
        response = api.get("/pools/7")
        assert response.status_code == status and response.json()["code"] == code
    assert api.get("/pools/7").status_code == 200


def test_server_error_with_retry_after(server, api):
    server.faults.add("server_error", status=503, retry_after=2)
    response = api.get("/pools/7")
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"


def test_drop_sends_part_of_the_body_then_closes(server, api):
    server.faults.add("drop", count=1)
    with pytest.raises(requests.exceptions.RequestException):
        api.get("/pools/7").json()
    assert api.get("/pools/7").json()["id"] == "7"


def test_slow_delays_the_answer(server, api):
    server.faults.add("slow", count=1, delay=0.3)
    start = time.monotonic()
    assert api.get("/pools/7").status_code == 200
    assert time.monotonic() - start >= 0.3


def test_hold_keeps_the_request_from_running_until_released(server, api):
    fault = server.faults.add("hold", method="POST", timeout=60)
    answers: list[int] = []
    poster = threading.Thread(target=lambda: answers.append(api.aggregate("7").status_code))
    poster.start()
    try:
        assert fault.held.wait(60), "the POST was never held"
        assert server.operations.all() == []  # held before the endpoint: nothing started
        assert api.get("/pools/7").status_code == 200  # other requests go on meanwhile
        assert answers == []
    finally:
        fault.release()
        poster.join(60)
    assert answers == [201] and len(server.operations.all()) == 1


@pytest.mark.parametrize("let_go", ["clear", "stop"])
def test_clear_and_stop_release_held_requests(let_go):
    with LocalTolokaServer(token="t") as server:
        fault = server.faults.add("hold", timeout=60)
        answers: list[object] = []

        def get() -> None:
            url = f"{server.url}/api/v1/pools"
            try:
                answers.append(requests.get(url, headers={"Authorization": "ApiKey t"}).status_code)
            except requests.RequestException as exc:  # the stopped server closed it
                answers.append(type(exc))

        getter = threading.Thread(target=get)
        getter.start()
        assert fault.held.wait(60), "the GET was never held"
        if let_go == "clear":
            server.faults.clear()
            getter.join(60)
            assert answers == [200]
        else:
            server.stop()
            getter.join(60)  # answered or refused, but not held for the 60 s
        assert not getter.is_alive() and len(answers) == 1


def test_latency_applies_to_every_request(server, api):
    server.faults.latency = 0.1
    start = time.monotonic()
    api.get("/pools/7")
    api.get("/pools")
    assert time.monotonic() - start >= 0.2


def test_method_and_path_filters(server, api):
    server.faults.add("server_error", count=1, status=503, method="POST")
    server.faults.add("rate_limit", count=1, path="/api/v1/operations")
    assert api.get("/pools/7").status_code == 200
    assert api.get("/operations").status_code == 429
    assert api.aggregate("7").status_code == 503
    assert api.aggregate("7").status_code == 201
    assert server.faults.pending == []


def test_fail_operation_fault(server, api):
    server.faults.add("fail_operation", message="disk on fire")
    operation = api.wait(api.aggregate("7").json()["id"])
    assert operation["status"] == "FAIL"
    assert operation["details"] == {"message": "disk on fire"}
    assert "finished" in operation
    assert api.wait(api.aggregate("7").json()["id"])["status"] == "SUCCESS"


def test_enforce_rate_limits_on_aggregation_posts(server, api):
    server.faults.enforce_rate_limits = True
    codes = [api.aggregate("7").status_code for _ in range(6)]
    assert codes == [201] * 5 + [429]
    response = api.aggregate("7")
    assert response.json()["payload"] == {"interval": "MIN"}
    assert int(response.headers["Retry-After"]) >= 1
    assert api.get("/pools/7").status_code == 200  # GETs are not limited
    task_id = api.get("/assignments", pool_id="7", limit=1).json()["items"][0]["tasks"][0]["id"]
    by_task = {
        "type": "DAWID_SKENE",
        "pool_id": "7",
        "task_id": task_id,
        "fields": [{"name": "result"}],
    }
    assert api.post("/aggregated-solutions/aggregate-by-task", by_task).status_code == 201
    server.faults.clear()
    assert server.faults.enforce_rate_limits is False
    assert api.aggregate("7").status_code == 201


def test_clear_drops_pending_faults(server, api):
    server.faults.add("server_error", count=5)
    server.faults.latency = 0.5
    server.faults.clear()
    start = time.monotonic()
    assert api.get("/pools/7").status_code == 200
    assert time.monotonic() - start < 0.5


def test_add_validates():
    faults = Faults()
    with pytest.raises(InvalidArgumentError):
        faults.add("explode")
    with pytest.raises(InvalidArgumentError):
        faults.add("drop", count=0)
    with pytest.raises(InvalidArgumentError):
        faults.add("rate_limit", interval="WEEK")
    with pytest.raises(InvalidArgumentError):
        faults.add("server_error", status=404)
    with pytest.raises(InvalidArgumentError):
        faults.add("slow", retry_after=1)
    for timeout in (0, -1, float("inf"), float("nan"), True, "60"):
        with pytest.raises(InvalidArgumentError, match="timeout"):
            faults.add("hold", timeout=timeout)
    assert faults.pending == []


def test_rate_limiter_windows():
    limiter = RateLimiter((("MIN", 60.0, 2), ("HOUR", 3600.0, 3)))
    assert limiter.acquire(0.0) is None and limiter.acquire(1.0) is None
    assert limiter.acquire(2.0) == ("MIN", 58)
    assert limiter.acquire(61.0) is None
    assert limiter.acquire(130.0)[0] == "HOUR"
    assert limiter.acquire(3601.0) is None


def test_unauthenticated_requests_use_up_no_fault(server, api):
    server.faults.add("server_error", count=1, method="GET")
    server.faults.add("slow", count=1, method="GET", delay=0.01)
    for headers in ({}, {"Authorization": "ApiKey wrong-token"}):
        answer = requests.get(server.url + "/api/v1/pools/7", headers=headers, timeout=10)
        assert answer.status_code == 401
    assert [fault.kind for fault in server.faults.pending] == ["server_error", "slow"]
    assert api.get("/pools/7").status_code == 500  # the queued fault hits the next real request
    assert api.get("/pools/7").status_code == 200
    assert server.faults.pending == []


@pytest.mark.parametrize("where", ["faults", "network"])
def test_latency_never_holds_an_unauthenticated_request(where):
    """A 60 s latency: a 401 must still come back within the client's 10 s timeout."""
    kwargs = {"latency": 60.0} if where == "network" else {}
    with LocalTolokaServer(token="latency-token", **kwargs) as server:
        if where == "faults":
            server.faults.latency = 60.0
        for _ in range(3):
            answer = requests.get(server.url + "/api/v1/pools", timeout=10)
            assert answer.status_code == 401
