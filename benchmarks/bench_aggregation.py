"""Benchmark pandas-toloka's aggregation against crowd-kit.

Usage::

    python benchmarks/bench_aggregation.py [--sizes 100000 1000000 10000000]

For each size a deterministic synthetic pool with ground truth is written to a
temporary Parquet file: 5 responses per task, ``K`` classes with unequal
priors, one worker per 500 responses, 70 % good workers (accuracy 0.65-0.95),
20 % mediocre (0.40-0.65), 10 % spammers (uniformly random answers); rows are
shuffled; task and worker ids are strings.

Each measured case (ours / crowd-kit x every categorical method: MV, DS, OCDS
(one-coin DS), GLAD, MACE, WAWA, ZBS (zero-based skill), KOS) runs in a
fresh Python subprocess that loads the file and makes a warm-up call on 100
rows (lazy imports are not measured). It then resets its peak-RSS mark
(``/proc/self/clear_refs``; elsewhere the peak of ``getrusage`` is used) and
runs the aggregation once to measure memory, then ``--repeat`` more times to
measure time (the best run is reported, as ``timeit`` does; the first run,
which also pays for taking its memory from the OS, is reported apart). Reported: wall time of the aggregation call (input
validation, encoding, EM and building the result frame included), peak
memory above the loaded-data baseline, EM iterations, accuracy against the
ground truth, and ratios to crowd-kit measured in the same run. Ours reads
the data with ``dtype_backend="pyarrow"`` (this package's default), crowd-kit
with pandas' default dtypes (what its documentation uses).

crowd-kit's classes are slow (``DawidSkene`` about a second per iteration per
million responses, ``GLAD`` minutes at 25,000): above a per-method size cap
(``CROWDKIT_MAX``, ``--ck-ds-max`` for DS) they are skipped, and the table says
so; a crowd-kit run longer than 5 s is timed once. crowd-kit's ``MACE`` runs
with ``n_restarts=1``: its ten default restarts all use the same seed, so they
repeat one fit (and ours fits once). ``--real`` adds a table on the real
datasets of ``../shared/datasets`` (accuracy and time, both libraries in this
process).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
METHODS = ("MV", "DS", "OCDS", "GLAD", "MACE", "WAWA", "ZBS", "KOS")
#: Our function (in pandas_toloka.aggregation) and crowd-kit's class of each method.
OURS = {
    "MV": "majority_vote",
    "DS": "dawid_skene",
    "OCDS": "one_coin_dawid_skene",
    "GLAD": "glad",
    "MACE": "mace",
    "WAWA": "wawa",
    "ZBS": "zero_based_skill",
    "KOS": "kos",
}
CROWDKIT = {
    "MV": "MajorityVote",
    "DS": "DawidSkene",
    "OCDS": "OneCoinDawidSkene",
    "GLAD": "GLAD",
    "MACE": "MACE",
    "WAWA": "Wawa",
    "ZBS": "ZeroBasedSkill",
    "KOS": "KOS",
}
#: Largest size at which crowd-kit's class runs (measured: GLAD takes 109 s on the
#: 25,000 responses of the product dataset, so it is not run on the synthetic pools).
CROWDKIT_MAX = {
    "MV": 10_000_000,
    "DS": 2_000_000,
    "OCDS": 1_000_000,
    "GLAD": 0,
    "MACE": 1_000_000,
    "WAWA": 1_000_000,
    "ZBS": 100_000,
    "KOS": 1_000_000,
}
#: Slow first crowd-kit runs are timed once instead of ``--repeat`` more times.
SLOW_SECONDS = 5.0


# --------------------------------------------------------------------------- data
def synthesize(n: int, *, n_labels: int, seed: int = 20240601) -> dict[str, np.ndarray]:
    """Deterministic synthetic responses (integer codes) and ground truth."""
    rng = np.random.default_rng(seed)
    per_task = 5
    n_tasks = max(1, n // per_task)
    n_workers = max(50, n // 500)
    priors = np.linspace(2.0, 1.0, n_labels)
    priors /= priors.sum()
    truth = rng.choice(n_labels, n_tasks, p=priors)
    kind = rng.random(n_workers)
    accuracy = np.where(
        kind < 0.7,
        rng.uniform(0.65, 0.95, n_workers),
        np.where(kind < 0.9, rng.uniform(0.40, 0.65, n_workers), 1.0 / n_labels),
    )
    # Five distinct workers per task: r, r + s, r + 2s, ... (mod W) with 4s < W.
    start = rng.integers(0, n_workers, n_tasks)
    step = rng.integers(1, max(2, n_workers // per_task), n_tasks)
    task = np.repeat(np.arange(n_tasks), per_task)
    worker = ((start[:, None] + np.arange(per_task) * step[:, None]) % n_workers).ravel()
    true_label = truth[task]
    correct = rng.random(len(task)) < accuracy[worker]
    wrong = (true_label + rng.integers(1, max(2, n_labels), len(task))) % n_labels
    label = np.where(correct, true_label, wrong)
    order = rng.permutation(len(task))
    return {"task": task[order], "worker": worker[order], "label": label[order], "truth": truth}


def write_dataset(n: int, n_labels: int, folder: Path) -> Path:
    """Write the synthetic pool of size ``n`` as Parquet; return the folder."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    data = synthesize(n, n_labels=n_labels)

    def ids(prefix: str, codes: np.ndarray) -> pa.Array:
        return pc.binary_join_element_wise(prefix, pa.array(codes).cast(pa.string()), "")

    names = np.array([f"class_{k}" for k in range(n_labels)])
    responses = pa.table(
        {
            "task_id": ids("t", data["task"]),
            "worker_id": ids("w", data["worker"]),
            "result": pa.array(names[data["label"]]),
        }
    )
    truth = pa.table(
        {
            "task_id": ids("t", np.arange(len(data["truth"]))),
            "truth": pa.array(names[data["truth"]]),
        }
    )
    target = folder / f"n{n}"
    target.mkdir(parents=True, exist_ok=True)
    pq.write_table(responses, target / "responses.parquet")
    pq.write_table(truth, target / "truth.parquet")
    return target


# --------------------------------------------------------------------------- child
def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(field)


def _release_free_memory() -> None:
    """Give freed heap memory back to the OS (glibc), so the second run's peak is not hidden."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _ours(method: str):  # type: ignore[no-untyped-def]
    from pandas_toloka import aggregation

    if method == "DS":
        return aggregation.fit_dawid_skene
    return getattr(aggregation, OURS[method])


def _crowdkit(method: str):  # type: ignore[no-untyped-def]
    import crowdkit.aggregation as ck

    options = {"DS": {"n_iter": 100, "tol": 1e-5}, "MACE": {"n_restarts": 1}}.get(method, {})
    cls = getattr(ck, CROWDKIT[method])
    if method == "DS":
        return lambda frame: cls(**options).fit(frame)
    return lambda frame: cls(**options).fit_predict(frame)


def run_case(case: str, folder: Path, repeat: int) -> dict[str, object]:
    """Run one case in this (fresh) process; return its measurements."""
    repeat = max(1, repeat)
    import pandas as pd

    impl, method = case.split("-")
    if impl == "ours":
        sys.path.insert(0, str(REPO))
        run = _ours(method)
        df = pd.read_parquet(folder / "responses.parquet", dtype_backend="pyarrow")
    else:
        run = _crowdkit(method)
        df = pd.read_parquet(folder / "responses.parquet").rename(
            columns={"task_id": "task", "worker_id": "worker", "result": "label"}
        )
    truth = pd.read_parquet(folder / "truth.parquet").set_index("task_id")["truth"].astype(object)
    run(df.head(100))  # warm-up: lazy imports and first-call initialization are not measured
    gc.collect()
    _release_free_memory()

    # Memory: the first full run, after resetting the peak-RSS mark.
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset the peak-RSS mark to the current RSS
        baseline, exact = _rss_kib("VmRSS"), True
    except OSError:
        baseline, exact = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, False
    start = time.perf_counter()
    fitted = run(df)
    first = time.perf_counter() - start
    peak = _rss_kib("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    # Time: the best of `repeat` further runs (the reset above slows the run after it);
    # a slow crowd-kit run is timed once (ours are always repeated: the first run of a
    # fresh process also pays for the memory it takes from the OS, reported apart).
    timings = [first] if first > SLOW_SECONDS and impl == "crowdkit" else []
    for _ in range(0 if timings else repeat):
        del fitted
        gc.collect()
        start = time.perf_counter()
        fitted = run(df)
        timings.append(time.perf_counter() - start)
    iterations: int | None = None
    if case == "ours-DS":
        iterations, fitted = fitted.n_iter_run, fitted.to_frame()
    elif case == "crowdkit-DS":
        iterations, fitted = len(fitted.loss_history_), fitted.labels_
    labels = fitted.set_index("task_id")["result"] if impl == "ours" else fitted
    predicted = labels.astype(object).reindex(truth.index)
    accuracy = float((predicted.to_numpy() == truth.to_numpy()).mean())
    return {
        "case": case,
        "seconds": min(timings),
        "first_seconds": first,
        "peak_mib": max(0, peak - baseline) / 1024,
        "accuracy": accuracy,
        "iterations": iterations,
        "n_tasks": len(labels),
    }


# --------------------------------------------------------------------------- parent
def measure(case: str, folder: Path, timeout: float, repeat: int) -> dict[str, object]:
    """Run ``case`` in a fresh subprocess; a timeout or crash is reported, not raised."""
    command = [sys.executable, __file__, "--run", case, str(folder), "--repeat", str(repeat)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    try:
        done = subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        return {"case": case, "note": f"timeout > {timeout:.0f} s"}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["?"]
        return {"case": case, "note": f"crashed: {tail[0][:70]}"}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _fmt(value: object, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def print_table(rows: list[dict[str, object]]) -> None:
    """Print results as a Markdown table, with ratios to crowd-kit of the same size."""
    print(
        "| responses | method | implementation | time (s) | first run (s) | peak mem (MiB) "
        "| iterations | accuracy | speed-up vs crowd-kit | memory vs crowd-kit |"
    )
    print("|" + "---|" * 10)
    by_key = {(r["size"], r["case"]): r for r in rows}
    for row in rows:
        impl, method = str(row["case"]).split("-")
        name = "pandas-toloka" if impl == "ours" else "crowd-kit 1.4"
        if "note" in row:
            cells = [f"{row['size']:,}", method, name, str(row["note"])] + ["—"] * 6
            print("| " + " | ".join(cells) + " |")
            continue
        speedup = memory = "—"
        theirs = by_key.get((row["size"], f"crowdkit-{method}"))
        if impl == "ours" and theirs is not None and "note" not in theirs:
            speedup = f"{float(theirs['seconds']) / max(float(row['seconds']), 1e-9):.1f}x"  # type: ignore[arg-type]
            memory = f"{float(row['peak_mib']) / max(float(theirs['peak_mib']), 1e-9):.2f}x"  # type: ignore[arg-type]
        elif impl == "ours":
            speedup = memory = "crowd-kit not run"
        cells = [
            f"{row['size']:,}",
            method,
            name,
            _fmt(row["seconds"], ".3f"),
            _fmt(row.get("first_seconds"), ".3f"),
            _fmt(row["peak_mib"], ".0f"),
            _fmt(row.get("iterations"), "d"),
            _fmt(row["accuracy"], ".4f"),
            speedup,
            memory,
        ]
        print("| " + " | ".join(cells) + " |")


def real_datasets(methods: list[str]) -> None:
    """Accuracy and time of both libraries on ../shared/datasets, in this process."""
    import warnings

    import pandas as pd

    sys.path.insert(0, str(REPO))
    folder = REPO.parent / "shared" / "datasets"
    if not folder.exists():
        print(f"\n(real datasets: {folder} is absent)")
        return
    print("\n| dataset | method | ours acc | crowd-kit acc | ours (s) | crowd-kit (s) |")
    print("|" + "---|" * 6)
    for name in ("duck", "product"):
        answers = pd.read_csv(folder / name / "answer.csv")
        truth = pd.read_csv(folder / name / "truth.csv").set_index("question")["truth"]
        crowd = answers.rename(columns={"question": "task", "answer": "label"})
        ours_frame = answers.rename(
            columns={"question": "task_id", "worker": "worker_id", "answer": "result"}
        )
        for method in methods:
            run = _ours(method)
            run(ours_frame.head(100))  # warm-up (lazy imports)
            start = time.perf_counter()
            result = run(ours_frame)
            ours_s = time.perf_counter() - start
            frame = result.to_frame() if hasattr(result, "to_frame") else result
            ours = frame.set_index("task_id")["result"]
            mine = float((ours.reindex(truth.index).to_numpy() == truth.to_numpy()).mean())
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    import crowdkit.aggregation as ck

                    options: dict[str, object] = {}
                    start = time.perf_counter()
                    theirs = getattr(ck, CROWDKIT[method])(**options).fit_predict(crowd)
                    theirs_s = f"{time.perf_counter() - start:.3f}"
                acc = float((theirs.reindex(truth.index).to_numpy() == truth.to_numpy()).mean())
                theirs_acc = f"{acc:.4f}"
            except Exception as exc:  # noqa: BLE001 - reported in the table
                theirs_acc, theirs_s = f"crashed: {type(exc).__name__}", "—"
            print(
                f"| {name} | {method} | {mine:.4f} | {theirs_acc} | {ours_s:.3f} | {theirs_s} |",
                flush=True,
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--labels", type=int, default=3, help="number of classes (default 3)")
    parser.add_argument(
        "--ck-ds-max",
        type=int,
        default=2_000_000,
        help="largest size at which crowd-kit's DawidSkene runs (default 2,000,000)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(METHODS),
        choices=METHODS,
        help="methods to run (default: all; KOS only with --labels 2)",
    )
    parser.add_argument(
        "--ours-only-above",
        type=int,
        default=1_000_000,
        help="above this size only ours runs (default 1,000,000)",
    )
    parser.add_argument(
        "--big-methods",
        nargs="+",
        default=None,
        choices=METHODS,
        help="methods run above --ours-only-above (default: all of --methods)",
    )
    parser.add_argument("--real", action="store_true", help="also the real datasets table")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds per case (default 900)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="timed runs per case; the best is reported (default 3)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--run", nargs=2, metavar=("CASE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.run:
        print(json.dumps(run_case(args.run[0], Path(args.run[1]), args.repeat)))
        return 0

    try:
        import crowdkit  # noqa: F401

        have_crowdkit = True
    except ImportError:
        have_crowdkit = False
    methods = [m for m in args.methods if m != "KOS" or args.labels == 2]
    limits = {**CROWDKIT_MAX, "DS": args.ck_ds_max}
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench_aggregation_") as tmp:
        for size in args.sizes:
            folder = write_dataset(size, args.labels, Path(tmp))
            big = size > args.ours_only_above
            for method in methods:
                if big and args.big_methods is not None and method not in args.big_methods:
                    continue
                for impl in ("ours", "crowdkit"):
                    case = f"{impl}-{method}"
                    limit = 0 if big else limits[method]
                    if impl == "crowdkit" and not have_crowdkit:
                        row: dict[str, object] = {
                            "case": case,
                            "note": "skipped: crowd-kit not installed",
                        }
                    elif impl == "crowdkit" and size > limit:
                        why = "too slow" if limit or method != "GLAD" else "too slow: 109 s at 25k"
                        row = {"case": case, "note": f"skipped ({why})"}
                    else:
                        row = measure(case, folder, args.timeout, args.repeat)
                    row["size"] = size
                    rows.append(row)
                    print(f"# {size:,} {case}: {row}", file=sys.stderr, flush=True)
    print(
        f"\nSynthetic pools: 5 responses per task, {args.labels} classes; "
        f"Python {sys.version.split()[0]}, numpy {np.__version__}.\n"
    )
    print_table(rows)
    if args.real:
        real_datasets(methods)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
