"""MACE specifics: spammers get low competence; restarts and seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pools import synthetic_pool

from pandas_toloka.aggregation import fit_mace, mace


def test_constant_answerer_is_found_as_a_spammer() -> None:
    frame, _ = synthetic_pool(n_tasks=80, n_labels=3)
    frame.loc[frame["worker_id"] == "w2", "result"] = 0  # always the same label
    model = fit_mace(frame)
    competence = dict(zip(model.workers, model.worker_columns["competence"], strict=True))
    assert competence["w2"] < min(v for k, v in competence.items() if k != "w2")
    assert len(model.loss_history) == 50


def test_many_responses_per_task_do_not_underflow() -> None:
    # 400 responses on one task: crowd-kit's product of probabilities underflows here.
    frame, _ = synthetic_pool(n_tasks=30, n_labels=3)
    rows = [("big", f"v{i}", i % 3 if i % 5 == 0 else 1) for i in range(400)]
    big = pd.DataFrame(rows, columns=frame.columns)
    result = mace(pd.concat([frame, big], ignore_index=True)).set_index("task_id")
    assert np.isfinite(result["confidence"]).all()
    assert result.loc["big", "result"] == 1
