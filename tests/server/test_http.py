"""Transport: HTTP/1.1, keep-alive, auth, routing, JSON errors, request log."""

from __future__ import annotations

import json
import socket

import pytest
import requests

from .conftest import TOKEN, Api


def _raw_exchange(server, requests_bytes: bytes) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(requests_bytes)
        chunks = b""
        while chunks.count(b"HTTP/1.1 ") < requests_bytes.count(b"GET ") or not chunks.endswith(
            b"}"
        ):
            data = sock.recv(65536)
            if not data:
                break
            chunks += data
        return chunks


def test_http11_content_length_and_keep_alive(server):
    request = (
        f"GET /api/v1/pools/7 HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey {TOKEN}\r\n\r\n".encode()
    )
    answer = _raw_exchange(server, request * 2)  # two requests on one connection
    assert answer.count(b"HTTP/1.1 200") == 2
    head = answer.split(b"\r\n\r\n")[0].decode().lower()
    assert "content-length:" in head
    assert "content-type: application/json" in head


@pytest.mark.parametrize("scheme", ["ApiKey", "OAuth"])
def test_both_auth_schemes(server, scheme):
    response = Api(server, scheme=scheme).get("/pools/7")
    assert response.status_code == 200
    assert response.json()["id"] == "7"


@pytest.mark.parametrize("header", [None, "ApiKey wrong", "Bearer " + TOKEN, "ApiKey", TOKEN])
def test_missing_or_wrong_token_is_401(server, header):
    headers = {} if header is None else {"Authorization": header}
    response = requests.get(server.url + "/api/v1/pools/7", headers=headers, timeout=5)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "AUTHENTICATION_ERROR"
    assert body["request_id"]
    assert TOKEN not in response.text


def test_unknown_route_is_json_404(api):
    for path in ("/nope", "/pools/7/tasks"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "DOES_NOT_EXIST"
    response = api.session.get(api.server.url + "/elsewhere", timeout=5)
    assert response.status_code == 404 and response.json()["code"] == "DOES_NOT_EXIST"


def test_wrong_method_is_json_405(api):
    response = api.session.get(api.root + "/aggregated-solutions/aggregate-by-pool", timeout=5)
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["Allow"] == "POST"
    response = api.session.delete(api.root + "/pools/7", timeout=5)
    assert response.status_code == 405 and response.json()["request_id"]


def test_malformed_json_is_400(api):
    response = api.session.post(
        api.root + "/aggregated-solutions/aggregate-by-pool",
        data=b"{not json",
        timeout=5,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_every_answer_has_a_request_id_header(api):
    ok = api.get("/pools")
    error = api.get("/pools/none")
    assert (
        ok.headers["X-Request-Id"] and error.headers["X-Request-Id"] == error.json()["request_id"]
    )


def test_request_log_records_method_and_query(server, api):
    server.request_log.clear()
    api.get("/pools", limit=5)
    api.aggregate("7")
    assert server.request_log == [
        ("GET", "/api/v1/pools?limit=5"),
        ("POST", "/api/v1/aggregated-solutions/aggregate-by-pool"),
    ]
    assert [m for m, _ in server.request_log].count("POST") == 1


def test_trailing_slash_and_quoted_ids(api):
    assert api.get("/pools/7/").status_code == 200
    assert api.get("/pools/%37").json()["id"] == "7"


def test_internal_error_is_json_500(server, api, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(server.store, "pool", boom)
    response = api.get("/pools/7")
    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL_ERROR"


def test_methods_http_server_does_not_know_answer_json(api):
    """HEAD, OPTIONS and unknown methods get a JSON error with a Toloka code, not an HTML page."""
    head = api.session.head(api.root + "/pools/7", timeout=5)
    assert head.status_code == 405 and head.headers["Allow"] == "GET" and head.content == b""
    options = api.session.options(api.root + "/pools/7", timeout=5)
    assert options.status_code == 405 and options.json()["code"] == "METHOD_NOT_ALLOWED"
    for method in ("TRACE", "BREW"):
        response = api.session.request(method, api.root + "/pools/7", timeout=5)
        assert response.status_code == 501
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "METHOD_NOT_ALLOWED" and response.json()["request_id"]
    assert api.get("/pools/7").status_code == 200  # the session still works after a HEAD


def test_malformed_request_line_and_headers_answer_json(server):
    garbled = _raw_exchange(server, b"GET /api/v1/pools HTTP/1.1 extra\r\nHost: x\r\n\r\n")
    assert b'"code":"VALIDATION_ERROR"' in garbled and b"<html" not in garbled.lower()
    too_many = b"GET /api/v1/pools HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 150 + b"\r\n"
    answer = _raw_exchange(server, too_many)
    assert b"HTTP/1.1 431" in answer and b"application/json" in answer and b'"code":' in answer


def test_keep_alive_over_many_requests_and_errors(api):
    """One pooled connection serves a long mix of answers and errors (bodies always read)."""
    for _ in range(15):
        assert api.get("/pools/7").status_code == 200
        assert api.get("/pools/nope").status_code == 404
        assert api.get("/operations", limit=100_001).status_code == 400
        assert (
            api.session.post(
                api.root + "/aggregated-solutions/aggregate-by-pool", data=b"{nope", timeout=5
            ).status_code
            == 400
        )
        assert (
            api.session.get(
                api.root + "/pools/7", headers={"Authorization": "OAuth bad"}, timeout=5
            ).status_code
            == 401
        )
    assert len(api.server._httpd._connections) == 1  # every request on the same socket


@pytest.mark.parametrize("length", [b"abc", b"-5", b"+5"])
def test_invalid_content_length_answers_json_400_and_closes(server, length):
    request = (
        b"POST /api/v1/aggregated-solutions/aggregate-by-pool HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: ApiKey "
        + TOKEN.encode()
        + b"\r\nContent-Length: "
        + length
        + b"\r\n\r\n{}"
    )
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while data := sock.recv(65536):  # the server closes the connection after answering
            answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"connection: close" in head.lower()
    assert json.loads(body)["code"] == "VALIDATION_ERROR" and b"Content-Length" in body


def test_chunked_request_body_is_read(api):
    # requests sends a generator body with Transfer-Encoding: chunked (no Content-Length).
    body = json.dumps({"type": "DAWID_SKENE", "pool_id": "7", "fields": [{"name": "result"}]})
    chunks = (body[i : i + 7].encode() for i in range(0, len(body), 7))
    response = api.session.post(
        api.root + "/aggregated-solutions/aggregate-by-pool", data=chunks, timeout=5
    )
    assert response.status_code == 201, response.text
    assert response.json()["parameters"]["pool_id"] == "7"
    assert api.get("/pools/7").status_code == 200  # the connection is still in step
    assert len(api.server._httpd._connections) == 1
