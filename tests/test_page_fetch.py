"""The background page fetcher: one page ahead, errors surface with their type, no thread outlives it.

Real HTTP against the bundled server; the faults are the server's own.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait

import pandas as pd
import pytest

from pandas_toloka._read import pager, solutions
from pandas_toloka._read.prefetch import PREFETCH_THREAD_PREFIX
from pandas_toloka.client import Client
from pandas_toloka.errors import NotFoundError, OperationInterruptedError, ServerError
from pandas_toloka.reader import iter_aggregated_solutions, read_aggregated_solutions
from pandas_toloka.responses import iter_responses, read_responses
from pandas_toloka.server import LocalTolokaServer

LABELS = ["cat", "dog"]
N_TASKS = 40


def _fetchers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(PREFETCH_THREAD_PREFIX)]


def _no_fetcher_left() -> bool:
    # A finished thread may take a moment to leave threading.enumerate(); bounded wait.
    deadline = time.monotonic() + 5
    while _fetchers() and time.monotonic() < deadline:
        time.sleep(0.01)
    return not _fetchers()


@pytest.fixture(scope="module")
def server() -> Iterator[LocalTolokaServer]:
    responses = pd.DataFrame(
        {
            "task_id": [f"t{t:03d}" for t in range(N_TASKS) for _ in range(3)],
            "worker_id": [f"w{w}" for _ in range(N_TASKS) for w in range(3)],
            "result": [LABELS[(t + w) % 3 == 0] for t in range(N_TASKS) for w in range(3)],
        }
    )
    with LocalTolokaServer() as srv:
        srv.add_pool(
            "p",
            responses=responses,
            output_spec={"result": {"type": "STRING", "allowed_values": LABELS}},
        )
        yield srv


@pytest.fixture
def client(server: LocalTolokaServer) -> Iterator[Client]:
    server.faults.clear()
    with Client(server.token, url=server.url, max_attempts=1) as c:
        yield c
    server.faults.clear()


@pytest.fixture(scope="module")
def op_id(server: LocalTolokaServer) -> str:
    with Client(server.token, url=server.url) as c:
        df = read_aggregated_solutions("p", client=c, progress_bar=False)
    return str(df.attrs["toloka"]["operation_id"])


def test_pages_are_requested_one_ahead_and_the_thread_ends(
    server: LocalTolokaServer, client: Client, op_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every request the fetcher makes is work handed to it; the executor records that work,
    # so "nothing more is fetched while the caller dawdles" is checked once all of it has
    # finished, with no sleep: a fetcher that ran ahead would have made more requests by then.
    submitted: list[Future[object]] = []

    class Recording(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            future = super().submit(fn, *args, **kwargs)
            submitted.append(future)
            return future

    def one_ahead() -> ThreadPoolExecutor:
        return Recording(max_workers=1, thread_name_prefix=PREFETCH_THREAD_PREFIX)

    monkeypatch.setattr(pager, "one_ahead", one_ahead)  # the one pager runs the fetcher
    server.request_log.clear()
    chunks = iter_aggregated_solutions(
        operation_id=op_id, client=client, progress_bar=False, page_size=10
    )
    first = next(chunks)
    assert len(first) == 10 and len(_fetchers()) == 1

    def pages() -> list[str]:
        prefix = f"/api/v1/aggregated-solutions/{op_id}"
        return [p for _, p in server.request_log if p.startswith(prefix)]

    _, pending = wait(submitted, timeout=10)  # the next page is on its way: let it land
    assert not pending and len(submitted) == 2  # the first page and the one ahead
    deadline = time.monotonic() + 10
    while len(pages()) < 2 and time.monotonic() < deadline:  # the server has logged it
        time.sleep(0.01)
    assert len(pages()) == 2  # and the fetcher has nothing left to run
    rest = list(chunks)
    assert sum(map(len, rest)) == N_TASKS - 10
    assert len(pages()) == len(submitted)
    assert _no_fetcher_left()


@pytest.mark.parametrize("how", ["close", "del"])
def test_stopping_early_stops_the_thread(client: Client, op_id: str, how: str) -> None:
    chunks = iter_aggregated_solutions(
        operation_id=op_id, client=client, progress_bar=False, page_size=7
    )
    next(chunks)
    if how == "close":
        chunks.close()
    else:  # dropped: CPython closes the generator at once
        del chunks
    assert _no_fetcher_left()


def test_an_error_in_the_thread_reaches_the_caller_with_its_type(
    server: LocalTolokaServer, client: Client, op_id: str
) -> None:
    chunks = iter_aggregated_solutions(
        operation_id=op_id, client=client, progress_bar=False, page_size=10
    )
    assert len(next(chunks)) == 10
    # the next request is already on its way; the one after it fails
    server.faults.add("server_error", count=5, path=f"/api/v1/aggregated-solutions/{op_id}")
    with pytest.raises(ServerError) as info:
        list(chunks)
    assert info.value.operation_id == op_id
    assert _no_fetcher_left()


def test_an_error_in_the_thread_while_reading_responses(
    server: LocalTolokaServer, client: Client
) -> None:
    server.faults.add("server_error", count=5, path="/api/v1/assignments")
    with pytest.raises(ServerError):
        read_responses("p", client=client, progress_bar=False, page_size=10)
    assert _no_fetcher_left()
    with pytest.raises(NotFoundError):
        list(iter_responses("nope", client=client, progress_bar=False))
    assert _no_fetcher_left()


def test_ctrl_c_while_decoding_stops_the_thread_and_names_the_operation(
    client: Client, op_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    decode = solutions.decode_solutions_page
    calls = []

    def interrupted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            assert len(_fetchers()) == 1  # the third page is being fetched meanwhile
            raise KeyboardInterrupt
        return decode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(solutions, "decode_solutions_page", interrupted)
    with pytest.raises(OperationInterruptedError, match="operation_id=") as info:
        list(
            iter_aggregated_solutions(
                operation_id=op_id, client=client, progress_bar=False, page_size=10
            )
        )
    assert info.value.operation_id == op_id
    assert _no_fetcher_left()


def test_reading_responses_early_close_and_full_read_leave_no_thread(client: Client) -> None:
    chunks = iter_responses("p", client=client, progress_bar=False, page_size=5)
    next(chunks)
    chunks.close()
    assert _no_fetcher_left()
    df = read_responses("p", client=client, progress_bar=False, page_size=7)
    assert len(df) == 3 * N_TASKS
    assert _no_fetcher_left()


def test_a_wrong_early_cursor_costs_a_request_never_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """A field named task_id puts a "task_id" key after the item's own: the guess is wrong."""
    responses = pd.DataFrame(
        {
            "task_id": [f"t{t:02d}" for t in range(12) for _ in range(3)],
            "worker_id": [f"w{w}" for _ in range(12) for w in range(3)],
            "output_values.task_id": [LABELS[t % 2] for t in range(12) for _ in range(3)],
        }
    )
    spec = {"task_id": {"type": "STRING", "allowed_values": LABELS}}
    with LocalTolokaServer() as server, Client(server.token, url=server.url) as client:
        server.add_pool("named", responses=responses, output_spec=spec)
        whole = read_aggregated_solutions("named", client=client, progress_bar=False)
        op_id = whole.attrs["toloka"]["operation_id"]
        server.request_log.clear()
        # The request on the guessed cursor is cancelled if the page is decoded before the
        # fetcher sends it (a loaded machine): decoding waits until the server has it, so the
        # cost of each wrong guess is always seen.
        decode, made = solutions.decode_solutions_page, Counter[str]()

        def decode_once_the_guess_is_asked(body: bytes, *args: object, **kwargs: object) -> object:
            guess = solutions.guess_cursor(body)
            if guess is not None:
                made[guess] += 1
                asked = f"task_id_gt={guess}"
                deadline = time.monotonic() + 10
                while (
                    sum(p.endswith(asked) for _, p in server.request_log.snapshot()) < made[guess]
                ):
                    assert time.monotonic() < deadline, f"{asked} never sent"
                    time.sleep(0.005)
            return decode(body, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(solutions, "decode_solutions_page", decode_once_the_guess_is_asked)
        paged = read_aggregated_solutions(
            operation_id=op_id, client=client, progress_bar=False, page_size=5
        )
        pages = [p for _, p in server.request_log if "/aggregated-solutions/" in p]
    pd.testing.assert_frame_equal(paged, whole)
    assert list(paged["task_id"]) == [f"t{t:02d}" for t in range(12)]
    # three pages, each guess (a label, not a task id) wrong: two requests asked again
    assert len(pages) == 3 + 2
    assert sum("task_id_gt=cat" in p or "task_id_gt=dog" in p for p in pages) == 2
    assert _no_fetcher_left()
