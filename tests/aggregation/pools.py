"""Small synthetic pools with ground truth, shared by the aggregation tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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


# crowd-kit's outputs on these pools and on the real datasets, stored by
# tests/reference/crowdkit/make_crowdkit.py (the tests never import crowd-kit)
CROWDKIT = Path(__file__).resolve().parents[1] / "reference" / "crowdkit"


def reference_pool(name: str) -> pd.DataFrame:
    """The stored synthetic pool ``name`` (``binary30``, ``ternary30``, ``ternary25``)."""
    return pd.read_csv(CROWDKIT / "pools" / f"{name}.csv")


def crowdkit_tasks(name: str) -> pd.DataFrame:
    """crowd-kit's ``label`` per task (index) and posterior columns ``p_<label>``."""
    return pd.read_csv(CROWDKIT / name, index_col="task")


def crowdkit_workers(name: str) -> pd.Series:
    """crowd-kit's one per-worker estimate (skill, alpha), indexed by worker."""
    return pd.read_csv(CROWDKIT / name, index_col="worker").iloc[:, 0]


def crowdkit_meta() -> dict:
    """Stored scalars: crowd-kit's version, loss histories, accuracies."""
    return json.loads((CROWDKIT / "crowdkit.json").read_text())


def crowdkit_posteriors(posteriors: pd.DataFrame, theirs: pd.DataFrame) -> np.ndarray:
    """crowd-kit's stored posteriors aligned with ours (tasks x labels), as an array."""
    expected = theirs.filter(like="p_", axis=1)
    expected.columns = [c[2:] for c in expected.columns]
    return expected.reindex(
        index=posteriors.index, columns=[str(c) for c in posteriors.columns]
    ).to_numpy()
