"""Fixtures shared across test modules: the bundled server on the demo pools, the fake server."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from fakes import Answer, FakeServer, Request, scripted

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


@pytest.fixture
def fake_server() -> Iterator[Callable[[Callable[[Request], Answer]], FakeServer]]:
    """Start a :class:`fakes.FakeServer` answering with a function; stopped after the test.

    For servers the bundled one cannot play even with ``server.faults`` (tests/fakes.py).
    """
    with contextlib.ExitStack() as stack:
        yield lambda answer: stack.enter_context(FakeServer(answer))


@pytest.fixture
def scripted_server(
    fake_server: Callable[[Callable[[Request], Answer]], FakeServer],
) -> Callable[[dict[str, list[object]]], FakeServer]:
    """A fake serving canned JSON by path (:func:`fakes.scripted`): a server that breaks the
    paging contract in ways the bundled one never does, to test the client's guards."""
    return lambda routes: fake_server(scripted(routes))
