"""A canary token, given every way a token can be given, never shows anywhere.

Bare, with its ``OAuth``/``ApiKey`` scheme, through ``TOLOKA_API_KEY`` and
``TOLOKA_TOKEN``, inside a URL: not in any log record at any level (urllib3's
included), not in any exception's message, repr or traceback (chained ones
too), not in ``repr(client)``, ``df.attrs``, Parquet metadata, progress bars
or the CLI's output -- not even a dozen characters of it, nor its
percent-encoded forms.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import pandas_toloka  # noqa: F401 - registers df.toloka
from pandas_toloka.client import Client
from pandas_toloka.errors import (
    AuthenticationError,
    InvalidArgumentError,
    ProtocolError,
    ServerError,
    TolokaApiError,
    TolokaConnectionError,
)
from pandas_toloka.reader import read_aggregated_solutions
from pandas_toloka.responses import read_responses
from pandas_toloka.server import LocalTolokaServer

from .conftest import SPEC, label_responses
from .echo import EchoServer
from .proxy import FaultyProxy

pytestmark = pytest.mark.reliability

CANARY = "Cnry+/=k3Yk9Xq" + "Zp7w" * 6 + "-END"
WINDOW = 12


def _forms(secret: str) -> list[str]:
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    return [f[i : i + WINDOW] for f in forms for i in range(len(f) - WINDOW + 1)]


PIECES = _forms(CANARY)


def assert_clean(text: str, where: str) -> None:
    leaked = [piece for piece in PIECES if piece in text]
    assert not leaked, f"the token leaked into {where}: {leaked[:3]} in {text[:300]!r}"


def assert_error_clean(error: BaseException) -> None:
    assert_clean(str(error), "str(error)")
    assert_clean(repr(error), "repr(error)")
    assert_clean("".join(traceback.format_exception(error)), "the traceback")
    for value in vars(error).values():
        assert_clean(repr(value), "an attribute of the error")


def assert_logs_clean(caplog: pytest.LogCaptureFixture) -> None:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in caplog.records:
        assert_clean(formatter.format(record), f"a log record of {record.name}")
        assert_clean(repr(record.args), f"the arguments of a log record of {record.name}")


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)  # every logger (both levels restored afterwards)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    yield caplog
    assert_logs_clean(caplog)


@pytest.fixture
def canary_server() -> Iterator[LocalTolokaServer]:
    server = LocalTolokaServer(token=CANARY)
    server.add_pool("p", responses=label_responses(12), output_spec=SPEC)
    with server:
        yield server


GIVEN: dict[str, Callable[[pytest.MonkeyPatch], dict[str, Any]]] = {
    "bare": lambda mp: {"token": CANARY},
    "oauth-scheme": lambda mp: {"token": f"OAuth {CANARY}"},
    "apikey-scheme": lambda mp: {"token": f"ApiKey {CANARY}"},
    "TOLOKA_API_KEY": lambda mp: (mp.setenv("TOLOKA_API_KEY", CANARY), {})[1],
    "TOLOKA_TOKEN": lambda mp: (mp.setenv("TOLOKA_TOKEN", f"OAuth {CANARY}"), {})[1],
}


@pytest.fixture(params=sorted(GIVEN))
def given(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name in ("TOLOKA_API_KEY", "TOLOKA_TOKEN", "TOLOKA_URL"):
        monkeypatch.delenv(name, raising=False)
    return GIVEN[request.param](monkeypatch)


def test_a_whole_read_shows_the_token_nowhere(
    canary_server: LocalTolokaServer,
    given: dict[str, Any],
    debug_logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    with Client(url=canary_server.url, poll_min=0.01, **given) as client:
        assert_clean(repr(client), "repr(client)")
        assert_clean(str(vars(client)), "the client's attributes")
        frame = read_aggregated_solutions("p", client=client, progress_bar=True)
        responses = read_responses("p", client=client, progress_bar=True)
        joined = responses[["pool_id", "task_id"]].toloka.aggregate(client=client, fields="result")
    for name, df in (("aggregated", frame), ("responses", responses), ("joined", joined)):
        assert_clean(repr(df.attrs), f"{name}.attrs")
        path = tmp_path / f"{name}.parquet"
        df.to_parquet(path)
        assert_clean(path.read_bytes().decode("latin-1"), f"the Parquet file of {name}")
    assert any(
        r.name.startswith("urllib3") and r.levelno == logging.DEBUG for r in debug_logs.records
    )
    out = capsys.readouterr()
    assert "Downloading" in out.err or "100%" in out.err  # the bars were drawn
    assert_clean(out.out + out.err, "the progress output")


@pytest.mark.parametrize("mode", ["json", "html", "urlencoded", "redirect", "ok-wrong-shape"])
def test_echoed_credentials_are_redacted_in_every_form(
    given: dict[str, Any], mode: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    with EchoServer() as echo:
        echo.mode = mode
        with Client(url=echo.url, max_attempts=2, backoff_base=0.01, **given) as client:
            with pytest.raises((TolokaApiError, ProtocolError)) as info:
                client.get_operation("op-1")
    assert_error_clean(info.value)


def test_server_errors_and_retries_show_no_token(
    canary_server: LocalTolokaServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    canary_server.faults.add(
        "server_error", count=20, method="GET", path="/api/v1/aggregated-solutions/"
    )
    with FaultyProxy(canary_server.url) as proxy:
        proxy.add("body", 20, method="GET", path="/api/v1/pools/", body=CANARY.encode())
        with Client(CANARY, url=proxy.url, max_attempts=2, backoff_base=0.01) as client:
            with pytest.raises(ProtocolError) as garbled:
                client.get_pool("p")
        proxy.pending().clear()
    with Client(CANARY, url=canary_server.url, max_attempts=2, backoff_base=0.01) as client:
        with pytest.raises(ServerError) as failed:
            read_aggregated_solutions("p", client=client)
    with Client(f"OAuth {CANARY}x", url=canary_server.url) as client:  # a wrong token
        with pytest.raises(AuthenticationError) as denied:
            client.get_pool("p")
    with Client(CANARY, url="http://127.0.0.1:9", max_attempts=1) as client:
        with pytest.raises(TolokaConnectionError) as refused:
            client.get_pool("p")
    for info in (garbled, failed, denied, refused):
        assert_error_clean(info.value)


URLS = [
    f"http://user:{CANARY}@127.0.0.1:8000",
    f"http://{urllib.parse.quote(CANARY, safe='')}@127.0.0.1:8000",
    f"http://127.0.0.1:8000/?token={CANARY}",
    f"http://127.0.0.1:8000/#{CANARY}",
]


@pytest.mark.parametrize("url", URLS, ids=["userinfo", "user-encoded", "query", "fragment"])
def test_a_token_inside_a_url_is_refused_without_showing_it(
    url: str, monkeypatch: pytest.MonkeyPatch, debug_logs: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(InvalidArgumentError) as direct:
        Client("another-token", url=url)
    with pytest.raises(InvalidArgumentError) as as_environment:
        Client("another-token", environment=url)
    monkeypatch.setenv("TOLOKA_URL", url)
    with pytest.raises(InvalidArgumentError) as from_env:
        Client("another-token")
    with pytest.raises(InvalidArgumentError) as reader:
        read_aggregated_solutions("p", token="another-token", url=url)
    for info in (direct, as_environment, from_env, reader):
        assert_error_clean(info.value)
    assert "user or password" in str(direct.value) or "query or a fragment" in str(direct.value)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pandas_toloka", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_cli_output_shows_no_token(canary_server: LocalTolokaServer, tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TOLOKA_")}
    with EchoServer() as echo:  # an echoing server; the token with its scheme, from the environment
        env = {**base, "TOLOKA_TOKEN": f"OAuth {CANARY}", "TOLOKA_URL": echo.url}
        failed = _cli("aggregate", "p", "-o", str(tmp_path / "a"), "--max-attempts", "1", env=env)
    env = {**base, "TOLOKA_API_KEY": CANARY}  # a successful run with progress bars
    out = tmp_path / "ok.parquet"
    done = _cli("aggregate", "p", "--url", canary_server.url, "-o", str(out), "--progress", env=env)
    assert failed.returncode != 0 and "ValidationError" in failed.stderr
    assert done.returncode == 0, done.stderr
    for run in (failed, done):
        assert_clean(run.stdout + run.stderr, "the CLI's output")
    assert_clean(out.read_bytes().decode("latin-1"), "the CLI's Parquet file")
    assert len(pd.read_parquet(out)) == 12
