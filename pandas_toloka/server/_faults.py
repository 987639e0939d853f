"""Fault injection: make a running server misbehave on purpose, for client tests.

``server.faults`` is a :class:`Faults`. Each :meth:`Faults.add` queues a fault
that hits the next ``count`` authenticated requests matching its optional
``method`` and ``path`` (prefix) filters; the first queued fault that matches a
request is used and loses one count. A request without the token is answered
401 and uses up no fault.
"""

from __future__ import annotations

import collections
import logging
import math
import re
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidArgumentError

__all__ = [
    "ANSWER_FAULTS",
    "FAULT_KINDS",
    "REQUEST_FAULTS",
    "Fault",
    "Faults",
    "RateLimiter",
    "gzip_bomb_chunks",
    "spoiled_body",
]

#: Faults that spoil the answer of a request the server really ran (a hostile server or a
#: broken proxy): its body replaced or altered, or sent in a way no client should wait for.
ANSWER_FAULTS = frozenset({"gzip_bomb", "trickle", "deep_json", "nan", "null_items"})
#: Faults that act on the HTTP exchange itself.
REQUEST_FAULTS = frozenset({"rate_limit", "server_error", "drop", "slow", "hold"}) | ANSWER_FAULTS
#: ``fail_operation`` makes the operation started by a matching POST end in ``FAIL``.
FAULT_KINDS = REQUEST_FAULTS | {"fail_operation"}

_INTERVALS = ("MIN", "HOUR", "DAY")

logger = logging.getLogger(__name__)


@dataclass
class Fault:
    """One queued fault; ``remaining`` counts the requests it still hits."""

    kind: str
    remaining: int
    method: str | None = None
    path: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    #: Set once a request is held by this fault (kind ``hold``): a test waits on it, not on time.
    held: threading.Event = field(
        default_factory=threading.Event, init=False, repr=False, compare=False
    )
    _released: threading.Event = field(
        default_factory=threading.Event, init=False, repr=False, compare=False
    )

    def release(self) -> None:
        """Let the requests held by this ``hold`` fault go on, and those it holds later."""
        self._released.set()

    def hold(self) -> None:
        """Hold a request (in its worker thread) until :meth:`release`, or ``timeout`` seconds."""
        self.held.set()
        if not self._released.wait(float(self.params["timeout"])):
            logger.warning(
                "a held request was never released: answered after %g s", self.params["timeout"]
            )

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request (path without the query)."""
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or path.startswith(self.path)


_CONSTANTS = ("NaN", "Infinity", "-Infinity")
_CONFIDENCE = re.compile(rb'("confidence"[ ]*:[ ]*)-?[0-9][0-9.eE+-]*')
_NUMBER = re.compile(rb'("[^"\\]*"[ ]*:[ ]*)-?[0-9][0-9.eE+-]*')  # a member's number


def spoiled_body(kind: str, params: dict[str, Any], body: bytes) -> bytes:
    """The body an answer fault (``deep_json``, ``nan``, ``null_items``) sends instead of ``body``."""
    if kind == "deep_json":
        depth = int(params["depth"])
        return b'{"deep": ' + b"[" * depth + b"]" * depth + b"}"
    if kind == "null_items":
        return b'{"items": null, "has_more": false}'
    if kind == "nan":
        constant = str(params["constant"]).encode()
        for pattern in (_CONFIDENCE, _NUMBER):
            spoiled, found = pattern.subn(lambda m: m.group(1) + constant, body, count=1)
            if found:
                return spoiled
        return body[:-1] + b', "number": ' + constant + b"}" if body.endswith(b"}") else body
    raise ValueError(f"{kind!r} does not replace a body")


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


def gzip_bomb_chunks(size: int, piece: int = 1 << 20) -> Iterator[bytes]:
    """A gzip stream of ``size`` zero bytes, about 1/1000 of it, made as it is sent.

    One piece of zeros is deflated once, ending in a full flush (no history
    carried over), so the same compressed block stands for every piece; the
    last piece ends the stream, and the trailer carries the CRC and size.
    """
    zeros = bytes(piece)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    yield _GZIP_HEADER
    crc, left = 0, size
    while left > piece:
        crc = zlib.crc32(zeros, crc)
        left -= piece
        yield block
    last = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    yield last.compress(zeros[:left]) + last.flush()
    crc = zlib.crc32(zeros[:left], crc)
    yield struct.pack("<II", crc, size & 0xFFFFFFFF)


class RateLimiter:
    """Sliding-window quotas, by default Toloka's 5/min, 30/h, 200/day.

    Parameters
    ----------
    limits : sequence of (interval, seconds, max_count)
        The windows; the first one exhausted is reported.
    """

    DEFAULT_LIMITS = (("MIN", 60.0, 5), ("HOUR", 3600.0, 30), ("DAY", 86400.0, 200))

    def __init__(self, limits: tuple[tuple[str, float, int], ...] = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._times: collections.deque[float] = collections.deque()

    def acquire(self, now: float | None = None) -> tuple[str, int] | None:
        """Count one request; return ``(interval, retry_after_seconds)`` if over quota."""
        now = time.monotonic() if now is None else now
        longest = max(seconds for _, seconds, _ in self.limits)
        with self._lock:
            while self._times and self._times[0] <= now - longest:
                self._times.popleft()
            for interval, seconds, max_count in self.limits:
                in_window = [t for t in self._times if t > now - seconds]
                if len(in_window) >= max_count:
                    wait = in_window[-max_count] + seconds - now
                    return interval, max(1, math.ceil(wait))
            self._times.append(now)
            return None

    def reset(self) -> None:
        """Forget every counted request."""
        with self._lock:
            self._times.clear()


class Faults:
    """The fault switchboard of one server.

    Attributes
    ----------
    latency : float
        Seconds added to every authenticated answer, on top of the server's
        ``Network.latency`` (``latency=`` of the server); unlike that one, it
        can be changed while the server runs (for benchmarks). Both are waited
        in one place, before the answer is sent.
    enforce_rate_limits : bool
        When true, aggregation POSTs beyond 5/min, 30/h or 200/day get
        429 ``TOO_MANY_REQUESTS`` with ``payload.interval`` and ``Retry-After``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._holds: list[Fault] = []  # until released: clear() and the server's stop let them go
        self.latency = 0.0
        self.enforce_rate_limits = False
        self.rate_limiter = RateLimiter()

    def add(
        self,
        kind: str,
        *,
        count: int = 1,
        method: str | None = None,
        path: str | None = None,
        **params: Any,
    ) -> Fault:
        """Queue a fault for the next ``count`` matching requests.

        Parameters
        ----------
        kind : {"rate_limit", "server_error", "drop", "slow", "hold", "fail_operation", \
"gzip_bomb", "trickle", "deep_json", "nan", "null_items"}
            ``rate_limit``: 429 ``TOO_MANY_REQUESTS``; params ``retry_after``
            (seconds, sent as the ``Retry-After`` header) and/or ``interval``
            (``MIN``/``HOUR``/``DAY``, sent as ``payload.interval``); with neither,
            ``Retry-After: 1``. ``server_error``: param ``status`` (default 500;
            500 → ``INTERNAL_ERROR``, 503 → ``REMOTE_SERVICE_UNAVAILABLE``), optional
            ``retry_after``. ``drop``: the request is served, but only the headers and
            part of the body are sent before the connection is closed. ``slow``: param
            ``delay`` (seconds, default 1) slept before answering normally. ``hold``:
            the request waits, before it runs, until the returned fault's
            ``release()`` (or :meth:`release_held`, or the server's stop), then is
            answered normally; at most param ``timeout`` seconds (default 60). The
            fault's ``held`` event is set once it holds a request: a test waits on
            it, then acts while the request is provably held.
            ``fail_operation``: the operation started by the matching aggregation
            POST ends in ``FAIL``. The answer faults run the request, then spoil
            its answer: ``gzip_bomb``: a gzip body that inflates to param ``size``
            bytes (default 2 GiB) of zeros, with param ``status`` (default 200),
            compressed as it is sent (about 2 MB on the wire per 2 GiB);
            ``trickle``: the answer's body sent one byte every param ``interval``
            seconds (default 0.5), with param ``head=True`` its status line and
            headers too; ``deep_json``: the body is an object nested param
            ``depth`` levels deep (default 100,000); ``nan``: the first number of the
            body (a ``confidence`` when there is one) becomes param ``constant``
            (``NaN``, ``Infinity`` or ``-Infinity``; default ``NaN``), which JSON does
            not have; ``null_items``: the body is ``{"items": null, "has_more":
            false}``.
        count : int
            How many matching requests the fault hits.
        method : str, optional
            Only requests with this HTTP method.
        path : str, optional
            Only requests whose path starts with this, e.g. ``"/api/v1/operations"``.

        Returns
        -------
        Fault
            The queued fault (its ``remaining`` drops as it hits).
        """
        if kind not in FAULT_KINDS:
            raise InvalidArgumentError(
                f"Unknown fault kind {kind!r}; use one of {sorted(FAULT_KINDS)}"
            )
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidArgumentError(f"count must be a positive int, got {count!r}")
        allowed = {
            "rate_limit": {"retry_after", "interval"},
            "server_error": {"status", "retry_after"},
            "drop": set(),
            "slow": {"delay"},
            "hold": {"timeout"},
            "fail_operation": {"message"},
            "gzip_bomb": {"size", "status"},
            "trickle": {"interval", "head"},
            "deep_json": {"depth"},
            "nan": {"constant"},
            "null_items": set(),
        }[kind]
        unknown = set(params) - allowed
        if unknown:
            raise InvalidArgumentError(f"Fault {kind!r} takes no parameter(s) {sorted(unknown)}")
        if kind == "rate_limit" and params.get("interval") not in (None, *_INTERVALS):
            raise InvalidArgumentError(
                f"interval must be one of {_INTERVALS}, got {params['interval']!r}"
            )
        if kind == "server_error":
            status = params.setdefault("status", 500)
            if not isinstance(status, int) or not 500 <= status <= 599:
                raise InvalidArgumentError(f"status must be a 5xx int, got {status!r}")
        if kind == "slow":
            params.setdefault("delay", 1.0)
        if kind == "hold":
            timeout = params.setdefault("timeout", 60.0)
            if (
                isinstance(timeout, bool)
                or not isinstance(timeout, (int, float))
                or not 0 < timeout < math.inf
            ):
                raise InvalidArgumentError(
                    f"timeout must be a positive number of seconds, got {timeout!r}"
                )
        if kind == "gzip_bomb":
            params.setdefault("size", 2 << 30)
            params.setdefault("status", 200)
            if not isinstance(params["status"], int) or not 200 <= params["status"] <= 599:
                raise InvalidArgumentError(
                    f"status must be an HTTP status, got {params['status']!r}"
                )
        if kind == "trickle":
            params.setdefault("interval", 0.5)
            params.setdefault("head", False)
        if kind == "deep_json":
            params.setdefault("depth", 100_000)
        if kind == "nan" and params.setdefault("constant", "NaN") not in _CONSTANTS:
            raise InvalidArgumentError(
                f"constant must be one of {_CONSTANTS}, got {params['constant']!r}"
            )
        fault = Fault(kind, count, method.upper() if method else None, path, dict(params))
        with self._lock:
            self._faults.append(fault)
            if kind == "hold":
                self._holds.append(fault)
        return fault

    def release_held(self) -> None:
        """Let every request held by a ``hold`` fault go on (the server's stop calls it)."""
        with self._lock:
            holds, self._holds = self._holds, []
        for fault in holds:
            fault.release()

    def clear(self) -> None:
        """Drop every queued fault, the latency and the rate-limit history; release held requests."""
        with self._lock:
            self._faults.clear()
        self.release_held()
        self.latency = 0.0
        self.enforce_rate_limits = False
        self.rate_limiter.reset()

    @property
    def pending(self) -> list[Fault]:
        """The faults still queued (a copy)."""
        with self._lock:
            return list(self._faults)

    def take(
        self, method: str, path: str, *, kinds: frozenset[str] = REQUEST_FAULTS
    ) -> Fault | None:
        """Consume one hit of the first queued fault of ``kinds`` matching the request."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def __repr__(self) -> str:
        return (
            f"Faults(pending={[(f.kind, f.remaining) for f in self.pending]}, "
            f"latency={self.latency}, enforce_rate_limits={self.enforce_rate_limits})"
        )
