"""The side-by-side demo pool: items of known strength, compared by a mixed crowd.

Pool :data:`PAIRWISE_POOL_ID` (project ``15``): eight "models" with known
Bradley–Terry log-strengths (:data:`PAIRWISE_STRENGTHS`), 600 tasks, each a
pair shown as the inputs ``left`` and ``right`` (item ids, STRING), answered
by 3 workers in ``result`` (``left``, ``right`` or ``tie``). The crowd is the
demo's (:mod:`._synthetic`): careful workers answer by Bradley–Terry on the
true strengths (5 % ties), mediocre ones do so half of the time and guess
otherwise, random spammers guess, the "constant" spammers always say
``left``, and the biased worker says ``left`` 80 % of the time. Every 20th
task is a control comparison of two items far apart in strength, whose known
solution is the stronger side. The ground truth of a task is the side of the
stronger item.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._synthetic import Workers, assign, frame, hex_ids

__all__ = ["PAIRWISE_POOL_ID", "PAIRWISE_STRENGTHS", "pairwise_pool_parts"]

#: The side-by-side demo pool.
PAIRWISE_POOL_ID = "1005"
#: The true log-strength of each item (Bradley–Terry: P(i beats j) = sigmoid(s_i - s_j)).
PAIRWISE_STRENGTHS = {
    "model-a": 1.6,
    "model-b": 1.1,
    "model-c": 0.7,
    "model-d": 0.3,
    "model-e": -0.1,
    "model-f": -0.6,
    "model-g": -1.2,
    "model-h": -1.8,
}
OUTPUT_SPEC = {
    "result": {"type": "STRING", "required": True, "allowed_values": ["left", "right", "tie"]}
}
INPUT_SPEC = {
    "left": {"type": "STRING", "required": True},
    "right": {"type": "STRING", "required": True},
}
N_TASKS = 600
OVERLAP = 3
CONTROL_EVERY = 20
TIES = 0.05


def _pairs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pairs of distinct item codes; control tasks get a far-apart pair."""
    k = len(PAIRWISE_STRENGTHS)
    left = rng.integers(0, k, n)
    right = (left + rng.integers(1, k, n)) % k
    control = np.arange(n) % CONTROL_EVERY == 0
    strong = rng.integers(0, 2, n)  # which of the two ends goes left
    far_left = np.where(strong == 0, 0, k - 1)
    left = np.where(control, far_left, left)
    right = np.where(control, k - 1 - far_left, right)
    return left, right


def _answers(
    rng: np.random.Generator,
    crowd: Workers,
    who: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    strength = np.array(list(PAIRWISE_STRENGTHS.values()))
    p_left = 1 / (1 + np.exp(-(strength[left] - strength[right])))
    kind = crowd.kind[who]
    p_left = np.where(kind == "mediocre", 0.5 * p_left + 0.25, p_left)
    p_left = np.where(kind == "random", 0.5, p_left)
    p_left = np.where(kind == "constant", 1.0, p_left)
    p_left = np.where(kind == "biased", 0.8, p_left)
    says = np.where(rng.random(len(who)) < p_left, "left", "right")
    tie = (rng.random(len(who)) < TIES) & np.isin(kind, ["good", "mediocre"])
    return np.where(tie, "tie", says).astype(object)


def pairwise_pool_parts(
    rng: np.random.Generator, crowd: Workers
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The pool's responses, ground truth and tasks (inputs and control tasks)."""
    names = np.array(list(PAIRWISE_STRENGTHS), dtype=object)
    strength = np.array(list(PAIRWISE_STRENGTHS.values()))
    ids = [f"sbs-{h}" for h in hex_ids(rng, N_TASKS, 12)]
    left, right = _pairs(rng, N_TASKS)
    tasks, who = assign(rng, crowd, N_TASKS, OVERLAP)
    given = _answers(rng, crowd, who, left[tasks], right[tasks])
    responses = frame(rng, ids, tasks, who, crowd, {"result": given})
    stronger = np.where(strength[left] > strength[right], "left", "right").astype(object)
    truth = pd.DataFrame({"task_id": ids, "result": stronger})
    control = np.arange(N_TASKS) % CONTROL_EVERY == 0
    task_frame = pd.DataFrame(
        {
            "task_id": ids,
            "left": names[left],
            "right": names[right],
            "known_solutions": [
                [{"output_values": {"result": side}, "correctness_weight": 1.0}] if c else None
                for side, c in zip(stronger.tolist(), control.tolist())
            ],
        }
    )
    return responses, truth, task_frame
