"""Regenerate the stored crowd-kit outputs the area tests compare with.

Run from the repository root with the reference environment (crowd-kit installed)::

    PYTHONPATH=$PWD /work/refvenv/bin/python tests/reference/areas/make_areas.py

It writes ``segmentation.npz`` next to this file: for each case, the responses
(task, worker, mask shapes and pixels) and crowd-kit's ``SegmentationMajorityVote``,
``SegmentationRASA`` and ``SegmentationEM`` results. The inputs are crowd-kit's own
fixtures (``tests/aggregation/data_image.py``) and seeded synthetic pools.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from crowdkit.aggregation import SegmentationEM, SegmentationMajorityVote, SegmentationRASA

HERE = Path(__file__).resolve().parent
WORKERS = [
    "bf3a144d756790eb511f5ebccfcf3964",
    "be37db5784b50d08d2702f36317a3074",
    "e044b0849dfa9ce3dee5debbefb3b5da",
]


def _masks(rows: list[str]) -> np.ndarray:
    return np.array([[c == "1" for c in row] for row in rows], dtype=bool)


def crowdkit_simple() -> pd.DataFrame:
    """crowd-kit's ``simple_image_df`` fixture."""
    masks = [
        _masks(["00010000", "11111111", "11111111"]),
        _masks(["00000000", "11111111", "11111111"]),
        _masks(["00000000", "00001100", "00001100"]),
        _masks(["00000000", "00000001", "11111111"]),
        _masks(["11111111", "11111111", "11111100"]),
        _masks(["00000000", "11111000", "11111110"]),
    ]
    return pd.DataFrame({"task": [1, 1, 1, 2, 2, 2], "worker": WORKERS * 2, "segmentation": masks})


def crowdkit_skills() -> tuple[pd.DataFrame, pd.Series]:
    """crowd-kit's ``image_with_skills_df`` fixture."""
    masks = [_masks(["11000", "10000"]), _masks(["10101", "00000"]), _masks(["01110", "00000"])]
    frame = pd.DataFrame({"task": [1, 1, 1], "worker": WORKERS, "segmentation": masks})
    return frame, pd.Series([1, 1, 3], index=pd.Index(WORKERS, name="worker"))


def synthetic(seed: int, n_tasks: int, responses: tuple[int, int]) -> pd.DataFrame:
    """Ellipses on images of a few sizes, workers with a per-worker pixel flip rate."""
    rng = np.random.default_rng(seed)
    workers = [f"w{i:02d}" for i in range(20)]
    flip = rng.uniform(0.0, 0.35, size=len(workers))
    rows = []
    for t in range(n_tasks):
        height, width = [(12, 16), (16, 16), (20, 12)][t % 3]
        yy, xx = np.mgrid[0:height, 0:width]
        cy, cx = rng.uniform(0.3, 0.7) * height, rng.uniform(0.3, 0.7) * width
        ry, rx = rng.uniform(0.2, 0.4) * height, rng.uniform(0.2, 0.4) * width
        truth = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        k = int(rng.integers(responses[0], responses[1] + 1))
        for w in rng.choice(len(workers), size=k, replace=False):
            noise = rng.random(truth.shape) < flip[w]
            mask = truth ^ noise
            if rng.random() < 0.1:  # a sloppy worker shifts the whole shape
                mask = np.roll(mask, int(rng.integers(1, 4)), axis=1)
            rows.append((f"t{t:03d}", workers[w], mask))
    return pd.DataFrame(rows, columns=["task", "worker", "segmentation"])


def _store(out: dict[str, np.ndarray], prefix: str, tasks: list, masks: list) -> None:
    out[f"{prefix}_task"] = np.asarray([str(t) for t in tasks])
    out[f"{prefix}_shape"] = np.asarray([m.shape for m in masks], dtype=np.int64).reshape(-1, 2)
    out[f"{prefix}_pixels"] = (
        np.concatenate([np.asarray(m, dtype=bool).ravel() for m in masks])
        if masks
        else np.zeros(0, dtype=bool)
    )


def main() -> None:
    warnings.simplefilter("ignore")
    out: dict[str, np.ndarray] = {}
    simple = crowdkit_simple()
    skills_frame, skills = crowdkit_skills()
    cases = {
        "simple": simple,
        "skills": skills_frame,
        "synthetic": synthetic(19, 45, (2, 7)),
        "many": synthetic(7, 6, (13, 15)),
    }
    runs = {
        "mv": lambda df: SegmentationMajorityVote().fit_predict(df),
        "rasa": lambda df: SegmentationRASA().fit_predict(df),
        "rasa_tol0": lambda df: SegmentationRASA(n_iter=10, tol=0).fit_predict(df),
        "rasa_long": lambda df: SegmentationRASA(n_iter=100500, tol=1e-5).fit_predict(df),
        "em": lambda df: SegmentationEM().fit_predict(df),
        "em_tol0": lambda df: SegmentationEM(n_iter=10, tol=0).fit_predict(df),
        "em_long": lambda df: SegmentationEM(n_iter=100500, tol=1e-5).fit_predict(df),
        "em_zero": lambda df: SegmentationEM(n_iter=0).fit_predict(df),
    }
    for name, frame in cases.items():
        _store(out, f"{name}_in", list(frame["task"]), list(frame["segmentation"]))
        out[f"{name}_in_worker"] = np.asarray(frame["worker"], dtype=str)
        for run, fit in runs.items():
            result = fit(frame)
            _store(out, f"{name}_{run}", list(result.index), list(result))
    weighted = SegmentationMajorityVote().fit_predict(skills_frame, skills)
    _store(out, "skills_mv_weighted", list(weighted.index), list(weighted))
    out["skills_weights_worker"] = np.asarray(skills.index, dtype=str)
    out["skills_weights_value"] = skills.to_numpy(dtype=np.float64)
    np.savez_compressed(HERE / "segmentation.npz", **out)


if __name__ == "__main__":
    main()
