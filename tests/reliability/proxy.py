"""A misbehaving HTTP proxy on 127.0.0.1, in front of the bundled server, for fault tests.

Only for what the bundled server's own fault injection (``server.faults``:
rate limits, 5xx, dropped answers, slow answers, failed operations) cannot do:
bodies cut at a chosen byte with each framing, a page replayed, a connection
reset before or after the server saw the request, a body replaced, an answer
held back after the server processed the request. It matches requests with the
server's own :class:`~pandas_toloka.server._faults.Fault`. Other fake servers
are tests/fakes.py's one ``FakeServer``.

The client talks to the proxy as if it were the server (``url=proxy.url``).
Every request is forwarded to the upstream server over a fresh connection
(asking for an unencoded body, so cuts fall on JSON bytes -- or, with
``identity=False``, passing the client's gzip through, so cuts fall on
compressed bytes); the answer is
passed back, unless a queued :class:`ProxyFault` that matches the request
changes what the client gets:

``cut``
    The body cut after ``at`` bytes (an int, or a function of the body giving
    the position, e.g. :func:`after_item`). ``framing`` says how the client
    learns of it: ``"close"`` (no ``Content-Length``; the connection closes,
    so only the body's own structure can tell), ``"short"`` (the full
    ``Content-Length``, then the connection closes early) or ``"lie"``
    (a ``Content-Length`` of the cut body: a proxy that truncates and hides it).
``replay``
    The previous answer to the same path (query ignored) instead of this one's:
    a page sent twice.
``reset_before`` / ``reset_after``
    The client's connection reset before the request is forwarded (the server
    never sees it) or after the server processed it (the answer is lost: a
    start request that succeeded on the server but failed on the wire).
``body``
    A 200 answer with ``body`` (bytes) instead of the server's: invalid JSON or
    JSON of the wrong shape.
``delay``
    The server's answer held back ``seconds`` (past the client's read timeout).

Bounded: a thread per connection, daemon threads, and every upstream call
has a timeout.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pandas_toloka.server._faults import Fault as ProxyFault  # same matching rules

KINDS = ("cut", "replay", "reset_before", "reset_after", "body", "delay")
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


def after_item(n: int = 1) -> Callable[[bytes], int]:
    """A cut position: just after the ``n``-th item of the body's ``items`` list."""

    def position(body: bytes) -> int:
        start = 0
        for _ in range(n):
            start = body.index(b"},{", start) + 1
        return start  # the byte after the item's closing brace

    return position


class FaultyProxy:
    """The proxy; a context manager. ``url`` is its base URL."""

    def __init__(self, upstream: str, *, identity: bool = True) -> None:
        self.identity = identity  # ask for unencoded bodies; else pass gzip through as is
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.log: list[tuple[str, str]] = []
        self.gzipped = 0  # answers passed on gzip-encoded
        self._faults: list[ProxyFault] = []
        self._last: dict[str, tuple[int, str, list[tuple[str, str]], bytes]] = {}
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30

            def handle(self) -> None:
                while proxy._serve_one(self):
                    pass

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ------------------------------------------------------------------ control

    def add(
        self,
        kind: str,
        count: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        **params: Any,
    ) -> ProxyFault:
        """Queue a fault for the next ``count`` requests matching ``method`` and ``path``."""
        assert kind in KINDS, kind
        fault = ProxyFault(kind, count, method.upper() if method else None, path, params)
        with self._lock:
            self._faults.append(fault)
        return fault

    def pending(self) -> list[ProxyFault]:
        with self._lock:
            return list(self._faults)

    def _take(self, method: str, path: str) -> ProxyFault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # ------------------------------------------------------------------ serving

    def _serve_one(self, handler: socketserver.StreamRequestHandler) -> bool:
        """Serve one request of a connection; False when the connection is done."""
        rfile, sock = handler.rfile, handler.connection
        try:
            line = rfile.readline(65537)
        except OSError:
            return False
        if not line.strip():
            return False
        method, target, _ = line.decode("latin-1").split(" ", 2)
        headers: list[tuple[str, str]] = []
        while True:
            raw = rfile.readline(65537).decode("latin-1")
            if raw in ("\r\n", "\n", ""):
                break
            name, _, value = raw.partition(":")
            headers.append((name.strip(), value.strip()))
        length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
        body = rfile.read(length) if length else b""
        path = target.split("?", 1)[0]
        self.log.append((method, target))
        fault = self._take(method, path)
        kind = fault.kind if fault else None
        if kind == "reset_before":
            _reset(sock)
            return False
        status, reason, answer_headers, data = self._forward(method, target, headers, body)
        if any(k.lower() == "content-encoding" and "gzip" in v for k, v in answer_headers):
            self.gzipped += 1
        with self._lock:
            previous = self._last.get(path)
            self._last[path] = (status, reason, answer_headers, data)
        if kind == "reset_after":
            _reset(sock)
            return False
        if kind == "replay" and previous is not None:
            status, reason, answer_headers, data = previous
        if kind == "body":
            status, reason, data = 200, "OK", fault.params["body"]  # type: ignore[union-attr]
        if kind == "delay":
            time.sleep(fault.params.get("seconds", 1.0))  # type: ignore[union-attr]
        framing = "length"
        if kind == "cut":
            at = fault.params["at"]  # type: ignore[union-attr]
            position = at(data) if callable(at) else int(at)
            framing = fault.params.get("framing", "close")  # type: ignore[union-attr]
            full = len(data)
            data = data[:position]
        head = [f"HTTP/1.1 {status} {reason}"]
        head += [
            f"{k}: {v}"
            for k, v in answer_headers
            if k.lower() not in _HOP or (k.lower() == "content-encoding" and not self.identity)
        ]
        if framing == "close":
            head.append("Connection: close")
        elif framing == "short":
            head += [f"Content-Length: {full}", "Connection: close"]
        else:
            head.append(f"Content-Length: {len(data)}")
        try:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
        except OSError:
            return False
        if framing != "length" or kind == "cut":
            sock.shutdown(socket.SHUT_WR)
            return False
        return True

    def _forward(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            dropped = _HOP | {"host"} | ({"accept-encoding"} if self.identity else set())
            sent = {k: v for k, v in headers if k.lower() not in dropped}
            if self.identity:
                sent["Accept-Encoding"] = "identity"
            connection.request(method, target, body=body or None, headers=sent)
            response = connection.getresponse()
            data = response.read()
            return response.status, response.reason, response.getheaders(), data
        finally:
            connection.close()


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass
