"""The area-selection demo pool: rectangles drawn on images of known objects.

Pool ``1003`` (project ``13``): 300 images, each with 1 to 3 objects (rectangles in
relative coordinates); 5 of 12 workers draw on each image, in Toloka's
``field.image-annotation`` output shape (a ``JSON`` field ``result``: a list of
``{"shape": "rectangle", "left", "top", "width", "height"}``). The workers' skill
is known (:func:`area_workers`): how far their edges stray from the truth
(``jitter``, a standard deviation in relative units), how often they miss an object
and how often they add a spurious box; one spammer draws random boxes. An empty
list is a worker who saw nothing (it happens when every object is missed).
About 2 % of the answers are REJECTED; every 20th image is a control task whose
known solution is its true boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["AREAS_POOL_ID", "AREAS_PROJECT_ID", "AreaPool", "area_pool", "area_workers"]

AREAS_POOL_ID = "1003"
AREAS_PROJECT_ID = "13"
N_IMAGES = 300
OVERLAP = 5
CONTROL_EVERY = 20
IMAGE_URL = "https://example.com/street_scenes/{}.jpg"
OUTPUT_SPEC: dict[str, Any] = {"result": {"type": "JSON", "required": True}}
INPUT_SPEC: dict[str, Any] = {"image": {"type": "URL", "required": True}}

#: kind -> (how many, jitter, miss rate, extra-box rate)
_KINDS = {
    "precise": (5, 0.005, 0.02, 0.02),
    "fair": (4, 0.015, 0.08, 0.05),
    "sloppy": (2, 0.04, 0.25, 0.2),
    "spammer": (1, 0.0, 1.0, 1.0),
}


@dataclass(frozen=True)
class AreaPool:
    """What :class:`~pandas_toloka.server.demo.DemoPool` needs for pool ``1003``."""

    responses: pd.DataFrame
    ground_truth: pd.DataFrame
    tasks: pd.DataFrame


def area_workers() -> pd.DataFrame:
    """The workers of pool ``1003`` and their known skill.

    Returns
    -------
    pandas.DataFrame
        ``worker_id``, ``kind`` (precise, fair, sloppy, spammer), ``jitter``
        (standard deviation of each drawn edge, relative units), ``miss`` (the
        chance to skip an object) and ``extra`` (the chance to add a spurious box).
    """
    rows = []
    for kind, (count, jitter, miss, extra) in _KINDS.items():
        for i in range(count):
            rows.append((f"area-{kind}-{i + 1}", kind, jitter, miss, extra))
    return pd.DataFrame(rows, columns=["worker_id", "kind", "jitter", "miss", "extra"])


def _rectangle(left: float, top: float, right: float, bottom: float) -> dict[str, Any]:
    return {
        "shape": "rectangle",
        "left": round(left, 4),
        "top": round(top, 4),
        "width": round(right - left, 4),
        "height": round(bottom - top, 4),
    }


def _objects(rng: np.random.Generator) -> np.ndarray:
    """1 to 3 objects as edges (left, top, right, bottom), apart from each other."""
    count = int(rng.integers(1, 4))
    objects: list[np.ndarray] = []
    while len(objects) < count:
        size = rng.uniform(0.12, 0.35, size=2)
        corner = rng.uniform(0.02, 0.98 - size)
        edges = np.concatenate([corner, corner + size])
        apart = all(
            edges[0] > o[2] + 0.02
            or o[0] > edges[2] + 0.02
            or edges[1] > o[3] + 0.02
            or o[1] > edges[3] + 0.02
            for o in objects
        )
        if apart:
            objects.append(edges)
    return np.array(objects)


def _draw(
    rng: np.random.Generator, objects: np.ndarray, skill: dict[str, Any]
) -> list[dict[str, Any]]:
    drawn = []
    if skill["kind"] == "spammer":
        for _ in range(int(rng.integers(1, 3))):
            corner = rng.uniform(0, 0.8, size=2)
            size = rng.uniform(0.05, 0.2, size=2)
            drawn.append(_rectangle(*corner, *(corner + size)))
        return drawn
    for edges in objects:
        if rng.random() < skill["miss"]:
            continue
        noisy = np.clip(edges + rng.normal(0, skill["jitter"], size=4), 0, 1)
        noisy[2:] = np.maximum(noisy[2:], noisy[:2] + 0.01)
        drawn.append(_rectangle(*noisy))
    if rng.random() < skill["extra"]:
        corner = rng.uniform(0, 0.85, size=2)
        drawn.append(_rectangle(*corner, *(corner + rng.uniform(0.05, 0.15, size=2))))
    order = rng.permutation(len(drawn))
    return [drawn[i] for i in order]


def area_pool(rng: np.random.Generator) -> AreaPool:
    """Build pool ``1003`` from ``rng`` (deterministic for a given generator state)."""
    crowd = area_workers().to_dict("records")
    ids = [f"image-{i:04d}" for i in range(N_IMAGES)]
    truth, rows = [], []
    for task_id in ids:
        objects = _objects(rng)
        truth.append([_rectangle(*edges) for edges in objects])
        for w in rng.choice(len(crowd), size=OVERLAP, replace=False):
            rows.append((task_id, crowd[w]["worker_id"], _draw(rng, objects, crowd[w])))
    n = len(rows)
    start = np.datetime64("2024-05-01T09:00:00", "ms")
    offsets = np.sort(rng.integers(0, 7 * 24 * 3600 * 1000, n)).astype("timedelta64[ms]")
    responses = pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])
    responses["status"] = np.where(rng.random(n) < 0.02, "REJECTED", "ACCEPTED")
    responses["submitted"] = start + offsets
    responses = responses.iloc[rng.permutation(n)].reset_index(drop=True)
    tasks = pd.DataFrame(
        {
            "task_id": ids,
            "image": [IMAGE_URL.format(i) for i in ids],
            "known_solutions": [
                [{"output_values": {"result": boxes}, "correctness_weight": 1.0}]
                if i % CONTROL_EVERY == 0
                else None
                for i, boxes in enumerate(truth)
            ],
        }
    )
    return AreaPool(responses, pd.DataFrame({"task_id": ids, "result": truth}), tasks)
