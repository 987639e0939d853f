"""Answering requests: routing, auth, faults, JSON answers (in the worker threads).

The I/O loop (:mod:`._httpd`) reads a request in full and hands it here as a
:class:`Prepared`; :func:`respond` answers it on the socket. Every answer,
errors included, is JSON with a status line, a ``Content-Length`` (so
connections stay alive), a ``request_id`` and a Toloka ``code``. An
unauthenticated request is answered 401 at once: its body is not read, it
leaves no trace in the request log, it uses up no queued fault and waits for no
simulated latency -- so it costs nothing lasting.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import socket
import time
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.client import HTTPMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .._protocol import API_PREFIX
from . import _fastjson
from ._endpoints import ROUTES, Context, Document, Endpoint, Request
from ._errors import ApiError
from ._fastjson import PageBody
from ._faults import ANSWER_FAULTS, Fault, gzip_bomb_chunks, spoiled_body
from ._limits import Limits, Network
from ._network import Link, accepts_gzip, gzip_body
from ._serialize import dumps
from ._wire import Head, transport_error

__all__ = ["API_PREFIX", "Outcome", "Prepared", "Site", "respond", "route", "timeout_answer"]

logger = logging.getLogger(__name__)

_AUTH_SCHEMES = ("apikey", "oauth")
_SERVER = "pandas-toloka-local"


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


@dataclass
class Site:
    """What answering a request needs: the endpoints' context, the token, the log, the limits, the link."""

    context: Context
    token: str
    request_log: Any
    limits: Limits
    link: Link

    @property
    def network(self) -> Network:
        return self.link.network

    def authenticated(self, headers: HTTPMessage) -> bool:
        """Whether the request carries the server's token (``ApiKey`` or ``OAuth``)."""
        scheme, _, token = (headers.get("Authorization") or "").strip().partition(" ")
        return scheme.lower() in _AUTH_SCHEMES and hmac.compare_digest(
            token.strip().encode("utf-8", "surrogateescape"), self.token.encode()
        )


@dataclass
class Prepared:
    """A request read in full by the I/O loop, or what stopped it being read.

    ``error`` is a transport error met before the token was checked (a malformed
    request line or headers, a bad framing): it is the whole answer.
    ``body_error`` is one met while reading the body of an authenticated request.
    ``unread`` says whether request bytes were left unread (the connection is
    then closed after the answer, with a bounded drain).
    """

    head: Head | None
    error: ApiError | None = None
    authenticated: bool = False
    has_body: bool = False
    body: bytes = b""
    body_error: ApiError | None = None
    unread: bool = False


@dataclass
class Outcome:
    """What the connection does after an answer: stay open, and drain before closing."""

    keep_alive: bool
    linger: bool


def respond(site: Site, sock: socket.socket, prepared: Prepared) -> Outcome:
    """Answer one request on ``sock`` (blocking, in a worker thread).

    Raises
    ------
    OSError
        If the client went away mid-answer (the caller closes the connection).
    """
    request_id = str(uuid.uuid4())
    head = prepared.head
    if prepared.error is not None or head is None:
        error = prepared.error or transport_error(400, "Malformed request")
        _send(site, sock, error.status, dumps(error.body(request_id)), request_id, error.headers)
        return Outcome(keep_alive=False, linger=True)
    logger.debug("%s %s", head.method, head.target)
    status, data, headers, keep_alive, drop, latency, spoil = _dispatch(
        site, head, prepared, request_id
    )
    if spoil is not None and spoil.kind in ("gzip_bomb", "trickle"):
        _send_spoiled(site, sock, spoil, status, data, request_id, latency)
        return Outcome(keep_alive=False, linger=False)
    _send(
        site,
        sock,
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
        return Outcome(keep_alive=False, linger=False)
    return Outcome(keep_alive=keep_alive, linger=not keep_alive and prepared.unread)


def _dispatch(
    site: Site, head: Head, prepared: Prepared, request_id: str
) -> tuple[int, bytes | PageBody, dict[str, str], bool, bool, float, Fault | None]:
    """Run one request: ``(status, body, headers, keep_alive, drop, latency, spoil)``.

    Only an authenticated request has its body read (by the I/O loop), meets
    the queued faults and waits for the simulated latency. ``spoil`` is the
    answer fault (:data:`._faults.ANSWER_FAULTS`) the answer meets, if any: the
    request runs, then its body is replaced here or sent by
    :func:`_send_spoiled`.
    """
    method = head.method
    split = urlsplit(head.target)
    path = split.path
    headers: dict[str, str] = {}
    keep_alive = head.keep_alive and not prepared.unread
    drop = False
    latency = 0.0
    fault = None
    faults = site.context.faults
    try:
        if not prepared.authenticated:
            _refuse(head.headers)
        latency = site.network.latency + faults.latency
        if prepared.body_error is not None:
            raise prepared.body_error
        fault = faults.take(method, path)
        if fault is not None and fault.kind == "hold":
            fault.hold()
        elif fault is not None:
            drop = _apply_fault(fault.kind, fault.params)
        endpoint, params = route(method, path)
        body = _json_body(prepared.body)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        status, payload = endpoint(site.context, Request(method, path, query, body), **params)
    except ApiError as exc:
        status, payload, headers = exc.status, exc.body(request_id), dict(exc.headers)
        if headers.pop("Connection", "").lower() == "close":
            keep_alive = False
    except Exception:
        logger.exception("request %s %s failed", method, path)
        status = 500
        payload = ApiError(500, "INTERNAL_ERROR", "Internal server error").body(request_id)
    data: bytes | PageBody
    if isinstance(payload, Document):
        headers["Content-Type"], data = payload.content_type, payload.data
    else:
        data = payload if isinstance(payload, (bytes, PageBody)) else dumps(payload)
    spoil = fault if fault is not None and fault.kind in ANSWER_FAULTS else None
    if spoil is not None and spoil.kind in ("deep_json", "nan", "null_items"):
        whole = data.to_bytes() if isinstance(data, PageBody) else data
        data = spoiled_body(spoil.kind, spoil.params, whole)
    return status, data, headers, keep_alive, drop, latency, spoil


def _refuse(headers: HTTPMessage) -> None:
    if not headers.get("Authorization"):
        raise ApiError(
            401, "AUTHENTICATION_ERROR", "Missing Authorization header (ApiKey or OAuth)"
        )
    raise ApiError(401, "AUTHENTICATION_ERROR", "The token is not valid")


def _apply_fault(kind: str, params: dict[str, Any]) -> bool:
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
    site: Site,
    sock: socket.socket,
    status: int,
    data: bytes | PageBody,
    request_id: str,
    headers: Mapping[str, str],
    *,
    head: Head | None = None,
    drop: bool = False,
    close: bool = True,
    latency: float = 0.0,
) -> None:
    """Write an answer after ``latency`` seconds: status line, headers, body.

    A body is written at once, except a page larger than one piece
    (:data:`~._fastjson.PIECE_BYTES`): it is written piece by piece (with
    ``Content-Length``, or gzipped piece by piece with chunked transfer
    coding), so that the answer holds one piece, never the whole page. The
    whole answer must be taken within ``body_timeout``.
    """
    network = site.network
    if isinstance(data, PageBody) and data.size <= _fastjson.PIECE_BYTES:
        data = data.to_bytes()
    lines = [
        f"HTTP/1.1 {status} {_reason(status)}",
        f"Server: {_SERVER}",
        f"Date: {formatdate(usegmt=True)}",
        "Content-Type: " + headers.get("Content-Type", "application/json; charset=utf-8"),
        f"X-Request-Id: {request_id}",
    ]
    size = data.size if isinstance(data, PageBody) else len(data)
    gzipped = False
    if network.gzip:
        lines.append("Vary: Accept-Encoding")
        wants_gzip = head is not None and accepts_gzip(head.headers.get("Accept-Encoding"))
        gzipped = wants_gzip and size >= network.gzip_min_bytes
    if isinstance(data, bytes) and gzipped:
        data = gzip_body(data, network.gzip_level)
    if gzipped:
        lines.append("Content-Encoding: gzip")
    if isinstance(data, PageBody) and gzipped:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {len(data) if isinstance(data, bytes) else size}")
    lines.extend(
        f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("connection", "content-type")
    )
    if close or drop:
        lines.append("Connection: close")
    answer_head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    writer = _Writer(site, sock)
    if head is not None and head.method == "HEAD":  # headers only, as HTTP requires
        writer.send(answer_head, latency=latency)
    elif isinstance(data, bytes):
        if drop:
            data = data[: len(data) // 2]
        writer.send(answer_head + data, latency=latency)
    else:
        writer.send(answer_head, latency=latency)
        _send_pieces(writer, data, gzip_level=network.gzip_level if gzipped else None, drop=drop)


class _Writer:
    """Writes an answer's parts through the simulated link, all within one ``body_timeout``."""

    def __init__(self, site: Site, sock: socket.socket) -> None:
        self.site = site
        self.sock = sock
        self.deadline = time.monotonic() + site.limits.body_timeout

    def send(self, data: bytes, *, latency: float = 0.0) -> None:
        remaining = self.deadline - time.monotonic() + latency
        if remaining <= 0:
            raise TimeoutError("the client took too long to read the answer (body_timeout)")
        self.sock.settimeout(remaining)
        self.site.link.send(self.sock, data, latency=latency)


def _send_pieces(writer: _Writer, body: PageBody, *, gzip_level: int | None, drop: bool) -> None:
    """Write a page piece by piece (gzipped in chunks when ``gzip_level``); ``drop`` cuts it midway."""
    compressor = None
    if gzip_level is not None:
        compressor = zlib.compressobj(gzip_level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    cut = body.size // 2 if drop else None
    sent = 0
    for piece in body.pieces():
        if cut is not None and sent + len(piece) > cut:
            piece = piece[: cut - sent]
            if compressor is not None:  # what a broken connection leaves: part of a chunk
                out = compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH)
                writer.send(f"{len(out) + 64:x}\r\n".encode() + out)
            else:
                writer.send(piece)
            return
        sent += len(piece)
        if compressor is None:
            writer.send(piece)
            continue
        out = compressor.compress(piece)
        if out:
            writer.send(f"{len(out):x}\r\n".encode() + out + b"\r\n")
    if compressor is not None:
        out = compressor.flush()
        writer.send(f"{len(out):x}\r\n".encode() + out + b"\r\n0\r\n\r\n")


def _send_spoiled(
    site: Site,
    sock: socket.socket,
    fault: Fault,
    status: int,
    data: bytes | PageBody,
    request_id: str,
    latency: float,
) -> None:
    """Send the answer of a ``gzip_bomb`` or ``trickle`` fault, then close the connection."""
    writer = _Writer(site, sock)
    lines = [
        "",  # the status line, once the status is known
        f"Date: {formatdate(usegmt=True)}",
        "Content-Type: application/json; charset=utf-8",
        f"X-Request-Id: {request_id}",
        "Connection: close",
    ]
    if fault.kind == "gzip_bomb":
        status = int(fault.params["status"])
        lines += ["Content-Encoding: gzip", "Transfer-Encoding: chunked"]
    else:
        body = data.to_bytes() if isinstance(data, PageBody) else data
        lines.append(f"Content-Length: {len(body)}")
    lines[0] = f"HTTP/1.1 {status} {_reason(status)}"
    answer_head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    interval = float(fault.params.get("interval", 0.0))
    if fault.kind == "trickle" and fault.params.get("head"):
        body, answer_head = answer_head + body, b""
    writer.send(answer_head, latency=latency)
    if fault.kind == "gzip_bomb":
        for chunk in gzip_bomb_chunks(int(fault.params["size"])):
            writer.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        writer.send(b"0\r\n\r\n")
        return
    for at in range(len(body)):
        writer.send(body[at : at + 1])
        time.sleep(interval)


def timeout_answer() -> bytes:
    """The whole 408 answer to a client too slow to send its request (then closed)."""
    request_id = str(uuid.uuid4())
    error = transport_error(408, "The request was not sent in time (header_timeout, body_timeout)")
    body = dumps(error.body(request_id))
    head = (
        f"HTTP/1.1 408 {_reason(408)}\r\nServer: {_SERVER}\r\n"
        f"Date: {formatdate(usegmt=True)}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"X-Request-Id: {request_id}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _json_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except RecursionError:
        raise ApiError(400, "VALIDATION_ERROR", "Malformed JSON body: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "VALIDATION_ERROR", f"Malformed JSON body: {exc}") from None
