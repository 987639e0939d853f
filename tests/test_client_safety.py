"""Client hardening: tokens never leak from error paths; bad settings fail as TolokaErrors.

An "echo" server on 127.0.0.1 plays a misbehaving proxy that copies the
Authorization header into its error answers; the bundled server covers the
retry paths of the start POST.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pandas as pd
import pytest
from reliability.echo import EchoServer

from pandas_toloka.client import Client
from pandas_toloka.errors import (
    InvalidArgumentError,
    ServerError,
    TolokaApiError,
    TolokaConnectionError,
    TolokaError,
)
from pandas_toloka.server import LocalTolokaServer

SECRET = "Zq7" * 70 + "-end-of-the-secret"  # long: a page cut at 200 characters falls inside it


pytestmark = pytest.mark.reliability


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    """A proxy that copies the Authorization header into its errors (tests/reliability/echo.py)."""
    with EchoServer() as server:
        yield server


def _texts(exc: BaseException) -> str:
    return " ".join([str(exc), repr(exc), repr(vars(exc))])


@pytest.mark.parametrize("mode", ["json", "html"])
def test_echoed_token_never_reaches_the_exception(
    echo: EchoServer, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = echo.url
    echo.mode = mode
    caplog.set_level(logging.DEBUG)
    with Client(SECRET, url=url, max_attempts=1) as client:
        with pytest.raises(TolokaApiError) as info:
            client.get_json("/pools/1")
    text = _texts(info.value)
    assert "***" in text
    # not the token, nor any piece of it (the HTML page is cut to 200 characters)
    assert SECRET[:12] not in text and "Zq7Zq7" not in text and "end-of-the-secret" not in text
    assert "Zq7Zq7" not in caplog.text


@pytest.mark.parametrize("token", ["abc\ndef", "abc def", "tok\u2013en", "tab\there"])
def test_a_token_that_cannot_be_a_header_is_refused_without_showing_it(token: str) -> None:
    with pytest.raises(InvalidArgumentError, match="copy the token again") as info:
        Client(token, url="http://127.0.0.1:9")
    assert token not in str(info.value) and token.split()[-1] not in str(info.value)


@pytest.mark.parametrize(
    "url", ["http://", "http://[::1", "http://exa mple.com", "http://127.0.0.1:1:2"]
)
def test_malformed_urls_are_invalid_arguments(url: str) -> None:
    with pytest.raises(InvalidArgumentError, match="URL"):
        Client("token", url=url)


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "exa\u200bmple.com"])
def test_unsendable_requests_are_toloka_errors(host: str) -> None:
    """URLs that parse but cannot be requested (a DNS label over 63 characters, an invalid
    IDNA name) fail as a TolokaError, not a bare requests/urllib3 exception."""
    with Client("token-0123", url=f"http://{host}", max_attempts=1) as client:
        with pytest.raises(TolokaError, match="could not be sent"):
            client.get_json("/pools/1")


# --------------------------------------------------------------------------- the start POST


@pytest.fixture
def server() -> Iterator[LocalTolokaServer]:
    srv = LocalTolokaServer(token="start-post-token")
    srv.add_pool(
        "p",
        responses=pd.DataFrame(
            {"task_id": ["t1", "t1"], "worker_id": ["a", "b"], "result": ["cat", "dog"]}
        ),
        output_spec={"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}},
    )
    with srv:
        yield srv


def _posts(server: LocalTolokaServer) -> int:
    return sum(1 for m, p in server.request_log.snapshot() if m == "POST")


def test_last_attempt_dropped_after_starting_is_adopted_not_lost(server: LocalTolokaServer) -> None:
    """With no attempt left, a start whose answer was cut off is still found, so a rerun
    of the script does not start a second aggregation."""
    with Client(server.token, url=server.url, max_attempts=1) as client:
        client.get_pool("p")  # learns the server's clock, as the reader does
        server.faults.add("drop", method="POST")
        operation = client.aggregate_by_pool("p", type="DAWID_SKENE", fields="result")
        assert [op["id"] for op in client.list_operations()] == [operation["id"]]
    assert _posts(server) == 1


def test_start_post_honours_retry_after_of_a_503(
    server: LocalTolokaServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    server.faults.add("server_error", status=503, retry_after=3600, method="POST")
    with Client(server.token, url=server.url, max_wait=60) as client:
        with pytest.raises(ServerError) as info:  # far too long to wait: said at once
            client.aggregate_by_pool("p", type="DAWID_SKENE", fields="result")
    assert info.value.retry_after == 3600
    assert _posts(server) == 1
    server.faults.add("server_error", status=503, retry_after=0.3, method="POST")
    with Client(server.token, url=server.url, backoff_base=0.01, backoff_max=0.02) as client:
        client.aggregate_by_pool("p", type="DAWID_SKENE", fields="result")
    assert "retry 1 in 0.30 s" in caplog.text
    assert _posts(server) == 3


def test_connection_refused_is_a_toloka_connection_error() -> None:
    with Client("token", url="http://127.0.0.1:9", max_attempts=1) as client:
        with pytest.raises(TolokaConnectionError):
            client.aggregate_by_pool("p", type="DAWID_SKENE", fields="result")
