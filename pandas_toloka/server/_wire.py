"""Reading requests off the socket within the server's limits.

Everything here reads at most what :class:`~._limits.Limits` allows and within
a deadline, so neither a huge request nor a slow client can hold memory or a
thread for long: a request line longer than allowed is 414, a header block too
big or with too many fields 431, a body over the limit 413 (a declared length
before any of it is read), a client too slow 408.
"""

from __future__ import annotations

import email.parser
import io
import re
import socket
import time
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import Any

from ._errors import ApiError
from ._limits import Limits

__all__ = ["DeadlineReader", "Framing", "Head", "framing", "read_body", "read_head"]

#: Methods routed to the API (others are 501).
KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_METHOD = re.compile(r"[A-Z][A-Z0-9_-]{0,31}", re.ASCII)
_VERSION = re.compile(r"HTTP/(\d)\.(\d)", re.ASCII)
_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)
_HEX = re.compile(r"[0-9A-Fa-f]{1,16}", re.ASCII)


def transport_error(status: int, message: str) -> ApiError:
    """An error found while reading a request: always closes the connection."""
    code = "METHOD_NOT_ALLOWED" if status == 501 else "VALIDATION_ERROR"
    return ApiError(status, code, message, headers={"Connection": "close"})


class DeadlineReader(io.RawIOBase):
    """A socket reader that gives up at a deadline, however slowly bytes trickle in.

    A per-``recv`` timeout alone lets a client that sends one byte a second
    keep a thread forever; here every read is bounded by what remains until
    :attr:`deadline` (``time.monotonic()`` seconds), and past it raises
    :class:`TimeoutError`. Unlike :class:`socket.SocketIO`, a timeout leaves the
    reader usable, so the idle wait between requests can poll.
    """

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._socket = sock
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.deadline is None:
            self._socket.settimeout(None)
        else:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the client was too slow")
            self._socket.settimeout(remaining)
        return self._socket.recv_into(b)


def buffered(sock: socket.socket) -> tuple[io.BufferedReader, DeadlineReader]:
    """A buffered reader over ``sock`` and its deadline-bearing raw reader."""
    raw = DeadlineReader(sock)
    return io.BufferedReader(raw, io.DEFAULT_BUFFER_SIZE), raw


@dataclass
class Head:
    """The request line and headers of one request."""

    method: str
    target: str
    version: tuple[int, int]
    headers: HTTPMessage

    @property
    def keep_alive(self) -> bool:
        """Whether the client wants the connection kept open after the answer."""
        tokens = {t.strip().lower() for t in (self.headers.get("Connection") or "").split(",")}
        if self.version >= (1, 1):
            return "close" not in tokens
        return "keep-alive" in tokens


def read_head(rfile: io.BufferedReader, limits: Limits) -> Head | None:
    """Read the request line and headers; ``None`` if the client closed cleanly first.

    Raises
    ------
    ApiError
        400 for a malformed request line or header, 414, 431, 501 or 505.
    TimeoutError
        If the deadline set by the caller passes.
    """
    line = rfile.readline(limits.max_request_line + 1)
    if line in (b"\r\n", b"\n"):  # one empty line before a request is tolerated (RFC 9112)
        line = rfile.readline(limits.max_request_line + 1)
    if not line:
        return None
    if len(line) > limits.max_request_line:
        raise transport_error(
            414, f"Request line longer than {limits.max_request_line} bytes (max_request_line)"
        )
    if not line.endswith(b"\n"):
        raise transport_error(400, "Incomplete request line")
    words = line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(words) != 3 or not all(words):
        raise transport_error(400, "Malformed request line: expected 'METHOD /path HTTP/1.1'")
    method, target, version_text = words
    version = _VERSION.fullmatch(version_text)
    if version is None:
        raise transport_error(400, f"Malformed HTTP version {version_text[:20]!r}")
    if version.group(1) != "1":
        raise transport_error(505, f"HTTP version {version_text} is not supported; use HTTP/1.1")
    if not _METHOD.fullmatch(method) or method not in KNOWN_METHODS:
        raise transport_error(501, f"Method {method[:32]!r} is not supported")
    if not target.startswith("/"):
        raise transport_error(400, "The request target must be a path starting with '/'")
    headers = _read_headers(rfile, limits)
    return Head(method, target, (1, int(version.group(2))), headers)


def _read_headers(rfile: io.BufferedReader, limits: Limits) -> HTTPMessage:
    lines: list[bytes] = []
    budget = limits.max_header_bytes
    while True:
        line = rfile.readline(budget + 1)
        if not line:
            raise transport_error(400, "Connection closed in the middle of the headers")
        budget -= len(line)
        if budget < 0:
            raise transport_error(
                431, f"Header block larger than {limits.max_header_bytes} bytes (max_header_bytes)"
            )
        if line in (b"\r\n", b"\n"):
            break
        if not line.endswith(b"\n"):
            raise transport_error(400, "Incomplete header line")
        if line[:1] in (b" ", b"\t") or b":" not in line:
            raise transport_error(400, "Malformed header line")
        lines.append(line)
        if len(lines) > limits.max_headers:
            raise transport_error(
                431, f"More than {limits.max_headers} header fields (max_headers)"
            )
    text = b"".join(lines).decode("latin-1")
    return email.parser.Parser(_class=HTTPMessage).parsestr(text)


@dataclass(frozen=True)
class Framing:
    """How the request body is delimited: a length, chunked, or no body."""

    length: int = 0
    chunked: bool = False

    @property
    def has_body(self) -> bool:
        return self.chunked or self.length > 0


def framing(headers: HTTPMessage, limits: Limits) -> Framing:
    """The body framing of a request, checked against ``max_body_bytes`` before reading.

    Raises
    ------
    ApiError
        400 for a malformed ``Content-Length`` or ``Transfer-Encoding``; 413 for a
        declared length over the limit.
    """
    encoding = headers.get_all("Transfer-Encoding") or []
    lengths = headers.get_all("Content-Length") or []
    if encoding:
        codings = [c.strip().lower() for value in encoding for c in value.split(",")]
        if codings != ["chunked"]:
            raise transport_error(400, f"Unsupported Transfer-Encoding {', '.join(encoding)!r}")
        if lengths:
            raise transport_error(400, "Both Content-Length and Transfer-Encoding were sent")
        return Framing(chunked=True)
    if not lengths:
        return Framing()
    values = {v.strip() for v in lengths}
    text = lengths[0].strip()
    if len(values) != 1 or not _DIGITS.fullmatch(text):
        raise transport_error(400, f"Invalid Content-Length header: {lengths[0][:40]!r}")
    length = int(text)
    if length > limits.max_body_bytes:
        raise _too_large(limits)
    return Framing(length=length)


def _too_large(limits: Limits) -> ApiError:
    return transport_error(
        413, f"Request body larger than {limits.max_body_bytes} bytes (max_body_bytes)"
    )


def read_body(rfile: io.BufferedReader, frame: Framing, limits: Limits) -> bytes:
    """Read a body framed as :func:`framing` found; 400 if it is cut short or malformed."""
    if frame.chunked:
        return _read_chunked(rfile, limits)
    if not frame.length:
        return b""
    data = rfile.read(frame.length)
    if len(data) != frame.length:
        raise transport_error(400, "Connection closed before the whole body was sent")
    return data


def _read_chunked(rfile: io.BufferedReader, limits: Limits) -> bytes:
    body = bytearray()
    while True:
        line = rfile.readline(1025)
        size_text = line.split(b";", 1)[0].strip().decode("latin-1")
        if not line.endswith(b"\n") or not _HEX.fullmatch(size_text):
            raise transport_error(400, "Malformed chunked request body")
        size = int(size_text, 16)
        if size == 0:
            for _ in range(limits.max_headers + 1):  # trailer fields, ignored
                trailer = rfile.readline(limits.max_header_bytes + 1)
                if trailer in (b"\r\n", b"\n", b""):
                    return bytes(body)
            raise transport_error(431, "Too many trailer fields")
        if len(body) + size > limits.max_body_bytes:
            raise _too_large(limits)
        chunk = rfile.read(size)
        if len(chunk) != size or rfile.readline(3) not in (b"\r\n", b"\n"):
            raise transport_error(400, "Malformed chunked request body")
        body += chunk
