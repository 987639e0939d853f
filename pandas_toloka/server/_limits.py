"""The bundled server's resource limits and its simulated network, as plain settings.

:class:`Limits` bounds what any client (authenticated or not) can make the
server hold: request sizes, worker threads, open connections and how long a
connection may take to send a request, finished operations, the request log.
:class:`Network` says how answers travel: gzip, and an optional simulated latency and bandwidth.
Both are frozen and checked on construction, so a bad value is an
:class:`~pandas_toloka.errors.InvalidArgumentError` before the server starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ..errors import InvalidArgumentError

__all__ = ["Limits", "Network"]


def _check_positive(owner: object, name: str, *, integer: bool, allow_none: bool = False) -> None:
    value = getattr(owner, name)
    if value is None and allow_none:
        return
    kind = "a positive integer" if integer else "a positive number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(f"{name} must be {kind}, got {value!r}")
    if integer and not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be {kind}, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgumentError(f"{name} must be {kind}, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Resource limits of the bundled server (see the "Limits" section of docs/server.md).

    Parameters
    ----------
    max_body_bytes : int, default 1 MiB
        Largest request body; a larger ``Content-Length`` is answered 413 before
        any of the body is read (a chunked body is cut off at the limit).
    max_request_line : int, default 8 KiB
        Longest request line (method, path with query, version): 414 beyond.
    max_header_bytes : int, default 32 KiB
        Largest header block: 431 beyond.
    max_headers : int, default 100
        Most header fields: 431 beyond.
    max_connections : int, default 64
        Requests answered at once: the worker threads. Reading requests takes
        no thread (one I/O thread reads them all as their bytes arrive); a
        request read in full waits for a free worker.
    max_open_connections : int, default 1024
        Connections open at once, idle and half-sent ones included; further
        connections wait in the kernel's listen backlog until one closes.
    header_timeout : float, default 10
        Seconds a client has to send the request line and headers once it has
        started a request; slower ones get 408 and are closed (trickling
        bytes does not extend it).
    body_timeout : float, default 30
        Seconds a client has to send a request body.
    idle_timeout : float, default 30
        Seconds an idle keep-alive connection is kept open.
    max_finished_operations : int, default 32
        Finished (SUCCESS/FAIL) operations kept; the oldest finished is evicted first.
    operation_ttl : float, default 3600
        Seconds a finished operation is kept.
    max_active_operations : int, default 64
        Operations PENDING or RUNNING at once; a further ``aggregate-by-pool``
        is answered 429.
    request_log_size : int, default 10000
        Entries kept in ``server.request_log`` (the newest).
    """

    max_body_bytes: int = 1 << 20
    max_request_line: int = 8 << 10
    max_header_bytes: int = 32 << 10
    max_headers: int = 100
    max_connections: int = 64
    max_open_connections: int = 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    idle_timeout: float = 30.0
    max_finished_operations: int = 32
    operation_ttl: float = 3600.0
    max_active_operations: int = 64
    request_log_size: int = 10_000

    def __post_init__(self) -> None:
        for spec in fields(self):
            _check_positive(self, spec.name, integer=spec.type == "int")


@dataclass(frozen=True, kw_only=True)
class Network:
    """How answers travel: gzip, and a simulated network for benchmarks.

    Parameters
    ----------
    gzip : bool, default True
        Answer ``Accept-Encoding: gzip`` with a gzip body (bodies of at least
        ``gzip_min_bytes``), as production servers do.
    gzip_level : int, default 1
        zlib level: 1 makes a page of aggregated solutions ~4.8x smaller at
        ~140 MB/s; 6 saves 10 % more bytes for 3.3x the time, which would make the
        server the bottleneck (``benchmarks/bench_server.py``).
    gzip_min_bytes : int, default 1024
        Smaller bodies go uncompressed (gzip would not pay for its header).
    latency : float, default 0
        Seconds added to every answer before it is sent (a round trip).
    bandwidth : float, optional
        Bytes per second of a link shared by every connection; unlimited by default.
    """

    gzip: bool = True
    gzip_level: int = 1
    gzip_min_bytes: int = 1024
    latency: float = 0.0
    bandwidth: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.gzip, bool):
            raise InvalidArgumentError(f"gzip must be True or False, got {self.gzip!r}")
        if isinstance(self.gzip_level, bool) or self.gzip_level not in range(1, 10):
            raise InvalidArgumentError(
                f"gzip_level must be an integer 1..9, got {self.gzip_level!r}"
            )
        if (
            isinstance(self.gzip_min_bytes, bool)
            or not isinstance(self.gzip_min_bytes, int)
            or self.gzip_min_bytes < 0
        ):
            raise InvalidArgumentError(
                f"gzip_min_bytes must be a non-negative integer, got {self.gzip_min_bytes!r}"
            )
        latency = self.latency
        if (
            isinstance(latency, bool)
            or not isinstance(latency, (int, float))
            or not math.isfinite(latency)
            or latency < 0
        ):
            raise InvalidArgumentError(f"latency must be a number of seconds >= 0, got {latency!r}")
        _check_positive(self, "bandwidth", integer=False, allow_none=True)
