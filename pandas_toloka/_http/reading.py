"""Reading one answer's body within the client's bounds: its decoded size and a deadline.

:func:`read_body` reads a streamed :class:`requests.Response` (``stream=True``)
one socket read at a time, through urllib3's decoder, which inflates a
compressed body at most ``limit + 1`` bytes at a time. So a body that inflates
past the limit (a gzip bomb, an endless answer) is refused while it is read,
with no more than about the limit in memory; and a body still arriving at the
deadline (an answer trickling a byte at a time, which never trips the per-read
timeout) is abandoned there. Each socket read waits at most the time left
before the deadline; while the status line and headers arrive,
:class:`DeadlineAdapter`'s connections shut the socket down at the deadline
(:func:`deadline_scope` says when), so headers trickled a byte at a time end
there too.

Pure of the retry rules: :func:`.attempt.exchange` says what a refused body
comes to.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
import urllib3.connection as u3connection
import urllib3.connectionpool as u3pool
import urllib3.exceptions as u3
from requests.adapters import HTTPAdapter

__all__ = [
    "CHUNK_BYTES",
    "DeadlineAdapter",
    "PastDeadline",
    "TooLarge",
    "deadline_scope",
    "read_body",
]

#: Decoded bytes asked for per read: the most one read adds to memory.
CHUNK_BYTES = 1 << 20


class TooLarge(Exception):
    """The decoded body passed ``limit`` bytes (``read`` of them were read before stopping)."""

    def __init__(self, limit: int, read: int) -> None:
        self.limit = limit
        self.read = read
        super().__init__(f"the answer passed {limit} bytes ({read} read)")


class PastDeadline(Exception):
    """The body was still arriving at the deadline (``read`` bytes had arrived)."""

    def __init__(self, read: int) -> None:
        self.read = read
        super().__init__(f"the answer was still arriving at the deadline ({read} bytes read)")


def read_body(response: requests.Response, *, limit: int, deadline: float) -> bytes:
    """The whole decoded body of ``response``, read within ``limit`` bytes and by ``deadline``.

    Parameters
    ----------
    response : requests.Response
        Sent with ``stream=True``, its body not yet read.
    limit : int
        The most decoded bytes accepted.
    deadline : float
        A :func:`time.monotonic` time by which the whole body must have arrived.

    Returns
    -------
    bytes
        The body; it is also stored in ``response`` (``response.content``).

    Raises
    ------
    TooLarge, PastDeadline
        The connection is closed (its unread rest is never read).
    requests.RequestException
        As :meth:`requests.Response.iter_content` raises them: a connection
        broken or timed out while reading, a body that does not decode.
    """
    raw = response.raw
    chunks: list[bytes] = []
    total = 0
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PastDeadline(total)
            _wait_at_most(raw, left)
            data = raw.read1(min(CHUNK_BYTES, limit - total + 1), decode_content=True)
            if not data:
                break
            total += len(data)
            if total > limit:
                raise TooLarge(limit, total)
            chunks.append(data)
    except (TooLarge, PastDeadline):
        response.close()
        raise
    except Exception as exc:
        response.close()
        raise _as_requests_error(exc, response) from exc
    content = b"".join(chunks)
    del chunks
    response._content = content  # requests' own cache: .content and .text work as usual
    response._content_consumed = True
    return content


def _wait_at_most(raw: Any, seconds: float) -> None:
    """Make the next socket read wait at most ``seconds`` (its read timeout, when shorter)."""
    connection = getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if not isinstance(sock, socket.socket):
        return
    current = sock.gettimeout()
    if current is None or current > seconds:
        sock.settimeout(max(seconds, 0.001))


def _as_requests_error(exc: BaseException, response: requests.Response) -> BaseException:
    """urllib3's reading errors as requests words them (what :func:`.attempt.exchange` sorts)."""
    if isinstance(exc, requests.RequestException):
        return exc
    if isinstance(exc, (u3.ReadTimeoutError, socket.timeout, TimeoutError)):
        return requests.ReadTimeout(exc, response=response)
    if isinstance(exc, u3.DecodeError):
        return requests.exceptions.ContentDecodingError(exc, response=response)
    if isinstance(exc, (u3.ProtocolError, u3.SSLError, OSError, u3.HTTPError)):
        return requests.exceptions.ChunkedEncodingError(exc, response=response)
    return exc


# --- the deadline while waiting for the status line and headers ------------------------

_local = threading.local()


@contextlib.contextmanager
def deadline_scope(deadline: float) -> Iterator[None]:
    """Requests sent in this block, on this thread, stop waiting for headers at ``deadline``."""
    _local.deadline = deadline
    try:
        yield
    finally:
        _local.deadline = None


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watched:
    """``getresponse`` watched: the socket is shut down when the request's deadline passes.

    A server trickling its status line and headers a byte at a time never trips
    the per-read timeout; shutting the socket down ends the wait at the deadline.
    """

    def getresponse(self) -> Any:
        deadline = getattr(_local, "deadline", None)
        sock = getattr(self, "sock", None)
        if deadline is None or not isinstance(sock, socket.socket):
            return super().getresponse()  # type: ignore[misc]
        timer = threading.Timer(max(deadline - time.monotonic(), 0.0), _shut, (sock,))
        timer.daemon = True
        timer.start()
        try:
            return super().getresponse()  # type: ignore[misc]
        finally:
            timer.cancel()


class _HTTPConnection(_Watched, u3connection.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, u3connection.HTTPSConnection):
    pass


class _HTTPPool(u3pool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(u3pool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections honour :func:`deadline_scope` (proxied ones too)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager
