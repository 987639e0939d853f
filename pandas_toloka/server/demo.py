"""Deterministic synthetic demo pools with known ground truth.

Workers share one population: careful workers, mediocre ones, spammers (random
or always the same answer) and a worker biased towards "cat" (see
:mod:`._synthetic`). Five pools:

* ``1001`` (project ``11``): cats vs dogs, 2,000 tasks, ~5 answers each, no
  smart mixing: made for ``DAWID_SKENE``, which beats majority vote here.
* ``1002`` (project ``12``): smart mixing, ``result`` (cat/dog/other) and
  ``sure`` (BOOLEAN), 1,000 tasks, 3 answers each; skill :data:`SKILL_ID`
  (worker accuracy in percent, noisy) for ``WEIGHTED_DYNAMIC_OVERLAP``.
* ``36502086`` (project ``118252``), the pool of Toloka's own examples: cats
  vs dogs (``result``) and ``sure``, 2,000 tasks with Toloka-shaped ids (among
  them ``00022cfa46--637cf3e76e13181a0164e4b3``), dynamic overlap 3 to 5 with
  skill ``11294``, so both ``DAWID_SKENE`` and ``WEIGHTED_DYNAMIC_OVERLAP``
  with that skill run on it as the Toloka docs show.
* ``1005`` (project ``15``): side by side, eight "models" of known strength
  compared in 600 pairs by 3 workers each (inputs ``left``, ``right``; output
  ``result``: left, right or tie), for the pairwise rankings
  (:mod:`._demo_pairwise`).
* ``283`` (project ``83859``), the pool of the REST reference's
  ``aggregate-by-task`` example: smart mixing, ``result`` (OK/BAD), 300 tasks
  x 3 answers, among them task ``afd1234d-12314a-cfd1424d-31214b``; skill
  ``1289``.
* ``1004`` (project ``14``): transcriptions, 400 audio clips x 5 texts with
  known truth, for ``ROVER`` (:mod:`._demo_texts`).
* ``1003`` (project ``13``): area selection, 300 images x 5 workers drawing
  rectangles (a ``JSON`` field, Toloka's shapes) around 1 to 3 known objects,
  workers of known skill (:mod:`._demo_areas`): for ``BOXES`` and the
  ``SEGMENTATION_*`` methods.

Every task of the categorical pools has an input ``image`` (a URL under
``example.com``: nothing is fetched), and every 20th task of each pool is a
control task whose known solution is its true ``result`` (``correctness_weight`` 1).

About 2 % of the answers are REJECTED (they must not count in aggregation).
The first two pools and skill 501 are drawn first from the seed, the Toloka
examples' pools from a stream of their own, so adding them changed nothing of
the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _demo_pairwise
from ._demo_areas import AREAS_POOL_ID, AREAS_PROJECT_ID, INPUT_SPEC, OUTPUT_SPEC, area_pool
from ._demo_pairwise import PAIRWISE_POOL_ID, PAIRWISE_STRENGTHS
from ._demo_texts import TRANSCRIPTION_POOL_ID, transcription_pool
from ._loader import write_pool, write_skills
from ._synthetic import Workers, answer, assign, frame, hex_ids, skill_values, workers

if TYPE_CHECKING:
    from ._server import LocalTolokaServer

__all__ = [
    "BY_TASK_POOL_ID",
    "BY_TASK_SKILL_ID",
    "BY_TASK_TASK_ID",
    "PAIRWISE_POOL_ID",
    "PAIRWISE_STRENGTHS",
    "SEED",
    "SKILL_ID",
    "TOLOKA_POOL_ID",
    "TOLOKA_SKILL_ID",
    "TOLOKA_TASK_ID",
    "TRANSCRIPTION_POOL_ID",
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
#: The pool, skill and first task of Toloka's own examples (aggregation recipe, toloka-kit).
TOLOKA_POOL_ID = "36502086"
TOLOKA_SKILL_ID = "11294"
TOLOKA_TASK_ID = "00022cfa46--637cf3e76e13181a0164e4b3"
#: The pool, skill and task of the REST reference's ``aggregate-by-task`` example.
BY_TASK_POOL_ID = "283"
BY_TASK_SKILL_ID = "1289"
BY_TASK_TASK_ID = "afd1234d-12314a-cfd1424d-31214b"


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
    dynamic_overlap_config: dict[str, Any] | None = None
    #: The skill that weights this pool's answers, when it has one of its own.
    skills: pd.DataFrame | None = None
    #: The project's input spec and the pool's tasks (input values, control tasks).
    input_spec: dict[str, Any] | None = None
    tasks: pd.DataFrame | None = None


@dataclass(frozen=True)
class DemoData:
    """The demo pools by id, and the skills table of skill :data:`SKILL_ID`.

    ``skills`` holds one skill (501, for pool 1002), so it can be passed as is
    wherever one skills table is expected; :attr:`all_skills` adds the skills
    of the Toloka examples' pools (``DemoPool.skills``), as the server serves them.
    """

    pools: dict[str, DemoPool]
    skills: pd.DataFrame

    @property
    def all_skills(self) -> pd.DataFrame:
        """Every skill of the demo: ``worker_id``, ``skill_id``, ``value``."""
        own = [pool.skills for pool in self.pools.values() if pool.skills is not None]
        return pd.concat([self.skills, *own], ignore_index=True)


def _task_ids(rng: np.random.Generator, n: int, first: int = 0x16C290) -> list[str]:
    # Shaped like Toloka's "00022cfa46--637cf3e76e13181a0164e4b3"; unique by construction.
    heads = hex_ids(rng, n, 24)
    return [f"{i:010x}--{h}" for i, h in zip(rng.permutation(n) + first, heads)]


def demo_data(seed: int = SEED) -> DemoData:
    """Build the demo pools and skills in memory (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    crowd = workers(rng)
    labels = np.array(["cat", "dog", "other"], dtype=object)

    # Pool 1001: cats vs dogs for Dawid-Skene.
    n1 = 2000
    ids1 = _task_ids(rng, n1)
    truth1 = (rng.random(n1) < 0.45).astype(int)  # 55 % cats
    tasks, who = assign(rng, crowd, n1, 5)
    answers = answer(rng, crowd, who, truth1[tasks], 2)
    pool1 = DemoPool(
        DS_POOL_ID,
        "11",
        {"result": {"type": "STRING", "required": True, "allowed_values": ["cat", "dog"]}},
        frame(rng, ids1, tasks, who, crowd, {"result": labels[answers]}),
        pd.DataFrame({"task_id": ids1, "result": labels[truth1]}),
        description="cats vs dogs, 2,000 tasks x 5 answers, for DAWID_SKENE",
        pool_info={"private_name": "Cats vs dogs (Dawid-Skene demo)"},
    )

    # Pool 1002: smart mixing, two fields, aggregation by skill.
    n2 = 1000
    ids2 = _task_ids(rng, n2)
    truth2 = rng.choice(3, size=n2, p=[0.45, 0.4, 0.15])
    easy = rng.random(n2) < 0.8
    tasks, who = assign(rng, crowd, n2, 3)
    answers = answer(rng, crowd, who, truth2[tasks], 3)
    honest = rng.random(len(who)) < np.where(
        np.isin(crowd.kind[who], ["random", "constant"]), 0.5, 0.85
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
        frame(rng, ids2, tasks, who, crowd, {"result": labels[answers], "sure": sure}),
        pd.DataFrame({"task_id": ids2, "result": labels[truth2], "sure": easy}),
        smart_mixing=True,
        description="cat/dog/other + sure, 1,000 tasks x 3 answers, smart mixing, skill 501",
        pool_info={"private_name": "Cat, dog or other (skill demo)"},
    )

    skills = pd.DataFrame(
        {"worker_id": crowd.ids, "skill_id": SKILL_ID, "value": skill_values(rng, crowd)}
    )
    pools = {pool1.pool_id: pool1, pool2.pool_id: pool2}
    # The Toloka examples' pools draw from a stream of their own (see the module docstring).
    examples = np.random.default_rng([seed, int(TOLOKA_POOL_ID)])
    pools[TOLOKA_POOL_ID] = _toloka_pool(examples, crowd)
    pools[BY_TASK_POOL_ID] = _by_task_pool(examples, crowd)
    pools = {pool_id: _with_images(pool) for pool_id, pool in pools.items()}
    areas = area_pool(np.random.default_rng([seed, int(AREAS_POOL_ID)]))  # a stream of its own
    pools[AREAS_POOL_ID] = DemoPool(
        AREAS_POOL_ID,
        AREAS_PROJECT_ID,
        OUTPUT_SPEC,
        areas.responses,
        areas.ground_truth,
        description="area selection: rectangles on 300 images x 5 workers, for BOXES",
        pool_info={"private_name": "Objects on street scenes (area selection demo)"},
        input_spec=INPUT_SPEC,
        tasks=areas.tasks,
    )
    # The side-by-side pool (pairwise ranking) draws from a stream of its own too.
    sbs = np.random.default_rng([seed, int(PAIRWISE_POOL_ID)])
    responses, truth, tasks = _demo_pairwise.pairwise_pool_parts(sbs, crowd)
    pools[PAIRWISE_POOL_ID] = DemoPool(
        PAIRWISE_POOL_ID,
        "15",
        _demo_pairwise.OUTPUT_SPEC,
        responses,
        truth,
        description="side by side: 8 models of known strength, 600 pairs x 3 answers",
        pool_info={"private_name": "Side-by-side (ranking demo)"},
        input_spec=_demo_pairwise.INPUT_SPEC,
        tasks=tasks,
    )
    # The transcription pool (_demo_texts): a stream of its own again, audio clips as input.
    texts = np.random.default_rng([seed, int(TRANSCRIPTION_POOL_ID)])
    pools[TRANSCRIPTION_POOL_ID] = DemoPool(**transcription_pool(texts, crowd))  # type: ignore[arg-type]
    return DemoData(pools, skills)


def _skill(rng: np.random.Generator, crowd: Workers, skill_id: str, noise: float) -> pd.DataFrame:
    values = skill_values(rng, crowd, noise)
    return pd.DataFrame({"worker_id": crowd.ids, "skill_id": skill_id, "value": values})


def _toloka_pool(rng: np.random.Generator, crowd: Workers) -> DemoPool:
    """Pool 36502086: cats vs dogs and ``sure``, dynamic overlap 3..5 weighted by skill 11294."""
    n = 2000
    ids = _task_ids(rng, n, first=int(TOLOKA_TASK_ID[:10], 16))
    ids = [TOLOKA_TASK_ID if i.startswith(TOLOKA_TASK_ID[:12]) else i for i in ids]
    labels = np.array(["cat", "dog"], dtype=object)
    truth = (rng.random(n) < 0.5).astype(int)
    easy = rng.random(n) < 0.8
    tasks, who = assign(rng, crowd, n, 5)
    # Dynamic overlap: every task gets 3 answers, the 40 % still uncertain get 5.
    uncertain = rng.random(n) < 0.4
    keep = (np.tile(np.arange(5), n) < 3) | uncertain[tasks]
    tasks, who = tasks[keep], who[keep]
    given = answer(rng, crowd, who, truth[tasks], 2)
    honest = rng.random(len(who)) < np.where(
        np.isin(crowd.kind[who], ["random", "constant"]), 0.5, 0.85
    )
    sure = np.where(honest, easy[tasks], ~easy[tasks])
    return DemoPool(
        TOLOKA_POOL_ID,
        "118252",
        {
            "result": {"type": "STRING", "required": True, "allowed_values": ["cat", "dog"]},
            "sure": {"type": "BOOLEAN", "required": True},
        },
        frame(rng, ids, tasks, who, crowd, {"result": labels[given], "sure": sure}),
        pd.DataFrame({"task_id": ids, "result": labels[truth], "sure": easy}),
        description=(
            "Toloka's example pool: cats vs dogs + sure, 2,000 tasks x 3-5 answers, "
            f"dynamic overlap, skill {TOLOKA_SKILL_ID}"
        ),
        pool_info={"private_name": "Pool 1"},
        dynamic_overlap_config={
            "type": "BASIC",
            "max_overlap": 5,
            "min_confidence": 0.9,
            "answer_weight_skill_id": TOLOKA_SKILL_ID,
            "fields": [{"name": "result"}],
        },
        skills=_skill(rng, crowd, TOLOKA_SKILL_ID, 4.0),
    )


def _by_task_pool(rng: np.random.Generator, crowd: Workers) -> DemoPool:
    """Pool 283: OK/BAD with smart mixing, including the REST reference's example task."""
    n = 300
    parts = [hex_ids(rng, n, width) for width in (8, 6, 8, 6)]
    ids = sorted({"-".join(p) for p in zip(*parts)} - {BY_TASK_TASK_ID})[: n - 1]
    ids.insert(int(rng.integers(0, n)), BY_TASK_TASK_ID)
    labels = np.array(["OK", "BAD"], dtype=object)
    truth = (rng.random(n) < 0.3).astype(int)  # 70 % OK
    tasks, who = assign(rng, crowd, n, 3)
    given = answer(rng, crowd, who, truth[tasks], 2)
    return DemoPool(
        BY_TASK_POOL_ID,
        "83859",
        {"result": {"type": "STRING", "required": True, "allowed_values": ["OK", "BAD"]}},
        frame(rng, ids, tasks, who, crowd, {"result": labels[given]}),
        pd.DataFrame({"task_id": ids, "result": labels[truth]}),
        smart_mixing=True,
        description=(
            f"the REST reference's aggregate-by-task pool: OK/BAD, 300 tasks x 3 answers, "
            f"smart mixing, skill {BY_TASK_SKILL_ID}"
        ),
        pool_info={"private_name": "aggregate-by-task example"},
        skills=_skill(rng, crowd, BY_TASK_SKILL_ID, 6.0),
    )


#: Where the demo's images would live (a documentation domain: nothing is fetched).
IMAGE_URL = "https://example.com/cats_vs_dogs/{}.jpg"
#: One task in this many is a control task, whose known solution is the ground truth.
CONTROL_EVERY = 20
_IMAGE_SPEC = {"image": {"type": "URL", "required": True}}


def _with_images(pool: DemoPool) -> DemoPool:
    """The pool with an image URL per task and every ``CONTROL_EVERY``-th task a control task.

    Drawn from nothing random: the answers and truth of every pool stay as they were.
    """
    truth = pool.ground_truth
    ids = truth["task_id"].tolist()
    control = [i % CONTROL_EVERY == 0 for i in range(len(ids))]
    tasks = pd.DataFrame(
        {
            "task_id": ids,
            "image": [IMAGE_URL.format(i) for i in ids],
            "known_solutions": [
                [{"output_values": {"result": r}, "correctness_weight": 1.0}] if c else None
                for r, c in zip(truth["result"].tolist(), control)
            ],
        }
    )
    return replace(pool, input_spec=_IMAGE_SPEC, tasks=tasks)


def demo_pools(seed: int = SEED) -> dict[str, DemoPool]:
    """The demo pools by id (see :func:`demo_data`)."""
    return demo_data(seed).pools


def add_demo_pools(server: LocalTolokaServer, *, seed: int = SEED) -> DemoData:
    """Serve every demo pool (and the skills) from ``server``; returns the data."""
    data = demo_data(seed)
    server.add_skills(data.all_skills)
    for pool in data.pools.values():
        server.add_pool(
            pool.pool_id,
            responses=pool.responses,
            output_spec=pool.output_spec,
            smart_mixing=pool.smart_mixing,
            project_id=pool.project_id,
            ground_truth=pool.ground_truth,
            pool_info=pool.pool_info,
            dynamic_overlap_config=pool.dynamic_overlap_config,
            tasks=pool.tasks,
            input_spec=pool.input_spec,
        )
    return data


def make_demo_data(path: str | Path, *, seed: int = SEED) -> Path:
    """Write the demo pools as a data directory (see docs/server.md); return its path."""
    root = Path(path)
    data = demo_data(seed)
    write_skills(root, data.all_skills)
    for pool in data.pools.values():
        info = dict(pool.pool_info)
        if pool.smart_mixing:
            info["smart_mixing"] = True
        if pool.dynamic_overlap_config is not None:
            info["dynamic_overlap_config"] = pool.dynamic_overlap_config
        write_pool(
            root,
            pool.pool_id,
            responses=pool.responses,
            output_spec=pool.output_spec,
            project_id=pool.project_id,
            pool_info=info,
            ground_truth=pool.ground_truth,
            project_info={"public_name": pool.description},
            tasks=pool.tasks,
            input_spec=pool.input_spec,
        )
    return root
