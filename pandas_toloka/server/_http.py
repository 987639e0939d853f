"""HTTP transport: a threaded HTTP/1.1 server, routing, auth, faults, JSON answers.

Every answer is JSON with a ``Content-Length`` (so connections stay alive),
including every error, which carries a ``request_id`` and a Toloka ``code``.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .._protocol import API_PREFIX
from ._endpoints import ROUTES, Context, Endpoint, Request
from ._errors import STATUS_CODES, ApiError
from ._serialize import dumps

__all__ = ["API_PREFIX", "HTTPServer"]

logger = logging.getLogger(__name__)

_AUTH_SCHEMES = ("apikey", "oauth")
#: Longest chunk-size or trailer line read from a chunked request body.
_MAX_LINE = 65537
#: Toloka codes of the errors :mod:`http.server` answers before a request reaches the router.
_TRANSPORT_CODES = {501: "METHOD_NOT_ALLOWED", 505: "VALIDATION_ERROR"}


def _compile(pattern: str) -> re.Pattern[str]:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{regex}/?$")


_COMPILED = [
    (method, _compile(pattern), pattern.count("{"), endpoint)
    for method, pattern, endpoint in ROUTES
]


def route(method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
    """Find the endpoint of ``method path`` (path below ``/api/v1``); 404 or 405 otherwise."""
    matches = [(n, m, rx.match(path), ep) for m, rx, n, ep in _COMPILED]
    matches = [x for x in matches if x[2] is not None]
    if not matches:
        raise ApiError(404, "DOES_NOT_EXIST", f"No such endpoint: {API_PREFIX}{path}")
    best = min(n for n, _, _, _ in matches)
    specific = [x for x in matches if x[0] == best]
    for _, m, match, endpoint in specific:
        if m == method:
            assert match is not None
            return endpoint, {k: unquote(v) for k, v in match.groupdict().items()}
    allowed = sorted({m for _, m, _, _ in specific})
    raise ApiError(
        405,
        "METHOD_NOT_ALLOWED",
        f"{method} is not allowed on {API_PREFIX}{path}; use {', '.join(allowed)}",
        headers={"Allow": ", ".join(allowed)},
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pandas-toloka-local"
    timeout = 120  # an idle keep-alive connection is dropped after this
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stalls
    wbufsize = 64 * 1024  # buffered; handle_one_request flushes after each answer
    server: HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._handle()

    # Other methods reach the router too, which answers 405 in JSON (HEAD without a body).
    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found by :mod:`http.server` itself (malformed request line, unknown method,
        oversized headers) are JSON with a Toloka ``code`` too, not the default HTML page."""
        short = self.responses.get(code, ("Error", ""))[0]
        kind = _TRANSPORT_CODES.get(code) or STATUS_CODES.get(code)
        if kind is None:
            kind = "VALIDATION_ERROR" if 400 <= code < 500 else "INTERNAL_ERROR"
        data = dumps(ApiError(code, kind, message or short).body(str(uuid.uuid4())))
        self.log_error("code %d, message %s", code, message or short)
        self.send_response(code, short)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 205, 304):
            self.wfile.write(data)

    def _read_body(self) -> bytes:
        """The request body, framed by ``Content-Length`` or ``Transfer-Encoding: chunked``.

        A body whose framing cannot be read is a 400 that closes the connection:
        the rest of the stream cannot be told apart from the next request.
        """
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        text = self.headers.get("Content-Length")
        if text is None:
            return b""
        try:
            length = int(text.strip())
        except ValueError:
            length = -1
        if length < 0 or not text.strip().isdigit():
            self.close_connection = True
            raise ApiError(400, "VALIDATION_ERROR", f"Invalid Content-Length header: {text!r}")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(_MAX_LINE)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                size = -1
            if size < 0:
                self.close_connection = True
                raise ApiError(400, "VALIDATION_ERROR", "Malformed chunked request body")
            if size == 0:
                while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields, ignored
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline(_MAX_LINE)  # the CRLF closing the chunk

    def _authenticate(self) -> None:
        header = self.headers.get("Authorization")
        if not header:
            raise ApiError(
                401, "AUTHENTICATION_ERROR", "Missing Authorization header (ApiKey or OAuth)"
            )
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() not in _AUTH_SCHEMES or not hmac.compare_digest(
            token.strip().encode(), self.server.token.encode()
        ):
            raise ApiError(401, "AUTHENTICATION_ERROR", "The token is not valid")

    def _handle(self) -> None:
        request_id = str(uuid.uuid4())
        method = self.command
        self.server.request_log.append((method, self.path))
        split = urlsplit(self.path)
        path = split.path
        headers: dict[str, str] = {}
        drop = False
        faults = self.server.context.faults
        try:
            raw = self._read_body()
            if faults.latency > 0:
                time.sleep(faults.latency)
            fault = faults.take(method, path)
            if fault is not None:
                drop = self._apply_fault(fault.kind, fault.params)
            self._authenticate()
            if not path.startswith(API_PREFIX + "/"):
                raise ApiError(404, "DOES_NOT_EXIST", f"No such endpoint: {path}")
            endpoint, params = route(method, path[len(API_PREFIX) :])
            body = None
            if raw:
                try:
                    body = json.loads(raw)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise ApiError(400, "VALIDATION_ERROR", f"Malformed JSON body: {exc}") from None
            query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            status, payload = endpoint(
                self.server.context, Request(method, path, query, body), **params
            )
        except ApiError as exc:
            status, payload, headers = exc.status, exc.body(request_id), exc.headers
        except Exception:
            logger.exception("request %s %s failed", method, path)
            status = 500
            payload = ApiError(500, "INTERNAL_ERROR", "Internal server error").body(request_id)
        data = payload if isinstance(payload, bytes) else dumps(payload)
        self._send(status, data, request_id, headers, drop=drop)

    def _apply_fault(self, kind: str, params: dict[str, Any]) -> bool:
        if kind == "slow":
            time.sleep(float(params.get("delay", 1.0)))
        elif kind == "drop":
            return True
        elif kind == "rate_limit":
            headers: dict[str, str] = {}
            payload = None
            if params.get("interval") is not None:
                payload = {"interval": params["interval"]}
            if params.get("retry_after") is not None or payload is None:
                headers["Retry-After"] = str(params.get("retry_after", 1))
            raise ApiError(429, "TOO_MANY_REQUESTS", "Too many requests", payload, headers=headers)
        elif kind == "server_error":
            status = int(params.get("status", 500))
            code = "REMOTE_SERVICE_UNAVAILABLE" if status == 503 else "INTERNAL_ERROR"
            headers = {}
            if params.get("retry_after") is not None:
                headers["Retry-After"] = str(params["retry_after"])
            raise ApiError(status, code, "Injected server error", headers=headers)
        return False

    def _send(
        self, status: int, data: bytes, request_id: str, headers: dict[str, str], *, drop: bool
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", request_id)
        for name, value in headers.items():
            self.send_header(name, value)
        if drop or self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":  # headers only, as HTTP requires
            return
        if drop:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)


class HTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its context, token and request log."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], context: Context, token: str, request_log: Any
    ) -> None:
        self.context = context
        self.token = token
        self.request_log = request_log
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every open client connection (idle keep-alive ones included)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
