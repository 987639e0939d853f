"""Every fault of the bundled server and of a misbehaving proxy, through the public readers.

Each run gives exactly the fault-free frame, or the typed error the fault
deserves -- carrying ``operation_id`` once the aggregation started -- and the
server never starts an aggregation twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import pandas_toloka  # noqa: F401 - registers df.toloka
from pandas_toloka.errors import (
    AnswerTooLargeError,
    OperationFailedError,
    PagingError,
    ProtocolError,
    RateLimitError,
    ServerError,
    TolokaConnectionError,
    TolokaError,
)
from pandas_toloka.reader import iter_aggregated_solutions, read_aggregated_solutions
from pandas_toloka.responses import read_responses
from pandas_toloka.server import LocalTolokaServer
from pandas_toloka.server._faults import ANSWER_FAULTS

from .conftest import PAGE, SPEC, TOKEN, label_responses, patient_client, started
from .proxy import FaultyProxy, after_item

pytestmark = pytest.mark.reliability

PAGES = "/api/v1/aggregated-solutions/"
START = "/api/v1/aggregated-solutions/aggregate-by-pool"
OPERATION = "/api/v1/operations/"
POOLS = "/api/v1/pools/"
ALWAYS = 50  # more hits than the client makes attempts

_NO_TASK_ID = b'{"items": [{"pool_id": "p", "confidence": 1.0}], "has_more": true}'
_DISORDER = (
    b'{"items": [{"pool_id": "p", "task_id": "t9", "confidence": 1.0}, '
    b'{"pool_id": "p", "task_id": "t1", "confidence": 1.0}], "has_more": false}'
)
_NO_ID_LAST = (
    b'{"items": [{"id": "a1", "tasks": [{"id": "t1"}]}, {"tasks": [{"id": "t2"}]}], '
    b'"has_more": true}'
)
_NULL_TASKS = b'{"items": [{"id": "zzz", "tasks": null}], "has_more": true}'
_ASSIGNMENTS_DISORDER = (
    b'{"items": [{"id": "b", "tasks": [{"id": "t1"}]}, {"id": "a", "tasks": [{"id": "t2"}]}], '
    b'"has_more": false}'
)

# (id, "server" or "proxy", fault kind, fault arguments, expected error or None for the frame)
SCENARIOS: list[tuple[str, str, str, dict[str, Any], type[BaseException] | None]] = [
    # the bundled server's fault modes
    ("drop-pages", "server", "drop", dict(count=2, method="GET", path=PAGES), None),
    ("500-pages", "server", "server_error", dict(count=2, method="GET", path=PAGES), None),
    ("503-start", "server", "server_error", dict(status=503, method="POST", path=START), None),
    ("drop-start", "server", "drop", dict(method="POST", path=START), None),
    ("429-start", "server", "rate_limit", dict(retry_after=0, method="POST", path=START), None),
    (
        "429-hourly-quota",
        "server",
        "rate_limit",
        dict(interval="HOUR", method="POST", path=START),
        RateLimitError,
    ),
    ("slow-poll", "server", "slow", dict(delay=1.5, method="GET", path=OPERATION), None),
    ("slow-page", "server", "slow", dict(delay=1.5, method="GET", path=PAGES), None),
    # the server still starting the aggregation when the read times out (1 s)
    ("slow-start", "server", "slow", dict(delay=1.5, method="POST", path=START), None),
    # held, and released by nobody: answered after its timeout, as a slow page
    ("hold-page", "server", "hold", dict(timeout=1.5, method="GET", path=PAGES), None),
    ("fail-operation", "server", "fail_operation", dict(method="POST"), OperationFailedError),
    (
        "500-pages-always",
        "server",
        "server_error",
        dict(count=ALWAYS, method="GET", path=PAGES),
        ServerError,
    ),
    (
        "drop-pages-always",
        "server",
        "drop",
        dict(count=ALWAYS, method="GET", path=PAGES),
        TolokaConnectionError,
    ),
    # a hostile server (sent to it directly: the proxy would undo them): answers past
    # max_answer_bytes while inflating, trickling past the deadline, nested too deep,
    # holding NaN, items null -- each retried, or a typed error once always
    ("gzip-bomb-page", "server", "gzip_bomb", dict(method="GET", path=PAGES), None),
    (
        "gzip-bomb-pages-always",
        "server",
        "gzip_bomb",
        dict(count=ALWAYS, method="GET", path=PAGES, size=64 << 20),
        AnswerTooLargeError,
    ),
    ("gzip-bomb-503-page", "server", "gzip_bomb", dict(status=503, path=PAGES), None),
    ("gzip-bomb-pool", "server", "gzip_bomb", dict(method="GET", path=POOLS), None),
    ("gzip-bomb-start", "server", "gzip_bomb", dict(method="POST", path=START), None),
    ("trickle-page", "server", "trickle", dict(method="GET", path=PAGES, interval=0.5), None),
    ("trickle-start", "server", "trickle", dict(method="POST", path=START, interval=0.5), None),
    ("deep-page", "server", "deep_json", dict(method="GET", path=PAGES), None),
    (
        "deep-pages-always",
        "server",
        "deep_json",
        dict(count=ALWAYS, method="GET", path=PAGES),
        ProtocolError,
    ),
    ("deep-start", "server", "deep_json", dict(method="POST", path=START), None),
    ("deep-poll", "server", "deep_json", dict(method="GET", path=OPERATION), None),
    ("deep-pool", "server", "deep_json", dict(method="GET", path=POOLS), None),
    ("nan-page", "server", "nan", dict(method="GET", path=PAGES), None),
    (
        "nan-pages-always",
        "server",
        "nan",
        dict(count=ALWAYS, method="GET", path=PAGES),
        ProtocolError,
    ),
    (
        "infinity-pages-always",
        "server",
        "nan",
        dict(count=ALWAYS, method="GET", path=PAGES, constant="-Infinity"),
        ProtocolError,
    ),
    ("nan-start", "server", "nan", dict(method="POST", path=START), None),
    ("null-items-page", "server", "null_items", dict(method="GET", path=PAGES), None),
    (
        "null-items-always",
        "server",
        "null_items",
        dict(count=ALWAYS, method="GET", path=PAGES),
        ProtocolError,
    ),
    # the proxy's: bodies cut at any byte, on an item boundary, with each framing
    ("cut-item-close", "proxy", "cut", dict(method="GET", path=PAGES, at=after_item(3)), None),
    (
        "cut-item-lie",
        "proxy",
        "cut",
        dict(method="GET", path=PAGES, at=after_item(1), framing="lie"),
        None,
    ),
    (
        "cut-last-item-lie",
        "proxy",
        "cut",
        dict(method="GET", path=PAGES, at=after_item(6), framing="lie"),
        None,
    ),
    ("cut-short", "proxy", "cut", dict(method="GET", path=PAGES, at=50, framing="short"), None),
    *[
        (f"cut-byte-{n}", "proxy", "cut", dict(method="GET", path=PAGES, at=n), None)
        for n in (0, 1, 9, 100, 317)
    ],
    (
        "cut-pages-always",
        "proxy",
        "cut",
        dict(count=ALWAYS, method="GET", path=PAGES, at=after_item(2)),
        ProtocolError,
    ),
    ("cut-start", "proxy", "cut", dict(method="POST", path=START, at=20), None),
    ("cut-poll", "proxy", "cut", dict(method="GET", path=OPERATION, at=20, framing="lie"), None),
    # a page twice, resets before and after the server saw the request
    ("page-twice", "proxy", "replay", dict(count=2, method="GET", path=PAGES), PagingError),
    ("reset-before-start", "proxy", "reset_before", dict(method="POST", path=START), None),
    ("reset-after-start", "proxy", "reset_after", dict(method="POST", path=START), None),
    ("reset-after-pages", "proxy", "reset_after", dict(count=2, method="GET", path=PAGES), None),
    ("reset-before-spec", "proxy", "reset_before", dict(method="GET", path=POOLS), None),
    # invalid JSON and JSON of the wrong shape with 200
    ("html-page", "proxy", "body", dict(method="GET", path=PAGES, body=b"<html>oops</html>"), None),
    (
        "html-pages-always",
        "proxy",
        "body",
        dict(count=ALWAYS, method="GET", path=PAGES, body=b"<html>oops</html>"),
        ProtocolError,
    ),
    ("{}-start", "proxy", "body", dict(method="POST", path=START, body=b"{}"), None),
    ("[]-start", "proxy", "body", dict(method="POST", path=START, body=b"[]"), None),
    (
        "null-start-always",
        "proxy",
        "body",
        dict(count=ALWAYS, method="POST", path=START, body=b"null"),
        None,  # the first garbled answer leads to the started operation: adopted
    ),
    (
        "{}-pages-always",
        "proxy",
        "body",
        dict(count=ALWAYS, method="GET", path=PAGES, body=b"{}"),
        ProtocolError,
    ),
    (
        "items-not-a-list-always",
        "proxy",
        "body",
        dict(count=ALWAYS, method="GET", path=PAGES, body=b'{"items": 5, "has_more": false}'),
        ProtocolError,
    ),
    (
        "null-poll-always",
        "proxy",
        "body",
        dict(count=ALWAYS, method="GET", path=OPERATION, body=b"null"),
        ProtocolError,
    ),
    (
        "[]-pool-always",
        "proxy",
        "body",
        dict(count=ALWAYS, method="GET", path=POOLS, body=b"[]"),
        ProtocolError,
    ),
    # items that break the protocol: retried like a cut body, one rule for every page
    ("no-task_id-once", "proxy", "body", dict(method="GET", path=PAGES, body=_NO_TASK_ID), None),
    ("disorder-once", "proxy", "body", dict(method="GET", path=PAGES, body=_DISORDER), None),
    (
        "disorder-always",
        "proxy",
        "body",
        dict(count=ALWAYS, method="GET", path=PAGES, body=_DISORDER),
        ProtocolError,
    ),
    (
        "no-task_id-always",
        "proxy",
        "body",
        dict(count=ALWAYS, method="GET", path=PAGES, body=_NO_TASK_ID),
        ProtocolError,
    ),
    # delays past the client's read timeout (1 s): the server has done the work
    ("delay-start", "proxy", "delay", dict(method="POST", path=START, seconds=1.5), None),
    ("delay-page", "proxy", "delay", dict(method="GET", path=PAGES, seconds=1.5), None),
]


def _bench_server(**kwargs: Any) -> LocalTolokaServer:
    server = LocalTolokaServer(token=TOKEN, operation_delay=0.05, **kwargs)
    server.add_pool("p", responses=label_responses(), output_spec=SPEC)
    return server


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    """The fault-free frame."""
    with _bench_server() as server, patient_client(server.url) as client:
        return read_aggregated_solutions("p", client=client, page_size=PAGE)


@pytest.fixture
def faulty() -> Any:
    server = _bench_server()
    with server, FaultyProxy(server.url) as proxy:
        yield server, proxy


def _queue(
    server: LocalTolokaServer, proxy: FaultyProxy, where: str, kind: str, args: dict
) -> None:
    args = dict(args)
    count = args.pop("count", 1)
    target = server.faults if where == "server" else proxy
    target.add(kind, count=count, **args)


def _url(server: LocalTolokaServer, proxy: FaultyProxy, kind: str) -> str:
    """The server itself for its answer faults (the proxy would re-frame them), else the proxy."""
    return server.url if kind in ANSWER_FAULTS else proxy.url


def _check_error(error: BaseException, expected_type: type[BaseException], server: Any) -> None:
    assert isinstance(error, expected_type), repr(error)
    assert isinstance(error, TolokaError)
    if started(server):  # once started, every error says how to resume
        assert error.operation_id is not None
        assert error.operation_id == server.operations.all()[0].id
        assert error.operation_id in str(error)
    else:
        assert error.operation_id is None


@pytest.mark.parametrize(
    ("where", "kind", "args", "error"),
    [pytest.param(*s[1:], id=s[0]) for s in SCENARIOS],
)
def test_read_aggregated_solutions_under_fault(
    faulty: Any, expected: pd.DataFrame, where: str, kind: str, args: dict, error: Any
) -> None:
    server, proxy = faulty
    _queue(server, proxy, where, kind, args)
    with patient_client(_url(server, proxy, kind)) as client:
        if error is None:
            frame = read_aggregated_solutions("p", client=client, page_size=PAGE)
            pd.testing.assert_frame_equal(frame, expected)
        else:
            with pytest.raises(error) as info:
                read_aggregated_solutions("p", client=client, page_size=PAGE)
            _check_error(info.value, error, server)
    assert started(server) <= 1  # never an aggregation started twice
    if error is None:
        assert started(server) == 1


def test_start_slower_than_the_search_raises_instead_of_posting_again(faulty: Any) -> None:
    """A start still unanswered after the read timeout and the search: a hint, never a repost."""
    server, _ = faulty
    # Held until the client has given up (a timed delay could end before its search, on a
    # loaded machine, and the search would then rightly adopt the operation).
    start = server.faults.add("hold", method="POST", path=START, timeout=60)
    try:
        with patient_client(server.url, timeout=(2.0, 0.5)) as client:
            with pytest.raises(TolokaConnectionError, match="submitted_gte=") as info:
                read_aggregated_solutions("p", client=client, page_size=PAGE)
    finally:
        start.release()
    assert "not sent again" in str(info.value)
    # The client has given up; every POST it sent reached the server before the held one's
    # operation starts: the log then holds them all, with no sleep to wait.
    deadline = time.monotonic() + 60
    while not started(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    posts = [t for m, t in server.request_log.snapshot() if m == "POST" and t.startswith(START)]
    assert len(posts) == 1  # never posted again
    assert started(server) == 1  # the slow attempt's own operation, and no second one


ITER_SCENARIOS = [
    "cut-item-lie",
    "page-twice",
    "reset-after-start",
    "{}-start",
    "delay-page",
    "null-items-always",
    "nan-page",
]


@pytest.mark.parametrize(
    ("where", "kind", "args", "error"),
    [pytest.param(*s[1:], id=s[0]) for s in SCENARIOS if s[0] in ITER_SCENARIOS],
)
def test_iter_aggregated_solutions_under_fault(
    faulty: Any, expected: pd.DataFrame, where: str, kind: str, args: dict, error: Any
) -> None:
    server, proxy = faulty
    _queue(server, proxy, where, kind, args)
    with patient_client(_url(server, proxy, kind)) as client:
        chunks = iter_aggregated_solutions("p", client=client, page_size=PAGE)
        if error is None:
            pd.testing.assert_frame_equal(pd.concat(list(chunks)), expected)
        else:
            with pytest.raises(error) as info:
                list(chunks)
            _check_error(info.value, error, server)
    assert started(server) == 1


ASSIGNMENTS = "/api/v1/assignments"
BAD_ASSIGNMENT_PAGES = [
    ("no-id-last", _NO_ID_LAST),
    ("null-tasks", _NULL_TASKS),
    ("disorder", _ASSIGNMENTS_DISORDER),
    ("wrong-shape", b'{"items": [{"x": 1}], "has_more": false}'),
]


@pytest.mark.parametrize(
    ("where", "kind", "args", "error"),
    [
        pytest.param("proxy", "cut", dict(path=ASSIGNMENTS, at=after_item(2)), None, id="cut"),
        pytest.param(
            "proxy", "cut", dict(path=ASSIGNMENTS, at=after_item(1), framing="lie"), None, id="lie"
        ),
        pytest.param("proxy", "reset_after", dict(path=ASSIGNMENTS), None, id="reset"),
        pytest.param("proxy", "body", dict(path=ASSIGNMENTS, body=b"[]"), None, id="[]-once"),
        pytest.param("server", "drop", dict(path=ASSIGNMENTS, count=2), None, id="drop"),
        pytest.param(
            "proxy",
            "body",
            dict(path=ASSIGNMENTS, body=b'{"items": []}', count=ALWAYS),
            ProtocolError,
            id="no-has_more",
        ),
        pytest.param("proxy", "replay", dict(path=ASSIGNMENTS, count=2), PagingError, id="twice"),
        *[
            pytest.param("proxy", "body", dict(path=ASSIGNMENTS, body=body), None, id=name)
            for name, body in BAD_ASSIGNMENT_PAGES
        ],
        *[
            pytest.param(
                "proxy",
                "body",
                dict(path=ASSIGNMENTS, body=body, count=ALWAYS),
                ProtocolError,
                id=f"{name}-always",
            )
            for name, body in BAD_ASSIGNMENT_PAGES
        ],
    ],
)
def test_read_responses_under_fault(
    faulty: Any, where: str, kind: str, args: dict, error: Any
) -> None:
    server, proxy = faulty
    with patient_client(server.url) as client:
        clean = read_responses("p", client=client, page_size=25)
    _queue(server, proxy, where, kind, args)
    with patient_client(proxy.url) as client:
        if error is None:
            pd.testing.assert_frame_equal(read_responses("p", client=client, page_size=25), clean)
        else:
            with pytest.raises(error):
                read_responses("p", client=client, page_size=25)


BY_TASK = "/api/v1/aggregated-solutions/aggregate-by-task"


@pytest.mark.parametrize(
    ("strategy", "kind", "args"),
    [
        pytest.param("by_task", "body", dict(path=BY_TASK, body=b"{}", count=3), id="by-task-{}"),
        pytest.param("by_task", "reset_after", dict(path=BY_TASK, count=3), id="by-task-reset"),
        pytest.param("by_task", "cut", dict(path=BY_TASK, at=10, framing="lie"), id="by-task-cut"),
        pytest.param("by_pool", "reset_after", dict(path=START), id="by-pool-reset"),
        pytest.param("by_pool", "body", dict(path=START, body=b"null"), id="by-pool-null"),
    ],
)
def test_accessor_aggregate_under_fault(faulty: Any, strategy: str, kind: str, args: dict) -> None:
    server, proxy = faulty
    with patient_client(server.url) as client:
        frame = read_responses("p", client=client)[["pool_id", "task_id"]].drop_duplicates()
        clean = frame.toloka.aggregate(client=client, strategy=strategy, fields="result")
    before = started(server)
    _queue(server, proxy, "proxy", kind, args)
    with patient_client(proxy.url) as client:
        result = frame.toloka.aggregate(client=client, strategy=strategy, fields="result")
    pd.testing.assert_frame_equal(result, clean)
    assert started(server) - before == (1 if strategy == "by_pool" else 0)


def _cli(url: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOLOKA_API_KEY": TOKEN}
    env.pop("TOLOKA_URL", None)
    command = [sys.executable, "-m", "pandas_toloka", "aggregate", "p", "--url", url]
    command += ["-o", str(out), "--page-size", str(PAGE), "--no-progress", *extra]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_cli_aggregate_through_cut_pages_and_a_lost_start(
    faulty: Any, expected: pd.DataFrame, tmp_path: Path
) -> None:
    server, proxy = faulty
    proxy.add("reset_after", method="POST", path=START)
    proxy.add("cut", 2, method="GET", path=PAGES, at=after_item(2), framing="lie")
    done = _cli(proxy.url, tmp_path / "out.parquet")
    assert done.returncode == 0, done.stderr
    written = pd.read_parquet(tmp_path / "out.parquet")
    assert written["task_id"].tolist() == expected["task_id"].astype(str).tolist()
    assert started(server) == 1
    assert TOKEN not in done.stdout + done.stderr


def test_cli_aggregate_prints_the_resume_command_when_pages_stay_broken(
    faulty: Any, tmp_path: Path
) -> None:
    server, proxy = faulty
    proxy.add("cut", ALWAYS, method="GET", path=PAGES, at=after_item(1))
    done = _cli(proxy.url, tmp_path / "out.parquet", "--max-attempts", "2")
    assert done.returncode != 0
    operation_id = server.operations.all()[0].id
    assert f"--operation-id {operation_id}" in done.stderr
    assert "ProtocolError" in done.stderr
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("at", "framing"),
    [(15, "close"), (200, "lie"), (-9, "lie"), (-1, "close"), (100, "short")],
    ids=["header", "mid-stream", "no-trailer", "last-byte", "short"],
)
def test_gzipped_pages_cut_anywhere_give_the_exact_frame(
    expected: pd.DataFrame, at: int, framing: str
) -> None:
    server = _bench_server()
    with server, FaultyProxy(server.url, identity=False) as proxy:
        cut = (lambda body: len(body) + at) if at < 0 else at
        proxy.add("cut", 2, method="GET", path=PAGES, at=cut, framing=framing)
        with patient_client(proxy.url) as client:
            frame = read_aggregated_solutions("p", client=client, page_size=20)
        assert not proxy.pending() and proxy.gzipped >= 2  # the cuts hit gzipped pages
    pd.testing.assert_frame_equal(frame, expected)


def test_every_fault_mode_is_in_the_suite() -> None:
    """A new fault mode of the server or the proxy must join SCENARIOS."""
    from pandas_toloka.server._faults import FAULT_KINDS

    from .proxy import KINDS

    assert {s[2] for s in SCENARIOS if s[1] == "server"} == set(FAULT_KINDS)
    assert {s[2] for s in SCENARIOS if s[1] == "proxy"} == set(KINDS)
