"""Synthetic crowds: a worker population and the answers it gives (for the demo pools).

Workers are careful (85-97 % accurate), mediocre (60-75 %), busy spammers
(random, or always the first label) and one worker biased towards the first
label ("cat"). Everything is drawn from the ``numpy`` generator passed in, so a
seed gives the same data everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Workers", "answer", "assign", "frame", "hex_ids", "skill_values", "workers"]


def hex_ids(rng: np.random.Generator, n: int, width: int) -> list[str]:
    """``n`` random lowercase hex strings of ``width`` digits."""
    digits = np.array(list("0123456789abcdef"))
    return ["".join(row) for row in digits[rng.integers(0, 16, size=(n, width))]]


@dataclass(frozen=True)
class Workers:
    """A worker population: ids, kinds, accuracies and how busy each one is."""

    ids: list[str]
    kind: np.ndarray  # "good", "mediocre", "random", "constant", "biased"
    accuracy: np.ndarray
    activity: np.ndarray


def workers(rng: np.random.Generator) -> Workers:
    """The demo population: 26 careful, 12 mediocre, 12 spammers, one biased worker."""
    kinds = np.array(
        ["good"] * 26 + ["mediocre"] * 12 + ["random"] * 8 + ["constant"] * 4 + ["biased"]
    )
    n = len(kinds)
    accuracy = np.where(kinds == "good", rng.uniform(0.85, 0.97, n), 0.0)
    accuracy = np.where(kinds == "mediocre", rng.uniform(0.6, 0.75, n), accuracy)
    accuracy = np.where(kinds == "biased", 0.7, accuracy)
    # Spammers are busy: they answer far more tasks than careful workers.
    activity = np.where(np.isin(kinds, ["random", "constant"]), 3.0, 1.0) * rng.uniform(0.5, 1.5, n)
    return Workers(hex_ids(rng, n, 32), kinds, accuracy, activity / activity.sum())


def answer(
    rng: np.random.Generator, crowd: Workers, who: np.ndarray, truth: np.ndarray, k: int
) -> np.ndarray:
    """Label codes given by workers ``who`` to tasks whose true codes are ``truth``."""
    kind = crowd.kind[who]
    correct = rng.random(len(who)) < crowd.accuracy[who]
    wrong = (truth + rng.integers(1, k, len(who))) % k
    given = np.where(correct, truth, wrong)
    given = np.where(kind == "random", rng.integers(0, k, len(who)), given)
    given = np.where(kind == "constant", 0, given)
    # The biased worker says "cat" (code 0) for 95 % of cats and 60 % of the rest.
    biased = kind == "biased"
    says_cat = rng.random(len(who)) < np.where(truth == 0, 0.95, 0.6)
    return np.where(biased, np.where(says_cat, 0, np.where(truth == 0, 1, truth)), given)


def assign(
    rng: np.random.Generator, crowd: Workers, n_tasks: int, overlap: int
) -> tuple[np.ndarray, np.ndarray]:
    """``overlap`` distinct workers per task, busier workers more often: (tasks, who)."""
    tasks = np.repeat(np.arange(n_tasks), overlap)
    who = np.concatenate(
        [
            rng.choice(len(crowd.ids), size=overlap, replace=False, p=crowd.activity)
            for _ in range(n_tasks)
        ]
    )
    return tasks, who


def frame(
    rng: np.random.Generator,
    task_ids: list[str],
    tasks: np.ndarray,
    who: np.ndarray,
    crowd: Workers,
    values: dict[str, Any],
) -> pd.DataFrame:
    """A pool's responses, ~2 % REJECTED, submitted over a week, in shuffled order."""
    n = len(tasks)
    start = np.datetime64(datetime(2024, 5, 1, 9, 0, 0), "ms")
    submitted = start + np.sort(rng.integers(0, 7 * 24 * 3600 * 1000, n)).astype("timedelta64[ms]")
    status = np.where(rng.random(n) < 0.02, "REJECTED", "ACCEPTED")
    out = pd.DataFrame(
        {
            "task_id": np.asarray(task_ids, dtype=object)[tasks],
            "worker_id": np.asarray(crowd.ids, dtype=object)[who],
            "status": status,
            "submitted": submitted,
            **values,
        }
    )
    return out.iloc[rng.permutation(n)].reset_index(drop=True)


def skill_values(rng: np.random.Generator, crowd: Workers, noise: float = 4.0) -> np.ndarray:
    """A skill per worker: accuracy in percent plus noise (spammers at chance), 1..99."""
    accuracy = np.where(
        crowd.kind == "random", 1 / 3, np.where(crowd.kind == "constant", 0.4, crowd.accuracy)
    )
    noisy = np.round(100 * accuracy + rng.normal(0, noise, len(crowd.ids)))
    return np.clip(noisy, 1, 99).astype(int)
