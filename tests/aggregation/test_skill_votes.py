"""Hand-computed WAWA and zero-based skill, and their tie and zero-skill rules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pandas_toloka.aggregation import fit_wawa, fit_zero_based_skill, wawa
from pandas_toloka.aggregation.skill_votes import vote_shares

# Majority: t1 -> x (a, b vs c), t2 -> y (a, c vs b), t3 -> x (a alone).
FRAME = pd.DataFrame(
    {
        "task_id": ["t1", "t1", "t1", "t2", "t2", "t2", "t3"],
        "worker_id": ["a", "b", "c", "a", "b", "c", "a"],
        "result": ["x", "x", "y", "y", "x", "y", "x"],
    }
)


def test_wawa_hand_computed() -> None:
    model = fit_wawa(FRAME)
    # a agrees 3/3, b 1/2, c 1/2.
    np.testing.assert_allclose(model.worker_columns["skill"], [1.0, 0.5, 0.5])
    result = model.to_frame()
    assert result["result"].tolist() == ["x", "y", "x"]
    np.testing.assert_allclose(result["confidence"], [1.5 / 2.0, 1.5 / 2.0, 1.0])


def test_wawa_can_overrule_the_majority() -> None:
    # w1 agrees with every majority; l1, l2 disagree elsewhere: on t9 w1 outweighs them.
    rows = [("t1", "w1", "x"), ("t1", "w2", "x"), ("t1", "l1", "y"), ("t1", "l2", "y"),
            ("t1", "w3", "x"), ("t2", "w1", "y"), ("t2", "w2", "y"), ("t2", "w3", "y"),
            ("t2", "l1", "x"), ("t2", "l2", "x"), ("t9", "w1", "x"), ("t9", "l1", "y"),
            ("t9", "l2", "y")]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])
    majority = frame[frame.task_id == "t9"]["result"].mode()[0]
    assert majority == "y"
    assert wawa(frame).set_index("task_id").loc["t9", "result"] == "x"


def test_zero_based_skill_one_iteration_by_hand() -> None:
    model = fit_zero_based_skill(FRAME, n_iter=1, lr_init=0.5)
    # Equal starting skills: the first weighted vote is the majority vote;
    # skill = s0 + 0.5 * (accuracy - s0) with s0 = 1/2 + 1e-5.
    s0 = 0.5 + 1e-5
    np.testing.assert_allclose(
        model.worker_columns["skill"], s0 + 0.5 * (np.array([1.0, 0.5, 0.5]) - s0)
    )


def test_zero_skill_rows_fall_back_to_vote_shares() -> None:
    # (With WAWA every task has a worker agreeing with its majority, so an all-zero
    # row needs skills from elsewhere: the rule is checked on the kernel.)
    scores = np.array([[0.0, 0.0], [0.3, 0.1]])
    votes = np.array([[1.0, 2.0], [1.0, 1.0]])
    np.testing.assert_allclose(vote_shares(scores, votes), [[1 / 3, 2 / 3], [0.75, 0.25]])
