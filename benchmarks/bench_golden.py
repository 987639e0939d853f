"""Golden (control) tasks on the real datasets: accuracy on the other tasks, with and without.

Usage::

    python benchmarks/bench_golden.py [--seeds 20] [--datasets duck product]

For each real dataset of ``../shared/datasets``, each method that takes
``golden=`` and each golden share (10 %, 30 %), ``--seeds`` random splits
hold that share of the truth out as ``golden=`` (the split the test suite
uses: ``numpy.random.default_rng(seed).random(len(truth)) < share``). Printed:
the change in accuracy on the *other* tasks against the same method without
``golden=`` measured in the same run (min, mean, max over the splits) and the
number of splits where it fell.

A second table looks into Dawid–Skene, the one method that loses accuracy
on ``product`` on average, next to MACE, which does not: the same splits,
but the golden labels are (a) the truth, (b) the method's own answers
without ``golden=`` (self-training: its mistakes included), (c) the truth
only where the method without ``golden=`` is right (a sample of easy
tasks), (d) the truth only where it is wrong (the golden labels that carry
information); and (e) 10-fold, each fold answered with the truth of the nine
others as ``golden=`` (the method with almost all the truth).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from pandas_toloka.aggregation import dawid_skene, glad, mace, one_coin_dawid_skene

DATASETS = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"
METHODS: dict[str, Callable[..., pd.DataFrame]] = {
    "DS": dawid_skene,
    "OCDS": one_coin_dawid_skene,
    "GLAD": glad,
    "MACE": mace,
}
COLUMNS = {"task": "question", "worker": "worker", "label": "answer"}
SHARES = (0.1, 0.3)


def _answers(result: pd.DataFrame, tasks: pd.Index) -> np.ndarray:
    return result.set_index("question")["answer"].reindex(tasks).to_numpy()


def _accuracy(result: pd.DataFrame, truth: pd.Series) -> float:
    return float((_answers(result, truth.index) == truth.to_numpy()).mean())


def _held(truth: pd.Series, share: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(len(truth)) < share


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _summary(deltas: list[float]) -> list[str]:
    d = np.asarray(deltas)
    return [
        f"{d.min():+.4f}",
        f"{d.mean():+.4f}",
        f"{d.max():+.4f}",
        f"{int((d < 0).sum())}/{d.size}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="random splits per share")
    parser.add_argument("--datasets", nargs="+", default=["duck", "product"])
    args = parser.parse_args(argv)
    loaded = {}
    for name in args.datasets:
        folder = DATASETS / name
        if not (folder / "answer.csv").exists():
            print(f"dataset {name!r} not found at {folder}", file=sys.stderr)
            return 1
        answers = pd.read_csv(folder / "answer.csv")
        truth = pd.read_csv(folder / "truth.csv").set_index("question")["truth"]
        loaded[name] = (answers, truth)
    seeds = range(args.seeds)

    print(f"Accuracy on the non-golden tasks, with golden= minus without ({args.seeds} splits)\n")
    print(_row(["dataset", "method", "golden share", "min", "mean", "max", "splits lower", "time"]))
    print(_row(["---"] * 8))
    for name, (answers, truth) in loaded.items():
        for method, function in METHODS.items():
            plain = function(answers, **COLUMNS)
            for share in SHARES:
                start = time.perf_counter()
                deltas = []
                for seed in seeds:
                    held = _held(truth, share, seed)
                    anchored = function(answers, golden=truth[held], **COLUMNS)
                    rest = truth[~held]
                    deltas.append(_accuracy(anchored, rest) - _accuracy(plain, rest))
                took = f"{time.perf_counter() - start:.1f} s"
                print(_row([name, method, f"{share:.0%}", *_summary(deltas), took]))

    print("\nWhich golden labels cost accuracy on the other tasks\n")
    print(_row(["dataset", "method", "golden labels", "share", "min", "mean", "max", "lower"]))
    print(_row(["---"] * 8))
    for name, (answers, truth) in loaded.items():
        for method in ("DS", "MACE"):
            function = METHODS[method]
            plain = function(answers, **COLUMNS)
            own = pd.Series(_answers(plain, truth.index), index=truth.index)
            right = own.to_numpy() == truth.to_numpy()
            kinds = {
                "(a) truth": (truth, np.ones(len(truth), bool)),
                "(b) own answers": (own, np.ones(len(truth), bool)),
                "(c) truth where right": (truth, right),
                "(d) truth where wrong": (truth, ~right),
            }
            for kind, (labels, eligible) in kinds.items():
                for share in SHARES:
                    deltas = []
                    for seed in seeds:
                        held = _held(truth, share, seed)
                        anchored = function(answers, golden=labels[held & eligible], **COLUMNS)
                        rest = truth[~held]
                        deltas.append(_accuracy(anchored, rest) - _accuracy(plain, rest))
                    print(_row([name, method, kind, f"{share:.0%}", *_summary(deltas)]))
            fold = np.random.default_rng(0).integers(0, 10, len(truth))
            hits = 0
            for f in range(10):
                anchored = function(answers, golden=truth[fold != f], **COLUMNS)
                hits += int((_answers(anchored, truth.index[fold == f]) == truth[fold == f]).sum())
            ceiling = hits / len(truth) - _accuracy(plain, truth)
            kind = "(e) 10-fold, truth of the 9 other folds"
            print(_row([name, method, kind, "90%", f"{ceiling:+.4f}", "", "", ""]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
