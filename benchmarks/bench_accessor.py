"""Benchmark the df.toloka accessor and read_responses against baselines measured in the same run.

1. ``df.toloka.aggregate`` over 10,000 tasks on the bundled server with 20 ms of
   artificial latency per request: the strategy ``auto`` picks, and forced
   ``by_task`` (16 threads), against naive sequential per-task calls (the
   baseline; timed on a sample and extrapolated unless ``--full-baseline``).
2. ``read_responses`` of 1,000,000 responses: rows/s and peak memory, against
   toloka-kit 1.2.3's ``get_assignments`` + ``pd.DataFrame`` in the same run.
   Each reader runs in its own process (peak RSS is per process); toloka-kit
   runs in the interpreter given by ``--toloka-kit-python``.

Run: ``python benchmarks/bench_accessor.py`` (about 2 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import pandas_toloka.accessor  # noqa: F401  (registers df.toloka)
from pandas_toloka.client import Client
from pandas_toloka.server import LocalTolokaServer

SPEC = {
    "result": {"type": "STRING", "allowed_values": ["cat", "dog", "other"]},
    "sure": {"type": "BOOLEAN"},
}
# toloka-kit 1.2.3 pins old httpx/cattrs/tenacity: it lives in a venv of its own (benchmarks/README.md).
DEFAULT_KIT_PYTHON = os.environ.get("TOLOKA_KIT_PYTHON", "")


def synthetic_pool(n_tasks: int, overlap: int, suite: int, seed: int = 7) -> pd.DataFrame:
    """``n_tasks * overlap`` responses; each assignment is one worker answering ``suite`` tasks."""
    rng = np.random.default_rng(seed)
    n_suites = n_tasks // suite
    suite_of = np.repeat(np.arange(n_suites), suite)  # per task
    rows_suite = np.repeat(np.arange(n_suites), overlap * suite)  # per response
    slot = np.tile(np.repeat(np.arange(overlap), suite), n_suites)
    task = rows_suite * suite + np.tile(np.arange(suite), n_suites * overlap)
    workers = rng.integers(0, 500, size=(n_suites, overlap))
    truth = rng.integers(0, 3, size=n_tasks)
    right = rng.random(len(task)) < 0.8
    answer = np.where(right, truth[task], rng.integers(0, 3, size=len(task)))
    assert (suite_of[task] == rows_suite).all()
    return pd.DataFrame(
        {
            "task_id": np.char.add("t", np.char.zfill(task.astype(str), 8)),
            "worker_id": np.char.add("w", workers[rows_suite, slot].astype(str)),
            "assignment_id": np.char.add(
                np.char.add("a", np.char.zfill(rows_suite.astype(str), 8)),
                np.char.add("-", slot.astype(str)),
            ),
            "result": np.array(["cat", "dog", "other"], dtype=object)[answer],
            "sure": right,
        }
    )


def table(rows: list[dict[str, object]], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = [
        " | ".join(c.ljust(widths[c]) for c in columns),
        "-+-".join("-" * widths[c] for c in columns),
    ]
    lines += [" | ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def bench_aggregate(n_tasks: int, sample: int, full_baseline: bool, latency: float) -> str:
    responses = synthetic_pool(n_tasks, overlap=3, suite=5)
    with LocalTolokaServer() as server, Client(server.token, url=server.url) as client:
        server.add_pool("2001", responses=responses, output_spec=SPEC)
        tasks = pd.DataFrame({"task_id": responses["task_id"].unique(), "pool_id": "2001"})
        tasks = tasks.sample(frac=1.0, random_state=1).reset_index(drop=True)
        client.aggregate_by_task(
            tasks["task_id"].iloc[0], pool_id="2001", type="DAWID_SKENE", fields="result"
        )  # fit once
        server.faults.latency = latency
        rows = []

        n_naive = len(tasks) if full_baseline else min(sample, len(tasks))
        start = time.perf_counter()
        for task_id in tasks["task_id"].iloc[:n_naive]:
            client.aggregate_by_task(task_id, pool_id="2001", type="DAWID_SKENE", fields="result")
        naive = (time.perf_counter() - start) * len(tasks) / n_naive
        note = "measured" if n_naive == len(tasks) else f"timed on {n_naive} tasks, extrapolated"
        rows.append(
            {
                "method": "naive sequential per-task calls (baseline)",
                "requests": len(tasks),
                "seconds": f"{naive:.2f}",
                "tasks/s": f"{len(tasks) / naive:,.0f}",
                "speed-up": "1.0x",
                "note": note,
            }
        )

        for strategy in ("auto", "by_task"):
            server.request_log.clear()
            start = time.perf_counter()
            out = tasks.toloka.aggregate(
                fields="result", client=client, strategy=strategy, progress_bar=False
            )
            took = time.perf_counter() - start
            assert out["result"].notna().all() and len(out) == len(tasks)
            chosen = out.attrs["toloka"]["strategies"]["2001"]
            rows.append(
                {
                    "method": f"df.toloka.aggregate(strategy={strategy!r}) -> {chosen}",
                    "requests": len(server.request_log.snapshot()),
                    "seconds": f"{took:.2f}",
                    "tasks/s": f"{len(tasks) / took:,.0f}",
                    "speed-up": f"{naive / took:.1f}x",
                }
            )
    head = (
        f"aggregate {len(tasks):,} tasks, DAWID_SKENE, {latency * 1000:.0f} ms latency per request"
    )
    return (
        head + "\n" + table(rows, ["method", "requests", "seconds", "tasks/s", "speed-up", "note"])
    )


# The measuring pieces both child scripts share (they run in different interpreters):
# helpers first, then the reader's imports, then the start marks, so imports are not measured.
_HELPERS = """
import json, resource, sys, time
url, token, pool = sys.argv[1:4]
def _rss_mb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
"""
_START = """
base = _rss_mb("VmRSS:")
cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
start = time.perf_counter()
"""

CHILD_PTK = (
    _HELPERS
    + """
import pandas_toloka.accessor
from pandas_toloka.client import Client
from pandas_toloka.responses import read_responses
"""
    + _START
    + """
with Client(token, url=url) as client:
    df = read_responses(pool, client=client, progress_bar=False)
took = time.perf_counter() - start
print(json.dumps({"rows": len(df), "seconds": took, "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0,
                  "peak_mb": _rss_mb("VmHWM:"), "added_mb": _rss_mb("VmHWM:") - base,
                  "frame_mb": df.memory_usage(deep=True).sum() / 2**20}))
"""
)

CHILD_KIT = (
    _HELPERS
    + """
import pandas as pd
import toloka.client as toloka
"""
    + _START
    + """
client = toloka.TolokaClient(token, url=url, retries=0)
rows = []
for a in client.get_assignments(pool_id=pool, status="ACCEPTED", batch_size=100000):
    for task, solution in zip(a.tasks, a.solutions):
        row = {"pool_id": a.pool_id, "task_id": task.id, "worker_id": a.user_id, "assignment_id": a.id,
               "status": a.status.value, "submitted": a.submitted}
        row.update(solution.output_values)
        rows.append(row)
df = pd.DataFrame(rows)
took = time.perf_counter() - start
print(json.dumps({"rows": len(df), "seconds": took, "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0,
                  "peak_mb": _rss_mb("VmHWM:"), "added_mb": _rss_mb("VmHWM:") - base,
                  "frame_mb": df.memory_usage(deep=True).sum() / 2**20}))
"""
)


def _child(python: str, code: str, url: str, token: str, pool: str) -> dict[str, float] | str:
    done = subprocess.run(
        [python, "-c", code, url, token, pool], capture_output=True, text=True, timeout=3600
    )
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["failed"])[-1]
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_read(n_responses: int, kit_python: str) -> str:
    responses = synthetic_pool(n_responses // 5, overlap=5, suite=5)
    rows = []
    with LocalTolokaServer() as server:
        server.add_pool("3001", responses=responses, output_spec=SPEC)
        contenders = [
            ("toloka-kit 1.2.3 get_assignments + DataFrame (baseline)", kit_python, CHILD_KIT),
            ("pandas_toloka.read_responses", sys.executable, CHILD_PTK),
        ]
        results = {}
        for name, python, code in contenders:
            if not python or not Path(python).exists():
                results[name] = (
                    "not run: no toloka-kit python given (--toloka-kit-python or TOLOKA_KIT_PYTHON) (pip install toloka-kit==1.2.3 'httpx<0.28' 'cattrs<26' 'tenacity<8.3')"
                )
                continue
            results[name] = _child(python, code, server.url, server.token, "3001")
    base = results[contenders[0][0]]
    for name, _, _ in contenders:
        r = results[name]
        if isinstance(r, str):
            rows.append({"reader": name, "note": r})
            continue
        speed = f"{base['seconds'] / r['seconds']:.1f}x" if isinstance(base, dict) else "n/a"
        cpu_speed = f"{base['cpu'] / r['cpu']:.1f}x" if isinstance(base, dict) else "n/a"
        rows.append(
            {
                "reader": name,
                "rows": f"{int(r['rows']):,}",
                "seconds": f"{r['seconds']:.1f}",
                "rows/s": f"{r['rows'] / r['seconds']:,.0f}",
                "speed-up": speed,
                "client CPU s": f"{r['cpu']:.1f}",
                "CPU rows/s": f"{r['rows'] / r['cpu']:,.0f}",
                "CPU speed-up": cpu_speed,
                "peak RSS (MB)": f"{r['peak_mb']:,.0f}",
                "added after imports (MB)": f"{r['added_mb']:,.0f}",
                "frame (MB)": f"{r['frame_mb']:,.0f}",
            }
        )
    head = f"read {n_responses:,} responses ({n_responses // 5:,} assignments x 5 tasks), status=ACCEPTED, no latency"
    notes = (
        "\nseconds/rows/s: wall clock, including the bundled server building the JSON (the same for both);"
        "\nclient CPU s: CPU time of the reading process alone (HTTP, JSON, flattening, DataFrame)."
    )
    columns = [
        "reader",
        "rows",
        "seconds",
        "rows/s",
        "speed-up",
        "client CPU s",
        "CPU rows/s",
        "CPU speed-up",
        "peak RSS (MB)",
        "added after imports (MB)",
        "frame (MB)",
        "note",
    ]
    return head + "\n" + table(rows, columns) + notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--baseline-sample", type=int, default=1_000)
    parser.add_argument(
        "--full-baseline", action="store_true", help="time all naive calls (about 4 minutes)"
    )
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--toloka-kit-python", default=DEFAULT_KIT_PYTHON)
    parser.add_argument("--skip-aggregate", action="store_true")
    parser.add_argument("--skip-read", action="store_true")
    args = parser.parse_args()
    if not args.skip_aggregate:
        print(
            bench_aggregate(args.tasks, args.baseline_sample, args.full_baseline, args.latency),
            flush=True,
        )
        print()
    if not args.skip_read:
        print(bench_read(args.responses, args.toloka_kit_python), flush=True)


if __name__ == "__main__":
    main()
