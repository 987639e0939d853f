"""Benchmark: reading a finished pool aggregation of 1M (and 5M) tasks from the local server.

Cases, each in a fresh subprocess reading the same finished operation:

* ``floor``        requests + ``json.loads`` of the same pages (limit 100,000), nothing kept
* ``ptk_read``     ``pandas_toloka.read_aggregated_solutions(operation_id=...)``
* ``ptk_iter``     ``pandas_toloka.iter_aggregated_solutions(...)``, chunks dropped as they come
* ``tk_default``   toloka-kit 1.2.3 ``get_aggregated_solutions`` (its default 50 rows per request)
                   turned into a DataFrame; run with ``--toloka-kit-python`` (a separate venv)
* ``tk_100k``      the same with ``batch_size=100_000``

Wall time covers the reading only (imports and the aggregation itself are
excluded; the server is warmed up by one untimed pass; the fast cases run
``--repeat`` times interleaved, the median time and the largest peak are
reported; toloka-kit runs once); peak memory is the subprocess's peak RSS minus its RSS right before
the case starts. Run::

    python benchmarks/bench_reader.py --sizes 1000000 5000000 --toloka-kit-python "$TOLOKA_KIT_PYTHON"

toloka-kit needs a venv of its own (see benchmarks/README.md): ``python3 -m venv .tk-venv &&
.tk-venv/bin/pip install "toloka-kit==1.2.3" "httpx<0.28" "cattrs<26" "tenacity<8.3" pandas
requests``; ``TOLOKA_KIT_PYTHON=$PWD/.tk-venv/bin/python`` is also the default of
``--toloka-kit-python``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

TOKEN = "bench-token"
POOL_ID = "bench"


# --------------------------------------------------------------------------- children


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    # VmHWM starts afresh at exec; ru_maxrss would include the forked parent's memory.
    return _status_mb("VmHWM")


def _bytes_only(url: str, op_id: str) -> dict[str, Any]:
    import re

    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"OAuth {TOKEN}"
    params: dict[str, Any] = {"sort": "task_id", "limit": 100_000}
    last = re.compile(rb'"task_id":"([^"]*)"')
    pages = 0
    while True:
        response = session.get(f"{url}/api/v1/aggregated-solutions/{op_id}", params=params)
        response.raise_for_status()
        body = response.content
        pages += 1
        if b'"has_more":true' not in body[-40:]:
            break
        # the cursor, found from the end of the body without decoding it
        params["task_id_gt"] = last.findall(body[-400:])[-1].decode()
    return {"pages": pages}


def _floor(url: str, op_id: str) -> dict[str, Any]:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"OAuth {TOKEN}"
    params: dict[str, Any] = {"sort": "task_id", "limit": 100_000}
    rows = 0
    while True:
        response = session.get(f"{url}/api/v1/aggregated-solutions/{op_id}", params=params)
        response.raise_for_status()
        page = json.loads(response.content)
        items = page["items"]
        rows += len(items)
        if not page["has_more"]:
            break
        params["task_id_gt"] = items[-1]["task_id"]
    return {"rows": rows}


def _ptk_read(url: str, op_id: str) -> dict[str, Any]:
    import pyarrow as pa

    from pandas_toloka import reader
    from pandas_toloka.client import Client

    with Client(TOKEN, url=url) as client:
        df = reader.read_aggregated_solutions(operation_id=op_id, client=client, progress_bar=False)
    table_mb = sum(pa.array(df[c]).nbytes for c in df.columns) / 2**20
    return {"rows": len(df), "table_mb": table_mb, "dtypes": [str(t) for t in df.dtypes]}


def _ptk_iter(url: str, op_id: str) -> dict[str, Any]:
    from pandas_toloka import reader
    from pandas_toloka.client import Client

    rows = 0
    with Client(TOKEN, url=url) as client:
        for chunk in reader.iter_aggregated_solutions(
            operation_id=op_id, client=client, progress_bar=False
        ):
            rows += len(chunk)
    return {"rows": rows}


def _toloka_kit(url: str, op_id: str, batch_size: int | None) -> dict[str, Any]:
    import pandas as pd
    from toloka.client import TolokaClient
    from toloka.client.search_requests import AggregatedSolutionSearchRequest

    client = TolokaClient(TOKEN, url=url, retries=3, timeout=300.0)
    records = [
        {"pool_id": s.pool_id, "task_id": s.task_id, "confidence": s.confidence, **s.output_values}
        for s in client.get_aggregated_solutions(
            op_id, request=AggregatedSolutionSearchRequest(), batch_size=batch_size
        )
    ]
    df = pd.DataFrame.from_records(records)
    return {"rows": len(df)}


def _child(case: str, url: str, op_id: str) -> None:
    if case.startswith("tk"):
        import pandas
        import toloka.client  # noqa: F401
    else:
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
        import requests  # noqa: F401

        if case.startswith("ptk"):
            import pandas_toloka.reader  # noqa: F401
    baseline = _rss_mb()
    start = time.perf_counter()
    if case == "bytes":
        out = _bytes_only(url, op_id)
    elif case == "floor":
        out = _floor(url, op_id)
    elif case == "ptk_read":
        out = _ptk_read(url, op_id)
    elif case == "ptk_iter":
        out = _ptk_iter(url, op_id)
    elif case == "tk_default":
        out = _toloka_kit(url, op_id, None)
    elif case == "tk_100k":
        out = _toloka_kit(url, op_id, 100_000)
    else:
        raise SystemExit(f"unknown case {case}")
    out["seconds"] = time.perf_counter() - start
    out["peak_mb"] = _peak_mb() - baseline
    print(json.dumps(out))


# --------------------------------------------------------------------------- parent


def _make_server(n_tasks: int) -> tuple[Any, str]:
    import numpy as np
    import pandas as pd

    from pandas_toloka.client import Client
    from pandas_toloka.server import LocalTolokaServer

    rng = np.random.default_rng(0)
    ids = np.char.add(
        np.char.zfill(np.arange(n_tasks).astype(str), 10), "--64382dfc97aa9547ff8a2299"
    )
    responses = pd.DataFrame(
        {
            "task_id": ids,
            "worker_id": rng.integers(0, 1000, n_tasks).astype(str),
            "result": np.where(rng.random(n_tasks) < 0.5, "cat", "dog"),
        }
    )
    server = LocalTolokaServer(token=TOKEN)
    server.add_pool(
        POOL_ID,
        responses=responses,
        output_spec={"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}},
    )
    del responses
    server.start()
    with Client(TOKEN, url=server.url) as client:
        operation = client.aggregate_by_pool(POOL_ID, type="DAWID_SKENE", fields="result")
        while operation["status"] not in ("SUCCESS", "FAIL"):
            time.sleep(0.5)
            operation = client.get_operation(operation["id"])
    if operation["status"] != "SUCCESS":
        raise SystemExit(f"aggregation failed: {operation}")
    _floor(server.url, str(operation["id"]))  # warm the server up before anything is timed
    return server, str(operation["id"])


def _run_case(python: str, case: str, url: str, op_id: str, timeout: float) -> dict[str, Any]:
    command = [python, os.path.abspath(__file__), "--child", case, "--url", url, "--op", op_id]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:120]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _fmt(value: Any, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument(
        "--toloka-kit-python",
        default=os.environ.get("TOLOKA_KIT_PYTHON") or None,
        help="python of a venv with toloka-kit 1.2.3 (default: $TOLOKA_KIT_PYTHON)",
    )
    parser.add_argument("--case-timeout", type=float, default=1800.0)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each fast case (median time, max peak)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--op", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.url, args.op)
        return 0

    results: list[tuple[int, str, dict[str, Any]]] = []
    for i, size in enumerate(sorted(args.sizes)):
        server, op_id = _make_server(size)
        try:
            cases = (
                ["bytes", "floor", "ptk_read", "ptk_iter"]
                if i == 0
                else ["bytes", "floor", "ptk_iter"]
            )
            runs: dict[str, list[dict[str, Any]]] = {case: [] for case in cases}
            for _ in range(args.repeat):  # interleaved, so drift hits every case alike
                for case in cases:
                    out = _run_case(sys.executable, case, server.url, op_id, args.case_timeout)
                    runs[case].append(out)
                    print(size, case, out, file=sys.stderr, flush=True)
            for case in cases:
                timed = sorted(
                    (o for o in runs[case] if "seconds" in o), key=lambda o: o["seconds"]
                )
                median = timed[len(timed) // 2] if timed else runs[case][-1]
                if timed:
                    median["peak_mb"] = max(o["peak_mb"] for o in timed)
                results.append((size, case, median))
            if i == 0:
                for case in ("tk_100k", "tk_default"):
                    if args.toloka_kit_python:
                        out = _run_case(
                            args.toloka_kit_python, case, server.url, op_id, args.case_timeout
                        )
                    else:
                        out = {"error": "not run: pass --toloka-kit-python"}
                    results.append((size, case, out))
                    print(size, case, out, file=sys.stderr, flush=True)
        finally:
            server.stop()

    print(
        "| tasks | case | wall s | rows/s | peak MB above baseline | vs floor (time) | toloka-kit (default) / case (time) | notes |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for size, case, out in results:
        floor = next(
            (o for s, c, o in results if s == size and c == "floor" and "seconds" in o), None
        )
        tk = next(
            (o for s, c, o in results if s == size and c == "tk_default" and "seconds" in o), None
        )
        if "seconds" not in out:
            print(f"| {size:,} | {case} | - | - | - | - | - | {out.get('error')} |")
            continue
        seconds = out["seconds"]
        ratio_floor = seconds / floor["seconds"] if floor else None
        speedup = tk["seconds"] / seconds if tk else None
        notes = []
        if "table_mb" in out:
            notes.append(
                f"final table {out['table_mb']:.0f} MB; peak/table {out['peak_mb'] / out['table_mb']:.2f}x"
            )
        if out.get("rows") != size:
            notes.append(f"ROWS {out.get('rows')} != {size}")
        print(
            f"| {size:,} | {case} | {seconds:.2f} | {out['rows'] / seconds:,.0f} | {out['peak_mb']:.0f} | "
            f"{_fmt(ratio_floor, '{:.2f}x')} | {_fmt(speedup, '{:.1f}x')} | {'; '.join(notes)} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
