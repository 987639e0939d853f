"""A real ``distributed.LocalCluster`` (2 worker processes, shared by consecutive modules) and pools."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe", reason="the dask extra is not installed")
distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder runs on a LocalCluster: ``-m dask`` runs them alone."""
    here = str(__file__).rsplit("/", 1)[0]
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.dask)


SPEC = {"result": {"type": "STRING", "allowed_values": ["cat", "dog", "owl"]}}
LABELS = ("cat", "dog", "owl")


def make_responses(
    seed: int, n_tasks: int, *, per_task: int = 3, n_workers: int = 25
) -> pd.DataFrame:
    """Responses of a pool: workers of varied accuracy, some ties, string ids."""
    rng = np.random.default_rng(seed)
    accuracy = rng.uniform(0.3, 0.95, n_workers)
    rows = []
    for t in range(n_tasks):
        truth = int(rng.integers(len(LABELS)))
        for w in rng.choice(n_workers, per_task, replace=False):
            correct = rng.random() < accuracy[w]
            label = truth if correct else int(rng.integers(len(LABELS)))
            rows.append((f"t{seed}-{t:04d}", f"w{w:02d}", LABELS[label]))
    return pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])


#: The cluster the test modules share while they run one after another (see dask_client).
_shared: list[distributed.LocalCluster] = []


def _cluster() -> distributed.LocalCluster:
    """The shared cluster, started on first use: 2 worker processes, 1 thread each."""
    if not _shared:
        _shared.append(
            distributed.LocalCluster(
                n_workers=2,
                processes=True,
                threads_per_worker=1,
                dashboard_address=None,
                memory_limit="2GiB",
            )
        )
    return _shared[0]


def _close_cluster() -> None:
    while _shared:
        _shared.pop().close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Close the shared cluster once the next test is not in this folder (or there is none).

    Starting a cluster costs ~2 CPU seconds per worker process (each imports pandas, then
    pandas_toloka on its first task), so consecutive modules share one; an idle cluster still
    costs ~0.07 CPU core (heartbeats), so it does not outlive the run of this folder's tests.
    """
    yield  # the module's dask_client is closed by now, if this was its last test
    here = str(__file__).rsplit("/", 1)[0]
    if nextitem is None or not str(nextitem.fspath).startswith(here):
        _close_cluster()


@pytest.fixture(scope="module")
def dask_client() -> Iterator[object]:
    """A ``distributed.Client`` of the shared real ``LocalCluster``, this module's default.

    Each module gets its own client, so no module sees another's futures or scheduler.
    """
    with distributed.Client(_cluster()) as client:
        yield client


def pytest_sessionfinish() -> None:
    """A run stopped early (``-x``, Ctrl-C) leaves no worker process behind."""
    _close_cluster()
