"""KOS specifics: the confidence formula and the scaling of the messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pools import synthetic_pool

from pandas_toloka.aggregation import fit_kos, kos


def test_unanimous_task_has_confidence_one_and_scaling_keeps_signs() -> None:
    frame, truth = synthetic_pool(n_tasks=40, n_labels=2)
    many = fit_kos(frame, n_iter=300)  # unscaled messages would overflow long before
    assert np.isfinite(many.posteriors).all()
    few = fit_kos(frame, n_iter=3)
    assert (few.to_frame()["result"] == many.to_frame()["result"]).mean() > 0.8
    unanimous = pd.DataFrame(
        {"task_id": ["a", "a", "b", "b"], "worker_id": ["x", "y", "x", "y"],
         "result": [1, 1, 0, 0]}
    )  # fmt: skip
    assert kos(unanimous)["confidence"].tolist() == [1.0, 1.0]


def test_seed_changes_the_start_only() -> None:
    frame, _ = synthetic_pool(n_tasks=40, n_labels=2)
    a, b = kos(frame, seed=0), kos(frame, seed=1)
    assert (a["result"] == b["result"]).mean() > 0.9
