"""Parsing requests from the bytes received, within the server's limits.

Everything here reads at most what :class:`~._limits.Limits` allows, from an
:class:`InputBuffer` of the bytes a connection has sent so far, and never
waits: when the bytes do not yet decide, it raises :class:`NeedMore` and the
I/O loop (:mod:`._httpd`) runs it again once more arrive. So neither a huge
request nor a slow client can hold memory or a thread: a request line longer
than allowed is 414, a header block too big or with too many fields 431, a
body over the limit 413 (a declared length before any of it is read); the
loop answers a client too slow 408.
"""

from __future__ import annotations

import email.parser
import re
from dataclasses import dataclass
from http.client import HTTPMessage

from ._errors import ApiError
from ._limits import Limits

__all__ = [
    "BodyReader",
    "Framing",
    "Head",
    "InputBuffer",
    "NeedMore",
    "framing",
    "read_head",
    "transport_error",
]

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


class NeedMore(Exception):
    """The bytes received so far do not decide the next read: wait for more.

    ``until`` is the buffer length at which the read is decided whatever the
    bytes are; a read of a line is also decided by a newline (``newline``).
    """

    def __init__(self, until: int, *, newline: bool) -> None:
        super().__init__(until)
        self.until = until
        self.newline = newline


class InputBuffer:
    """The bytes a connection has received, read like a file that never blocks.

    :meth:`readline` and :meth:`read` behave as those of
    :class:`io.BufferedReader` (a short result only at the end of the input,
    once :attr:`eof` is set), except that when the answer depends on bytes not
    yet received they raise :class:`NeedMore` instead of waiting. A parser run
    over it therefore decides exactly what it would decide over a blocking
    socket, byte for byte, and can simply be run again once more bytes arrive.
    """

    def __init__(self) -> None:
        self.data = bytearray()
        self.pos = 0
        self.eof = False

    def __len__(self) -> int:
        return len(self.data)

    def readline(self, limit: int) -> bytes:
        """A line of at most ``limit`` bytes (with its newline, when it fits)."""
        start = self.pos
        end = self.data.find(b"\n", start, start + limit)
        if end >= 0:
            stop = end + 1
        elif len(self.data) - start >= limit:
            stop = start + limit
        elif self.eof:
            stop = len(self.data)
        else:
            raise NeedMore(start + limit, newline=True)
        self.pos = stop
        return bytes(self.data[start:stop])

    def read(self, size: int) -> bytes:
        """``size`` bytes (fewer only at the end of the input)."""
        start = self.pos
        if len(self.data) - start < size and not self.eof:
            raise NeedMore(start + size, newline=False)
        stop = min(len(self.data), start + size)
        self.pos = stop
        return bytes(self.data[start:stop])

    def consume(self) -> None:
        """Forget the bytes read so far (keep what follows, e.g. a pipelined request)."""
        del self.data[: self.pos]
        self.pos = 0


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


def read_head(rfile: InputBuffer, limits: Limits) -> Head | None:
    """Read the request line and headers; ``None`` if the client closed cleanly first.

    Raises
    ------
    ApiError
        400 for a malformed request line or header, 414, 431, 501 or 505.
    NeedMore
        If the bytes received so far do not decide it (``rfile.pos`` is then
        left anywhere: reset it before running again).
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


def _read_headers(rfile: InputBuffer, limits: Limits) -> HTTPMessage:
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


class BodyReader:
    """Reads one request body framed as :func:`framing` found, resumably.

    :meth:`advance` reads as far as the bytes received allow and returns the
    whole body once it is there; when more bytes are needed it raises
    :class:`NeedMore` with the buffer left at the start of the unfinished step,
    so that calling it again after more bytes arrive goes on from there (a
    chunked body is read chunk by chunk, never again from its start). The
    limits and errors are those of a blocking read: 413 past
    ``max_body_bytes``, 400 for a body cut short or malformed chunks.
    """

    def __init__(self, frame: Framing, limits: Limits) -> None:
        self.frame = frame
        self.limits = limits
        self._body = bytearray()
        self._chunk: int | None = None  # the size of the chunk to read next, once known
        self._trailers = 0

    def advance(self, rfile: InputBuffer) -> bytes:
        """Read on; return the body, or raise :class:`NeedMore` / :class:`ApiError`."""
        if not self.frame.chunked:
            data = rfile.read(self.frame.length)
            if len(data) != self.frame.length:
                raise transport_error(400, "Connection closed before the whole body was sent")
            return data
        while True:
            mark = rfile.pos
            try:
                done = self._step(rfile)
            except NeedMore:
                rfile.pos = mark
                raise
            if done:
                return bytes(self._body)
            if rfile.pos > 64 * 1024:  # keep only the unread part of a long chunked body
                rfile.consume()

    def _step(self, rfile: InputBuffer) -> bool:
        limits = self.limits
        if self._chunk is None:  # a chunk-size line
            line = rfile.readline(1025)
            size_text = line.split(b";", 1)[0].strip().decode("latin-1")
            if not line.endswith(b"\n") or not _HEX.fullmatch(size_text):
                raise transport_error(400, "Malformed chunked request body")
            size = int(size_text, 16)
            if size and len(self._body) + size > limits.max_body_bytes:
                raise _too_large(limits)
            self._chunk = size
            return False
        if self._chunk == 0:  # trailer fields, ignored, up to the blank line
            if self._trailers > limits.max_headers:
                raise transport_error(431, "Too many trailer fields")
            trailer = rfile.readline(limits.max_header_bytes + 1)
            self._trailers += 1
            return trailer in (b"\r\n", b"\n", b"")
        chunk = rfile.read(self._chunk)
        if len(chunk) != self._chunk or rfile.readline(3) not in (b"\r\n", b"\n"):
            raise transport_error(400, "Malformed chunked request body")
        self._body += chunk
        self._chunk = None
        return False
