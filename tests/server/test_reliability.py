"""Bounded resources: memory and threads stay flat under what any client can send.

Each test is bounded in count and time. Memory is measured in-process with
tracemalloc (Python objects) and pyarrow's allocator (operation results), or as
the RSS of a server subprocess for the load test.
"""

from __future__ import annotations

import contextlib
import gc
import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pytest
import requests

from pandas_toloka.server import LocalTolokaServer

from .conftest import CAT_DOG, TOKEN, Api, cat_dog_responses
from .rawhttp import closed_by_server, connect, read_answer

pytestmark = pytest.mark.reliability

MB = 1024 * 1024


@contextmanager
def _traced() -> Iterator[dict[str, int]]:
    """Python memory still held after the block, and its peak over the start (bytes)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out: dict[str, int] = {}
        yield out
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        out["kept"], out["peak"] = current - base, peak - base
    finally:
        tracemalloc.stop()


def _server(**kwargs: object) -> LocalTolokaServer:
    server = LocalTolokaServer(token=TOKEN, **kwargs)  # type: ignore[arg-type]
    server.add_pool("7", responses=cat_dog_responses(n_tasks=3000), output_spec=CAT_DOG)
    return server


def test_unauthenticated_requests_cost_nothing_lasting() -> None:
    with _server() as server, requests.Session() as session:
        query = "?q=" + "x" * 7000  # just under max_request_line
        for _ in range(20):  # warm up connections and caches
            session.get(server.url + "/api/v1/pools" + query, timeout=5)
        workers = server._httpd._workers  # type: ignore[union-attr]
        with _traced() as memory:
            for i in range(500):
                headers = {"Authorization": "ApiKey wrong"} if i % 2 else {}
                response = session.get(server.url + "/api/v1/pools" + query, headers=headers)
                assert response.status_code == 401
        # 500 request lines of 7 KB would be 3.5 MB if anything kept them.
        assert memory["kept"] < 1 * MB, memory
        # no thread lasts: this server's idle workers leave (after 1 s); a bounded wait
        deadline = time.monotonic() + 10
        while workers.threads and time.monotonic() < deadline:
            time.sleep(0.05)
        assert workers.threads == 0
        assert server.request_log.snapshot() == []


def test_big_bodies_are_never_read_whole() -> None:
    with _server() as server, _traced() as memory:
        for authorization in (f"ApiKey {TOKEN}", "ApiKey wrong", None):
            for _ in range(10):
                with connect(server.url) as sock:
                    head = "POST /api/v1/aggregated-solutions/aggregate-by-pool HTTP/1.1\r\n"
                    if authorization:
                        head += f"Authorization: {authorization}\r\n"
                    sock.sendall(f"{head}Content-Length: {200 * MB}\r\n\r\n".encode())
                    # The answer does not wait for the 200 MB; stop sending so the server's
                    # bounded drain ends at once (no reset that could eat the answer).
                    with contextlib.suppress(OSError):
                        sock.sendall(b"x" * (64 * 1024))
                        sock.shutdown(socket.SHUT_WR)
                    assert read_answer(sock).status == 413
                    assert closed_by_server(sock)
    # 30 requests x 200 MB declared; at most a bounded drain of each is ever read.
    assert memory["peak"] < 8 * MB and memory["kept"] < 1 * MB, memory


def test_slow_clients_cannot_exhaust_threads() -> None:
    with _server(max_connections=4, header_timeout=0.4) as server:
        # This server's own worker threads: other threads of the process (other tests',
        # xdist's) come and go and are no baseline.
        workers = server._httpd._workers  # type: ignore[union-attr]
        slow = [connect(server.url) for _ in range(12)]
        try:
            for sock in slow:
                sock.sendall(b"GET /api/v1/pools HTTP/1.1\r\nHost: x\r\n")  # never finished
            assert workers.threads <= 4
            # A real client is served while the slow ones hang, then they time out.
            response = requests.get(
                server.url + "/api/v1/pools",
                headers={"Authorization": f"ApiKey {TOKEN}", "Connection": "close"},
                timeout=10,
            )
            assert response.status_code == 200
            assert workers.threads <= 4
            answers = Counter(read_answer(sock).status for sock in slow)
            assert answers == {408: 12}
        finally:
            for sock in slow:
                sock.close()
        deadline = time.monotonic() + 5
        while workers.threads and time.monotonic() < deadline:  # idle workers leave (1 s)
            time.sleep(0.05)
        assert workers.threads == 0, [t.name for t in threading.enumerate()]


def test_idle_keep_alive_connections_give_their_thread_to_waiting_ones() -> None:
    with _server(max_connections=2, idle_timeout=600) as server:
        sessions = [requests.Session() for _ in range(4)]
        url = server.url + "/api/v1/pools"
        headers = {"Authorization": f"ApiKey {TOKEN}"}
        try:
            for _ in range(3):
                for session in sessions:  # 4 keep-alive clients, 2 threads
                    # Were idle connections to keep their thread for idle_timeout (600 s),
                    # the third client would wait for one and time out here.
                    assert session.get(url, headers=headers, timeout=10).status_code == 200
        finally:
            for session in sessions:
                session.close()


def test_many_finished_operations_keep_memory_flat() -> None:
    with _server(max_finished_operations=5) as server:
        api = Api(server)
        for _ in range(6):
            api.run("7")
        gc.collect()
        arrow_before = pa.total_allocated_bytes()
        with _traced() as memory:
            for _ in range(30):
                api.run("7")
        gc.collect()
        arrow_growth = pa.total_allocated_bytes() - arrow_before
        assert len(server.operations.all()) == 5
        # One operation of 3,000 tasks holds ~0.3 MB of Arrow results: 30 kept would be ~10 MB.
        assert arrow_growth < 1 * MB, arrow_growth
        assert memory["kept"] < 1 * MB, memory


# --------------------------------------------------------------------------- load


def _status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "Threads"):
            fields[name] = int(value.split()[0])
    return fields


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read the server's threads and memory")
    process = subprocess.Popen(
        [sys.executable, "-m", "pandas_toloka", "serve", "--port", "0", "--token", TOKEN],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    url = None
    deadline = time.monotonic() + 60
    while url is None and time.monotonic() < deadline:
        match = re.search(r"(http://127\.0\.0\.1:\d+)", process.stdout.readline())
        url = match.group(1) if match else None
    assert url, "the server printed no URL"
    try:
        yield process, url
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_load_32_clients_x_200_requests_no_5xx(served) -> None:
    process, url = served
    host, port = url.removeprefix("http://").split(":")
    auth = {"Authorization": f"ApiKey {TOKEN}"}
    start = http.client.HTTPConnection(host, int(port), timeout=30)
    body = json.dumps({"type": "DAWID_SKENE", "pool_id": "1001", "fields": [{"name": "result"}]})
    start.request("POST", "/api/v1/aggregated-solutions/aggregate-by-pool", body, auth)
    operation_id = json.loads(start.getresponse().read())["id"]
    paths = [
        ("/api/v1/pools/1001", auth),
        (f"/api/v1/operations/{operation_id}", auth),
        ("/api/v1/operations?limit=5", auth),
        (f"/api/v1/aggregated-solutions/{operation_id}?sort=task_id&limit=20", auth),
        ("/api/v1/assignments?pool_id=1001&limit=20", auth),
        ("/api/v1/pools/1001", {}),  # unauthenticated: 401
        ("/api/v1/no-such-route", auth),
    ]
    statuses: Counter[int] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()
    before = _status(process.pid)
    peak_threads = before["Threads"]

    def client(n: int) -> None:
        nonlocal peak_threads
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        seen: Counter[int] = Counter()
        try:
            for i in range(200):
                path, headers = paths[(n + i) % len(paths)]
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                seen[response.status] += 1
                if i % 50 == 0:
                    threads = _status(process.pid)["Threads"]
                    with lock:
                        peak_threads = max(peak_threads, threads)
        except BaseException as exc:  # reported below, with the statuses seen so far
            errors.append(exc)
        finally:
            connection.close()
            with lock:
                statuses.update(seen)

    clients = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(32)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in clients), "the load did not finish"
    assert not errors, errors[:3]
    assert sum(statuses.values()) == 32 * 200
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {200, 401, 404, 409}, statuses
    # Threads: the accept loop, at most 64 connections, the operations; never one per request.
    assert peak_threads <= before["Threads"] + 64 + 4, (peak_threads, before)
    after = _status(process.pid)
    assert after["VmRSS"] - before["VmRSS"] < 100 * 1024, (before, after)  # kB
