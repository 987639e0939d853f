"""Krippendorff's alpha on a large pool: ours against the krippendorff package and crowd-kit.

Usage::

    PYTHONPATH=$PWD python benchmarks/bench_agreement.py [--tasks 100000] [--overlap 10]
        [--workers 2000] [--labels 5] [--levels nominal interval] [--repeat 3]
        [--python PY] [--ref-python PY] [--reliability-data] [--crowdkit-max 1000000]

One deterministic pool (``--tasks`` tasks, ``--overlap`` responses each from
distinct workers among ``--workers``, ``--labels`` classes, workers of accuracy
0.5-0.95, string task and worker ids, integer labels, shuffled rows) is written to
Parquet once; each case then runs in a fresh subprocess that reads it and
times, best of ``--repeat``:

- ``ours``: :func:`pandas_toloka.agreement.krippendorff_alpha` on the frame
  (validation, encoding and counting included);
- ``krippendorff (value counts)``: the ``krippendorff`` package on the tasks x
  labels count matrix, the time of building it from the frame with pandas
  (``groupby().size().unstack()``) included, and shown apart;
- ``krippendorff (reliability data)`` with ``--reliability-data``: the package's
  documented input, a workers x tasks matrix (NaN where a worker did not
  answer), the pivot included -- gigabytes at the default size;
- ``crowd-kit``: ``crowdkit.metrics.data.alpha_krippendorff`` (nltk's
  pure-Python alpha, nominal only), run once, when the pool has at most
  ``--crowdkit-max`` responses.

Ours runs under ``--python`` (default: this interpreter), the references under
``--ref-python`` (default: this interpreter), so that the package and the
references may live in different environments (the reference environment
``/work/refvenv`` has krippendorff and crowd-kit but not the client's
``requests``). Printed: a Markdown table of seconds and of each reference's time
over ours, and the alphas, which must agree to 1e-9.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_pool(
    n_tasks: int, overlap: int, n_workers: int, n_labels: int, seed: int = 0
) -> pd.DataFrame:
    """Each task answered by ``overlap`` distinct workers; labels right with the worker's accuracy."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_labels, n_tasks)
    accuracy = rng.uniform(0.5, 0.95, n_workers)
    # distinct workers per task: a random start and distinct offsets modulo n_workers
    offsets = np.argsort(rng.random((n_tasks, n_workers if n_workers <= 64 else 64)), axis=1)[
        :, :overlap
    ]
    workers = (rng.integers(0, n_workers, n_tasks)[:, None] + offsets) % n_workers
    tasks = np.repeat(np.arange(n_tasks), overlap)
    workers = workers.reshape(-1)
    right = rng.random(len(tasks)) < accuracy[workers]
    labels = np.where(right, truth[tasks], rng.integers(0, n_labels, len(tasks)))
    order = rng.permutation(len(tasks))
    return pd.DataFrame(
        {
            "task": pd.Series([f"t{t:07d}" for t in tasks[order]], dtype="string[pyarrow]"),
            "worker": pd.Series([f"w{w:05d}" for w in workers[order]], dtype="string[pyarrow]"),
            "label": labels[order].astype(np.int64),
        }
    )


def _best(function, repeat: int) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def run_case(case: str, path: str, level: str, repeat: int) -> dict[str, object]:
    """One case, in this process: seconds (and parts) and the alpha."""
    frame = pd.read_parquet(path)
    if case == "ours":
        from pandas_toloka.agreement import krippendorff_alpha

        krippendorff_alpha(
            frame.head(100), task="task", worker="worker", label="label", level=level
        )
        seconds, alpha = _best(
            lambda: krippendorff_alpha(
                frame, task="task", worker="worker", label="label", level=level
            ),
            repeat,
        )
        return {"seconds": seconds, "alpha": alpha}
    if case == "value_counts":
        import krippendorff

        def counts() -> pd.DataFrame:
            return frame.groupby(["task", "label"]).size().unstack(fill_value=0)

        build, table = _best(counts, repeat)
        domain = np.asarray(table.columns, dtype=float)
        values = table.to_numpy()
        compute, alpha = _best(
            lambda: krippendorff.alpha(
                value_counts=values, value_domain=domain, level_of_measurement=level
            ),
            repeat,
        )
        return {
            "seconds": build + compute,
            "build": build,
            "alpha_only": compute,
            "alpha": float(alpha),
        }
    if case == "reliability":
        import krippendorff

        def both() -> float:
            matrix = frame.pivot(index="worker", columns="task", values="label").to_numpy(
                dtype=float
            )
            return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))

        seconds, alpha = _best(both, 1)
        return {"seconds": seconds, "alpha": alpha}
    if case == "crowdkit":
        from crowdkit.metrics.data import alpha_krippendorff

        seconds, alpha = _best(lambda: alpha_krippendorff(frame), 1)
        return {"seconds": seconds, "alpha": float(alpha)}
    raise SystemExit(f"unknown case {case!r}")


def _spawn(
    python: str, case: str, path: Path, level: str, repeat: int, timeout: float
) -> dict[str, object]:
    command = [
        python,
        __file__,
        "--run",
        case,
        str(path),
        "--level",
        level,
        "--repeat",
        str(repeat),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--overlap", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--labels", type=int, default=5)
    parser.add_argument("--levels", nargs="+", default=["nominal", "interval"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--python", default=sys.executable, help="interpreter with pandas_toloka")
    parser.add_argument(
        "--ref-python", default=sys.executable, help="interpreter with the references"
    )
    parser.add_argument(
        "--reliability-data", action="store_true", help="also the workers x tasks input"
    )
    parser.add_argument("--crowdkit-max", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--run", nargs=2, metavar=("CASE", "PARQUET"), help=argparse.SUPPRESS)
    parser.add_argument("--level", default="nominal", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        print(json.dumps(run_case(args.run[0], args.run[1], args.level, args.repeat)))
        return 0
    n = args.tasks * args.overlap
    print(
        f"{n:,} responses: {args.tasks:,} tasks x {args.overlap}, {args.workers:,} workers, {args.labels} labels"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pool.parquet"
        make_pool(args.tasks, args.overlap, args.workers, args.labels).to_parquet(path)
        print("| level | case | seconds | reference / ours | alpha |")
        print("| --- | --- | --- | --- | --- |")
        for level in args.levels:
            ours = _spawn(args.python, "ours", path, level, args.repeat, args.timeout)
            rows = [("pandas_toloka.agreement", ours)]
            rows.append(
                (
                    "krippendorff (value counts)",
                    _spawn(args.ref_python, "value_counts", path, level, args.repeat, args.timeout),
                )
            )
            if args.reliability_data:
                rows.append(
                    (
                        "krippendorff (reliability data)",
                        _spawn(args.ref_python, "reliability", path, level, 1, args.timeout),
                    )
                )
            if level == "nominal" and n <= args.crowdkit_max:
                rows.append(
                    (
                        "crowd-kit alpha_krippendorff",
                        _spawn(args.ref_python, "crowdkit", path, level, 1, args.timeout),
                    )
                )
            for name, result in rows:
                if "error" in result:
                    print(f"| {level} | {name} | not run: {result['error']} | | |")
                    continue
                seconds = float(result["seconds"])  # type: ignore[arg-type]
                ratio = seconds / float(ours["seconds"]) if "seconds" in ours else float("nan")  # type: ignore[arg-type]
                extra = ""
                if "build" in result:
                    extra = f" (counts {float(result['build']):.3f} + alpha {float(result['alpha_only']):.3f})"  # type: ignore[arg-type]
                print(
                    f"| {level} | {name} | {seconds:.3f}{extra} | {ratio:.1f}x | {float(result['alpha']):.12f} |"
                )  # type: ignore[arg-type]
            alphas = [float(r["alpha"]) for _, r in rows if "alpha" in r]  # type: ignore[arg-type]
            if alphas and max(alphas) - min(alphas) > 1e-9:
                print(f"WARNING: the alphas of {level} differ by {max(alphas) - min(alphas):.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
