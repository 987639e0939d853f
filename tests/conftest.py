"""Fixtures shared across test modules: the bundled server on the demo pools."""

from __future__ import annotations

from typing import Iterator

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
