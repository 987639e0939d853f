"""Benchmark pandas_toloka.dask: Dawid–Skene beyond one process, and the pools reader.

Usage::

    python benchmarks/bench_dask.py ds [--sizes 10000000 50000000 100000000]
                                       [--settings spark ours] [--single-max 10000000]
                                       [--block-rows 6250000] [--memory-limit 8GiB]
    python benchmarks/bench_dask.py reader [--pools 200] [--tasks 5000] [--latency 0.02]

``ds``: synthetic responses are generated *on the workers* (``dd.from_map``, one
block of whole tasks per partition; the driver never holds them), then
``pandas_toloka.dask.aggregate_locally(type="DAWID_SKENE")`` runs on a
``LocalCluster`` of 2 worker processes with 1 thread each and
``--memory-limit`` each. Two settings:

- ``spark``: spark-crowd's benchmark — binary labels, 10 responses per task;
- ``ours``: ``bench_aggregation.py``'s pools — 5 responses per task, 3 classes
  with priors 4:3:2.

Both use one worker per 500 responses (70 % good workers with accuracy
0.65–0.95, 20 % mediocre 0.40–0.65, 10 % uniform spammers), string ids, rows
shuffled within each block. Reported: wall time of the call plus computing
the result, once the generated partitions are persisted on the workers
(reading them, encoding, EM and the result frame included; the generation is
timed apart, as the single-process time excludes building its frame), EM
iterations, the peak RSS of each worker (sampled every 0.5 s), accuracy
against the ground truth. Up to ``--single-max`` responses the single-process
:func:`pandas_toloka.aggregation.dawid_skene` runs on the same data in a
subprocess, and the two results are compared (labels identical, largest
confidence difference). spark-crowd's published times are the reference.

``reader``: the bundled server runs in a subprocess with ``--pools`` pools of
``--tasks`` tasks (3 responses each) and ``--latency`` seconds added to every
request; a sequential loop of ``pandas_toloka.read_aggregated_solutions`` is
the baseline for ``pandas_toloka.dask.read_aggregated_solutions`` on a
``LocalCluster`` of 2 processes with 8 threads each (I/O-bound partitions),
once per ``--max-concurrent`` value. The server's CPU time is reported too:
it is one Python process, and it aggregates and serialises every pool.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

REPO = Path(__file__).resolve().parents[1]
SEED = 20240601
#: spark-crowd's published Dawid–Skene times (seconds): one node, 3-node cluster of 10 cores.
SPARK_CROWD = {10_000_000: (111, 69), 100_000_000: (703, 426)}
SETTINGS = {
    "spark": {"per_task": 10, "n_labels": 2, "priors": (1.0, 1.0)},
    "ours": {"per_task": 5, "n_labels": 3, "priors": (4.0, 3.0, 2.0)},
}


# --------------------------------------------------------------------------- data
def _mix(values: np.ndarray, salt: int) -> np.ndarray:
    """A counter-based hash to [0, 1): the ground truth of task ``t`` without any state."""
    x = values.astype(np.uint64) + np.uint64(salt)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def truth_of(tasks: np.ndarray, setting: str) -> np.ndarray:
    priors = np.asarray(SETTINGS[setting]["priors"], dtype=np.float64)
    cumulative = np.cumsum(priors / priors.sum())
    return np.minimum(np.searchsorted(cumulative, _mix(tasks, SEED)), len(priors) - 1)


def _shape(n: int, setting: str, block_rows: int) -> tuple[int, int, int, int]:
    """Tasks, workers, tasks per block and blocks: an even number of equal blocks (2 workers)."""
    per_task = int(SETTINGS[setting]["per_task"])
    n_tasks = n // per_task
    n_blocks = max(2, -(-n // block_rows))
    n_blocks += n_blocks % 2
    tasks_per_block = -(-n_tasks // n_blocks)
    return n_tasks, max(50, n // 500), tasks_per_block, -(-n_tasks // tasks_per_block)


def _ids(prefix: str, codes: np.ndarray, width: int) -> pa.Array:
    text = pc.utf8_lpad(pa.array(codes).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, text, "")


def generate(block: int, *, n: int, setting: str, block_rows: int) -> pd.DataFrame:
    """One partition: the responses to a contiguous range of tasks (ids zero-padded)."""
    per_task = int(SETTINGS[setting]["per_task"])
    K = int(SETTINGS[setting]["n_labels"])
    n_tasks, W, tasks_per_block, _ = _shape(n, setting, block_rows)
    workers_rng = np.random.default_rng(SEED)  # the same worker population in every block
    kind = workers_rng.random(W)
    accuracy = np.where(
        kind < 0.7,
        workers_rng.uniform(0.65, 0.95, W),
        np.where(kind < 0.9, workers_rng.uniform(0.40, 0.65, W), 1.0 / K),
    )
    rng = np.random.default_rng([SEED, block])
    first = block * tasks_per_block
    tasks = np.arange(first, min(first + tasks_per_block, n_tasks))
    start = rng.integers(0, W, len(tasks))
    step = rng.integers(1, max(2, W // per_task), len(tasks))
    task = np.repeat(tasks, per_task)
    worker = ((start[:, None] + np.arange(per_task) * step[:, None]) % W).ravel()
    true_label = np.repeat(truth_of(tasks, setting), per_task)
    correct = rng.random(len(task)) < accuracy[worker]
    wrong = (true_label + rng.integers(1, max(2, K), len(task))) % K
    label = np.where(correct, true_label, wrong)
    order = rng.permutation(len(task))
    names = pa.array([f"class_{k}" for k in range(K)])
    table = pa.table(
        {
            "task_id": _ids("t", task[order], 10),
            "worker_id": _ids("w", worker[order], 7),
            "result": names.take(pa.array(label[order])),
        }
    )
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _correct(frame: pd.DataFrame, setting: str) -> pd.DataFrame:
    tasks = pc.utf8_slice_codeunits(pa.array(frame["task_id"].array), 1).cast(pa.int64())
    labels = pc.utf8_slice_codeunits(pa.array(frame["result"].array), 6).cast(pa.int64())
    hits = labels.to_numpy() == truth_of(tasks.to_numpy(), setting)
    return pd.DataFrame({"correct": [int(hits.sum())], "tasks": [len(frame)]})


# --------------------------------------------------------------------------- single process
def _single_child(n: int, setting: str, block_rows: int, out: str) -> None:
    from pandas_toloka.aggregation import dawid_skene

    _, _, _, n_blocks = _shape(n, setting, block_rows)
    frame = pd.concat(
        [generate(b, n=n, setting=setting, block_rows=block_rows) for b in range(n_blocks)],
        ignore_index=True,
    )
    start = time.perf_counter()
    result = dawid_skene(frame, task="task_id", worker="worker_id", label="result")
    elapsed = time.perf_counter() - start
    counts = _correct(result, setting)
    result.to_parquet(out)
    peak = _status_kib("VmHWM") / 1024
    print(f"{elapsed} {peak} {int(counts['correct'][0])} {int(counts['tasks'][0])}")


def _status_kib(field: str, pid: str = "self") -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def run_single(n: int, setting: str, block_rows: int, out: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "single-child", str(n), setting, str(block_rows), out]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
    elapsed, peak, correct, tasks = done.stdout.split()
    return {"time": float(elapsed), "peak": float(peak), "accuracy": int(correct) / int(tasks)}


# --------------------------------------------------------------------------- distributed
def _worker_rss() -> float:
    return _status_kib("VmRSS") / 1024


class _Sampler:
    """The largest RSS of each worker, sampled every ``interval`` seconds."""

    def __init__(self, client: Any, interval: float = 0.5) -> None:
        self.client, self.interval = client, interval
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for worker, rss in self.client.run(_worker_rss).items():
                    self.peaks[worker] = max(self.peaks.get(worker, 0.0), rss)
            except Exception:  # a worker restarting: sample again
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class _Iterations(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.iterations: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Dawid-Skene of pool"):
            self.iterations.append(int(record.args[3]))  # type: ignore[index]


def run_distributed(
    n: int, setting: str, block_rows: int, single_out: str | None, memory_limit: str
) -> dict[str, Any]:
    """One size on a fresh cluster (nothing left from the previous size)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        return _run_distributed(client, n, setting, block_rows, single_out)


def _run_distributed(
    client: Any, n: int, setting: str, block_rows: int, single_out: str | None
) -> dict[str, Any]:
    import dask.dataframe as dd
    from distributed import wait

    import pandas_toloka.dask as ptd

    _, _, _, n_blocks = _shape(n, setting, block_rows)
    meta = generate(0, n=10, setting=setting, block_rows=block_rows).iloc[:0]
    ddf = dd.from_map(
        generate, range(n_blocks), meta=meta, n=n, setting=setting, block_rows=block_rows
    )
    handler = _Iterations()
    logging.getLogger("pandas_toloka.dask._fit").addHandler(handler)
    logging.getLogger("pandas_toloka.dask._fit").setLevel(logging.INFO)
    with _Sampler(client) as sampler:
        start = time.perf_counter()
        ddf = client.persist(ddf)  # generated on the workers, held there as Arrow strings
        wait(ddf)
        client.rebalance(ddf)  # as many partitions on each worker, as a loader would place them
        generated = time.perf_counter() - start
        start = time.perf_counter()
        result = ptd.aggregate_locally(ddf, "DAWID_SKENE", fields="result", pool_id="bench")
        counts = result.map_partitions(_correct, setting, meta={"correct": int, "tasks": int})
        totals = counts.sum().compute()
        elapsed = time.perf_counter() - start
    row: dict[str, Any] = {
        "time": elapsed,
        "generated": generated,
        "peaks": sorted(sampler.peaks.values()),
        "accuracy": totals["correct"] / totals["tasks"],
        "iterations": handler.iterations[-1] if handler.iterations else None,
        "blocks": n_blocks,
    }
    if single_out is not None:  # the same data, single process: compare the answers
        single = pd.read_parquet(single_out).sort_values("task_id", ignore_index=True)
        ours = result.compute().sort_values("task_id", ignore_index=True)
        row["same_labels"] = bool(
            (ours["task_id"].to_numpy() == single["task_id"].to_numpy()).all()
            and (ours["result"].to_numpy() == single["result"].to_numpy()).all()
        )
        difference = ours["confidence"].to_numpy(float) - single["confidence"].to_numpy(float)
        row["max_conf_diff"] = float(np.abs(difference).max())
    return row


def bench_ds(args: argparse.Namespace) -> None:
    lines = [
        "| setting | responses | implementation | time (s) | iterations | peak RSS per "
        "worker (MiB) | accuracy | same answers as single-process | vs spark-crowd 1 node "
        "/ 3-node cluster |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for setting in args.settings:
            for n in args.sizes:
                single = None
                out = None
                if n <= args.single_max:
                    out = os.path.join(tmp, f"{setting}-{n}.parquet")
                    single = run_single(n, setting, args.block_rows, out)
                row = run_distributed(n, setting, args.block_rows, out, args.memory_limit)
                spark = SPARK_CROWD.get(n) if setting == "spark" else None
                versus = (
                    f"{spark[0] / row['time']:.1f}x / {spark[1] / row['time']:.1f}x"
                    if spark
                    else "—"
                )
                same = (
                    f"labels {'identical' if row['same_labels'] else 'DIFFER'}, "
                    f"max Δconf {row['max_conf_diff']:.1e}"
                    if single
                    else "—"
                )
                peaks = " / ".join(f"{p:,.0f}" for p in row["peaks"])
                lines.append(
                    f"| {setting} | {n:,} | pandas_toloka.dask, 2 workers x 1 thread, "
                    f"{row['blocks']} partitions (generating them: {row['generated']:.0f} s) | "
                    f"{row['time']:.1f} | {row['iterations']} | "
                    f"{peaks} | {row['accuracy']:.4f} | {same} | {versus} |"
                )
                if single:
                    versus_single = f"dask {single['time'] / row['time']:.2f}x faster"
                    lines.append(
                        f"| {setting} | {n:,} | single-process dawid_skene | {single['time']:.1f} | "
                        f"— | {single['peak']:,.0f} (whole process) | {single['accuracy']:.4f} | "
                        f"{versus_single} | — |"
                    )
                if spark:
                    lines.append(
                        f"| {setting} | {n:,} | spark-crowd (published) | {spark[0]} / {spark[1]} "
                        "| — | — | — | — | 1 node / 3 nodes x 10 cores |"
                    )
                print(lines[-1], flush=True)
    print("\n".join(lines))


# --------------------------------------------------------------------------- reader
def _serve(pools: int, tasks: int, latency: float, queue: Any, stop: Any) -> None:
    from pandas_toloka.server import LocalTolokaServer

    spec = {"result": {"type": "STRING", "allowed_values": ["a", "b", "c"]}}
    rng = np.random.default_rng(SEED)
    # Every pool's finished operation stays readable until its partition reads it (the
    # server's default keeps 32, the sequential loop reading each right away).
    server = LocalTolokaServer(max_finished_operations=2 * pools)
    labels = np.array(["a", "b", "c"])
    for p in range(pools):
        task = np.repeat(np.arange(tasks), 3)
        worker = rng.integers(0, 300, len(task))
        frame = pd.DataFrame(
            {
                "task_id": [f"p{p}-t{t}" for t in task],
                "worker_id": [f"w{w}" for w in worker],
                "result": labels[rng.integers(0, 3, len(task))],
            }
        )
        server.add_pool(str(10_000 + p), responses=frame, output_spec=spec, project_id="1")
    server.faults.latency = latency
    with server:
        queue.put((server.url, server.token))
        stop.wait()


def _warm_up() -> None:
    import pandas_toloka.dask  # noqa: F401


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``), in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_reader(args: argparse.Namespace) -> None:
    from distributed import Client as DaskClient
    from distributed import LocalCluster

    import pandas_toloka as ptk
    import pandas_toloka.dask as ptd

    context = multiprocessing.get_context("spawn")
    queue, stop = context.Queue(), context.Event()
    server = context.Process(
        target=_serve, args=(args.pools, args.tasks, args.latency, queue, stop), daemon=True
    )
    server.start()
    rows = []
    try:
        url, token = queue.get(timeout=900)
        assert server.pid is not None
        pools = [str(10_000 + p) for p in range(args.pools)]
        with ptk.Client(token, url=url) as client:
            cpu = _cpu_seconds(server.pid)
            start = time.perf_counter()
            frames = [ptk.read_aggregated_solutions(p, client=client) for p in pools]
            sequential = time.perf_counter() - start
            rows.append(("sequential pandas_toloka.read_aggregated_solutions", sequential, None))
            expected = pd.concat(frames, ignore_index=True)
            server_cpu = [_cpu_seconds(server.pid) - cpu]
            with (
                LocalCluster(
                    n_workers=2, threads_per_worker=8, processes=True, dashboard_address=None
                ) as cluster,
                DaskClient(cluster) as dask_client,
            ):
                # Workers import the package once, as the driver already has (not measured).
                dask_client.run(_warm_up)
                for limit in args.max_concurrent:
                    cpu = _cpu_seconds(server.pid)
                    start = time.perf_counter()
                    ddf = ptd.read_aggregated_solutions(
                        pools, client=client, max_concurrent_operations=limit
                    )
                    started = time.perf_counter() - start
                    out = ddf.compute()
                    elapsed = time.perf_counter() - start
                    server_cpu.append(_cpu_seconds(server.pid) - cpu)
                    same = out.reset_index(drop=True).equals(expected)
                    name = (
                        f"pandas_toloka.dask.read_aggregated_solutions, max_concurrent_operations="
                        f"{limit} ({started:.1f} s of it starting; same frame: {same})"
                    )
                    rows.append((name, elapsed, limit))
    finally:
        stop.set()
        server.join(timeout=30)
    print(
        "| pools | tasks per pool | latency per request | implementation | time (s) | "
        "server CPU (s) | speed-up |\n|---|---|---|---|---|---|---|"
    )
    for (name, elapsed, _), cpu in zip(rows, server_cpu):
        print(
            f"| {args.pools} | {args.tasks:,} | {args.latency * 1000:.0f} ms | {name} | "
            f"{elapsed:.1f} | {cpu:.1f} | {sequential / elapsed:.1f}x |"
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "single-child":
        _single_child(int(argv[1]), argv[2], int(argv[3]), argv[4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    ds = sub.add_parser("ds", help="Dawid-Skene at scale")
    ds.add_argument("--sizes", type=int, nargs="+", default=[10_000_000])
    ds.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=["spark", "ours"])
    ds.add_argument("--single-max", type=int, default=10_000_000)
    ds.add_argument("--block-rows", type=int, default=6_250_000)
    ds.add_argument("--memory-limit", default="8GiB")
    reader = sub.add_parser("reader", help="the pools reader against a sequential loop")
    reader.add_argument("--pools", type=int, default=200)
    reader.add_argument("--tasks", type=int, default=5000)
    reader.add_argument("--latency", type=float, default=0.02)
    reader.add_argument("--max-concurrent", type=int, nargs="+", default=[8])
    args = parser.parse_args(argv)
    if args.what == "ds":
        bench_ds(args)
    else:
        bench_reader(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
