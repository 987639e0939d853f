"""Benchmark the bundled server's gzip and simulated network, against baselines of the same run.

1. gzip levels on one page of 100,000 aggregated solutions (the JSON the server
   sends): compression speed and ratio, as ratios to level 1 (the server's level).
2. Reading every page of an aggregated pool (raw bytes + ``json.loads``, no
   typed decoding) from a server in its own process: gzip off and on, over
   loopback and over a simulated 100 Mbit/s link with 50 ms latency; times as
   ratios to loopback with gzip off.

Run: ``python benchmarks/bench_server.py`` (about a minute; ``--rows`` to change the pool).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
import zlib

import numpy as np
import pandas as pd
import requests

TOKEN = "bench"
SPEC = {"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}}
PAGE = 100_000


def _page_json(rows: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    items = [
        {
            "pool_id": "36502086",
            "task_id": f"{i:010x}--{h:024x}",
            "confidence": float(c),
            "output_values": {"result": "cat" if c > 0.5 else "dog"},
        }
        for i, h, c in zip(range(rows), rng.integers(0, 2**62, rows), rng.random(rows))
    ]
    return json.dumps({"items": items, "has_more": True}, separators=(",", ":")).encode()


def gzip_levels(repeat: int = 3) -> None:
    data = _page_json(PAGE)
    results = {}
    for level in (1, 3, 6, 9):
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
            out = compressor.compress(data) + compressor.flush()
            best = min(best, time.perf_counter() - start)
        start = time.perf_counter()
        gzip.decompress(out)
        results[level] = (best, len(out), time.perf_counter() - start)
    base_time, base_size, _ = results[1]
    print(
        f"\n1. gzip of one page of {PAGE:,} aggregated solutions ({len(data) / 1e6:.1f} MB JSON)\n"
    )
    print("| level | compress | MB/s | ratio | time vs level 1 | size vs level 1 | decompress |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for level, (seconds, size, unzip) in results.items():
        print(
            f"| {level} | {seconds * 1000:.0f} ms | {len(data) / seconds / 1e6:.0f} "
            f"| {len(data) / size:.2f}x | {seconds / base_time:.2f}x | {size / base_size:.2f}x "
            f"| {unzip * 1000:.0f} ms |"
        )


def _serve(rows: int, settings: dict[str, object]) -> None:
    from pandas_toloka.server import LocalTolokaServer

    rng = np.random.default_rng(0)
    tasks = np.repeat(np.char.add("t", np.char.zfill(np.arange(rows).astype(str), 10)), 3)
    responses = pd.DataFrame(
        {
            "task_id": tasks,
            "worker_id": rng.choice([f"w{i}" for i in range(50)], len(tasks)),
            "result": rng.choice(["cat", "dog"], len(tasks)),
        }
    )
    server = LocalTolokaServer(token=TOKEN, **settings)  # type: ignore[arg-type]
    server.add_pool("1", responses=responses, output_spec=SPEC)
    server.start()
    print(server.url, flush=True)
    server.serve_forever()


def _read_all(session: requests.Session, url: str, operation_id: str) -> tuple[float, int]:
    headers = {"Authorization": f"ApiKey {TOKEN}"}
    params: dict[str, object] = {"sort": "task_id", "limit": PAGE}
    wire = 0
    start = time.perf_counter()
    while True:
        response = session.get(
            f"{url}/api/v1/aggregated-solutions/{operation_id}",
            params=params,
            headers=headers,
            stream=True,
        )
        raw = response.raw.read(decode_content=False)
        wire += len(raw)
        zipped = response.headers.get("Content-Encoding") == "gzip"
        page = json.loads(gzip.decompress(raw) if zipped else raw)
        if not page["has_more"]:
            return time.perf_counter() - start, wire
        params["task_id_gt"] = page["items"][-1]["task_id"]


def network(rows: int) -> None:
    link = {"latency": 0.05, "bandwidth": 12.5e6}
    cases = [
        ("loopback, gzip off (baseline)", {"gzip": False}),
        ("loopback, gzip on", {}),
        ("100 Mbit/s + 50 ms, gzip off", {"gzip": False, **link}),
        ("100 Mbit/s + 50 ms, gzip on", link),
    ]
    rows_out = []
    for name, settings in cases:
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve", json.dumps(settings), "--rows", str(rows)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        try:
            with requests.Session() as session:
                headers = {"Authorization": f"ApiKey {TOKEN}"}
                body = {"type": "DAWID_SKENE", "pool_id": "1", "fields": [{"name": "result"}]}
                operation = session.post(
                    f"{url}/api/v1/aggregated-solutions/aggregate-by-pool",
                    json=body,
                    headers=headers,
                ).json()
                while (
                    session.get(
                        f"{url}/api/v1/operations/{operation['id']}", headers=headers
                    ).json()["status"]
                    != "SUCCESS"
                ):
                    time.sleep(0.1)
                runs = [_read_all(session, url, operation["id"]) for _ in range(2)]
            seconds = min(t for t, _ in runs)
            rows_out.append((name, seconds, runs[0][1]))
        finally:
            process.terminate()
            process.wait(timeout=30)
            process.stdout.close()
    base = rows_out[0][1]
    print(f"\n2. Reading {rows:,} aggregated rows in pages of {PAGE:,} (bytes + json.loads)\n")
    print("| server | time (best of 2) | vs baseline | on the wire |")
    print("| --- | --- | --- | --- |")
    for name, seconds, wire in rows_out:
        print(f"| {name} | {seconds:.2f} s | {seconds / base:.2f}x | {wire / 1e6:.1f} MB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000, help="aggregated rows to read")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        _serve(args.rows, json.loads(args.serve))
        return
    gzip_levels()
    network(args.rows)


if __name__ == "__main__":
    main()
