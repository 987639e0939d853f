"""Property-based paging: any pool size, page limit and task ids give every row exactly once, in order.

Task ids mix ASCII, shared prefixes, accents, private-use BMP characters
(which sort *after* astral ones in UTF-16 but before them by code point) and
astral characters; the client pages with ``task_id_gt`` in code-point order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pandas_toloka.client import Client
from pandas_toloka.reader import read_aggregated_solutions
from pandas_toloka.responses import read_responses
from pandas_toloka.server import LocalTolokaServer

pytestmark = pytest.mark.reliability

TOKEN = "paging-properties-token"
SPEC = {"result": {"type": "STRING", "allowed_values": ["a", "b"]}}
PREFIXES = ["", "t", "tt", "t-", "é", "\ue000", "\U0001f600", "Ω"]
ALPHABET = st.sampled_from(["0", "1", "a", "z", "-", "é", "ß", "\ue000", "\uffee", "\U0001f600"])

task_ids = st.lists(
    st.tuples(st.sampled_from(PREFIXES), st.text(ALPHABET, max_size=4)).map("".join),
    max_size=40,
    unique=True,
).map(lambda ids: [i for i in ids if i.strip()])

_pools = itertools.count()

#: A few dozen pools per test, however slow the machine (no deadline).
BOUNDED = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: A pool: its task ids, the page limit, and the workers answering each task.
POOLS = given(ids=task_ids, page_size=st.integers(1, 12), workers=st.integers(1, 3))


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalTolokaServer, Client]]:
    with (
        LocalTolokaServer(token=TOKEN) as server,
        Client(TOKEN, url=server.url, poll_min=0.01, poll_max=0.05) as client,
    ):
        yield server, client


def _add_pool(server: LocalTolokaServer, ids: list[str], workers: int) -> str:
    pool = f"prop{next(_pools)}"
    rows = [(t, f"w{w}", "ab"[(k + w) % 2]) for k, t in enumerate(ids) for w in range(workers)]
    frame = pd.DataFrame(rows, columns=["task_id", "worker_id", "result"], dtype=object)
    server.add_pool(pool, responses=frame, output_spec=SPEC)
    return pool


@BOUNDED
@POOLS
def test_aggregated_pages_give_every_task_once_in_order(
    served: tuple[LocalTolokaServer, Client], ids: list[str], page_size: int, workers: int
) -> None:
    server, client = served
    pool = _add_pool(server, ids, workers)
    frame = read_aggregated_solutions(pool, client=client, page_size=page_size)
    got = frame["task_id"].astype(str).tolist()
    assert got == sorted(ids)  # code-point order, each task exactly once


@BOUNDED
@POOLS
def test_response_pages_give_every_answer_once(
    served: tuple[LocalTolokaServer, Client], ids: list[str], page_size: int, workers: int
) -> None:
    server, client = served
    pool = _add_pool(server, ids, workers)
    frame = read_responses(pool, client=client, page_size=page_size)
    pairs = list(zip(frame["task_id"].astype(str), frame["worker_id"].astype(str)))
    assert len(pairs) == len(set(pairs)) == len(ids) * workers
    assert set(pairs) == {(t, f"w{w}") for t in ids for w in range(workers)}
