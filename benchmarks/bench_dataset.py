"""Benchmark: the labeled dataset, the tasks reader and the results-export reader.

Cases, each in a fresh subprocess against the bundled server (which runs in this
process; gzip off) on a pool of N tasks with 3 input fields (a URL, a text, an
integer) and one response per task, whose aggregation has finished:

* ``solutions``    ``read_aggregated_solutions(operation_id=...)`` alone (the baseline)
* ``labeled``      the labeled dataset of the same operation (``pandas-toloka export``'s
                   core: the tasks read while the results are, joined on task_id)
* ``inputs``       ``read_aggregated_solutions(operation_id=..., inputs=True)``: the same
                   rows, each page of results merge-joined with its tasks as it arrives
* ``tasks_floor``  requests + ``json.loads`` of the pages of ``GET /tasks``, nothing kept
* ``tasks_read``   ``pandas_toloka.read_tasks``
* ``tasks_iter``   ``pandas_toloka.iter_tasks``, chunks dropped (peak memory at N and 3N)
* ``tsv_arrow``    ``pyarrow.csv.read_csv`` of the pool's results export (the TSV file:
                   the default download, no ``ASSIGNMENT:task_id``)
* ``tsv_read``     ``pandas_toloka.read_assignments_tsv`` of the same file (task ids
                   hashed from the inputs)
* ``tsv_ids_arrow`` / ``tsv_ids_read``  the same two on the export asked for with every
                   ``ASSIGNMENT:`` column (``field=``, as ``read_assignments_export`` asks):
                   Toloka's task ids, no hashing

Targets (issue 17): labeled (and inputs) <= 1.6x solutions; tasks_iter peak at 3N <= 1.25x at N;
tasks_read within 0.6x of tasks_floor's time (<= 1.6x); tsv_read <= 1.5x tsv_arrow.
Wall time covers the work only (imports excluded; the median of ``--repeat``
interleaved runs); peak memory is the subprocess's ``VmHWM`` minus its RSS before
the case. Run::

    python benchmarks/bench_dataset.py [--sizes 1000000 3000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

TOKEN = "bench-token"
POOL_ID = "dataset"
PAGE = 100_000
SPEC = {"result": {"type": "STRING", "allowed_values": ["cat", "dog", "other"]}}
INPUT_SPEC = {
    "image": {"type": "URL"},
    "caption": {"type": "STRING"},
    "width": {"type": "INTEGER"},
}


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


# --------------------------------------------------------------------------- children
def _client(url: str) -> Any:
    from pandas_toloka.client import Client

    return Client(TOKEN, url=url)


def _solutions(url: str, op_id: str, path: str) -> dict[str, Any]:
    from pandas_toloka import read_aggregated_solutions

    with _client(url) as client:
        df = read_aggregated_solutions(operation_id=op_id, client=client, progress_bar=False)
    return {"rows": len(df)}


def _labeled(url: str, op_id: str, path: str) -> dict[str, Any]:
    from pandas_toloka import schema
    from pandas_toloka._read.dataset import read_labeled_table

    with _client(url) as client:
        labeled = read_labeled_table(POOL_ID, client=client, operation_id=op_id)
        df = schema.to_pandas(labeled.table)
    return {"rows": len(df), "columns": len(df.columns)}


def _inputs(url: str, op_id: str, path: str) -> dict[str, Any]:
    from pandas_toloka import read_aggregated_solutions

    with _client(url) as client:
        df = read_aggregated_solutions(
            operation_id=op_id, inputs=True, client=client, progress_bar=False
        )
    return {"rows": len(df), "columns": len(df.columns)}


def _tasks_floor(url: str, op_id: str, path: str) -> dict[str, Any]:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"OAuth {TOKEN}"
    params: dict[str, Any] = {"pool_id": POOL_ID, "sort": "id", "limit": PAGE}
    rows = 0
    while True:
        response = session.get(f"{url}/api/v1/tasks", params=params)
        response.raise_for_status()
        page = json.loads(response.content)
        rows += len(page["items"])
        if not page["has_more"]:
            return {"rows": rows}
        params["id_gt"] = page["items"][-1]["id"]


def _tasks_read(url: str, op_id: str, path: str) -> dict[str, Any]:
    from pandas_toloka import read_tasks

    with _client(url) as client:
        df = read_tasks(POOL_ID, client=client, progress_bar=False)
    return {"rows": len(df)}


def _tasks_iter(url: str, op_id: str, path: str) -> dict[str, Any]:
    from pandas_toloka import iter_tasks

    rows = 0
    with _client(url) as client:
        for chunk in iter_tasks(POOL_ID, client=client, progress_bar=False):
            rows += len(chunk)
    return {"rows": rows}


def _tsv_arrow(url: str, op_id: str, path: str) -> dict[str, Any]:
    import pyarrow.csv as pv

    table = pv.read_csv(path, parse_options=pv.ParseOptions(delimiter="\t"))
    return {"rows": table.num_rows}


def _tsv_read(url: str, op_id: str, path: str) -> dict[str, Any]:
    from pandas_toloka import read_assignments_tsv

    return {"rows": len(read_assignments_tsv(path))}


def _with_ids(path: str) -> str:
    return path[: -len(".tsv")] + "_ids.tsv"


def _tsv_ids_arrow(url: str, op_id: str, path: str) -> dict[str, Any]:
    return _tsv_arrow(url, op_id, _with_ids(path))


def _tsv_ids_read(url: str, op_id: str, path: str) -> dict[str, Any]:
    return _tsv_read(url, op_id, _with_ids(path))


CASES = {
    "solutions": _solutions,
    "labeled": _labeled,
    "inputs": _inputs,
    "tasks_floor": _tasks_floor,
    "tasks_read": _tasks_read,
    "tasks_iter": _tasks_iter,
    "tsv_arrow": _tsv_arrow,
    "tsv_read": _tsv_read,
    "tsv_ids_arrow": _tsv_ids_arrow,
    "tsv_ids_read": _tsv_ids_read,
}


def _child(case: str, url: str, op_id: str, path: str) -> None:
    import pandas  # noqa: F401
    import pyarrow.csv  # noqa: F401
    import pyarrow.json  # noqa: F401
    import requests  # noqa: F401

    import pandas_toloka  # noqa: F401
    import pandas_toloka._read.dataset  # noqa: F401

    baseline = _status_mb("VmRSS")
    start = time.perf_counter()
    out = CASES[case](url, op_id, path)
    out["seconds"] = time.perf_counter() - start
    out["peak_mb"] = _status_mb("VmHWM") - baseline
    print(json.dumps(out))


# --------------------------------------------------------------------------- parent
def _pool(n_tasks: int) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    ids = np.char.add(np.char.zfill(np.arange(n_tasks).astype(str), 10), "--64382dfc97aa95")
    responses = pd.DataFrame(
        {
            "task_id": ids,
            "worker_id": rng.integers(0, 1000, n_tasks).astype(str),
            "result": np.where(rng.random(n_tasks) < 0.5, "cat", "dog"),
        }
    )
    tasks = pd.DataFrame(
        {
            "task_id": ids,
            "image": np.char.add("https://img.example.com/cats_vs_dogs/", ids),
            "caption": np.char.add("a photo number ", np.arange(n_tasks).astype(str)),
            "width": rng.integers(100, 2000, n_tasks),
        }
    )
    return responses, tasks


def _make_server(n_tasks: int, tsv: str | None) -> tuple[Any, str]:
    import requests

    from pandas_toloka.client import Client
    from pandas_toloka.server import LocalTolokaServer

    server = LocalTolokaServer(token=TOKEN, gzip=False)
    responses, tasks = _pool(n_tasks)
    server.add_pool(
        POOL_ID, responses=responses, output_spec=SPEC, input_spec=INPUT_SPEC, tasks=tasks
    )
    server.start()
    with Client(TOKEN, url=server.url) as client:
        operation = client.aggregate_by_pool(POOL_ID, type="DAWID_SKENE", fields="result")
        while operation["status"] not in ("SUCCESS", "FAIL"):
            time.sleep(0.5)
            operation = client.get_operation(operation["id"])
    if operation["status"] != "SUCCESS":
        raise SystemExit(f"aggregation failed: {operation}")
    if tsv is not None:
        from pandas_toloka._protocol import EXPORT_ASSIGNMENT_FIELDS

        for path, params in (
            (tsv, {}),
            (_with_ids(tsv), {"field": ",".join(EXPORT_ASSIGNMENT_FIELDS)}),
        ):
            answer = requests.get(
                f"{server.url}/new/requester/pools/{POOL_ID}/assignments.tsv",
                params=params,
                headers={"Authorization": f"OAuth {TOKEN}"},
                timeout=600,
            )
            answer.raise_for_status()
            with open(path, "wb") as file:
                file.write(answer.content)
    _tasks_floor(server.url, "", "")  # warm the server up before anything is timed
    return server, str(operation["id"])


def _run(case: str, url: str, op_id: str, path: str) -> dict[str, Any]:
    command = [sys.executable, os.path.abspath(__file__), "--child", case]
    command += ["--url", url, "--op", op_id, "--path", path]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:160]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _measure(cases: list[str], url: str, op_id: str, path: str, repeat: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {case: [] for case in cases}
    for _ in range(repeat):  # interleaved: drift hits every case alike
        for case in cases:
            out = _run(case, url, op_id, path)
            runs[case].append(out)
            print(case, out, file=sys.stderr, flush=True)
    results = {}
    for case in cases:
        timed = sorted((o for o in runs[case] if "seconds" in o), key=lambda o: o["seconds"])
        best = dict(timed[len(timed) // 2]) if timed else runs[case][-1]
        if timed:
            best["peak_mb"] = max(o["peak_mb"] for o in timed)
        results[case] = best
    return results


def _ratio(a: dict[str, Any], b: dict[str, Any], key: str = "seconds") -> str:
    if key not in a or key not in b or not b[key]:
        return "-"
    return f"{a[key] / b[key]:.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs=2, default=[1_000_000, 3_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--cases", nargs="+", choices=list(CASES), default=list(CASES), help="cases to run at N"
    )
    parser.add_argument("--no-large", action="store_true", help="skip tasks_iter at 3N")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--op", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.url, args.op, args.path)
        return 0
    small, large = args.sizes
    with tempfile.TemporaryDirectory() as folder:
        tsv = os.path.join(folder, "assignments.tsv")
        server, op_id = _make_server(small, tsv)
        try:
            res = _measure(args.cases, server.url, op_id, tsv, args.repeat)
        finally:
            server.stop()
        big: dict[str, Any] = {"error": "not run"}
        if not args.no_large:
            server, op_id = _make_server(large, None)
            try:
                big = _measure(["tasks_iter"], server.url, op_id, tsv, 1)["tasks_iter"]
            finally:
                server.stop()
    print(
        "| case | rows | wall s | peak MB | ratio | target |\n| --- | ---: | ---: | ---: | ---: | --- |"
    )
    res = {case: res.get(case, {}) for case in CASES}
    rows = [
        ("solutions", res["solutions"], "-", "baseline"),
        ("labeled", res["labeled"], _ratio(res["labeled"], res["solutions"]), "<= 1.6x solutions"),
        ("inputs", res["inputs"], _ratio(res["inputs"], res["solutions"]), "<= 1.6x solutions"),
        ("tasks_floor", res["tasks_floor"], "-", "baseline"),
        (
            "tasks_read",
            res["tasks_read"],
            _ratio(res["tasks_read"], res["tasks_floor"]),
            "<= 1.6x floor",
        ),
        ("tasks_iter", res["tasks_iter"], "-", f"peak at {small:,}"),
        (f"tasks_iter {large:,}", big, _ratio(big, res["tasks_iter"], "peak_mb"), "peak <= 1.25x"),
        ("tsv_arrow", res["tsv_arrow"], "-", "baseline"),
        (
            "tsv_read",
            res["tsv_read"],
            _ratio(res["tsv_read"], res["tsv_arrow"]),
            "<= 1.5x pyarrow.csv",
        ),
        ("tsv_ids_arrow", res["tsv_ids_arrow"], "-", "baseline"),
        (
            "tsv_ids_read",
            res["tsv_ids_read"],
            _ratio(res["tsv_ids_read"], res["tsv_ids_arrow"]),
            "<= 1.5x pyarrow.csv",
        ),
    ]
    for name, out, ratio, target in rows:
        if not out:
            continue
        if "seconds" not in out:
            print(f"| {name} | - | - | - | - | {out.get('error')} |")
            continue
        print(
            f"| {name} | {out.get('rows', 0):,} | {out['seconds']:.2f} | {out['peak_mb']:.0f} | "
            f"{ratio} | {target} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
