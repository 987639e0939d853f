"""Fixtures shared across test modules: the bundled server on the demo pools, a scripted server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from pandas_toloka.client import Client
from pandas_toloka.server import LocalTolokaServer, add_demo_pools
from pandas_toloka.server.demo import DemoData


@pytest.fixture(scope="session")
def demo_served() -> Iterator[tuple[LocalTolokaServer, Client, DemoData]]:
    """A local server on 127.0.0.1 serving the demo pools, and a client for it.

    Session-scoped: tests must not change its pools or faults (start their own
    server for that).
    """
    with LocalTolokaServer() as server, Client(server.token, url=server.url) as client:
        data = add_demo_pools(server)
        yield server, client, data


class ScriptedServer:
    """A tiny HTTP/1.1 server on 127.0.0.1 answering canned JSON by path.

    It plays a server that breaks the protocol in ways the bundled one never
    does (e.g. ``has_more`` with an empty page), to test the client's guards.
    ``routes`` maps a path (without query) to a list of bodies served in turn;
    the last one repeats.
    """

    def __init__(self, routes: dict[str, list[object]]) -> None:
        self.routes = {path: list(bodies) for path, bodies in routes.items()}
        self.requests: list[str] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                scripted.requests.append(self.path)
                bodies = scripted.routes.get(urlsplit(self.path).path)
                if bodies:
                    status, body = 200, bodies.pop(0) if len(bodies) > 1 else bodies[0]
                else:
                    status, body = 404, {"code": "DOES_NOT_EXIST", "message": self.path}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def scripted_server() -> type[ScriptedServer]:
    return ScriptedServer
