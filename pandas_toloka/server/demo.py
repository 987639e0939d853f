"""Deterministic synthetic demo pools with known ground truth.

Workers share one population: careful workers, mediocre ones, spammers (random
or always the same answer) and a worker biased towards "cat". Two pools:

* ``1001`` (project ``11``): cats vs dogs, 2,000 tasks, ~5 answers each, no
  smart mixing: made for ``DAWID_SKENE``, which beats majority vote here.
* ``1002`` (project ``12``): smart mixing, ``result`` (cat/dog/other) and
  ``sure`` (BOOLEAN), 1,000 tasks, 3 answers each; skill :data:`SKILL_ID`
  (worker accuracy in percent, noisy) for ``WEIGHTED_DYNAMIC_OVERLAP``.

About 2 % of the answers are REJECTED (they must not count in aggregation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._loader import write_pool, write_skills

if TYPE_CHECKING:
    from ._server import LocalTolokaServer

__all__ = [
    "SEED",
    "SKILL_ID",
    "DemoData",
    "DemoPool",
    "add_demo_pools",
    "demo_data",
    "demo_pools",
    "make_demo_data",
]

SEED = 20240501
#: The skill whose values weight answers in pool 1002.
SKILL_ID = "501"
DS_POOL_ID = "1001"
SKILL_POOL_ID = "1002"


@dataclass(frozen=True)
class DemoPool:
    """One demo pool: what :meth:`LocalTolokaServer.add_pool` takes, plus its ground truth."""

    pool_id: str
    project_id: str
    output_spec: dict[str, Any]
    responses: pd.DataFrame
    ground_truth: pd.DataFrame
    smart_mixing: bool = False
    description: str = ""
    pool_info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoData:
    """The demo pools by id, and the server-wide skills table."""

    pools: dict[str, DemoPool]
    skills: pd.DataFrame


def _hex_ids(rng: np.random.Generator, n: int, width: int) -> list[str]:
    digits = np.array(list("0123456789abcdef"))
    return ["".join(row) for row in digits[rng.integers(0, 16, size=(n, width))]]


def _task_ids(rng: np.random.Generator, n: int) -> list[str]:
    # Shaped like Toloka's "00022cfa46--637cf3e76e13181a0164e4b3"; unique by construction.
    heads = _hex_ids(rng, n, 24)
    return [f"{i:010x}--{h}" for i, h in zip(rng.permutation(n) + 0x16C290, heads)]


@dataclass(frozen=True)
class _Workers:
    ids: list[str]
    kind: np.ndarray  # "good", "mediocre", "random", "constant", "biased"
    accuracy: np.ndarray
    activity: np.ndarray


def _workers(rng: np.random.Generator) -> _Workers:
    kinds = np.array(
        ["good"] * 26 + ["mediocre"] * 12 + ["random"] * 8 + ["constant"] * 4 + ["biased"]
    )
    n = len(kinds)
    accuracy = np.where(kinds == "good", rng.uniform(0.85, 0.97, n), 0.0)
    accuracy = np.where(kinds == "mediocre", rng.uniform(0.6, 0.75, n), accuracy)
    accuracy = np.where(kinds == "biased", 0.7, accuracy)
    # Spammers are busy: they answer far more tasks than careful workers.
    activity = np.where(np.isin(kinds, ["random", "constant"]), 3.0, 1.0) * rng.uniform(0.5, 1.5, n)
    return _Workers(_hex_ids(rng, n, 32), kinds, accuracy, activity / activity.sum())


def _answer(
    rng: np.random.Generator, workers: _Workers, who: np.ndarray, truth: np.ndarray, k: int
) -> np.ndarray:
    """Label codes given by workers ``who`` to tasks whose true codes are ``truth``."""
    kind = workers.kind[who]
    correct = rng.random(len(who)) < workers.accuracy[who]
    wrong = (truth + rng.integers(1, k, len(who))) % k
    answer = np.where(correct, truth, wrong)
    answer = np.where(kind == "random", rng.integers(0, k, len(who)), answer)
    answer = np.where(kind == "constant", 0, answer)
    # The biased worker says "cat" (code 0) for 95 % of cats and 60 % of the rest.
    biased = kind == "biased"
    says_cat = rng.random(len(who)) < np.where(truth == 0, 0.95, 0.6)
    answer = np.where(biased, np.where(says_cat, 0, np.where(truth == 0, 1, truth)), answer)
    return answer


def _assign(
    rng: np.random.Generator, workers: _Workers, n_tasks: int, overlap: int
) -> tuple[np.ndarray, np.ndarray]:
    tasks = np.repeat(np.arange(n_tasks), overlap)
    who = np.concatenate(
        [
            rng.choice(len(workers.ids), size=overlap, replace=False, p=workers.activity)
            for _ in range(n_tasks)
        ]
    )
    return tasks, who


def _frame(
    rng: np.random.Generator,
    task_ids: list[str],
    tasks: np.ndarray,
    who: np.ndarray,
    workers: _Workers,
    values: dict[str, Any],
) -> pd.DataFrame:
    n = len(tasks)
    start = np.datetime64(datetime(2024, 5, 1, 9, 0, 0), "ms")
    submitted = start + np.sort(rng.integers(0, 7 * 24 * 3600 * 1000, n)).astype("timedelta64[ms]")
    status = np.where(rng.random(n) < 0.02, "REJECTED", "ACCEPTED")
    frame = pd.DataFrame(
        {
            "task_id": np.asarray(task_ids, dtype=object)[tasks],
            "worker_id": np.asarray(workers.ids, dtype=object)[who],
            "status": status,
            "submitted": submitted,
            **values,
        }
    )
    return frame.iloc[rng.permutation(n)].reset_index(drop=True)


def demo_data(seed: int = SEED) -> DemoData:
    """Build the demo pools and skills in memory (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    workers = _workers(rng)
    labels = np.array(["cat", "dog", "other"], dtype=object)

    # Pool 1001: cats vs dogs for Dawid-Skene.
    n1 = 2000
    ids1 = _task_ids(rng, n1)
    truth1 = (rng.random(n1) < 0.45).astype(int)  # 55 % cats
    tasks, who = _assign(rng, workers, n1, 5)
    answers = _answer(rng, workers, who, truth1[tasks], 2)
    pool1 = DemoPool(
        DS_POOL_ID,
        "11",
        {"result": {"type": "STRING", "required": True, "allowed_values": ["cat", "dog"]}},
        _frame(rng, ids1, tasks, who, workers, {"result": labels[answers]}),
        pd.DataFrame({"task_id": ids1, "result": labels[truth1]}),
        description="cats vs dogs, 2,000 tasks x 5 answers, for DAWID_SKENE",
        pool_info={"private_name": "Cats vs dogs (Dawid-Skene demo)"},
    )

    # Pool 1002: smart mixing, two fields, aggregation by skill.
    n2 = 1000
    ids2 = _task_ids(rng, n2)
    truth2 = rng.choice(3, size=n2, p=[0.45, 0.4, 0.15])
    easy = rng.random(n2) < 0.8
    tasks, who = _assign(rng, workers, n2, 3)
    answers = _answer(rng, workers, who, truth2[tasks], 3)
    honest = rng.random(len(who)) < np.where(
        np.isin(workers.kind[who], ["random", "constant"]), 0.5, 0.85
    )
    sure = np.where(honest, easy[tasks], ~easy[tasks])
    pool2 = DemoPool(
        SKILL_POOL_ID,
        "12",
        {
            "result": {
                "type": "STRING",
                "required": True,
                "allowed_values": ["cat", "dog", "other"],
            },
            "sure": {"type": "BOOLEAN", "required": True},
        },
        _frame(rng, ids2, tasks, who, workers, {"result": labels[answers], "sure": sure}),
        pd.DataFrame({"task_id": ids2, "result": labels[truth2], "sure": easy}),
        smart_mixing=True,
        description="cat/dog/other + sure, 1,000 tasks x 3 answers, smart mixing, skill 501",
        pool_info={"private_name": "Cat, dog or other (skill demo)"},
    )

    spam_accuracy = np.where(
        workers.kind == "random", 1 / 3, np.where(workers.kind == "constant", 0.4, workers.accuracy)
    )
    skill = np.clip(np.round(100 * spam_accuracy + rng.normal(0, 4, len(workers.ids))), 1, 99)
    skills = pd.DataFrame(
        {"worker_id": workers.ids, "skill_id": SKILL_ID, "value": skill.astype(int)}
    )
    return DemoData({pool1.pool_id: pool1, pool2.pool_id: pool2}, skills)


def demo_pools(seed: int = SEED) -> dict[str, DemoPool]:
    """The demo pools by id (see :func:`demo_data`)."""
    return demo_data(seed).pools


def add_demo_pools(server: LocalTolokaServer, seed: int = SEED) -> DemoData:
    """Serve every demo pool (and the skills) from ``server``; returns the data."""
    data = demo_data(seed)
    server.add_skills(data.skills)
    for pool in data.pools.values():
        server.add_pool(
            pool.pool_id,
            responses=pool.responses,
            output_spec=pool.output_spec,
            smart_mixing=pool.smart_mixing,
            project_id=pool.project_id,
            ground_truth=pool.ground_truth,
            pool_info=pool.pool_info,
        )
    return data


def make_demo_data(path: str | Path, seed: int = SEED) -> Path:
    """Write the demo pools as a data directory (see docs/server.md); return its path."""
    root = Path(path)
    data = demo_data(seed)
    write_skills(root, data.skills)
    for pool in data.pools.values():
        info = dict(pool.pool_info)
        if pool.smart_mixing:
            info["smart_mixing"] = True
        write_pool(
            root,
            pool.pool_id,
            responses=pool.responses,
            output_spec=pool.output_spec,
            project_id=pool.project_id,
            pool_info=info,
            ground_truth=pool.ground_truth,
            project_info={"public_name": pool.description},
        )
    return root
