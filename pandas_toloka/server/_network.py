"""How answers leave the server: gzip when asked for, and a simulated link.

:func:`accepts_gzip` reads ``Accept-Encoding`` as RFC 9110 defines it;
:func:`gzip_body` compresses; :class:`Link` paces writes to a bandwidth shared by
every connection and waits the per-answer latency, so that benchmarks can see what
a reader does over a real network (e.g. 100 Mbit/s and 50 ms) without one. The
link is the server's one place that delays answers.
"""

from __future__ import annotations

import socket
import threading
import time
import zlib

from ._limits import Network

__all__ = ["Link", "accepts_gzip", "gzip_body"]

#: Bytes written at a time on a bandwidth-capped link (about 1 ms at 100 Mbit/s).
_CHUNK = 16 * 1024


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (``gzip`` or ``*`` with q > 0)."""
    if not header:
        return False
    weights: dict[str, float] = {}
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[name.strip().lower()] = q
    if "gzip" in weights:
        return weights["gzip"] > 0
    if "x-gzip" in weights:
        return weights["x-gzip"] > 0
    return weights.get("*", 0.0) > 0


def gzip_body(data: bytes, level: int) -> bytes:
    """``data`` as one gzip member."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


class Link:
    """The simulated network between the server and its clients.

    The caller's ``latency`` (``Network.latency`` plus ``Faults.latency``, for an
    authenticated request) is waited once per answer, before its first byte;
    ``bandwidth`` (bytes per second) is shared by all connections: each chunk
    reserves the next free slot of the link, as packets queue on a real one.
    """

    def __init__(self, network: Network) -> None:
        self.network = network
        self._lock = threading.Lock()
        self._free_at = 0.0

    def send(self, sock: socket.socket, data: bytes, *, latency: float = 0.0) -> None:
        """Wait ``latency`` seconds, then write ``data`` (a whole answer) as the link allows."""
        if latency > 0:
            time.sleep(latency)
        bandwidth = self.network.bandwidth
        if bandwidth is None:
            sock.sendall(data)
            return
        view = memoryview(data)
        for start in range(0, len(view), _CHUNK):
            chunk = view[start : start + _CHUNK]
            with self._lock:
                now = time.monotonic()
                begin = max(now, self._free_at)
                self._free_at = begin + len(chunk) / bandwidth
                done = self._free_at
            wait = done - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            sock.sendall(chunk)
