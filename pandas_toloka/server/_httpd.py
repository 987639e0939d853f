"""The listening server: a bounded pool of connection threads.

One daemon thread serves each connection, but never more than
``limits.max_connections`` at once: beyond that, accepted connections wait in
the accept loop (and further ones in the kernel's listen backlog) until a
thread is free. With the handler's read deadlines, slow clients cannot hold
threads for long, and many of them cannot make the server start more threads.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
from typing import TYPE_CHECKING, Any

from ._limits import Limits, Network
from ._network import Link

if TYPE_CHECKING:
    from ._endpoints import Context

__all__ = ["HTTPServer"]

logger = logging.getLogger(__name__)


class HTTPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A threaded TCP server that knows its context, token, log, limits and link."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        context: Context,
        token: str,
        request_log: Any,
        *,
        limits: Limits | None = None,
        network: Network | None = None,
    ) -> None:
        from ._http import Handler

        self.context = context
        self.token = token
        self.request_log = request_log
        self.limits = limits if limits is not None else Limits()
        self.link = Link(network if network is not None else Network())
        self.closing = False
        #: Accepted connections waiting for a thread (only the accept loop changes it).
        self.waiting = 0
        self._slots = threading.BoundedSemaphore(self.limits.max_connections)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    @property
    def network(self) -> Network:
        return self.link.network

    def process_request(self, request: Any, client_address: Any) -> None:
        # Wait for a free connection thread (idle keep-alive connections see ``waiting``
        # and give theirs up); poll so that shutdown() is not held up.
        if not self._slots.acquire(blocking=False):
            self.waiting += 1
            try:
                while not self._slots.acquire(timeout=0.05):
                    if self.closing:
                        self.shutdown_request(request)
                        return
            finally:
                self.waiting -= 1
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            self.shutdown_request(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Called inside the except clause of a connection thread: log, never print.
        logger.warning("connection from %s failed", client_address[0], exc_info=True)

    def shutdown(self) -> None:
        self.closing = True
        super().shutdown()

    def close_connections(self) -> None:
        """Shut down every open client connection (idle keep-alive ones included)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
