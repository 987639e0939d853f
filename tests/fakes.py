"""The one fake HTTP server of the tests, for servers the bundled one cannot play.

The bundled :class:`~pandas_toloka.server.LocalTolokaServer` plays a well-behaved
Toloka and, with ``server.faults``, a rate-limited, failing, slow or
connection-dropping one: tests use it wherever they can. :class:`FakeServer`
plays the rest, answering each request with what a function returns: pages that
break the paging contract, a proxy that echoes credentials into its errors, a
``Retry-After`` no real server sends. (``tests/reliability/proxy.py`` is the one
raw-wire fake: it cuts, replays or resets the bundled server's own answers.)

Use it through the ``fake_server`` fixture (tests/conftest.py), or as a context
manager; it listens on 127.0.0.1, on a free port.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Answer", "FakeServer", "Request", "json_answer", "scripted"]


@dataclass(frozen=True)
class Request:
    """One request the fake received: method, target (path and query), headers, body."""

    method: str
    target: str
    headers: Message
    body: bytes = b""

    @property
    def path(self) -> str:
        """The target without its query."""
        return urlsplit(self.target).path


@dataclass(frozen=True)
class Answer:
    """What the fake sends back: status, headers (``Content-Length`` is added), body."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_answer(status: int, payload: Any, **headers: str) -> Answer:
    """An answer with a JSON body (``headers`` with ``_`` for ``-``: ``Retry_After="1"``)."""
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return Answer(
        status, json.dumps(payload).encode(), {"Content-Type": "application/json", **named}
    )


class FakeServer:
    """An HTTP/1.1 server on 127.0.0.1 answering every request with ``answer(request)``.

    ``requests`` lists what it received, in order. A context manager: serving
    between ``__enter__`` and ``__exit__``, on daemon threads (entering one the
    ``fake_server`` fixture started again is harmless; it stops once).
    """

    def __init__(self, answer: Callable[[Request], Answer]) -> None:
        self.answer = answer
        self.requests: list[Request] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body leave in two writes: without this, Nagle's algorithm holds
            # the body for the client's delayed ACK (40 ms a request)
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, self.path, self.headers, body)
                fake.requests.append(request)
                answer = fake.answer(request)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._stopped = False

    @property
    def paths(self) -> list[str]:
        """The targets (path and query) of the requests received, in order."""
        return [request.target for request in self.requests]

    def __enter__(self) -> FakeServer:
        if not self._thread.is_alive() and not self._stopped:  # entered twice: one start
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(5)
        self._httpd.server_close()


def scripted(routes: dict[str, list[object]]) -> Callable[[Request], Answer]:
    """Canned JSON by path (query ignored): each path's bodies in turn, the last repeating.

    A path not in ``routes`` is a Toloka-shaped 404.
    """
    queues = {path: list(bodies) for path, bodies in routes.items()}
    lock = threading.Lock()

    def answer(request: Request) -> Answer:
        with lock:
            bodies = queues.get(request.path)
            if not bodies:
                return json_answer(404, {"code": "DOES_NOT_EXIST", "message": request.path})
            return json_answer(200, bodies.pop(0) if len(bodies) > 1 else bodies[0])

    return answer
