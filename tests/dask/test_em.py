"""The pure pieces of distributed EM: placing parts on workers, the M-step on summed statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_responses

from pandas_toloka.aggregation import fit_dawid_skene
from pandas_toloka.dask import _em, _fit


def test_parts_stay_where_they_are_when_that_is_balanced() -> None:
    holders = [["a"], ["b"], ["a"], ["b"]]
    assert _fit.assign_parts(holders, [5, 5, 5, 5], ["a", "b"]) == ["a", "b", "a", "b"]


def test_an_overloaded_worker_gives_parts_away() -> None:
    # Dask put 6 of 8 equal parts on one worker: two move, and the split is even.
    holders = [["a"]] * 6 + [["b"]] * 2
    chosen = _fit.assign_parts(holders, [10] * 8, ["a", "b"])
    assert chosen.count("a") == chosen.count("b") == 4
    assert chosen[6:] == ["b", "b"]  # the parts already on b stay


def test_parts_held_nowhere_go_to_the_least_loaded_worker() -> None:
    assert _fit.assign_parts([[], [], []], [3, 2, 1], ["w1", "w2"]) == ["w1", "w2", "w2"]


@pytest.mark.parametrize("n_blocks", [1, 3])
def test_blocks_reproduce_the_single_process_fit(n_blocks: int) -> None:
    # Without a cluster: the blocks' statistics summed by hand equal one process's EM.
    frame = make_responses(7, 120, per_task=4)
    tasks = sorted(frame["task_id"].unique())
    parts = [frame[frame["task_id"].isin(chunk)] for chunk in np.array_split(tasks, n_blocks)]
    codes = [_em.local_codes(p, "task_id", "worker_id", "result") for p in parts]
    encodings = _em.merge_encodings(*codes, labels=None)
    blocks = [_em.build_block(c, encodings=encodings) for c in codes]
    used = _em.combine_used(*[b.used for b in blocks])
    model = _em.m_step(used, *[b.stats for b in blocks])
    history = []
    for _ in range(100):
        blocks = [_em.e_step(b, model) for b in blocks]
        model = _em.m_step(used, *[b.stats for b in blocks])
        history.append(model.objective)
        if len(history) > 1 and history[-1] - history[-2] < 1e-5:
            break
    expected = fit_dawid_skene(frame)
    assert len(history) == expected.n_iter_run
    np.testing.assert_allclose(model.priors, expected.priors, atol=1e-12)
    np.testing.assert_allclose(model.confusion, expected.confusion, atol=1e-12)
    answers = pd.concat(
        [
            pd.DataFrame({"task_id": t, "code": c, "confidence": p})
            for block in blocks
            for t, c, p in _em.answers(block)
        ]
    ).sort_values("task_id", ignore_index=True)
    result = expected.to_frame()
    assert answers["task_id"].tolist() == result["task_id"].tolist()
    assert encodings.labels.take(answers["code"]).tolist() == result["result"].tolist()
    np.testing.assert_allclose(answers["confidence"], result["confidence"], atol=1e-12)
