"""Benchmark the bundled server's gzip and simulated network, against baselines of the same run.

1. gzip levels on one page of 100,000 aggregated solutions (the JSON the server
   sends): compression speed and ratio, as ratios to level 1 (the server's level).
2. Reading every page of an aggregated pool (raw bytes + ``json.loads``, no
   typed decoding) from a server in its own process: gzip off and on, over
   loopback and over a simulated 100 Mbit/s link with 50 ms latency; times as
   ratios to loopback with gzip off.

3. Slow clients: the latency of a normal request (median of 20) with 0 and with
   1,000 connections trickling an unfinished header block, and the throughput of
   8 keep-alive clients (requests per second over 3 s) with 0 and 1,000 of them;
   as ratios to no slow clients. Run the same with ``PYTHONPATH`` at another tree
   to compare two versions of the server.

4. Memory of answering one page of 100,000 aggregated solutions: the peak of
   Python allocations (``tracemalloc``) in an in-process server while raw
   sockets read the page and drop it, for each order and encoding, one page
   alone and 8 at once.

Run: ``python benchmarks/bench_server.py`` (about a minute; ``--rows`` to change the pool,
``--only slow`` or ``--only memory`` for one part).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import resource
import socket
import statistics
import subprocess
import sys
import threading
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


def _latency(url: str, repeat: int = 20) -> tuple[float, float]:
    """The first request's time and the median of ``repeat`` (new connections)."""
    headers = {"Authorization": f"ApiKey {TOKEN}", "Connection": "close"}
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = requests.get(f"{url}/api/v1/pools/1", headers=headers, timeout=60)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    return times[0], statistics.median(times)


def _throughput(url: str, clients: int = 8, seconds: float = 3.0) -> float:
    headers = {"Authorization": f"ApiKey {TOKEN}"}
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        with requests.Session() as session:
            while time.perf_counter() < stop:
                if session.get(f"{url}/api/v1/pools/1", headers=headers, timeout=60).ok:
                    counts[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - start)


def slow_clients(n_slow: int = 1000) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n_slow + 256 <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n_slow + 256, hard))
    settings = {"max_open_connections": 4096} if _has_open_limit() else {}
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", json.dumps(settings), "--rows", "1000"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    host, port = url.removeprefix("http://").split(":")
    results = []
    try:
        for count in (0, n_slow):
            slow = []
            try:
                for _ in range(count):
                    try:  # a server that stops accepting leaves the rest in a full backlog
                        sock = socket.create_connection((host, int(port)), timeout=1)
                        sock.sendall(b"GET /api/v1/pools HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                    except OSError:
                        break
                    slow.append(sock)
                time.sleep(0.5)
                results.append((len(slow), _latency(url), _throughput(url)))
            finally:
                for sock in slow:
                    with contextlib.suppress(OSError):
                        sock.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
    _, (_, base_latency), base_rate = results[0]
    print(f"\n3. A normal request while slow clients hold connections ({url})\n")
    print(
        "| slow clients | first request | latency (median of 20) | vs none "
        "| throughput (8 clients) | vs none |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for count, (first, latency), rate in results:
        print(
            f"| {count:,} | {first * 1000:.1f} ms | {latency * 1000:.1f} ms "
            f"| {latency / base_latency:.2f}x | {rate:,.0f} req/s | {rate / base_rate:.2f}x |"
        )


def page_memory(rows: int = PAGE) -> None:
    import tracemalloc

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
    server = LocalTolokaServer(token=TOKEN)
    server.add_pool("1", responses=responses, output_spec=SPEC)
    headers = {"Authorization": f"ApiKey {TOKEN}"}
    print(f"\n4. Memory of answering a page of {rows:,} rows (tracemalloc peak)\n")
    print("| order | encoding | pages at once | peak | per page | on the wire (one page) |")
    print("| --- | --- | --- | --- | --- | --- |")
    with server:
        body = {"type": "DAWID_SKENE", "pool_id": "1", "fields": [{"name": "result"}]}
        url = f"{server.url}/api/v1"
        operation = requests.post(
            f"{url}/aggregated-solutions/aggregate-by-pool", json=body, headers=headers
        ).json()["id"]
        while (
            requests.get(f"{url}/operations/{operation}", headers=headers).json()["status"]
            != "SUCCESS"
        ):
            time.sleep(0.1)
        host, port = server.url.removeprefix("http://").split(":")
        for sort in ("task_id", None):
            for encoding in ("gzip", "identity"):
                for at_once in (1, 8):
                    target = f"/api/v1/aggregated-solutions/{operation}?limit={rows}"
                    target += f"&sort={sort}" if sort else ""
                    request = (
                        f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey {TOKEN}\r\n"
                        f"Accept-Encoding: {encoding}\r\nConnection: close\r\n\r\n"
                    ).encode()
                    received = [0] * at_once

                    def read(i: int, request: bytes = request, received: list = received) -> None:
                        with socket.create_connection((host, int(port))) as sock:
                            sock.sendall(request)
                            while data := sock.recv(65536):
                                received[i] += len(data)

                    tracemalloc.start()
                    threads = [threading.Thread(target=read, args=(i,)) for i in range(at_once)]
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                    peak = tracemalloc.get_traced_memory()[1]
                    tracemalloc.stop()
                    print(
                        f"| {sort or 'none'} | {encoding} | {at_once} | {peak / 1e6:.1f} MB "
                        f"| {peak / 1e6 / at_once:.1f} MB | {received[0] / 1e6:.1f} MB |"
                    )


def _has_open_limit() -> bool:
    from pandas_toloka.server import Limits

    return hasattr(Limits, "max_open_connections")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000, help="aggregated rows to read")
    parser.add_argument(
        "--only", choices=["gzip", "network", "slow", "memory"], help="run one part"
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        _serve(args.rows, json.loads(args.serve))
        return
    if args.only in (None, "gzip"):
        gzip_levels()
    if args.only in (None, "network"):
        network(args.rows)
    if args.only in (None, "slow"):
        slow_clients()
    if args.only in (None, "memory"):
        page_memory()


if __name__ == "__main__":
    main()
