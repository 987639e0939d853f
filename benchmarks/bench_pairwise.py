"""Benchmark the pairwise rankings against evalica and crowd-kit.

Usage (evalica and crowd-kit come with the ``bench`` extra)::

    PYTHONPATH=. python benchmarks/bench_pairwise.py [--repeat 3] [--json out.json]

Data: deterministic comparisons drawn from Bradley–Terry (normal
log-strengths), 10 % ties, string item and worker ids in Arrow-backed
columns. Each case times one call, best of ``--repeat`` (``timeit``'s rule),
after a warm-up call on 1,000 rows; both libraries run in this process on the
same comparisons, called in turn (ours, evalica, ours, ...) so that both see
the same load; each row also shows the spread of the per-round ratios. Ours is timed from the DataFrame to the result frame
(validation, encoding, fit, result). evalica is handed the Python lists its
API takes (``xs``, ``ys``, a list of ``Winner``), made before its timing
starts, so its conversion from the frame is *not* counted; crowd-kit gets the
frame its API takes (``worker``, ``left``, ``right``, ``label``; no ties, which
it cannot read).

Cases:

- Bradley–Terry, 1,000,000 comparisons among 1,000 and among 129 items (ours
  with ``prior=0`` as evalica, tolerance 1e-8 on log-strengths; evalica's
  default tolerance 1e-6 on the strengths).
- Elo, the same data (evalica's defaults, K = 4).
- counting, average win rate, eigenvector, PageRank on the 129-item data.
- NoisyBT against crowd-kit's ``NoisyBradleyTerry()`` on 3,000 comparisons of
  20 items by 30 workers (crowd-kit evaluates its gradient in a Python loop).
- 1,000 bootstrap replicates of Bradley–Terry on 100,000 comparisons (129 and
  1,000 items), with the threads the machine gives.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import pandas_toloka.aggregation as agg

try:
    import evalica
except ImportError:  # pragma: no cover - the bench extra
    evalica = None
try:
    from crowdkit.aggregation import NoisyBradleyTerry
except ImportError:  # pragma: no cover - the bench extra
    NoisyBradleyTerry = None


def comparisons(
    n_items: int, n: int, *, seed: int, ties: float = 0.1, n_workers: int = 50
) -> pd.DataFrame:
    """``n`` comparisons of ``n_items`` items drawn from Bradley–Terry."""
    rng = np.random.default_rng(seed)
    strength = rng.normal(size=n_items)
    left = rng.integers(0, n_items, n)
    right = (left + rng.integers(1, n_items, n)) % n_items
    p_left = 1 / (1 + np.exp(-(strength[left] - strength[right])))
    winner = np.where(rng.random(n) < p_left, "left", "right")
    winner = np.where(rng.random(n) < ties, "tie", winner)
    names = np.array([f"model-{i:04d}" for i in range(n_items)])
    return pd.DataFrame(
        {
            "left": pd.array(names[left], dtype="string[pyarrow]"),
            "right": pd.array(names[right], dtype="string[pyarrow]"),
            "winner": pd.array(winner, dtype="string[pyarrow]"),
            "worker_id": pd.array(
                np.char.add("w", rng.integers(0, n_workers, n).astype(str)), dtype="string[pyarrow]"
            ),
        }
    )


def best_of(function: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def alternating(
    ours: Callable[[], Any], theirs: Callable[[], Any], repeat: int
) -> tuple[float, float, list[float]]:
    """Ours and theirs called in turn ``repeat`` times: the best of each, and each
    round's ratio (theirs / ours), whose spread shows what the load did."""
    mine, other = [], []
    for _ in range(repeat):
        mine.append(best_of(ours, 1))
        other.append(best_of(theirs, 1))
    return min(mine), min(other), [t / o for t, o in zip(other, mine, strict=True)]


def evalica_inputs(frame: pd.DataFrame) -> tuple[list[str], list[str], list[Any]]:
    sides = {"left": evalica.Winner.X, "right": evalica.Winner.Y, "tie": evalica.Winner.Draw}
    return (
        frame["left"].tolist(),
        frame["right"].tolist(),
        [sides[w] for w in frame["winner"].tolist()],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument(
        "--bootstrap-items",
        type=int,
        nargs="*",
        default=[129, 1000],
        help="item counts of the bootstrap cases (none: skip them)",
    )
    args = parser.parse_args()
    rows: list[dict[str, object]] = []

    def record(
        case: str,
        ours: float,
        theirs: float | None,
        baseline: str,
        rounds: list[float] | None = None,
    ) -> None:
        ratio = theirs / ours if theirs else None
        spread = f" (rounds {min(rounds):.2f}x-{max(rounds):.2f}x)" if rounds else ""
        rows.append(
            {
                "case": case,
                "ours_s": ours,
                "baseline": baseline,
                "baseline_s": theirs,
                "speedup": ratio,
                "round_speedups": rounds,
            }
        )
        shown = f"{theirs:.3f}" if theirs else "not run"
        print(
            f"| {case} | {ours:.3f} | {baseline} | {shown} | {f'{ratio:.2f}x' if ratio else '—'}{spread} |",
            flush=True,
        )

    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"evalica {getattr(evalica, '__version__', 'absent')}, {os.cpu_count()} CPUs"
    )
    print("\n| case | ours (s) | baseline | baseline (s) | speed-up |\n|---|---|---|---|---|")
    warm = comparisons(20, 1000, seed=9)
    for function in (
        agg.bradley_terry,
        agg.elo,
        agg.counting,
        agg.average_win_rate,
        agg.eigenvector,
        agg.pagerank,
    ):
        function(warm, n_bootstrap=0)
    for n_items in (1000, 129):
        frame = comparisons(n_items, args.size, seed=n_items)
        inputs = evalica_inputs(frame) if evalica else None
        label = f"{args.size:,} comparisons, {n_items} items"
        pairs: list[tuple[str, Callable[[], Any], Callable[..., Any] | None]] = [
            (
                "Bradley-Terry",
                lambda f=frame: agg.bradley_terry(f, prior=0.0, n_bootstrap=0),
                getattr(evalica, "bradley_terry", None),
            ),
            ("Elo", lambda f=frame: agg.elo(f, n_bootstrap=0), getattr(evalica, "elo", None)),
        ]
        if n_items == 129:
            pairs += [
                (
                    "counting",
                    lambda f=frame: agg.counting(f, n_bootstrap=0),
                    getattr(evalica, "counting", None),
                ),
                (
                    "average win rate",
                    lambda f=frame: agg.average_win_rate(f, n_bootstrap=0),
                    getattr(evalica, "average_win_rate", None),
                ),
                (
                    "eigenvector",
                    lambda f=frame: agg.eigenvector(f, n_bootstrap=0),
                    getattr(evalica, "eigen", None),
                ),
                (
                    "PageRank",
                    lambda f=frame: agg.pagerank(f, n_bootstrap=0),
                    getattr(evalica, "pagerank", None),
                ),
            ]
        for name, ours, theirs in pairs:
            if theirs and inputs:
                mine, other, rounds = alternating(
                    ours, lambda t=theirs, i=inputs: t(*i), args.repeat
                )
                record(f"{name}, {label}", mine, other, "evalica", rounds)
            else:
                record(f"{name}, {label}", best_of(ours, args.repeat), None, "evalica")

    frame = comparisons(20, 3000, seed=3, ties=0.0, n_workers=30)
    mine = best_of(lambda: agg.noisy_bradley_terry(frame, n_bootstrap=0), args.repeat)
    other = None
    if NoisyBradleyTerry is not None:
        data = pd.DataFrame(
            {
                "worker": frame["worker_id"].astype(object),
                "left": frame["left"].astype(object),
                "right": frame["right"].astype(object),
                "label": np.where(frame["winner"] == "left", frame["left"], frame["right"]).astype(
                    object
                ),
            }
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            other = best_of(lambda: NoisyBradleyTerry().fit(data), 1)
    record("NoisyBT, 3,000 comparisons, 20 items, 30 workers", mine, other, "crowd-kit")

    for n_items in args.bootstrap_items:
        frame = comparisons(n_items, 100_000, seed=5)
        mine = best_of(lambda f=frame: agg.bradley_terry(f, n_bootstrap=1000), 1)
        record(
            f"Bradley-Terry + 1,000 bootstrap replicates, 100,000 comparisons, {n_items} items",
            mine,
            None,
            "target 10 s",
        )

    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
