"""GLAD specifics: abilities, difficulties, the M-step never lowering Q."""

from __future__ import annotations

import importlib

import numpy as np
from pools import synthetic_pool

from pandas_toloka.aggregation import fit_glad, glad

glad_module = importlib.import_module("pandas_toloka.aggregation.glad")


def test_adversarial_worker_gets_negative_ability() -> None:
    frame, truth = synthetic_pool(n_tasks=60, n_labels=2)
    liar = frame[frame["worker_id"] == "w1"].index
    frame.loc[liar, "result"] = 1 - truth.reindex(frame.loc[liar, "task_id"]).to_numpy()
    model = fit_glad(frame)
    alpha = dict(zip(model.workers, model.worker_columns["alpha"], strict=True))
    assert alpha["w1"] < -0.5 and alpha["w1"] == min(alpha.values())
    result = glad(frame)
    assert (result["difficulty"] > 0).all() and result["difficulty"].dtype == np.float64


def test_m_step_does_not_decrease_q() -> None:
    frame, _ = synthetic_pool(n_tasks=40, n_labels=3)
    from pandas_toloka.aggregation._encoding import encode_responses

    data = encode_responses(frame, task="task_id", worker="worker_id", label="result", method="t")
    T, W, K = data.tasks.size, data.workers.size, data.labels.size
    state = glad_module._Glad(
        data.tasks.codes, data.workers.codes, data.labels.codes, T, W, K,
        np.full(K, -np.log(K)), 1.0, 1.0, np.zeros(0, np.intp), np.zeros(0, np.intp),
    )  # fmt: skip
    alpha, beta = np.ones(W), np.ones(T)
    given = state.e_step(alpha, beta)[state.task, state.label]
    q = state.objective(given, alpha, beta)
    for _ in range(5):
        alpha, beta = state.m_step(given, alpha, beta, max_iter=1, tol=0.0)
        new_q = state.objective(given, alpha, beta)
        assert new_q >= q - 1e-12
        q = new_q
