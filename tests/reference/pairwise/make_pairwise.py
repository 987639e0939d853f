"""Regenerate the pairwise-ranking fixtures and the reference libraries' outputs.

Run from the repository root (it imports crowd-kit and evalica, never pandas_toloka)::

    /work/refvenv/bin/python tests/reference/pairwise/make_pairwise.py

Writes, next to this script:

- ``fixture_<name>.csv``: the comparisons (``left``, ``right``, ``winner`` in
  left/right/tie form, ``worker_id``); ``truth_known.csv``: the true
  log-strengths the ``known`` fixture was drawn from.
- ``evalica.csv``: evalica's scores (``fixture, method, item, score``) with its
  default parameters, and ``bradley_terry_tight`` (tolerance 1e-12).
  ``eigen`` is evalica's eigen run on the fixture with every outcome
  reversed (see docs/side-by-side.md: evalica's eigen ranks by losses).
- ``crowdkit.csv``: crowd-kit's ``BradleyTerry(n_iter=100)`` scores (which stop
  after two MM steps: see docs/side-by-side.md), ``BradleyTerry(n_iter=5000,
  tol=0)`` ones (``BradleyTerry_tol0``: run to the end) and
  ``NoisyBradleyTerry()`` scores (``fixture, method, item, score``), on the
  fixtures without ties (crowd-kit has no ties);
  ``crowdkit_workers.csv``: NoisyBT's skills and biases.
- ``versions.json``: the versions used.
"""

from __future__ import annotations

import json
from pathlib import Path

import crowdkit
import evalica
import numpy as np
import pandas as pd
from crowdkit.aggregation import BradleyTerry, NoisyBradleyTerry
from evalica import Winner

HERE = Path(__file__).resolve().parent
SIDES = {"left": Winner.X, "right": Winner.Y, "tie": Winner.Draw}
FLIPPED = {"left": Winner.Y, "right": Winner.X, "tie": Winner.Draw}


def crowdkit_fixtures() -> dict[str, pd.DataFrame]:
    """crowd-kit's own test fixtures (tests/aggregation/test_bt_aggregation.py)."""
    rows = {
        "ck_abc": [("w1", "a", "b", "a"), ("w1", "b", "c", "b"), ("w1", "c", "a", "a")],
        "ck_equal": [("w1", "a", "b", "a"), ("w1", "b", "c", "b"), ("w1", "c", "a", "c")],
    }
    out = {}
    for name, data in rows.items():
        frame = pd.DataFrame(data, columns=["worker_id", "left", "right", "label"])
        frame["winner"] = np.where(frame["label"] == frame["left"], "left", "right")
        out[name] = frame[["left", "right", "winner", "worker_id"]]
    return out


def simulate(
    n_items: int,
    n: int,
    *,
    seed: int,
    ties: float,
    n_workers: int,
    careless: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Comparisons drawn from Bradley–Terry with known log-strengths.

    The first ``careless`` workers answer "left" with probability 0.8 whatever
    the items; the others by Bradley–Terry; a share ``ties`` of the answers are
    ties.
    """
    rng = np.random.default_rng(seed)
    truth = np.sort(rng.normal(scale=1.0, size=n_items))[::-1]
    left = rng.integers(0, n_items, n)
    right = (left + rng.integers(1, n_items, n)) % n_items
    worker = rng.integers(0, n_workers, n)
    p_left = 1 / (1 + np.exp(-(truth[left] - truth[right])))
    p_left = np.where(worker < careless, 0.8, p_left)
    winner = np.where(rng.random(n) < p_left, "left", "right")
    winner = np.where(rng.random(n) < ties, "tie", winner)
    names = np.array([f"item{i:03d}" for i in range(n_items)])
    frame = pd.DataFrame(
        {
            "left": names[left],
            "right": names[right],
            "winner": winner,
            "worker_id": np.char.add("w", worker.astype(str)),
        }
    )
    return frame, truth


def fixtures() -> dict[str, pd.DataFrame]:
    out = crowdkit_fixtures()
    known, truth = simulate(12, 3000, seed=1, ties=0.1, n_workers=30, careless=0)
    out["known"] = known
    pd.DataFrame({"item": [f"item{i:03d}" for i in range(12)], "log_strength": truth}).to_csv(
        HERE / "truth_known.csv", index=False
    )
    out["workers"], _ = simulate(10, 2000, seed=2, ties=0.0, n_workers=20, careless=5)
    out["sparse"], _ = simulate(200, 3000, seed=3, ties=0.05, n_workers=10, careless=0)
    return out


def evalica_scores(name: str, frame: pd.DataFrame) -> list[dict[str, object]]:
    xs, ys = frame["left"].tolist(), frame["right"].tolist()
    winners = [SIDES[w] for w in frame["winner"]]
    flipped = [FLIPPED[w] for w in frame["winner"]]
    runs = {
        "bradley_terry": evalica.bradley_terry(xs, ys, winners),
        "bradley_terry_tight": evalica.bradley_terry(
            xs, ys, winners, tolerance=1e-12, limit=100000
        ),
        "elo": evalica.elo(xs, ys, winners),
        "counting": evalica.counting(xs, ys, winners),
        "average_win_rate": evalica.average_win_rate(xs, ys, winners),
        "eigen": evalica.eigen(xs, ys, flipped),
        "pagerank": evalica.pagerank(xs, ys, winners),
    }
    rows: list[dict[str, object]] = []
    for method, result in runs.items():
        for item, score in result.scores.items():
            rows.append({"fixture": name, "method": method, "item": item, "score": float(score)})
    return rows


def crowdkit_scores(
    name: str, frame: pd.DataFrame
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    data = frame.rename(columns={"worker_id": "worker"})
    data["label"] = np.where(data["winner"] == "left", data["left"], data["right"])
    data = data[["worker", "left", "right", "label"]]
    rows: list[dict[str, object]] = []
    bt = BradleyTerry(n_iter=100).fit(data)
    for item, score in bt.scores_.items():
        rows.append(
            {"fixture": name, "method": "BradleyTerry", "item": item, "score": float(score)}
        )
    converged = BradleyTerry(n_iter=5000, tol=0.0).fit(data)
    for item, score in converged.scores_.items():
        rows.append(
            {"fixture": name, "method": "BradleyTerry_tol0", "item": item, "score": float(score)}
        )
    noisy = NoisyBradleyTerry().fit(data)
    for item, score in noisy.scores_.items():
        rows.append(
            {"fixture": name, "method": "NoisyBradleyTerry", "item": item, "score": float(score)}
        )
    workers = [
        {
            "fixture": name,
            "worker_id": w,
            "skill": float(noisy.skills_[w]),
            "bias": float(noisy.biases_[w]),
        }
        for w in noisy.skills_.index
    ]
    return rows, workers


def main() -> None:
    evalica_rows: list[dict[str, object]] = []
    crowdkit_rows: list[dict[str, object]] = []
    worker_rows: list[dict[str, object]] = []
    for name, frame in fixtures().items():
        frame.to_csv(HERE / f"fixture_{name}.csv", index=False)
        evalica_rows += evalica_scores(name, frame)
        if not (frame["winner"] == "tie").any():
            scores, workers = crowdkit_scores(name, frame)
            crowdkit_rows += scores
            worker_rows += workers
    pd.DataFrame(evalica_rows).to_csv(HERE / "evalica.csv", index=False, float_format="%.17g")
    pd.DataFrame(crowdkit_rows).to_csv(HERE / "crowdkit.csv", index=False, float_format="%.17g")
    pd.DataFrame(worker_rows).to_csv(
        HERE / "crowdkit_workers.csv", index=False, float_format="%.17g"
    )
    versions = {
        "crowd-kit": crowdkit.__version__,
        "evalica": evalica.__version__,
        "evalica_solver": evalica.SOLVER,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    (HERE / "versions.json").write_text(json.dumps(versions, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
