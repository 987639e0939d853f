"""Client: token and URL resolution, retries, error mapping, adoption of a started aggregation.

Pure helpers are unit-tested; everything else runs against the bundled server
on 127.0.0.1 over real HTTP.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator

import pandas as pd
import pytest
import requests

from pandas_toloka._http import api_errors, auth, endpoint, retry
from pandas_toloka.client import (
    AggregationType,
    Client,
    Environment,
    format_datetime,
    parse_datetime,
)
from pandas_toloka.errors import (
    AuthenticationError,
    ConflictError,
    InvalidArgumentError,
    MissingTokenError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TolokaConnectionError,
    ValidationError,
)
from pandas_toloka.server import LocalTolokaServer

TOKEN = "client-test-token"
SECRET = "s3cr3t-token-value-0123456789"
API_KEY = "a" * 23 + ".bbbbbbbbbbbb.cccccccccccc"


# --------------------------------------------------------------------------- pure helpers


def test_api_key_heuristic() -> None:
    assert auth.is_api_key(API_KEY)
    assert auth.auth_header(API_KEY) == f"ApiKey {API_KEY}"
    assert not auth.is_api_key("AQAAAAAxyz")
    assert auth.auth_header("AQAAAAAxyz") == "OAuth AQAAAAAxyz"
    assert not auth.is_api_key("a" * 10 + ".b.c")  # first dot too early
    assert not auth.is_api_key("a" * 23 + ".b.c.d")  # three dots
    assert auth.auth_header("OAuth already") == "OAuth already"


def test_token_resolution_order() -> None:
    env = {"TOLOKA_API_KEY": "from-api-key", "TOLOKA_TOKEN": "from-token"}
    assert auth.resolve_token("explicit", environ=env) == "explicit"
    assert auth.resolve_token(None, environ=env) == "from-api-key"
    assert auth.resolve_token(None, environ={"TOLOKA_TOKEN": "from-token"}) == "from-token"
    with pytest.raises(MissingTokenError, match="TOLOKA_API_KEY.*TOLOKA_TOKEN"):
        auth.resolve_token(None, environ={})


def test_base_url_resolution() -> None:
    assert endpoint.resolve_base_url(None, None, environ={}) == ("https://toloka.dev", "PRODUCTION")
    assert endpoint.resolve_base_url("sandbox", None, environ={}) == (
        "https://sandbox.toloka.dev",
        "SANDBOX",
    )
    assert (
        endpoint.resolve_base_url(Environment.SANDBOX, environ={})[0]
        == "https://sandbox.toloka.dev"
    )
    local = {"TOLOKA_URL": "http://127.0.0.1:9/api/v1/"}
    assert endpoint.resolve_base_url(None, None, environ=local) == ("http://127.0.0.1:9", "URL")
    assert endpoint.resolve_base_url("PRODUCTION", None, environ=local)[1] == "PRODUCTION"
    assert endpoint.resolve_base_url("http://h:1", None, environ={}) == ("http://h:1", "URL")
    assert endpoint.resolve_base_url("SANDBOX", "http://x:2", environ={}) == ("http://x:2", "URL")
    with pytest.raises(InvalidArgumentError, match="Unknown environment"):
        endpoint.resolve_base_url("staging", None, environ={})


def test_backoff_grows_and_is_capped() -> None:
    ones = [retry.backoff_delay(n, base=0.5, cap=4.0, rand=lambda: 1.0) for n in range(1, 7)]
    assert ones == [1.0 * 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    zeros = [retry.backoff_delay(n, base=0.5, cap=4.0, rand=lambda: 0.0) for n in (1, 3)]
    assert zeros == [0.25, 1.0]  # jitter keeps at least half


def test_retry_policy_decisions() -> None:
    policy = retry.RetryPolicy(
        max_attempts=3, backoff_base=0.1, rate_limit_wait=7.0, max_wait=100.0
    )
    assert policy.wait_for(404, 1, retry_after=None, payload=None) is None
    assert policy.wait_for(503, 3, retry_after=None, payload=None) is None  # attempts used up
    assert policy.wait_for(503, 1, retry_after=5.0, payload=None) == 5.0
    assert policy.wait_for(429, 1, retry_after=None, payload={"interval": "MIN"}) == 7.0
    assert policy.wait_for(429, 1, retry_after=2.0, payload={"interval": "MIN"}) == 2.0
    assert policy.wait_for(429, 1, retry_after=2.0, payload={"interval": "HOUR"}) is None
    assert policy.wait_for(429, 1, retry_after=500.0, payload=None) is None  # beyond max_wait


def test_retry_after_parsing() -> None:
    assert retry.parse_retry_after("3") == 3.0
    assert retry.parse_retry_after(None) is None
    assert retry.parse_retry_after("garbage") is None
    now = pd.Timestamp("2024-01-01 00:00:00", tz="UTC").to_pydatetime()
    assert retry.parse_retry_after("Mon, 01 Jan 2024 00:00:30 GMT", now=now) == 30.0
    hint = api_errors.rate_limit_hint("HOUR", 90.0, now=now)
    assert "hourly" in hint and "2024-01-01 00:01:30 UTC" in hint


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "Infinity"])
def test_retry_after_that_is_not_finite_is_ignored(value: str) -> None:
    assert retry.parse_retry_after(value) is None


def test_huge_retry_after_is_capped_and_still_explained() -> None:
    assert retry.parse_retry_after("1e12") == retry.MAX_RETRY_AFTER
    assert retry.parse_retry_after("1e400") is None  # float("1e400") is inf
    assert retry.parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT") == retry.MAX_RETRY_AFTER
    assert "a day or more" in api_errors.rate_limit_hint("DAY", 1e12)  # past the year 9999
    assert "a day or more" in api_errors.rate_limit_hint("DAY", float("inf"))
    policy = retry.RetryPolicy(max_wait=math.inf)  # accepts any wait, but never a day's
    assert policy.wait_for(503, 1, retry_after=retry.MAX_RETRY_AFTER, payload=None) is None
    assert policy.wait_for(429, 1, retry_after=3600.0, payload=None) == 3600.0


@pytest.mark.parametrize(
    ("status", "retry_after", "error", "hits"),
    [
        (503, "inf", ServerError, 3),  # ignored: backs off, never sleeps forever
        (503, "1e300", ServerError, 1),  # capped to a day: never slept
        (429, "inf", RateLimitError, 3),
        (429, "1e12", RateLimitError, 1),
        (429, "Fri, 31 Dec 9999 23:59:59 GMT", RateLimitError, 1),
    ],
)
def test_unbounded_retry_after_from_the_server(
    status: int, retry_after: str, error: type[Exception], hits: int, fake_server
) -> None:
    # Retry-After values no real server sends (the bundled server's faults send numbers)
    from fakes import json_answer

    code = "TOO_MANY_REQUESTS" if status == 429 else "REMOTE_SERVICE_UNAVAILABLE"
    busy = json_answer(status, {"code": code, "message": "busy"}, Retry_After=retry_after)
    server = fake_server(lambda request: busy)
    # max_wait=inf accepts any finite wait the server asks for, but none of these
    with Client(
        TOKEN,
        url=server.url,
        max_attempts=3,
        backoff_base=0.01,
        backoff_max=0.01,
        max_wait=math.inf,
    ) as client:
        with pytest.raises(error):
            client.get_pool("1")
    assert len(server.requests) == hits


def test_datetime_format_roundtrip() -> None:
    parsed = parse_datetime("2023-04-13T16:39:12.422")
    assert parsed is not None and parsed.tzinfo is not None
    assert format_datetime(parsed) == "2023-04-13T16:39:12.422"
    assert AggregationType.parse("dawid_skene") is AggregationType.DAWID_SKENE
    with pytest.raises(InvalidArgumentError, match="WEIGHTED_DYNAMIC_OVERLAP"):
        AggregationType.parse("MAJORITY")


def test_client_from_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOLOKA_API_KEY", raising=False)
    monkeypatch.delenv("TOLOKA_TOKEN", raising=False)
    monkeypatch.delenv("TOLOKA_URL", raising=False)
    with pytest.raises(MissingTokenError, match="TOLOKA_API_KEY"):
        Client()
    monkeypatch.setenv("TOLOKA_TOKEN", SECRET)
    monkeypatch.setenv("TOLOKA_URL", "http://127.0.0.1:1")
    with Client() as client:
        assert client.api_url == "http://127.0.0.1:1/api/v1"
        assert SECRET not in repr(client) and SECRET not in str(client)
        sent = client._session.prepare_request(requests.Request("GET", client.api_url))
        assert sent.headers["Authorization"] == f"OAuth {SECRET}"


# --------------------------------------------------------------------------- against the server


@pytest.fixture
def server() -> Iterator[LocalTolokaServer]:
    responses = pd.DataFrame(
        {
            "task_id": [f"t{t:02d}" for t in range(10) for _ in range(3)],
            "worker_id": [f"w{w}" for _ in range(10) for w in range(3)],
            "result": [("cat", "dog")[(t * w) % 3 == 1] for t in range(10) for w in range(3)],
        }
    )
    srv = LocalTolokaServer(token=TOKEN)
    srv.add_pool(
        "ds",
        responses=responses,
        output_spec={"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}},
    )
    with srv:
        yield srv


def _client(server, **kwargs) -> Client:  # type: ignore[no-untyped-def]
    options = dict(
        backoff_base=0.01, backoff_max=0.05, rate_limit_wait=0.05, poll_min=0.02, poll_max=0.1
    )
    options.update(kwargs)
    return Client(server.token, url=server.url, **options)  # type: ignore[arg-type]


def test_typed_helpers(server) -> None:  # type: ignore[no-untyped-def]
    with _client(server) as client:
        pool = client.get_pool("ds")
        assert client.get_project(str(pool["project_id"]))["id"] == str(pool["project_id"])
        assert set(client.get_output_spec("ds")) == {"result"}
        with pytest.raises(NotFoundError, match="DOES_NOT_EXIST") as info:
            client.get_pool("nope")
        assert info.value.status == 404 and info.value.request_id
        assert "environment" in str(info.value)


def test_wrong_token_is_authentication_error_without_the_token(server, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    with Client(SECRET, url=server.url, backoff_base=0.01) as client:
        with pytest.raises(AuthenticationError) as info:
            client.get_pool("ds")
    assert info.value.status == 401
    assert "TOLOKA_API_KEY" in str(info.value)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert SECRET not in caplog.text


def test_connection_error_without_the_token(caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    with Client(SECRET, url="http://127.0.0.1:9", max_attempts=2, backoff_base=0.01) as client:
        with pytest.raises(TolokaConnectionError, match="after 2 attempt") as info:
            client.get_json("/pools/1")
    assert SECRET not in str(info.value) and SECRET not in caplog.text


def test_get_retries_5xx_and_dropped_bodies(server) -> None:  # type: ignore[no-untyped-def]
    server.faults.add("server_error", count=2, status=503, path="/api/v1/pools")
    server.faults.add("drop", count=1, path="/api/v1/pools")
    with _client(server) as client:
        assert client.get_pool("ds")["id"] == "ds"
    gets = [p for m, p in server.request_log if m == "GET" and p.startswith("/api/v1/pools/ds")]
    assert len(gets) == 4


def test_get_gives_up_after_max_attempts(server) -> None:  # type: ignore[no-untyped-def]
    server.faults.add("server_error", count=5, status=500, path="/api/v1/pools")
    with _client(server, max_attempts=3) as client:
        with pytest.raises(ServerError, match="INTERNAL_ERROR") as info:
            client.get_pool("ds")
    assert info.value.status == 500
    assert "try again later" in str(info.value)


def test_rate_limit_minute_is_waited_out(server) -> None:  # type: ignore[no-untyped-def]
    server.faults.add("rate_limit", count=1, interval="MIN", path="/api/v1/pools")
    server.faults.add("rate_limit", count=1, retry_after=0, path="/api/v1/pools")
    with _client(server) as client:
        assert client.get_pool("ds")["id"] == "ds"


@pytest.mark.parametrize("interval", ["HOUR", "DAY"])
def test_rate_limit_hour_or_day_raises(server, interval: str) -> None:  # type: ignore[no-untyped-def]
    server.faults.add("rate_limit", count=1, interval=interval, retry_after=1800)
    with _client(server) as client:
        with pytest.raises(RateLimitError, match="try again after") as info:
            client.get_pool("ds")
    assert info.value.interval == interval and info.value.retry_after == 1800


def test_validation_and_conflict_errors_map_by_code(server) -> None:  # type: ignore[no-untyped-def]
    with _client(server) as client:
        with pytest.raises(ValidationError) as info:
            client.get_json("/operations", {"limit": 0})
        assert info.value.code == "VALIDATION_ERROR" and info.value.payload
        with pytest.raises(ConflictError, match="ONLY_FOR_POOL_WITH_MIXER"):
            client.aggregate_by_pool(
                "ds",
                type="WEIGHTED_DYNAMIC_OVERLAP",
                fields="result",
                answer_weight_skill_id="skill",
            )


def test_aggregate_by_task(server) -> None:  # type: ignore[no-untyped-def]
    with _client(server) as client:
        solution = client.aggregate_by_task(
            "t00", pool_id="ds", type="DAWID_SKENE", fields=["result"]
        )
    assert solution["task_id"] == "t00" and set(solution["output_values"]) == {"result"}


def _aggregate_posts(server) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for m, p in server.request_log if m == "POST" and "aggregate-by-pool" in p)


@pytest.mark.parametrize("fault", [{"kind": "drop"}, {"kind": "server_error", "status": 503}])
def test_start_post_is_not_blindly_retried(server, fault) -> None:  # type: ignore[no-untyped-def]
    params = dict(fault)
    server.faults.add(params.pop("kind"), count=1, method="POST", **params)
    with _client(server) as client:
        operation = client.aggregate_by_pool("ds", type="DAWID_SKENE", fields="result")
        listed = client.list_operations(type="SOLUTION.AGGREGATE")
    assert [op["id"] for op in listed] == [operation["id"]]
    if fault["kind"] == "drop":  # processed then dropped: adopted, never re-posted
        assert _aggregate_posts(server) == 1
    else:  # a 503 from the server here means "not started": posted again, once
        assert _aggregate_posts(server) == 2


def test_concurrent_requests_from_threads(server) -> None:  # type: ignore[no-untyped-def]
    results: list[str] = []
    errors: list[BaseException] = []
    with _client(server) as client:

        def work(i: int) -> None:
            try:
                results.append(
                    client.aggregate_by_task(
                        f"t{i % 10:02d}", pool_id="ds", type="DAWID_SKENE", fields="result"
                    )["task_id"]
                )
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors and len(results) == 24
