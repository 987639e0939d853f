"""Regenerate crowd-kit's outputs that the parity tests compare against.

Run from the project root with the reference venv (crowd-kit 1.4.2, pandas<3)::

    PYTHONPATH=tests/aggregation /work/refvenv/bin/python tests/reference/crowdkit/make_crowdkit.py [DATASETS]

where DATASETS is the folder holding ``duck/`` and ``product/`` (default:
``../shared/datasets`` from the project root, as in tests/aggregation/conftest.py).

It writes, next to itself:

- ``pools/<pool>.csv``: the small synthetic pools (``pools.synthetic_pool``)
  the tests read, so both sides read the same responses;
- ``<pool>-<method>.csv``: crowd-kit's label per task and its posterior per
  label (one column per label), and ``<pool>-<method>-workers.csv``: its
  per-worker estimates (skills, GLAD's alphas);
- ``<dataset>-<method>.csv.gz``: the same on the real datasets of
  ``../shared/datasets`` when they are present (skipped otherwise);
- ``crowdkit.json``: scalars (crowd-kit's version, DS loss histories, MACE's
  accuracy on the real datasets as crowd-kit ships it).

The tests never import crowd-kit: they read these files.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import crowdkit
import pandas as pd
from crowdkit import aggregation as ck
from pools import synthetic_pool

HERE = Path(__file__).resolve().parent
DATASETS = HERE.parents[2] / ".." / "shared" / "datasets"

# name -> synthetic_pool arguments (the pools the parity tests used to build)
POOLS = {
    "binary30": {"n_labels": 2, "n_tasks": 30},
    "ternary30": {"n_labels": 3, "n_tasks": 30},
    "ternary25": {"n_labels": 3, "n_tasks": 25},
}


def _fit(model, frame: pd.DataFrame, **kwargs):
    data = frame.rename(
        columns={"task_id": "task", "worker_id": "worker", "result": "label", "question": "task"}
    ).rename(columns={"answer": "label"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(data, **kwargs)


def _tasks(model, *, probas: bool = True) -> pd.DataFrame:
    out = pd.DataFrame({"label": model.labels_})
    if probas:
        p = model.probas_.copy()
        p.columns = [f"p_{c}" for c in p.columns]
        out = out.join(p)
    out.index.name = "task"
    return out.sort_index()


def _write(frame: pd.DataFrame, name: str) -> None:
    # gzip without a timestamp, so that regenerating unchanged outputs changes no byte
    compression = {"method": "gzip", "mtime": 0} if name.endswith(".gz") else None
    frame.to_csv(HERE / name, compression=compression)


class OrderFixedMACE(ck.MACE):
    """crowd-kit's MACE with its E-step's worker/label order mix-up reindexed.

    Its E-step returns the spamming-label counts from a groupby in *sorted*
    worker and label order, while every table is read with first-appearance
    codes; this double reindexes them to first-appearance order.
    """

    def _e_step(self, annotation, task_names, worker_names, label_names, *codes):
        ll, marginals, strategy, knowing = super()._e_step(
            annotation, task_names, worker_names, label_names, *codes
        )
        strategy = strategy.reindex(index=worker_names, columns=label_names).fillna(0.0)
        return ll, marginals, strategy, knowing


def _synthetic(meta: dict) -> None:
    (HERE / "pools").mkdir(exist_ok=True)
    frames = {}
    for name, kwargs in POOLS.items():
        frame, _ = synthetic_pool(**kwargs)
        frame.to_csv(HERE / "pools" / f"{name}.csv", index=False)
        frames[name] = pd.read_csv(HERE / "pools" / f"{name}.csv")
    for pool in ("binary30", "ternary30"):
        frame = frames[pool]
        for method, model in [
            ("DAWID_SKENE", ck.DawidSkene()),
            ("ONE_COIN_DAWID_SKENE", ck.OneCoinDawidSkene()),
            ("MACE", ck.MACE(n_restarts=1)),
            ("MAJORITY_VOTE", ck.MajorityVote()),
        ]:
            _write(_tasks(_fit(model, frame)), f"{pool}-{method}.csv")
    _write(_tasks(_fit(ck.KOS(n_iter=10), frames["binary30"]), probas=False), "binary30-KOS.csv")
    glad = _fit(ck.GLAD(), frames["ternary25"])
    _write(_tasks(glad), "ternary25-GLAD.csv")
    _write(
        glad.alphas_.rename("alpha").rename_axis("worker").to_frame(), "ternary25-GLAD-workers.csv"
    )
    for method, model in [("WAWA", ck.Wawa()), ("ZERO_BASED_SKILL", ck.ZeroBasedSkill(n_iter=30))]:
        # crowd-kit's own predict step fails under current scikit-learn, so its
        # fitted skills go through its MajorityVote, which is all that step does.
        fitted = _fit(model, ternary := frames["ternary30"])
        voted = _fit(ck.MajorityVote(), ternary, skills=fitted.skills_)
        _write(_tasks(voted, probas=False), f"ternary30-{method}.csv")
        skills = fitted.skills_.rename("skill").rename_axis("worker").to_frame()
        _write(skills, f"ternary30-{method}-workers.csv")


def _real(meta: dict, datasets: Path) -> None:
    for name in ("duck", "product"):
        folder = datasets / name
        if not (folder / "answer.csv").exists():
            print(f"skipped {name}: {folder} is absent")
            continue
        answers = pd.read_csv(folder / "answer.csv")
        truth = pd.read_csv(folder / "truth.csv").set_index("question")["truth"]
        mv = _fit(ck.MajorityVote(), answers)
        _write(_tasks(mv), f"{name}-MAJORITY_VOTE.csv.gz")
        ds = _fit(ck.DawidSkene(n_iter=100), answers)
        _write(_tasks(ds), f"{name}-DAWID_SKENE.csv.gz")
        meta[f"{name}-DAWID_SKENE-loss_history"] = [float(x) for x in ds.loss_history_]
        fixed = _fit(OrderFixedMACE(n_restarts=1), answers)
        _write(_tasks(fixed), f"{name}-MACE_ORDER_FIXED.csv.gz")
        shipped = _fit(ck.MACE(n_restarts=1), answers)
        labels = shipped.labels_.reindex(truth.index)
        meta[f"{name}-MACE-accuracy"] = float((labels == truth).mean())


def main() -> None:
    meta: dict = {"crowd-kit": crowdkit.__version__, "pandas": pd.__version__}
    _synthetic(meta)
    _real(meta, Path(sys.argv[1]) if len(sys.argv) > 1 else DATASETS)
    (HERE / "crowdkit.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
