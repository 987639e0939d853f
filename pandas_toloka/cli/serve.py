"""``pandas-toloka serve``: run the bundled Toloka-compatible server until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from . import EXIT_ERROR, EXIT_OK


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the Toloka aggregation API locally",
        description=(
            "Serve the Toloka aggregation API under /api/v1 from a data directory "
            "(see docs/server.md), or from demo data generated in memory."
        ),
    )
    parser.add_argument(
        "--data", metavar="DIR", help="data directory (default: demo data in memory)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)"
    )
    parser.add_argument("--token", help="token clients must send (default: a random one, printed)")
    parser.add_argument(
        "--operation-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="seconds an aggregation spends PENDING and again RUNNING (to watch progress)",
    )
    parser.set_defaults(func=run)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM stops the server as Ctrl-C does (``kill PID`` from a script or a container)."""
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    from ..errors import TolokaError
    from ..server import LocalTolokaServer, add_demo_pools

    kwargs = {
        "token": args.token,
        "host": args.host,
        "port": args.port,
        "operation_delay": args.operation_delay,
    }
    try:
        if args.data:
            server = LocalTolokaServer.from_directory(args.data, **kwargs)
        else:
            server = LocalTolokaServer(**kwargs)
            add_demo_pools(server)
        server.start()
    except (TolokaError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    source = args.data or "demo data (in memory)"
    print(f"Serving the Toloka API on {server.url} (API root {server.url}/api/v1)", flush=True)
    print(f"token: {server.token}", flush=True)
    print(f"pools: {', '.join(server.pool_ids) or '(none)'} from {source}", flush=True)
    print(
        f"try: curl -H 'Authorization: ApiKey {server.token}' {server.url}/api/v1/pools", flush=True
    )
    print("Press Ctrl-C to stop.", flush=True)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return EXIT_OK
