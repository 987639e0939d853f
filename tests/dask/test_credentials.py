"""Shipped credentials: one registration per token and URL, released with the last reader."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator

import dask
import pytest
from conftest import SPEC, make_responses

import pandas_toloka as ptk
import pandas_toloka.dask as ptd
from pandas_toloka.dask import _credentials
from pandas_toloka.server import LocalTolokaServer

CANARY = "canary-token-credentials-7e6d5c"
POOLS = ["601", "602"]
PREFIX = "pandas-toloka-credentials-"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalTolokaServer]:
    with LocalTolokaServer(token=CANARY) as served:
        for i, pool in enumerate(POOLS):
            served.add_pool(pool, responses=make_responses(i, 20), output_spec=SPEC)
        yield served


def _plugins(dask_client) -> dict[str, int]:
    """Credential plugins on the scheduler, and the most any worker holds."""
    on_scheduler = [n for n in dask_client.cluster.scheduler.worker_plugins if n.startswith(PREFIX)]
    # a lambda travels by value: the workers need not import this module
    names = dask_client.run(lambda dask_worker: sorted(dask_worker.plugins))
    on_workers = [sum(n.startswith(PREFIX) for n in held) for held in names.values()]
    return {"scheduler": len(on_scheduler), "workers": max(on_workers)}


def _handles() -> int:
    """Open file descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


def _worker_handles(dask_client) -> dict[str, int]:
    """Open file descriptors of each worker."""
    return {w: len(fds) for w, fds in dask_client.run(os.listdir, "/proc/self/fd").items()}


@pytest.fixture
def released(dask_client) -> Iterator[None]:
    _credentials.release_credentials()
    yield
    _credentials.release_credentials()


def test_twenty_token_calls_share_one_registration_released_with_the_last_reader(
    dask_client, server, released
) -> None:
    def read_once() -> int:
        frame = ptd.read_responses(POOLS, token=CANARY, url=server.url)
        return len(frame.compute())

    expected = read_once()
    gc.collect()
    worker_handles = _worker_handles(dask_client)
    driver_handles = _handles()
    frames = [ptd.read_responses(POOLS, token=CANARY, url=server.url) for _ in range(20)]
    assert [len(f) for f in dask.compute(*frames)] == [expected] * 20
    assert _credentials.registrations() == 1
    assert _plugins(dask_client) == {"scheduler": 1, "workers": 1}
    del frames
    gc.collect()
    assert _credentials.registrations() == 0
    assert _plugins(dask_client) == {"scheduler": 0, "workers": 0}
    # no client, connection or file left behind (a few handles of slack for the runtime)
    assert _handles() <= driver_handles + 2
    after = _worker_handles(dask_client)
    assert all(after[w] <= worker_handles[w] + 2 for w in after), (worker_handles, after)


def test_a_frame_alive_keeps_its_credentials_and_computes_again(
    dask_client, server, released
) -> None:
    frame = ptd.read_responses(POOLS, token=CANARY, url=server.url)
    for _ in range(3):
        ptd.read_responses(POOLS, token=CANARY, url=server.url)  # dropped at once
    gc.collect()
    assert _credentials.registrations() == 1
    assert len(frame.compute()) == len(frame.compute()) > 0


def test_distinct_tokens_or_urls_get_their_own_registration(dask_client, server, released) -> None:
    with LocalTolokaServer(token="another-token-1234567890") as other:
        for pool in POOLS:
            other.add_pool(pool, responses=make_responses(9, 10), output_spec=SPEC)
        a = ptd.read_responses(POOLS, token=CANARY, url=server.url)
        b = ptd.read_responses(POOLS, token="another-token-1234567890", url=other.url)
        assert _credentials.registrations() == 2
        assert _plugins(dask_client)["scheduler"] == 2
        assert len(a.compute()) == 2 * 60 and len(b.compute()) == 2 * 30
        del a, b
        gc.collect()
    assert _plugins(dask_client)["scheduler"] == 0


def test_closing_the_drivers_client_releases_its_registration(
    dask_client, server, released
) -> None:
    client = ptk.Client(CANARY, url=server.url)
    frames = [ptd.read_responses(POOLS, client=client) for _ in range(5)]
    assert _plugins(dask_client)["scheduler"] == 1
    client.close()
    assert _credentials.registrations() == 0
    assert _plugins(dask_client) == {"scheduler": 0, "workers": 0}
    with pytest.raises(ptk.errors.MissingTokenError, match="no Toloka credentials"):
        frames[0].compute()


def test_the_token_stays_out_of_logs_and_the_registrations_state(
    dask_client, server, released, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    frame = ptd.read_responses(POOLS, token=CANARY, url=server.url)
    assert len(frame.compute()) > 0
    held = repr(list(_credentials._registrations.items()))
    with ptk.Client(CANARY, url=server.url) as client:
        plugin = repr(_credentials.TolokaCredentials("id", client))
    del frame
    gc.collect()
    assert CANARY not in held and CANARY not in plugin
    logged = [record.getMessage() for record in caplog.records]
    assert any("released Toloka credentials" in text for text in logged)
    assert not [text for text in logged if CANARY in text]


def test_workers_clients_take_the_bounds_of_the_drivers() -> None:
    from pandas_toloka import Client
    from pandas_toloka.dask._credentials import _settings

    with Client("t", url="http://127.0.0.1:9", max_answer_bytes=12345, deadline=7.5) as client:
        settings = dict(_settings(client))
    assert settings["max_answer_bytes"] == 12345 and settings["deadline"] == 7.5
    with Client("t", url="http://127.0.0.1:9", **settings) as twin:  # as a worker builds it
        assert twin.settings.max_answer_bytes == 12345 and twin.settings.deadline == 7.5
