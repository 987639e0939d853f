"""A real ``distributed.LocalCluster`` (2 worker processes) and pools on the bundled server."""

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


@pytest.fixture(scope="module")
def dask_client() -> Iterator[object]:
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            memory_limit="2GiB",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
