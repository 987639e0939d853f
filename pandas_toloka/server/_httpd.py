"""The listening server: one I/O thread reads requests, a bounded pool answers them.

The I/O thread (:meth:`HTTPServer.serve_forever`) accepts connections and reads
every request head and body with :mod:`selectors`, never blocking on a client:
the bytes a connection has sent are parsed as they arrive (:mod:`._wire`), so a
client that trickles its headers, or sits idle between requests, holds a few
bytes of buffer and no thread. Only a request read in full (or an error to
answer) goes to the worker pool (:class:`~._workers.Workers`, at most
``limits.max_connections`` threads), which writes the answer and hands the
connection back. Deadlines are checked by the I/O thread: a request whose
headers are not all there ``header_timeout`` seconds after its first byte, or
whose body takes longer than ``body_timeout``, is answered 408 and closed; an
idle keep-alive connection is closed after ``idle_timeout``. At most
``limits.max_open_connections`` connections are open at once; further ones
wait in the kernel's listen backlog.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import socket
import threading
import time
from collections import deque
from typing import Any

from ._endpoints import Context
from ._errors import ApiError
from ._http import Outcome, Prepared, Site, respond, timeout_answer
from ._limits import Limits, Network
from ._network import Link
from ._wire import BodyReader, Head, InputBuffer, NeedMore, framing, read_head
from ._workers import Workers

__all__ = ["HTTPServer"]

logger = logging.getLogger(__name__)

#: How much of an unread request body is drained before closing, so the client reads the answer.
_LINGER_BYTES = 256 * 1024
_LINGER_SECONDS = 0.5
#: Bytes taken off a socket per read.
_RECV_BYTES = 64 * 1024
#: How often deadlines are checked (seconds).
_TICK = 0.05
#: After running out of file descriptors, how long to stop accepting (seconds).
_ACCEPT_PAUSE = 0.1

# Connection states.
_IDLE = "idle"  # waiting for the first byte of a request
_HEAD = "head"  # reading the request line and headers
_BODY = "body"  # reading the body of an authenticated request
_BUSY = "busy"  # in a worker thread, being answered
_LINGER = "linger"  # answered early: draining what the client still sends, then closing


class _Connection:
    """One client connection and where its current request stands."""

    __slots__ = (
        "address",
        "body",
        "deadline",
        "drained",
        "head",
        "input",
        "prepared",
        "sock",
        "state",
        "wake_at",
        "wake_on_newline",
    )

    def __init__(self, sock: socket.socket, address: Any, idle_timeout: float) -> None:
        self.sock = sock
        self.address = address
        self.input = InputBuffer()
        self.state = _IDLE
        self.deadline = time.monotonic() + idle_timeout
        self.head: Head | None = None
        self.body: BodyReader | None = None
        self.prepared: Prepared | None = None
        self.wake_at = 0
        self.wake_on_newline = False
        self.drained = 0

    def fileno(self) -> int:
        return self.sock.fileno()


class HTTPServer:
    """The bundled server's HTTP/1.1 listener (see the module docstring).

    Parameters
    ----------
    address : (host, port)
    context : Context
        What the endpoints share.
    token : str
        The token every request must carry.
    request_log : RequestLog
        Where authenticated requests are recorded and every request is counted.
    limits, network : optional
        Resource limits and the simulated network; the defaults otherwise.
    """

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
        self.limits = limits if limits is not None else Limits()
        self.site = Site(
            context=context,
            token=token,
            request_log=request_log,
            limits=self.limits,
            link=Link(network if network is not None else Network()),
        )
        self.request_log = request_log
        self.closing = False
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind(address)
            self.socket.listen(min(socket.SOMAXCONN, 1024))
            self.socket.setblocking(False)
        except BaseException:
            self.socket.close()
            raise
        self.server_address: tuple[Any, ...] = self.socket.getsockname()
        self._workers = Workers(self.limits.max_connections)
        #: Open connections (read by tests: one keep-alive client is one connection).
        self._connections: dict[int, _Connection] = {}
        self._connections_lock = threading.Lock()
        self._returned: deque[tuple[_Connection, Outcome | None]] = deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._accepting = False
        self._accept_paused_until = 0.0
        self._stopped = threading.Event()
        self._stopped.set()

    @property
    def network(self) -> Network:
        return self.site.network

    @property
    def link(self) -> Link:
        return self.site.link

    # ------------------------------------------------------------------ lifecycle

    def serve_forever(self, poll_interval: float = _TICK) -> None:
        """Run the I/O loop until :meth:`shutdown`."""
        self._stopped.clear()
        selector = self._selector
        try:
            selector.register(self._wake_r, selectors.EVENT_READ, None)
            self._set_accepting(True)
            next_tick = time.monotonic() + _TICK
            while not self.closing:
                timeout = max(0.0, min(next_tick - time.monotonic(), poll_interval))
                for key, _ in selector.select(timeout):
                    if key.fileobj is self.socket:
                        self._guarded(self._accept)
                    elif key.fileobj is self._wake_r:
                        self._drain_wakeups()
                    else:
                        self._guarded(self._readable, key.data)
                self._guarded(self._take_back)
                now = time.monotonic()
                if now >= next_tick:
                    self._check_deadlines(now)
                    next_tick = now + _TICK
        finally:
            self._stopped.set()

    def _guarded(self, step: Any, connection: _Connection | None = None) -> None:
        """Run one step of the loop; a bug met on one connection closes it, not the server."""
        try:
            if connection is None:
                step()
            else:
                step(connection)
        except Exception:
            logger.exception("the server's I/O loop failed on a connection; closing it")
            if connection is not None and connection.state != _BUSY:  # a worker has it else
                self._close(connection)

    def shutdown(self) -> None:
        """Stop the I/O loop and wait for it to end."""
        self.closing = True
        self._wake()
        self._stopped.wait()

    def close_connections(self) -> None:
        """Shut down every open client connection (idle keep-alive ones included)."""
        with self._connections_lock:
            connections = list(self._connections.values())
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)
            if connection.state != _BUSY:  # a busy one fails in its worker; server_close closes it
                self._close(connection)

    def server_close(self) -> None:
        """Close the listening socket, every connection left and the loop's own resources."""
        with self._connections_lock:
            left = list(self._connections.values())
            self._connections.clear()
        for connection in left:
            with contextlib.suppress(OSError):
                connection.sock.close()
        self._returned.clear()
        self._selector.close()
        self.socket.close()
        self._wake_r.close()
        self._wake_w.close()

    # ------------------------------------------------------------------ the I/O thread

    def _set_accepting(self, on: bool) -> None:
        if on == self._accepting:
            return
        if on:
            self._selector.register(self.socket, selectors.EVENT_READ, None)
        else:
            self._selector.unregister(self.socket)
        self._accepting = on

    def _accept(self) -> None:
        while len(self._connections) < self.limits.max_open_connections:
            try:
                sock, address = self.socket.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    logger.warning(
                        "cannot accept a connection (%s): %d open; waiting",
                        exc.strerror,
                        len(self._connections),
                    )
                    self._accept_paused_until = time.monotonic() + _ACCEPT_PAUSE
                    self._set_accepting(False)
                    return
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                raise
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
            connection = _Connection(sock, address, self.limits.idle_timeout)
            with self._connections_lock:
                self._connections[id(connection)] = connection
            self._selector.register(sock, selectors.EVENT_READ, connection)
        self._set_accepting(False)  # full: the rest wait in the backlog

    def _readable(self, connection: _Connection) -> None:
        buffer = connection.input
        try:
            data = connection.sock.recv(_RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # reset by the client
            self._close(connection)
            return
        if connection.state == _LINGER:
            connection.drained += len(data)
            if not data or connection.drained >= _LINGER_BYTES:
                self._close(connection)
            return
        if not data:
            buffer.eof = True
        else:
            buffer.data += data
        if connection.state == _IDLE:
            if not buffer.data and buffer.eof:  # closed between requests
                self._close(connection)
                return
            self._start_request(connection)
        elif not (
            buffer.eof
            or len(buffer.data) >= connection.wake_at
            or (connection.wake_on_newline and b"\n" in data)
        ):
            return  # still undecided: parsing again would find what it found before
        self._advance(connection)

    def _start_request(self, connection: _Connection) -> None:
        connection.state = _HEAD
        connection.deadline = time.monotonic() + self.limits.header_timeout
        connection.head = connection.body = connection.prepared = None
        connection.wake_at, connection.wake_on_newline = 0, False

    def _advance(self, connection: _Connection) -> None:
        """Parse on as far as the bytes received allow; hand a whole request to a worker."""
        buffer = connection.input
        site = self.site
        if connection.state == _HEAD:
            buffer.pos = 0
            try:
                head = read_head(buffer, self.limits)
            except NeedMore as more:
                buffer.pos = 0
                self._wait_for(connection, more)
                return
            except ApiError as exc:  # a malformed or oversized request line or header block
                self.request_log.observe()
                self._dispatch(connection, Prepared(None, error=exc))
                return
            if head is None:  # the client closed before a request
                self._close(connection)
                return
            self.request_log.observe()
            buffer.consume()
            connection.head = head
            try:
                frame = framing(head.headers, self.limits)
            except ApiError as exc:
                self._dispatch(connection, Prepared(head, error=exc))
                return
            if not site.authenticated(head.headers):
                prepared = Prepared(head, has_body=frame.has_body, unread=frame.has_body)
                self._dispatch(connection, prepared)
                return
            site.request_log.append((head.method, head.target))
            if not frame.has_body:
                self._dispatch(connection, Prepared(head, authenticated=True))
                return
            self._continue(connection, head)
            connection.state = _BODY
            connection.deadline = time.monotonic() + self.limits.body_timeout
            connection.body = BodyReader(frame, self.limits)
        if connection.state == _BODY:
            assert connection.body is not None and connection.head is not None
            try:
                body = connection.body.advance(buffer)
            except NeedMore as more:
                self._wait_for(connection, more)
                return
            except ApiError as exc:
                prepared = Prepared(
                    connection.head, authenticated=True, has_body=True, body_error=exc, unread=True
                )
                self._dispatch(connection, prepared)
                return
            buffer.consume()
            prepared = Prepared(connection.head, authenticated=True, has_body=True, body=body)
            self._dispatch(connection, prepared)

    @staticmethod
    def _wait_for(connection: _Connection, more: NeedMore) -> None:
        connection.wake_at = more.until
        connection.wake_on_newline = more.newline

    def _continue(self, connection: _Connection, head: Head) -> None:
        """Tell a client waiting on ``Expect: 100-continue`` to send its body."""
        if head.version >= (1, 1) and (head.headers.get("Expect") or "").lower() == "100-continue":
            with contextlib.suppress(OSError):  # a fresh send buffer takes 25 bytes at once
                connection.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _dispatch(self, connection: _Connection, prepared: Prepared) -> None:
        """Hand a request to a worker: the connection leaves the selector until it is back."""
        connection.state = _BUSY
        connection.prepared = prepared
        self._selector.unregister(connection.sock)
        self._workers.submit(lambda: self._answer(connection, prepared))

    def _check_deadlines(self, now: float) -> None:
        self._resume_accepting(now)
        expired = [
            c for c in list(self._connections.values()) if c.state != _BUSY and c.deadline <= now
        ]
        for connection in expired:
            if connection.state in (_HEAD, _BODY):
                if connection.state == _HEAD:
                    self.request_log.observe()
                with contextlib.suppress(OSError):  # best effort: a small answer, never waited on
                    connection.sock.send(timeout_answer())
            self._close(connection)

    def _close(self, connection: _Connection) -> None:
        with self._connections_lock:
            if self._connections.pop(id(connection), None) is None:
                return
        if connection.state != _BUSY:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(connection.sock)
        with contextlib.suppress(OSError):
            connection.sock.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            connection.sock.close()
        self._resume_accepting(time.monotonic())

    def _resume_accepting(self, now: float) -> None:
        """Accept again once below ``max_open_connections`` (and past a pause for lack of fds)."""
        if (
            not self._accepting
            and not self.closing
            and now >= self._accept_paused_until
            and len(self._connections) < self.limits.max_open_connections
        ):
            self._set_accepting(True)

    # ------------------------------------------------------------------ worker threads

    def _answer(self, connection: _Connection, prepared: Prepared) -> None:
        """Answer one request (in a worker thread), then give the connection back."""
        outcome: Outcome | None
        try:
            connection.sock.settimeout(self.limits.body_timeout)
            outcome = respond(self.site, connection.sock, prepared)
        except OSError:  # the client went away mid-answer, or the server is stopping
            outcome = None
        except Exception:
            logger.warning("connection from %s failed", connection.address[0], exc_info=True)
            outcome = None
        self._returned.append((connection, outcome))
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a full wake-up pipe is awake already
            self._wake_w.send(b"\0")

    def _drain_wakeups(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass

    def _take_back(self) -> None:
        """Put connections answered by the workers back into the loop (or close them)."""
        while self._returned:
            connection, outcome = self._returned.popleft()
            # Still _BUSY, so not in the selector: _close does not unregister it.
            if outcome is None or self.closing:
                self._close(connection)
                continue
            try:
                connection.sock.setblocking(False)
            except OSError:
                self._close(connection)
                continue
            now = time.monotonic()
            if outcome.keep_alive:
                connection.state = _IDLE
                connection.deadline = now + self.limits.idle_timeout
                connection.wake_at, connection.wake_on_newline = 0, False
            elif outcome.linger:
                with contextlib.suppress(OSError):
                    connection.sock.shutdown(socket.SHUT_WR)
                connection.state = _LINGER
                connection.deadline = now + _LINGER_SECONDS
                connection.drained = 0
            else:
                self._close(connection)
                continue
            self._selector.register(connection.sock, selectors.EVENT_READ, connection)
            if connection.state == _IDLE and connection.input.data:  # a pipelined request
                self._start_request(connection)
                self._advance(connection)
