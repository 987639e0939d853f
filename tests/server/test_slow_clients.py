"""Slow and idle clients hold no thread: one I/O thread reads every request as its bytes arrive.

A request is parsed exactly as a blocking read would parse it (the limits hold to the
byte however the bytes are cut), and only a request read in full reaches a worker.
"""

from __future__ import annotations

import contextlib
import json
import re
import resource
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from pandas_toloka.server import LocalTolokaServer

from .conftest import CAT_DOG, TOKEN, cat_dog_responses
from .rawhttp import closed_by_server, connect, read_answer

pytestmark = pytest.mark.reliability

AUTH = f"Authorization: ApiKey {TOKEN}\r\n".encode()
SLOW_CLIENTS = 1000
AUTH_HEADERS = {"Authorization": f"ApiKey {TOKEN}"}


def _server(**kwargs: object) -> LocalTolokaServer:
    server = LocalTolokaServer(token=TOKEN, **kwargs)  # type: ignore[arg-type]
    server.add_pool("7", responses=cat_dog_responses(), output_spec=CAT_DOG)
    return server


@contextlib.contextmanager
def _file_descriptors(needed: int) -> Iterator[None]:
    """Raise the soft limit on open files to ``needed`` for the block (skip if the hard one is lower)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        yield
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} open files; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _trickle(sock: socket.socket, data: bytes) -> None:
    for i in range(len(data)):
        sock.sendall(data[i : i + 1])
        time.sleep(0.001)


def test_a_request_is_answered_while_1000_slow_clients_hold_connections() -> None:
    # Each slow client is two descriptors in this process (its socket and the server's).
    with _file_descriptors(2 * SLOW_CLIENTS + 512), _server() as server:
        threads = threading.active_count()
        slow: list[socket.socket] = []
        try:
            for _ in range(SLOW_CLIENTS):
                sock = connect(server.url)
                sock.sendall(b"GET /api/v1/pools HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never ends
                slow.append(sock)
            response = requests.get(
                server.url + "/api/v1/pools/7",
                headers={"Authorization": f"ApiKey {TOKEN}"},
                timeout=10,
            )
            assert response.status_code == 200 and response.json()["id"] == "7"
            # The slow ones are all still connected, and hold no thread.
            assert len(server._httpd._connections) >= SLOW_CLIENTS  # type: ignore[union-attr]
            assert threading.active_count() <= threads + server.limits.max_connections
        finally:
            for sock in slow:
                sock.close()


def test_slow_bodies_hold_no_worker() -> None:
    with _server(max_connections=1) as server, connect(server.url) as slow:
        slow.sendall(
            b"POST /api/v1/aggregated-solutions/aggregate-by-pool HTTP/1.1\r\nHost: x\r\n"
            + AUTH
            + b"Content-Length: 100\r\n\r\n{"
        )
        # The one worker is free: the body being sent holds the I/O thread's buffer only.
        session = requests.Session()
        for _ in range(3):
            response = session.get(
                server.url + "/api/v1/pools/7",
                headers={"Authorization": f"ApiKey {TOKEN}"},
                timeout=10,
            )
            assert response.status_code == 200


def test_a_request_cut_into_single_bytes_is_read_as_a_whole(server: LocalTolokaServer) -> None:
    body = json.dumps({"type": "DAWID_SKENE", "pool_id": "7", "fields": [{"name": "result"}]})
    chunked = b"".join(
        f"{len(piece):x}\r\n".encode() + piece.encode() + b"\r\n"
        for piece in (body[:10], body[10:])
    )
    request = (
        b"POST /api/v1/aggregated-solutions/aggregate-by-pool HTTP/1.1\r\nHost: x\r\n"
        + AUTH
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + chunked
        + b"0\r\n\r\n"
    )
    with connect(server.url) as sock:
        _trickle(sock, request)
        answer = read_answer(sock)
        assert answer.status == 201, answer.body
        assert answer.json()["parameters"]["pool_id"] == "7"


def test_limits_hold_to_the_byte_when_trickled() -> None:
    with _server(max_request_line=64, header_timeout=30) as server:
        # 64 bytes with its CRLF: allowed; 65: 414, decided at the 65th byte without a newline.
        path = "/api/v1/pools/7?x="
        fits = f"GET {path}{'a' * (64 - len(path) - 15)} HTTP/1.1\r\n".encode()
        assert len(fits) == 64
        with connect(server.url) as sock:
            _trickle(sock, fits + AUTH + b"\r\n")
            assert read_answer(sock).status == 200
        with connect(server.url) as sock:
            _trickle(sock, b"GET /" + b"a" * 60)  # 65 bytes, no newline: nothing more will come
            answer = read_answer(sock)
            assert answer.status == 414 and closed_by_server(sock)


def test_pipelined_requests_are_answered_in_order(server: LocalTolokaServer) -> None:
    one = b"GET /api/v1/pools/%s HTTP/1.1\r\nHost: x\r\n" + AUTH
    requests_ = one % b"7" + b"\r\n" + one % b"nope" + b"\r\n" + one % b"7"
    with connect(server.url) as sock:
        sock.sendall(requests_ + b"Connection: close\r\n\r\n")
        received = b""
        while data := sock.recv(65536):  # the answers, up to the close after the third
            received += data
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", received)
    assert statuses == [b"200", b"404", b"200"]


def test_slow_and_idle_connections_time_out_without_threads() -> None:
    with _server(header_timeout=0.3, idle_timeout=0.3, body_timeout=0.3) as server:
        threads = threading.active_count()
        idle, head, body = connect(server.url), connect(server.url), connect(server.url)
        with idle, head, body:
            head.sendall(b"GET /api/v1/pools HTTP/1.1\r\n")
            body.sendall(
                b"POST /api/v1/aggregated-solutions/aggregate-by-pool HTTP/1.1\r\nHost: x\r\n"
                + AUTH
                + b"Content-Length: 10\r\n\r\n{"
            )
            assert threading.active_count() == threads
            assert closed_by_server(idle)  # no answer: it never started a request
            answers = Counter(read_answer(sock).status for sock in (head, body))
            assert answers == {408: 2}


def test_a_bug_on_one_connection_closes_it_not_the_server(server, monkeypatch, caplog):
    from pandas_toloka.server import _httpd

    real = _httpd.read_head

    def read_head(buffer, limits):
        if b"X-Boom" in buffer.data:
            raise RuntimeError("a bug")
        return real(buffer, limits)

    monkeypatch.setattr(_httpd, "read_head", read_head)
    with connect(server.url) as sock:
        sock.sendall(b"GET /api/v1/pools HTTP/1.1\r\nX-Boom: 1\r\n\r\n")
        assert closed_by_server(sock)
    assert "I/O loop failed" in caplog.text
    response = requests.get(server.url + "/api/v1/pools/7", headers=AUTH_HEADERS, timeout=10)
    assert response.status_code == 200
