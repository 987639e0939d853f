"""Regenerate the stored reference outputs of the agreement measures.

Run from the repository root (it never imports pandas_toloka):

    /work/refvenv/bin/python tests/reference/agreement/make_agreement.py

(from a git worktree elsewhere, point ``PANDAS_TOLOKA_DATASETS`` at the datasets folder).

The reference environment holds ``krippendorff`` (0.9), ``crowd-kit`` (1.4.2,
with nltk) and scikit-learn. It writes ``agreement.json`` next to this file:
seeded random pools (their responses included, so the tests need none of these
libraries) with the references' values, and the references' values on the real
datasets ``duck`` and ``product`` (read from ``../shared/datasets`` when present;
the tests skip those cases where the datasets are absent).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
from crowdkit.aggregation import MajorityVote
from crowdkit.metrics.data import alpha_krippendorff, consistency, uncertainty
from crowdkit.metrics.workers import accuracy_on_aggregates
from crowdkit.postprocessing import entropy_threshold
from nltk.metrics.agreement import AnnotationTask
from sklearn.metrics import cohen_kappa_score

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
#: The real datasets: ``$PANDAS_TOLOKA_DATASETS``, else ``../shared/datasets`` from the root.
DATASETS = Path(os.environ.get("PANDAS_TOLOKA_DATASETS", ROOT / ".." / "shared" / "datasets"))
LEVELS = ("nominal", "ordinal", "interval", "ratio")
#: The numbers the labels 0, 1, 2, ... stand for (ratio data needs more than codes).
VALUES = [1.0, 2.0, 3.5, 5.0, 8.0, 13.0]


def random_pool(
    seed: int, *, n_tasks: int, n_workers: int, n_labels: int, p: float
) -> pd.DataFrame:
    """Workers of varying accuracy, each answering each task with probability ``p``."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_labels, n_tasks)
    accuracy = rng.uniform(0.3, 0.95, n_workers)
    rows = []
    for t in range(n_tasks):
        for w in range(n_workers):
            if rng.random() < p:
                right = rng.random() < accuracy[w]
                value = truth[t] if right else rng.integers(0, n_labels)
                rows.append((f"t{t:03d}", f"w{w:02d}", VALUES[int(value)]))
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def reliability(frame: pd.DataFrame) -> np.ndarray:
    """Workers x tasks, NaN where a worker did not answer."""
    return frame.pivot(index="worker", columns="task", values="label").to_numpy(dtype=float)


def package_alpha(frame: pd.DataFrame, level: str) -> float | None:
    try:
        return float(
            krippendorff.alpha(reliability_data=reliability(frame), level_of_measurement=level)
        )
    except ValueError:  # one value in the domain, or no pairable unit
        return None


def crowdkit_metrics(frame: pd.DataFrame, skills: pd.Series) -> dict[str, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mv = MajorityVote().fit(frame)
        by_task = uncertainty(frame, compute_by="task", aggregate=False)
        by_worker = uncertainty(frame, compute_by="worker", aggregate=False)
        skilled = uncertainty(frame, workers_skills=skills, compute_by="task", aggregate=False)
        skilled_workers = uncertainty(
            frame, workers_skills=skills, compute_by="worker", aggregate=False
        )
        consistent = consistency(frame, aggregator=MajorityVote(), by_task=True)
        consistent_skills = consistency(
            frame, workers_skills=skills, aggregator=MajorityVote(), by_task=True
        )
        accuracy = accuracy_on_aggregates(frame, aggregator=MajorityVote(), by="worker")
        overall = accuracy_on_aggregates(frame, aggregator=MajorityVote())
        kept = entropy_threshold(frame, percentile=20, min_answers=3)
        kept_skills = entropy_threshold(frame, workers_skills=skills, percentile=20, min_answers=3)
    return {
        "alpha_crowdkit": float(alpha_krippendorff(frame)),
        "majority_vote": {str(k): float(v) for k, v in mv.labels_.items()},
        "mv_skills": {str(k): float(v) for k, v in mv.skills_.items()},
        "uncertainty_task": {str(k): float(v) for k, v in by_task.items()},
        "uncertainty_worker": {str(k): float(v) for k, v in by_worker.items()},
        "uncertainty_task_skills": {str(k): float(v) for k, v in skilled.items()},
        "uncertainty_worker_skills": {str(k): float(v) for k, v in skilled_workers.items()},
        "consistency_task": {str(k): float(v) for k, v in consistent.items()},
        "consistency_task_skills": {str(k): float(v) for k, v in consistent_skills.items()},
        "accuracy_on_aggregates_worker": {str(k): float(v) for k, v in accuracy.items()},
        "accuracy_on_aggregates": float(overall),
        "entropy_threshold_removed": removed(frame, kept),
        "entropy_threshold_removed_skills": removed(frame, kept_skills),
    }


def removed(frame: pd.DataFrame, kept: pd.DataFrame) -> list[str]:
    """The workers a filter took out."""
    return sorted(set(frame["worker"]) - set(kept["worker"]))


def shorten(entry: dict[str, object], keep: int = 40) -> dict[str, object]:
    """Per-task values of a large pool: the mean and the first ``keep`` tasks (sorted)."""
    out = dict(entry)
    for key in (
        "majority_vote",
        "uncertainty_task",
        "uncertainty_task_skills",
        "consistency_task",
        "consistency_task_skills",
    ):
        values = out.pop(key)
        assert isinstance(values, dict)
        first = sorted(values)[:keep]
        out[key + "_mean"] = float(np.mean(list(values.values())))
        out[key + "_first"] = {k: values[k] for k in first}
    return out


def pairwise_cohen(frame: pd.DataFrame) -> list[list[object]]:
    """scikit-learn's Cohen's kappa for every pair of workers with a shared task."""
    table = frame.pivot(index="task", columns="worker", values="label")
    workers = sorted(table.columns)
    out: list[list[object]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, a in enumerate(workers):
            for b in workers[i + 1 :]:
                shared = table[[a, b]].dropna()
                if len(shared) == 0:
                    continue
                kappa = cohen_kappa_score(shared[a].astype(str), shared[b].astype(str))
                out.append([a, b, len(shared), None if np.isnan(kappa) else float(kappa)])
    return out


def multi_pi(frame: pd.DataFrame) -> float:
    """nltk's multi-pi (Fleiss' kappa when every worker answers every task)."""
    task = AnnotationTask(
        [(w, t, str(v)) for t, w, v in frame[["task", "worker", "label"]].itertuples(index=False)]
    )
    return float(task.pi())


def case(name: str, frame: pd.DataFrame, seed: int, *, keep_frame: bool) -> dict[str, object]:
    workers = sorted(frame["worker"].unique())
    rng = np.random.default_rng(seed + 1000)
    skills = pd.Series(rng.uniform(0.4, 0.95, len(workers)), index=workers)
    entry: dict[str, object] = {
        "name": name,
        "alpha": {level: package_alpha(frame, level) for level in LEVELS},
        "skills": {str(k): float(v) for k, v in skills.items()},
        **crowdkit_metrics(frame, skills),
    }
    if keep_frame:
        entry["responses"] = frame.to_dict(orient="list")
        entry["cohen"] = pairwise_cohen(frame)
    return entry


def main() -> None:
    cases = []
    settings = [
        (1, dict(n_tasks=40, n_workers=6, n_labels=3, p=0.6)),
        (2, dict(n_tasks=60, n_workers=10, n_labels=2, p=0.35)),
        (3, dict(n_tasks=25, n_workers=5, n_labels=5, p=0.8)),
        (4, dict(n_tasks=80, n_workers=12, n_labels=4, p=0.25)),
    ]
    for seed, options in settings:
        frame = random_pool(seed, **options)
        cases.append(case(f"random{seed}", frame, seed, keep_frame=True))
    complete = []
    for seed in (11, 12):
        frame = random_pool(seed, n_tasks=30, n_workers=4, n_labels=3, p=1.0)
        complete.append({"responses": frame.to_dict(orient="list"), "fleiss": multi_pi(frame)})
    real = {}
    for name in ("duck", "product"):
        path = DATASETS / name / "answer.csv"
        if not path.exists():
            print(f"{path} is absent: its references are not regenerated")
            continue
        answers = pd.read_csv(path).rename(columns={"question": "task", "answer": "label"})
        answers["task"] = answers["task"].astype(str)
        answers["worker"] = answers["worker"].astype(str)
        answers["label"] = answers["label"].astype(float)
        real[name] = shorten(case(name, answers, 7, keep_frame=False))
    out = {
        "versions": {
            "krippendorff": krippendorff.__dict__.get("__version__", "0.9.0"),
            "crowdkit": "1.4.2",
        },
        "values": VALUES,
        "cases": cases,
        "complete": complete,
        "real": real,
    }
    (HERE / "agreement.json").write_text(
        json.dumps(out, indent=None, sort_keys=True) + "\n", encoding="utf-8"
    )
    print("wrote", HERE / "agreement.json")


if __name__ == "__main__":
    main()
