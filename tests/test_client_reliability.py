"""The client's reliability pieces, one by one: the retry decision, redaction, URLs, payload
shapes, the server's clock and the adoption window, netrc, and Ctrl-C during a start."""

from __future__ import annotations

import datetime as _dt
import email.utils
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests
from reliability.proxy import FaultyProxy

from pandas_toloka._http import payloads
from pandas_toloka._http.adoption import newest_matching_operation
from pandas_toloka._http.auth import Redactor, auth_header
from pandas_toloka._http.clock import ServerClock
from pandas_toloka._http.endpoint import display_url
from pandas_toloka._http.retry import Attempt, Decision, RetryPolicy, decide
from pandas_toloka._http.urls import api_path, check_api_path
from pandas_toloka.client import Client
from pandas_toloka.errors import (
    InvalidArgumentError,
    OperationInterruptedError,
    ServerError,
    StartInterruptedError,
)
from pandas_toloka.server import LocalTolokaServer

TOKEN = "client-reliability-token-0123456789"
POLICY = RetryPolicy(
    max_attempts=3, backoff_base=1.0, backoff_max=1.0, rate_limit_wait=7.0, max_wait=100.0
)

# ------------------------------------------------------------------ decide


pytestmark = pytest.mark.reliability


@pytest.mark.parametrize(
    ("attempt", "safety", "action", "adopt_first"),
    [
        (Attempt(1, "answered", 200), "once", "return", False),
        (Attempt(1, "answered", 204), "adopt", "return", False),
        (Attempt(1, "answered", 302), "idempotent", "raise", False),  # redirects not followed
        (Attempt(1, "unsendable"), "idempotent", "raise", False),
        (Attempt(1, "not_sent"), "once", "retry", False),  # the server never saw it
        (Attempt(3, "not_sent"), "once", "raise", False),  # out of attempts
        (Attempt(1, "lost"), "idempotent", "retry", False),
        (Attempt(1, "lost"), "adopt", "retry", True),
        (Attempt(3, "lost"), "adopt", "raise", True),  # a last look before giving up
        (Attempt(1, "lost"), "once", "raise", False),
        (Attempt(1, "timed_out"), "idempotent", "retry", False),
        (Attempt(1, "timed_out"), "adopt", "raise", True),  # look (for a while), never repost
        (Attempt(1, "timed_out"), "once", "raise", False),
        (Attempt(1, "garbled", 200), "idempotent", "retry", False),
        (Attempt(1, "garbled", 200), "adopt", "retry", True),
        (Attempt(1, "garbled", 200), "once", "raise", False),
        (Attempt(1, "answered", 503), "idempotent", "retry", False),
        (Attempt(1, "answered", 500), "adopt", "retry", True),
        (Attempt(1, "answered", 500), "once", "raise", False),
        (Attempt(1, "answered", 408), "idempotent", "retry", False),
        (Attempt(1, "answered", 429), "once", "retry", False),  # certainly not processed
        (Attempt(1, "answered", 429, payload={"interval": "DAY"}), "idempotent", "raise", False),
        (Attempt(1, "answered", 404), "idempotent", "raise", False),
        (Attempt(1, "answered", 400), "adopt", "raise", False),
        (Attempt(1, "answered", 503, retry_after=3600), "idempotent", "raise", False),
        (Attempt(1, "answered", 503, retry_after=3600), "adopt", "raise", True),
    ],
)
def test_decide(attempt: Attempt, safety: str, action: str, adopt_first: bool) -> None:
    decision = decide(attempt, safety=safety, policy=POLICY)  # type: ignore[arg-type]
    assert (decision.action, decision.adopt_first) == (action, adopt_first)
    if action == "retry":
        assert 0 < decision.wait <= POLICY.max_wait


def test_decide_waits_as_the_server_asks() -> None:
    assert decide(
        Attempt(1, "answered", 429, retry_after=4.0), safety="once", policy=POLICY
    ) == Decision("retry", 4.0)
    minute = decide(
        Attempt(1, "answered", 429, payload={"interval": "MIN"}), safety="once", policy=POLICY
    )
    assert minute.wait == POLICY.rate_limit_wait
    assert (
        decide(
            Attempt(1, "answered", 503, retry_after=9.0), safety="idempotent", policy=POLICY
        ).wait
        == 9.0
    )


# ------------------------------------------------------------------ redaction and URLs


def test_redactor_knows_every_form_of_the_token() -> None:
    secret = "ab+c/d=ef" + "x" * 20
    for given in (secret, f"OAuth {secret}", f"ApiKey {secret}", f"  OAuth {secret} "):
        redact = Redactor([given])
        for form in (
            secret,
            f"OAuth {secret}",
            "ab%2Bc%2Fd%3Def" + "x" * 20,
            "ab%2bc%2fd%3def" + "x" * 20,
            "ab%2Bc%2Fd%3Def" + "x" * 20,
            secret.replace("/", "\\/"),
        ):
            assert "x" * 20 not in redact(f"before {form} after"), form
        assert redact("nothing secret") == "nothing secret"
        assert repr(redact) == "Redactor(...)"
    assert Redactor([""])("text") == "text"


def test_a_short_token_is_masked_where_it_stands_alone_without_garbling_the_text() -> None:
    redact = Redactor(["OAuth t"])
    text = "Connection to host='127.0.0.1' failed; header OAuth t, url ?token=t&x=1, json \"t\""
    assert redact(text) == (
        "Connection to host='127.0.0.1' failed; header OAuth ***, url ?token=***&x=1, json \"***\""
    )
    assert Redactor(["abc+1"])("key abc%2B1 and abc+1.") == "key *** and ***."


def test_redactor_knows_the_json_escaped_form() -> None:
    secret = 'AQAA"se\\cret/' + "x" * 20  # refused by Client, but the redaction holds anyway
    echoed = json.dumps({"message": f"bad header OAuth {secret}"})
    assert "x" * 20 not in Redactor([secret])(echoed)
    assert "x" * 20 not in Redactor([secret])(echoed.replace("/", "\\/"))


@pytest.mark.parametrize("char", ['"', "'", "\\", "`"])
def test_tokens_with_quotes_or_backslashes_are_refused_before_any_request(char: str) -> None:
    with pytest.raises(InvalidArgumentError, match="quote or a backslash at position 6") as info:
        Client(f"AQAAAA{char}secret9", url="http://127.0.0.1:9")
    assert "secret9" not in str(info.value)


def test_auth_header_keeps_a_given_scheme() -> None:
    assert auth_header("OAuth abc") == "OAuth abc"
    assert auth_header("ApiKey abc") == "ApiKey abc"
    assert auth_header("abc") == "OAuth abc"


def test_display_url_masks_credentials_query_and_fragment() -> None:
    assert display_url("http://u:p/w@h:1/a?k=v#f") == "http://***@h:1/a?***#***"
    assert display_url("http://h:1") == "http://h:1"


def test_api_path_escapes_ids_into_one_segment() -> None:
    assert api_path("pools", "1") == "/pools/1"
    assert api_path("operations", "../x") == "/operations/..%2Fx"
    assert api_path("pools", 7) == "/pools/7"
    assert api_path("operations", "a b?c#d") == "/operations/a%20b%3Fc%23d"
    for bad in ("", " ", ".", "..", "a\x00b", 1.5, None, True):
        with pytest.raises(InvalidArgumentError):
            api_path("pools", bad)
    for path in ("/pools/../operations", "/pools/1?x=1", "http://h/pools", "/", "/a//b"):
        with pytest.raises(InvalidArgumentError):
            check_api_path(path)


# ------------------------------------------------------------------ payload shapes


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        None,
        "x",
        5,
        {"id": "1"},
        {"status": "RUNNING"},
        {"id": "1", "status": "RUNNING", "parameters": ["pool"]},
        {"id": "1", "status": "FAIL", "details": "boom"},
    ],
)
def test_operation_shape(value: object) -> None:
    with pytest.raises(payloads.ShapeError, match="expected an operation"):
        payloads.operation(value)


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        None,
        {"items": []},
        {"has_more": False},
        {"items": 5, "has_more": False},
        {"items": [], "has_more": "no"},
        {"items": [1], "has_more": False},
    ],
)
def test_page_shapes(value: object) -> None:
    for check in (payloads.operations_page, payloads.assignments_page, payloads.solutions_page):
        with pytest.raises(payloads.ShapeError, match="expected a page of"):
            check(value)


def test_shape_errors_never_quote_the_answer() -> None:
    with pytest.raises(payloads.ShapeError) as info:
        payloads.operation(["the-secret-echoed"])
    assert "the-secret" not in str(info.value)


@pytest.mark.parametrize("cut", [1, 5, 12, 13, 25, 26, 40])
def test_complete_json_object_refuses_any_prefix(cut: int) -> None:
    body = b'{"items": [{"task_id": "a}]\\"{"}, {"task_id": "b"}], "has_more": true}'
    payloads.complete_json_object(body)
    payloads.complete_json_object(b"  " + body + b"\n")
    with pytest.raises(payloads.ShapeError):
        payloads.complete_json_object(body[:cut])
    for position in range(len(body)):
        with pytest.raises(payloads.ShapeError):
            payloads.complete_json_object(body[:position])


# ------------------------------------------------------------------ the server's clock, adoption


def _date(epoch: float) -> str:
    return email.utils.formatdate(epoch, usegmt=True)


def test_server_clock_bounds_narrow_and_restart_on_a_jump() -> None:
    clock = ServerClock()
    assert not clock.known and clock.earliest(0.0) is None
    # server = monotonic + 1000.3; the Date header floors the server's time
    clock.observe(_date(1010), sent=9.6, received=9.8)  # server read 1009.9..1010.1 -> Date 1010
    assert clock.lo == pytest.approx(1000.2) and clock.hi == pytest.approx(1001.4)
    clock.observe(_date(1020), sent=19.75, received=19.8)  # server read 1020.05..1020.1
    assert clock.lo == pytest.approx(1000.2) and clock.hi == pytest.approx(1001.25)
    clock.observe(_date(5000), sent=30.0, received=30.1)  # inconsistent: the server's clock jumped
    assert clock.lo == pytest.approx(4969.9)
    clock.observe("not a date", sent=0, received=0)
    assert clock.lo == pytest.approx(4969.9)


def _op(op_id: str, submitted: _dt.datetime | None, pool: str = "p") -> dict[str, object]:
    return {
        "id": op_id,
        "submitted": None
        if submitted is None
        else submitted.replace(tzinfo=None).isoformat(timespec="milliseconds"),
        "parameters": {
            "pool_id": pool,
            "algorithm": "DAWID_SKENE",
            "aggregated_output_fields": ["result"],
        },
    }


def test_adoption_takes_only_what_was_submitted_since() -> None:
    body = {"pool_id": "p", "type": "DAWID_SKENE", "fields": [{"name": "result"}]}
    since = _dt.datetime(2024, 1, 1, 12, 0, 0, tzinfo=_dt.timezone.utc)
    older = _op("old", since - _dt.timedelta(milliseconds=1))
    ours = _op("ours", since + _dt.timedelta(milliseconds=400))
    other_pool = _op("other", since + _dt.timedelta(seconds=1), pool="q")
    undated = _op("undated", None)
    assert newest_matching_operation([older, undated, other_pool], body, since) is None
    found = newest_matching_operation([older, ours, undated, other_pool], body, since)
    assert found is not None and found["id"] == "ours"
    garbage = [{"id": "x", "parameters": 5, "submitted": "yesterday"}, {"id": "y"}]
    assert newest_matching_operation(garbage, body, since) is None


# ------------------------------------------------------------------ live: server, proxy


def _responses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task_id": [f"t{t}" for t in range(6) for _ in range(3)],
            "worker_id": [f"w{w}" for _ in range(6) for w in range(3)],
            "result": ["cat", "dog", "cat"] * 6,
        }
    )


@pytest.fixture
def server() -> Iterator[LocalTolokaServer]:
    srv = LocalTolokaServer(token=TOKEN)
    srv.add_pool("p", responses=_responses(), output_spec={"result": {"type": "STRING"}})
    with srv:
        yield srv


def _client(url: str, **kwargs: object) -> Client:
    options: dict[str, object] = dict(backoff_base=0.01, backoff_max=0.05, poll_min=0.02)
    options.update(kwargs)
    return Client(TOKEN, url=url, **options)  # type: ignore[arg-type]


def test_an_older_identical_aggregation_is_not_adopted(server: LocalTolokaServer) -> None:
    with _client(server.url) as client:
        older = client.aggregate_by_pool("p", type="DAWID_SKENE", fields="result")
    time.sleep(1.5)  # more than the Date header's resolution: "before the first attempt" is known
    server.faults.add(
        "server_error", status=503, method="POST"
    )  # not started: look, then post again
    with _client(server.url) as fresh:  # no Date seen before its first attempt
        ours = fresh.aggregate_by_pool("p", type="DAWID_SKENE", fields="result")
    assert ours["id"] != older["id"]
    assert len(server.operations.all()) == 2


def test_the_aggregation_a_lost_answer_started_is_adopted(server: LocalTolokaServer) -> None:
    server.faults.add("drop", method="POST")  # started, then the answer is cut off
    with _client(server.url) as client:
        operation = client.aggregate_by_pool("p", type="DAWID_SKENE", fields="result")
    assert [op.id for op in server.operations.all()] == [operation["id"]]


def test_netrc_never_replaces_the_token(
    server: LocalTolokaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login intruder password not-the-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    # requests would use it: the test can fail
    assert requests.utils.get_netrc_auth(server.url) == ("intruder", "not-the-token")
    with _client(server.url) as client:
        assert client.get_pool("p")["id"] == "p"
        assert client._session.trust_env  # proxies from the environment still apply


class _InterruptMainWhen(threading.Thread):
    """Ctrl-C to the main thread as soon as ``condition()`` holds (polled, bounded); cancel()."""

    def __init__(self, condition: Callable[[], bool]) -> None:
        super().__init__(daemon=True)
        self._condition = condition
        self._cancelled = threading.Event()
        self._main = threading.main_thread().ident
        self.start()

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while not self._cancelled.is_set() and time.monotonic() < deadline:
            if self._condition():
                assert self._main is not None
                signal.pthread_kill(self._main, signal.SIGINT)
                return
            self._cancelled.wait(0.005)

    def cancel(self) -> None:
        self._cancelled.set()


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="needs SIGINT"
)
def test_ctrl_c_during_the_start_names_the_started_operation(server: LocalTolokaServer) -> None:
    with FaultyProxy(server.url) as proxy, _client(proxy.url, timeout=(2.0, 10.0)) as client:
        proxy.add("delay", method="POST", seconds=3.0)  # the server has started it meanwhile
        timer = _InterruptMainWhen(lambda: bool(server.operations.all()))
        try:
            with pytest.raises(OperationInterruptedError) as info:
                client.aggregate_by_pool("p", type="DAWID_SKENE", fields="result")
        finally:
            timer.cancel()
    (started,) = server.operations.all()
    assert info.value.operation_id == started.id
    assert f"operation_id={started.id!r}" in str(info.value)


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="needs SIGINT"
)
def test_ctrl_c_before_the_server_started_it_says_how_to_look(server: LocalTolokaServer) -> None:
    # The server holds it before starting it, until the client has given up: a timed hold
    # could end before the client looks for the operation (then rightly found and named).
    start = server.faults.add("hold", method="POST", timeout=60)
    with _client(server.url, timeout=(2.0, 60.0)) as client:
        timer = _InterruptMainWhen(start.held.is_set)
        try:
            with pytest.raises(KeyboardInterrupt) as info:
                client.aggregate_by_pool("p", type="DAWID_SKENE", fields="result")
        finally:
            timer.cancel()
            start.release()
    assert not isinstance(info.value, OperationInterruptedError)
    assert isinstance(info.value, StartInterruptedError)  # typed: the CLI says how to find it
    assert info.value.pool_id == "p" and info.value.submitted_gte in str(info.value)
    assert "may have started" in str(info.value)
    assert "list_operations(type='SOLUTION.AGGREGATE'" in str(info.value)


def test_proxy_credentials_from_the_environment_are_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxyuser:proxy-secret-42@127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with Client(TOKEN, url="http://192.0.2.1:8000", max_attempts=1, timeout=(0.5, 0.5)) as client:
        assert client.redact("via proxyuser:proxy-secret-42@") == "via proxyuser:***@"


def test_a_failed_search_for_the_started_operation_never_posts_again(
    server: LocalTolokaServer,
) -> None:
    server.faults.add("server_error", status=500, method="POST")
    server.faults.add("server_error", count=20, method="GET", path="/api/v1/operations")
    with _client(server.url, max_attempts=2) as client:
        with pytest.raises(ServerError, match="it may have started an operation") as info:
            client.aggregate_by_pool("p", type="DAWID_SKENE", fields="result")
    assert isinstance(info.value.__cause__, ServerError)
    posts = [p for m, p in server.request_log.snapshot() if m == "POST"]
    assert len(posts) == 1
