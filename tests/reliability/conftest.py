"""The fault-test bench: the bundled server, the misbehaving proxy in front of it, a patient client."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from pandas_toloka.client import Client
from pandas_toloka.server import LocalTolokaServer

from .proxy import FaultyProxy

TOKEN = "reliability-bench-token-0123456789"
LABELS = ["cat", "dog", "bird"]
SPEC = {"result": {"type": "STRING", "allowed_values": LABELS}}
N_TASKS = 40
PAGE = 7  # six pages of results


def label_responses(n_tasks: int = N_TASKS, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(n_tasks):
        truth = int(rng.integers(0, 3))
        for w in range(3):
            label = truth if rng.random() < 0.8 else int(rng.integers(0, 3))
            rows.append((f"t{t:04d}", f"w{w}", LABELS[label]))
    return pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])


@pytest.fixture
def bench() -> Iterator[tuple[LocalTolokaServer, FaultyProxy]]:
    """A fresh server with pool ``p`` (40 tasks), and the proxy in front of it."""
    server = LocalTolokaServer(token=TOKEN)
    server.add_pool("p", responses=label_responses(), output_spec=SPEC)
    with server, FaultyProxy(server.url) as proxy:
        yield server, proxy


def patient_client(url: str, **overrides: object) -> Client:
    """A client that retries fast and gives up on a silent server after a second.

    Its answers are bounded tighter than the defaults (the bench's pages are a few KB):
    8 MiB decoded, and 2.5 s for a whole request (a trickling answer).
    """
    settings: dict[str, object] = dict(
        timeout=(2.0, 1.0),
        max_answer_bytes=8 << 20,
        deadline=2.5,
        max_attempts=4,
        backoff_base=0.01,
        backoff_max=0.05,
        poll_min=0.01,
        poll_max=0.05,
    )
    settings.update(overrides)
    return Client(TOKEN, url=url, **settings)  # type: ignore[arg-type]


def started(server: LocalTolokaServer) -> int:
    """How many aggregations the server has started."""
    return len(server.operations.all())
