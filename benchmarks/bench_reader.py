"""Benchmark: reading a finished pool aggregation (1M and 5M tasks) and 1M raw responses.

Cases, each in a fresh subprocess reading the same finished operation of the
bundled server (which runs in this process):

* ``bytes``        requests, pages of 100,000, the cursor found at the end of each body, nothing decoded
* ``floor``        requests + ``json.loads`` of the same pages, nothing kept
* ``ptk_read``     ``pandas_toloka.read_aggregated_solutions(operation_id=...)``
* ``ptk_iter``     ``pandas_toloka.iter_aggregated_solutions(...)``, chunks dropped as they come
* ``tk_default``   toloka-kit 1.2.3 ``get_aggregated_solutions`` (its default 50 rows per request)
                   turned into a DataFrame; run with ``--toloka-kit-python`` (a separate venv)
* ``tk_100k``      the same with ``batch_size=100_000``
* ``resp_floor``   requests + ``json.loads`` of the pages of ``GET /assignments`` (10,000 a page)
* ``resp_read``    ``pandas_toloka.read_responses`` of the same pool

Sections: (1) loopback, the server's gzip off (decoding against the wire);
(2) 1M responses, likewise; (3) a simulated 100 Mbit/s link with 50 ms per
answer (``LocalTolokaServer(bandwidth=..., latency=...)``), gzip on and off.

Wall time covers the reading only (imports and the aggregation itself are
excluded; the server is warmed up by one untimed pass; the fast cases run
``--repeat`` times interleaved, the median time and the largest peak are
reported; toloka-kit and the simulated link run once). Peak memory is the
subprocess's high-water mark (``VmHWM``) minus its RSS right before the case.
Run::

    python benchmarks/bench_reader.py --toloka-kit-python "$TOLOKA_KIT_PYTHON"

toloka-kit needs a venv of its own (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from typing import Any

TOKEN = "bench-token"
POOL_ID = "bench"
RESPONSES_POOL = "responses"
PAGE = 100_000
LINK = {"bandwidth": 12.5e6, "latency": 0.05}  # 100 Mbit/s, 50 ms

# --------------------------------------------------------------------------- children


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _session() -> Any:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"OAuth {TOKEN}"
    return session


def _bytes_only(url: str, op_id: str) -> dict[str, Any]:
    session = _session()
    params: dict[str, Any] = {"sort": "task_id", "limit": PAGE}
    last = re.compile(rb'"task_id":"([^"]*)"')
    pages = 0
    while True:
        body = session.get(f"{url}/api/v1/aggregated-solutions/{op_id}", params=params).content
        pages += 1
        if b'"has_more":true' not in body[-40:]:
            return {"pages": pages}
        params["task_id_gt"] = last.findall(body[-400:])[-1].decode()


def _floor(url: str, op_id: str) -> dict[str, Any]:
    session = _session()
    params: dict[str, Any] = {"sort": "task_id", "limit": PAGE}
    rows = 0
    while True:
        response = session.get(f"{url}/api/v1/aggregated-solutions/{op_id}", params=params)
        response.raise_for_status()
        page = json.loads(response.content)
        items = page["items"]
        rows += len(items)
        if not page["has_more"]:
            return {"rows": rows}
        params["task_id_gt"] = items[-1]["task_id"]


def _ptk_read(url: str, op_id: str) -> dict[str, Any]:
    import pyarrow as pa

    from pandas_toloka import reader
    from pandas_toloka.client import Client

    with Client(TOKEN, url=url) as client:
        df = reader.read_aggregated_solutions(operation_id=op_id, client=client, progress_bar=False)
    table_mb = sum(pa.array(df[c]).nbytes for c in df.columns) / 2**20
    return {"rows": len(df), "table_mb": table_mb}


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
    return {"rows": len(pd.DataFrame.from_records(records))}


def _responses_floor(url: str) -> dict[str, Any]:
    session = _session()
    params: dict[str, Any] = {"pool_id": RESPONSES_POOL, "status": "ACCEPTED", "sort": "id"}
    params["limit"] = 10_000
    rows = 0
    while True:
        response = session.get(f"{url}/api/v1/assignments", params=params)
        response.raise_for_status()
        page = json.loads(response.content)
        rows += sum(len(a["tasks"]) for a in page["items"])
        if not page["has_more"]:
            return {"rows": rows}
        params["id_gt"] = page["items"][-1]["id"]


def _responses_read(url: str) -> dict[str, Any]:
    import pyarrow as pa

    from pandas_toloka.client import Client
    from pandas_toloka.responses import read_responses

    with Client(TOKEN, url=url) as client:
        df = read_responses(RESPONSES_POOL, client=client, progress_bar=False)
    return {"rows": len(df), "table_mb": sum(pa.array(df[c]).nbytes for c in df.columns) / 2**20}


def _child(case: str, url: str, op_id: str) -> None:
    import pandas  # noqa: F401
    import requests  # noqa: F401

    if case.startswith("tk"):
        import toloka.client  # noqa: F401
    else:
        import pyarrow  # noqa: F401
        import pyarrow.compute  # noqa: F401
        import pyarrow.json  # noqa: F401

        import pandas_toloka  # noqa: F401
    runs = {
        "bytes": lambda: _bytes_only(url, op_id),
        "floor": lambda: _floor(url, op_id),
        "ptk_read": lambda: _ptk_read(url, op_id),
        "ptk_iter": lambda: _ptk_iter(url, op_id),
        "tk_default": lambda: _toloka_kit(url, op_id, None),
        "tk_100k": lambda: _toloka_kit(url, op_id, 100_000),
        "resp_floor": lambda: _responses_floor(url),
        "resp_read": lambda: _responses_read(url),
    }
    baseline = _status_mb("VmRSS")
    start = time.perf_counter()
    out = runs[case]()
    out["seconds"] = time.perf_counter() - start
    out["peak_mb"] = _status_mb("VmHWM") - baseline  # VmHWM starts afresh at exec
    print(json.dumps(out))


# --------------------------------------------------------------------------- parent


def _aggregated_pool(n_tasks: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    ids = np.char.add(
        np.char.zfill(np.arange(n_tasks).astype(str), 10), "--64382dfc97aa9547ff8a2299"
    )
    return pd.DataFrame(
        {
            "task_id": ids,
            "worker_id": rng.integers(0, 1000, n_tasks).astype(str),
            "result": np.where(rng.random(n_tasks) < 0.5, "cat", "dog"),
        }
    )


def _make_server(n_tasks: int, *, responses: int = 0, **network: Any) -> tuple[Any, str]:
    from pandas_toloka.client import Client
    from pandas_toloka.server import LocalTolokaServer

    server = LocalTolokaServer(token=TOKEN, **network)
    spec = {"result": {"type": "STRING", "allowed_values": ["cat", "dog", "other"]}}
    server.add_pool(POOL_ID, responses=_aggregated_pool(n_tasks), output_spec=spec)
    if responses:
        from bench_accessor import synthetic_pool

        pool = synthetic_pool(responses // 5, 5, 5)
        server.add_pool(
            RESPONSES_POOL, responses=pool, output_spec={**spec, "sure": {"type": "BOOLEAN"}}
        )
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


def _measure(cases: list[str], url: str, op_id: str, repeat: int, timeout: float) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {case: [] for case in cases}
    for _ in range(repeat):  # interleaved, so drift hits every case alike
        for case in cases:
            out = _run_case(sys.executable, case, url, op_id, timeout)
            runs[case].append(out)
            print(case, out, file=sys.stderr, flush=True)
    results = {}
    for case in cases:
        timed = sorted((o for o in runs[case] if "seconds" in o), key=lambda o: o["seconds"])
        median = dict(timed[len(timed) // 2]) if timed else runs[case][-1]
        if timed:
            median["peak_mb"] = max(o["peak_mb"] for o in timed)
        results[case] = median
    return results


def _row(label: str, rows: int, out: dict[str, Any], floor: Any, base: Any, tk: Any) -> str:
    if "seconds" not in out:
        return f"| {rows:,} | {label} | - | - | - | - | - | - | {out.get('error')} |"
    seconds = out["seconds"]

    def ratio(other: Any, inverse: bool = False) -> str:
        if not other or "seconds" not in other:
            return "-"
        value = other["seconds"] / seconds if inverse else seconds / other["seconds"]
        return f"{value:.2f}x" if not inverse else f"{value:.1f}x"

    notes = []
    if "table_mb" in out:
        notes.append(
            f"result {out['table_mb']:.0f} MB; peak/result {out['peak_mb'] / out['table_mb']:.2f}x"
        )
    if "rows" in out and out["rows"] != rows:
        notes.append(f"ROWS {out['rows']} != {rows}")
    speed = f"{rows / seconds:,.0f}"
    return (
        f"| {rows:,} | {label} | {seconds:.2f} | {speed} | {out['peak_mb']:.0f} | "
        f"{ratio(floor)} | {ratio(base)} | {ratio(tk, inverse=True)} | {'; '.join(notes)} |"
    )


HEADER = (
    "| rows | case | wall s | rows/s | peak MB | vs floor | vs bytes only | toloka-kit 100k / case | notes |\n"
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--responses", type=int, default=1_000_000, help="0 skips section 2")
    parser.add_argument("--no-network", action="store_true", help="skip section 3")
    parser.add_argument(
        "--toloka-kit-python",
        default=os.environ.get("TOLOKA_KIT_PYTHON") or None,
        help="python of a venv with toloka-kit 1.2.3 (default: $TOLOKA_KIT_PYTHON)",
    )
    parser.add_argument("--case-timeout", type=float, default=1800.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fast case")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--op", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.url, args.op)
        return 0
    timeout = args.case_timeout
    tables = []

    lines = [HEADER]
    for i, size in enumerate(sorted(args.sizes)):
        server, op_id = _make_server(size, responses=args.responses if i == 0 else 0, gzip=False)
        try:
            cases = ["bytes", "floor", "ptk_read", "ptk_iter"]
            res = _measure(cases, server.url, op_id, args.repeat, timeout)
            if i == 0:
                for case in ("tk_100k", "tk_default"):
                    res[case] = (
                        _run_case(args.toloka_kit_python, case, server.url, op_id, timeout)
                        if args.toloka_kit_python
                        else {"error": "not run: pass --toloka-kit-python"}
                    )
                    print(case, res[case], file=sys.stderr, flush=True)
            for case, out in res.items():
                lines.append(_row(case, size, out, res["floor"], res["bytes"], res.get("tk_100k")))
            if i == 0 and args.responses:
                resp = _measure(["resp_floor", "resp_read"], server.url, "-", args.repeat, timeout)
                tables.append(
                    "\n".join(
                        [HEADER]
                        + [
                            _row(case, args.responses, out, resp["resp_floor"], None, None)
                            for case, out in resp.items()
                        ]
                    )
                )
        finally:
            server.stop()
    tables.insert(0, "\n".join(lines))

    if not args.no_network:
        size = min(args.sizes)
        lines = [HEADER.replace("| rows | case", "| rows | case (100 Mbit/s + 50 ms)")]
        for gzip in (False, True):
            server, op_id = _make_server(size, gzip=gzip, **LINK)
            try:
                res = _measure(["bytes", "ptk_read", "ptk_iter"], server.url, op_id, 1, timeout)
            finally:
                server.stop()
            for case, out in res.items():
                label = f"{case}, gzip {'on' if gzip else 'off'}"
                lines.append(_row(label, size, out, None, res["bytes"], None))
        tables.append("\n".join(lines))
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
