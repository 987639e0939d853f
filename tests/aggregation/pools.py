"""Small synthetic pools with ground truth, shared by the aggregation tests."""

from __future__ import annotations

import pandas as pd


def synthetic_pool(
    *,
    n_tasks: int = 60,
    n_workers: int = 8,
    per_task: int = 4,
    n_labels: int = 3,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series]:
    """A small pool with ground truth: workers of accuracy 0.55-0.95, distinct per task.

    Rows are sorted by worker, then label, and worker ``w0`` answers every
    label, so that first-appearance order equals sorted order for workers and
    labels (crowd-kit's MACE mixes the two orders up otherwise).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_labels, n_tasks)
    accuracy = rng.uniform(0.55, 0.95, n_workers)
    rows = []
    for t in range(n_tasks):
        for w in rng.choice(n_workers, per_task, replace=False):
            right = rng.random() < accuracy[w]
            wrong = (truth[t] + rng.integers(1, max(2, n_labels))) % n_labels
            rows.append((f"t{t:03d}", f"w{w}", int(truth[t] if right else wrong)))
    for k in range(n_labels):
        rows.append((f"t{k:03d}", "w0", k))  # w0 uses every label
    frame = pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])
    frame = frame.drop_duplicates(["task_id", "worker_id"]).sort_values(
        ["worker_id", "result"], kind="stable"
    )
    labels = pd.Series(truth, index=[f"t{t:03d}" for t in range(n_tasks)], name="truth")
    return frame.reset_index(drop=True), labels
