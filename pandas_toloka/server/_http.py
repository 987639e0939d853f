"""HTTP/1.1 connections: reading requests, routing, auth, faults, JSON answers.

Every answer, errors included, is JSON with a status line, a
``Content-Length`` (so connections stay alive), a ``request_id`` and a Toloka
``code``. Requests are read within :class:`~._limits.Limits` (see :mod:`._wire`).
An unauthenticated request is answered 401 at once: its body is not read, it
leaves no trace in the request log, it uses up no queued fault and waits for no
simulated latency -- so it costs nothing lasting and holds its thread no longer
than it takes to answer. Every request read is counted (``requests_seen``), a
malformed one too.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import re
import socket
import socketserver
import time
import uuid
from email.utils import formatdate
from http import HTTPStatus
from http.client import HTTPMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .._protocol import API_PREFIX
from ._endpoints import ROUTES, Document, Endpoint, Request
from ._errors import ApiError
from ._httpd import HTTPServer
from ._network import accepts_gzip, gzip_body
from ._serialize import dumps
from ._wire import Head, buffered, framing, read_body, read_head, transport_error

__all__ = ["API_PREFIX", "Handler", "HTTPServer", "route"]

logger = logging.getLogger(__name__)

_AUTH_SCHEMES = ("apikey", "oauth")
_SERVER = "pandas-toloka-local"
#: How much of an unread request body is drained before closing, so the client reads the answer.
_LINGER_BYTES = 256 * 1024
_LINGER_SECONDS = 0.5
#: How often an idle connection checks whether a waiting connection needs its thread.
_IDLE_POLL = 0.25


def _compile(pattern: str) -> re.Pattern[str]:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{regex}/?$")


_COMPILED = [
    (method, _compile(pattern), pattern.count("{"), endpoint)
    for method, pattern, endpoint in ROUTES
]


def route(method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
    """Find the endpoint of ``method path`` (the whole path); 404 or 405 otherwise."""
    matches = [(n, m, rx.match(path), ep) for m, rx, n, ep in _COMPILED]
    matches = [x for x in matches if x[2] is not None]
    if not matches:
        raise ApiError(404, "DOES_NOT_EXIST", f"No such endpoint: {path}")
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
        f"{method} is not allowed on {path}; use {', '.join(allowed)}",
        headers={"Allow": ", ".join(allowed)},
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class Handler(socketserver.BaseRequestHandler):
    """Serves the requests of one connection, one after another (keep-alive)."""

    server: HTTPServer
    request: socket.socket

    def setup(self) -> None:
        self.connection = self.request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        self.rfile, self._reader = buffered(self.connection)
        self._unread = False

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            self.rfile.close()

    def handle(self) -> None:
        limits = self.server.limits
        while not self.server.closing:
            try:
                if not self._wait_for_request(limits.idle_timeout):
                    return
            except OSError:  # reset by the client
                return
            self._reader.deadline = time.monotonic() + limits.header_timeout
            try:
                if not self._serve_one():
                    return
            except TimeoutError:
                self._answer_timeout()
                return
            except OSError:  # the client went away mid-request or mid-answer
                return

    def _wait_for_request(self, idle_timeout: float) -> bool:
        """Wait for the first byte of the next request; ``False`` to close the connection.

        An idle keep-alive connection holds a thread, so it is closed after
        ``idle_timeout``, and at once when other connections wait for a thread.
        """
        idle_until = time.monotonic() + idle_timeout
        while True:
            self._reader.deadline = min(idle_until, time.monotonic() + _IDLE_POLL)
            try:
                return bool(self.rfile.peek(1))  # b"": the client closed the connection
            except TimeoutError:
                if self.server.waiting or self.server.closing or time.monotonic() >= idle_until:
                    return False

    # ------------------------------------------------------------------ one request

    def _serve_one(self) -> bool:
        """Read and answer one request; return whether the connection stays open."""
        request_id = str(uuid.uuid4())
        try:
            head = read_head(self.rfile, self.server.limits)
        except (ApiError, TimeoutError) as exc:  # a malformed or unfinished request line/headers
            self.server.request_log.observe()
            if isinstance(exc, TimeoutError):
                raise
            self._send(exc.status, dumps(exc.body(request_id)), request_id, exc.headers)
            self._linger()
            return False
        if head is None:
            return False
        self.server.request_log.observe()
        logger.debug("%s %s %s", self.client_address[0], head.method, head.target)
        status, data, headers, keep_alive, drop, latency = self._dispatch(head, request_id)
        self._send(
            status,
            data,
            request_id,
            headers,
            head=head,
            drop=drop,
            close=not keep_alive,
            latency=latency,
        )
        if drop:
            return False
        if not keep_alive and self._unread:
            self._linger()
        return keep_alive

    def _dispatch(
        self, head: Head, request_id: str
    ) -> tuple[int, bytes, dict[str, str], bool, bool, float]:
        """Run one request: ``(status, body, headers, keep_alive, drop, latency)``.

        Only an authenticated request is logged, has its body read, meets the
        queued faults and waits for the simulated latency.
        """
        server = self.server
        method = head.method
        split = urlsplit(head.target)
        path = split.path
        headers: dict[str, str] = {}
        keep_alive = head.keep_alive
        drop = False
        latency = 0.0
        faults = server.context.faults
        self._unread = True  # until the body is read in full
        try:
            frame = framing(head.headers, server.limits)
            if not self._authenticated(head.headers):
                if frame.has_body:
                    keep_alive = False  # the body stays unread: the stream is out of step
                else:
                    self._unread = False
                self._refuse(head.headers)
            server.request_log.append((method, head.target))
            latency = server.network.latency + faults.latency
            raw = b""
            if frame.has_body:
                self._continue(head)
                self._reader.deadline = time.monotonic() + server.limits.body_timeout
                raw = read_body(self.rfile, frame, server.limits)
            self._unread = False
            fault = faults.take(method, path)
            if fault is not None:
                drop = self._apply_fault(fault.kind, fault.params)
            endpoint, params = route(method, path)
            body = _json_body(raw)
            query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            status, payload = endpoint(server.context, Request(method, path, query, body), **params)
        except ApiError as exc:
            status, payload, headers = exc.status, exc.body(request_id), dict(exc.headers)
            if headers.pop("Connection", "").lower() == "close":
                keep_alive = False
        except TimeoutError:
            raise
        except OSError:
            raise
        except Exception:
            logger.exception("request %s %s failed", method, path)
            status = 500
            payload = ApiError(500, "INTERNAL_ERROR", "Internal server error").body(request_id)
        if isinstance(payload, Document):
            headers["Content-Type"], data = payload.content_type, payload.data
        else:
            data = payload if isinstance(payload, bytes) else dumps(payload)
        return status, data, headers, keep_alive, drop, latency

    def _authenticated(self, headers: HTTPMessage) -> bool:
        """Whether the request carries the server's token (``ApiKey`` or ``OAuth``)."""
        scheme, _, token = (headers.get("Authorization") or "").strip().partition(" ")
        return scheme.lower() in _AUTH_SCHEMES and hmac.compare_digest(
            token.strip().encode("utf-8", "surrogateescape"), self.server.token.encode()
        )

    @staticmethod
    def _refuse(headers: HTTPMessage) -> None:
        if not headers.get("Authorization"):
            raise ApiError(
                401, "AUTHENTICATION_ERROR", "Missing Authorization header (ApiKey or OAuth)"
            )
        raise ApiError(401, "AUTHENTICATION_ERROR", "The token is not valid")

    def _continue(self, head: Head) -> None:
        """Tell a client waiting on ``Expect: 100-continue`` to send its body."""
        if head.version >= (1, 1) and (head.headers.get("Expect") or "").lower() == "100-continue":
            self.connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

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

    # ------------------------------------------------------------------ answers

    def _send(
        self,
        status: int,
        data: bytes,
        request_id: str,
        headers: dict[str, str],
        *,
        head: Head | None = None,
        drop: bool = False,
        close: bool = True,
        latency: float = 0.0,
    ) -> None:
        """Write a whole answer at once, after ``latency`` seconds: status line, headers, body."""
        network = self.server.network
        lines = [
            f"HTTP/1.1 {status} {_reason(status)}",
            f"Server: {_SERVER}",
            f"Date: {formatdate(usegmt=True)}",
            "Content-Type: " + headers.pop("Content-Type", "application/json; charset=utf-8"),
            f"X-Request-Id: {request_id}",
        ]
        if network.gzip:
            lines.append("Vary: Accept-Encoding")
            wants_gzip = head is not None and accepts_gzip(head.headers.get("Accept-Encoding"))
            if wants_gzip and len(data) >= network.gzip_min_bytes:
                data = gzip_body(data, network.gzip_level)
                lines.append("Content-Encoding: gzip")
        lines.append(f"Content-Length: {len(data)}")
        lines.extend(f"{k}: {v}" for k, v in headers.items() if k.lower() != "connection")
        if close or drop:
            lines.append("Connection: close")
        if head is not None and head.method == "HEAD":  # headers only, as HTTP requires
            data = b""
        elif drop:
            data = data[: len(data) // 2]
        answer = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data
        self.connection.settimeout(self.server.limits.body_timeout)
        self.server.link.send(self.connection, answer, latency=latency)

    def _answer_timeout(self) -> None:
        request_id = str(uuid.uuid4())
        error = transport_error(
            408, "The request was not sent in time (header_timeout, body_timeout)"
        )
        with contextlib.suppress(OSError):
            self._send(408, dumps(error.body(request_id)), request_id, {})

    def _linger(self) -> None:
        """Close after an early answer without resetting it away.

        Closing a socket with unread input makes the kernel send a reset, which
        can destroy the answer before the client reads it; so stop writing,
        then read and drop a bounded amount of what the client is still sending.
        """
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            self._reader.deadline = time.monotonic() + _LINGER_SECONDS
            drained = 0
            while drained < _LINGER_BYTES:
                chunk = self.rfile.read1(64 * 1024)
                if not chunk:
                    break
                drained += len(chunk)


def _json_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except RecursionError:
        raise ApiError(400, "VALIDATION_ERROR", "Malformed JSON body: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "VALIDATION_ERROR", f"Malformed JSON body: {exc}") from None
