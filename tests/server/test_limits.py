"""Limits: every oversized, malformed or slow request gets a status line, a JSON error, and
costs the server nothing lasting; finished operations are capped and evicted clearly."""

from __future__ import annotations

import json
import time

import pytest
import requests

from pandas_toloka.errors import InvalidArgumentError
from pandas_toloka.server import Limits, LocalTolokaServer, Network

from .conftest import CAT_DOG, TOKEN, Api, cat_dog_responses
from .rawhttp import closed_by_server, connect, exchange, read_answer

AUTH = f"Authorization: ApiKey {TOKEN}\r\n".encode()
POST = b"POST /api/v1/aggregated-solutions/aggregate-by-pool HTTP/1.1\r\nHost: x\r\n"


pytestmark = pytest.mark.reliability


def _small_server(**limits: object) -> LocalTolokaServer:
    server = LocalTolokaServer(token=TOKEN, **limits)  # type: ignore[arg-type]
    server.add_pool("7", responses=cat_dog_responses(), output_spec=CAT_DOG)
    return server


def _is_json_error(answer, status: int) -> None:
    assert answer.status == status
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["request_id"] and body["code"] and body["message"]


def test_declared_body_over_the_limit_is_413_before_reading_it(server):
    huge = 200 * 1024 * 1024
    with connect(server.url) as sock:
        # No body follows: the answer must come from the headers alone.
        sock.sendall(POST + AUTH + f"Content-Length: {huge}\r\n\r\n".encode())
        answer = read_answer(sock)
        _is_json_error(answer, 413)
        assert "max_body_bytes" in answer.json()["message"]
        assert answer.headers["connection"] == "close" and closed_by_server(sock)


@pytest.mark.parametrize("length", ["99999999999999999999999999", "1" * 40])
def test_absurd_content_length_is_a_4xx_not_500(server, length):
    answer = exchange(server.url, POST + AUTH + f"Content-Length: {length}\r\n\r\n".encode())
    assert answer.status in (400, 413)


def test_expect_100_continue_gets_the_final_answer_instead_when_too_big(server):
    with connect(server.url) as sock:
        sock.sendall(POST + AUTH + b"Content-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
        assert read_answer(sock).status == 413


def test_expect_100_continue_then_body(server):
    body = json.dumps({"type": "DAWID_SKENE", "pool_id": "7", "fields": [{"name": "result"}]})
    with connect(server.url) as sock:
        expect = f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
        sock.sendall(POST + AUTH + expect.encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body.encode())
        assert read_answer(sock).status == 201


@pytest.mark.parametrize("chunk_size", [b"fffffffffffffff", b"200000"])
def test_chunked_body_over_the_limit_is_413(server, chunk_size):
    request = POST + AUTH + b"Transfer-Encoding: chunked\r\n\r\n" + chunk_size + b"\r\n" + b"x" * 10
    answer = exchange(server.url, request)
    _is_json_error(answer, 413)


def test_chunked_body_over_the_limit_in_many_small_chunks_is_413():
    with _small_server(max_body_bytes=1000) as server:
        chunks = b"".join(b"64\r\n" + b"x" * 100 + b"\r\n" for _ in range(11)) + b"0\r\n\r\n"
        answer = exchange(server.url, POST + AUTH + b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
        _is_json_error(answer, 413)


def test_unauthenticated_body_is_not_read_and_the_connection_closes(server):
    with connect(server.url) as sock:
        sock.sendall(POST + b"Content-Length: 500000\r\n\r\n" + b"x" * 1000)
        answer = read_answer(sock)
        _is_json_error(answer, 401)
        assert answer.headers["connection"] == "close"
    assert server.request_log.snapshot() == []


def test_long_request_line_is_414(server):
    with connect(server.url) as sock:
        sock.sendall(b"GET /api/v1/pools?x=" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):  # the whole answer, up to the close
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 ")
    assert head.lower().count(b"connection: close") == 1
    assert "max_request_line" in json.loads(body)["message"]


def test_header_block_and_count_limits_are_431(server):
    big = b"GET /api/v1/pools HTTP/1.1\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n"
    _is_json_error(exchange(server.url, big), 431)
    many = b"GET /api/v1/pools HTTP/1.1\r\n" + b"X-A: b\r\n" * 101 + b"\r\n"
    answer = exchange(server.url, many)
    _is_json_error(answer, 431)
    assert "max_headers" in answer.json()["message"]


@pytest.mark.parametrize(
    "line",
    [
        b"GARBAGE\r\n",
        b"GET /\r\n",  # HTTP/0.9: still answered with an HTTP/1.1 status line
        b"GET /api/v1/pools HTTP/1.1 extra\r\n",
        b"GET /api/v1/pools FTP/1.0\r\n",
        b"GET api/v1/pools HTTP/1.1\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n",  # a TLS hello at a plain port
    ],
)
def test_malformed_request_line_gets_a_status_line_and_json(server, line):
    answer = exchange(server.url, line + b"Host: x\r\n\r\n")
    _is_json_error(answer, 400)
    assert answer.json()["code"] == "VALIDATION_ERROR"


def test_unsupported_http_version_is_505(server):
    _is_json_error(exchange(server.url, b"GET /api/v1/pools HTTP/2.0\r\n\r\n"), 505)


def test_deeply_nested_json_is_400(api):
    body = b"[" * 200_000 + b"]" * 200_000
    response = api.session.post(
        api.root + "/aggregated-solutions/aggregate-by-pool", data=body, timeout=10
    )
    assert response.status_code == 400 and "nested" in response.json()["message"]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_datetime_filter_that_overflows_is_400(api, value):
    response = api.get("/operations", submitted_gt=value)
    assert response.status_code == 400
    assert "submitted_gt" in response.json()["payload"]


def test_huge_integer_limit_is_400(api):
    assert api.get("/operations", limit="9" * 5000).status_code == 400


def test_slow_client_gets_408_after_header_timeout():
    with _small_server(header_timeout=0.3) as server, connect(server.url) as sock:
        sock.sendall(b"GET /api/v1/pools HTTP/1.1\r\n")
        for _ in range(3):  # trickling bytes does not extend the deadline
            time.sleep(0.15)
            try:
                sock.sendall(b"X")
            except OSError:
                break
        answer = read_answer(sock)
        _is_json_error(answer, 408)
        assert closed_by_server(sock)


def test_unauthenticated_requests_leave_no_trace_and_the_log_is_bounded():
    with _small_server(request_log_size=5) as server:
        for _ in range(20):
            assert requests.get(server.url + "/api/v1/pools", timeout=5).status_code == 401
        assert server.request_log.snapshot() == []
        assert server.request_log.requests_seen == 20  # counted, not kept
        api = Api(server)
        for i in range(8):
            api.get("/pools", limit=i + 1)
        assert server.request_log.snapshot() == [
            ("GET", f"/api/v1/pools?limit={i}") for i in range(4, 9)
        ]
        assert server.request_log.requests_seen == 28
        server.request_log.clear()
        assert server.request_log.requests_seen == 0


def test_finished_operations_are_capped_and_evicted_ones_say_so():
    with _small_server(max_finished_operations=3) as server:
        api = Api(server)
        ids = [api.run("7") for _ in range(5)]
        assert {o["id"] for o in api.get("/operations").json()["items"]} == set(ids[2:])
        for path in (f"/operations/{ids[0]}", f"/aggregated-solutions/{ids[0]}"):
            response = api.get(path)
            assert response.status_code == 404
            assert response.json()["code"] == "DOES_NOT_EXIST"
            assert "evicted" in response.json()["message"]
            assert "max_finished_operations" in response.json()["message"]
        assert api.get(f"/aggregated-solutions/{ids[-1]}").status_code == 200
        assert "evicted" not in api.get("/operations/never-was").json()["message"]


def test_finished_operations_expire_after_their_ttl():
    with _small_server() as server:
        api = Api(server)
        operation_id = api.run("7")  # a short TTL from the start could expire while polled
        server.operations.ttl = 0.2
        time.sleep(0.3)  # time passing past the TTL, not a wait for the code
        response = api.get(f"/operations/{operation_id}")
        assert response.status_code == 404 and "evicted" in response.json()["message"]


def test_too_many_active_operations_is_429():
    with _small_server(max_active_operations=2, operation_delay=5) as server:
        api = Api(server)
        assert api.aggregate("7").status_code == 201
        assert api.aggregate("7").status_code == 201
        refused = api.aggregate("7")
        assert refused.status_code == 429 and refused.json()["code"] == "TOO_MANY_REQUESTS"
        assert "max_active_operations" in refused.json()["message"]
        assert refused.headers["Retry-After"] == "1"
        assert len(server.operations.all()) == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_body_bytes": 0},
        {"max_connections": -1},
        {"max_headers": 2.5},
        {"header_timeout": float("nan")},
        {"operation_ttl": "60"},
        {"request_log_size": True},
        {"latency": -0.1},
        {"bandwidth": 0},
        {"gzip": "yes"},
        {"gzip_level": 10},
    ],
)
def test_bad_limits_are_refused_before_starting(kwargs):
    with pytest.raises(InvalidArgumentError, match=next(iter(kwargs))):
        LocalTolokaServer(**kwargs)


def test_limits_and_network_are_readable():
    server = LocalTolokaServer(max_connections=7, bandwidth=1e6)
    assert server.limits == Limits(max_connections=7)
    assert server.network == Network(bandwidth=1e6)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NOT A REQUEST LINE\r\n\r\n",
        b"GET /api/v1/pools HTTP/1.1\r\nNo colon here\r\n\r\n",
        b"GET /" + b"x" * (9 << 10) + b" HTTP/1.1\r\n\r\n",
    ],
    ids=["request_line", "header", "too_long"],
)
def test_malformed_requests_are_counted(server, request_bytes):
    server.request_log.clear()
    answer = exchange(server.url, request_bytes)
    assert 400 <= answer.status < 500
    assert server.request_log.requests_seen == 1  # a test can see that something was sent
    assert server.request_log.snapshot() == []


def test_the_request_log_is_bounded_and_not_a_list():
    with _small_server(request_log_size=3) as server:
        api = Api(server)
        for i in range(5):
            api.get("/pools", limit=i + 1)
        log = server.request_log
        assert not isinstance(log, list)
        for grow in (
            lambda: log.extend([("GET", "/x")] * 10),  # type: ignore[attr-defined]
            lambda: log.insert(0, ("GET", "/x")),  # type: ignore[attr-defined]
            lambda: log.__iadd__([("GET", "/x")] * 10),  # type: ignore[operator]
        ):
            with pytest.raises((AttributeError, TypeError)):
                grow()
        for i in range(10):
            log.append(("GET", f"/y{i}"))
        assert len(log) == 3 and log.maxlen == 3
        assert log == [("GET", "/y7"), ("GET", "/y8"), ("GET", "/y9")]
        assert (
            log[0] == ("GET", "/y7") and log[-1] == ("GET", "/y9") and log[1:] == log.snapshot()[1:]
        )
        assert [method for method, _ in log] == ["GET"] * 3
        assert ("GET", "/y8") in log and "RequestLog(" in repr(log)
