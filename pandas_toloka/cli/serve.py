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
    _add_limit_flags(parser)
    parser.set_defaults(func=run)


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


#: (flag, LocalTolokaServer keyword, type, help): the limits and the simulated network.
_LIMIT_FLAGS = [
    ("--max-body-bytes", "max_body_bytes", int, "largest request body (413 beyond)"),
    ("--max-request-line", "max_request_line", int, "longest request line (414 beyond)"),
    ("--max-header-bytes", "max_header_bytes", int, "largest header block (431 beyond)"),
    ("--max-headers", "max_headers", int, "most header fields (431 beyond)"),
    ("--max-connections", "max_connections", int, "connections served at once"),
    ("--header-timeout", "header_timeout", float, "seconds to send request line and headers"),
    ("--body-timeout", "body_timeout", float, "seconds to send a request body"),
    ("--idle-timeout", "idle_timeout", float, "seconds an idle keep-alive connection stays"),
    ("--max-finished-operations", "max_finished_operations", int, "finished operations kept"),
    ("--operation-ttl", "operation_ttl", float, "seconds a finished operation is kept"),
    ("--max-active-operations", "max_active_operations", int, "operations PENDING/RUNNING"),
    ("--request-log-size", "request_log_size", int, "entries kept in the request log"),
]


def _add_limit_flags(parser: argparse.ArgumentParser) -> None:
    from ..server import Limits

    limits = parser.add_argument_group("limits (see docs/server.md, Limits)")
    for flag, name, kind, text in _LIMIT_FLAGS:
        limits.add_argument(
            flag,
            dest=name,
            type=_positive(kind),
            default=getattr(Limits, name),
            metavar="N" if kind is int else "SECONDS",
            help=f"{text} (default: %(default)s)",
        )
    network = parser.add_argument_group("network")
    network.add_argument(
        "--no-gzip", dest="gzip", action="store_false", help="never gzip answers (default: gzip)"
    )
    network.add_argument(
        "--latency",
        type=_non_negative,
        default=0.0,
        metavar="SECONDS",
        help="simulated latency added to every answer (default: 0)",
    )
    network.add_argument(
        "--bandwidth",
        type=_positive(float),
        default=None,
        metavar="BYTES_PER_S",
        help="simulated link shared by all connections, e.g. 12.5e6 for 100 Mbit/s",
    )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM stops the server as Ctrl-C does (``kill PID`` from a script or a container)."""
    raise KeyboardInterrupt


def server_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`~pandas_toloka.server.LocalTolokaServer` keywords the flags give."""
    return {
        "token": args.token,
        "host": args.host,
        "port": args.port,
        "operation_delay": args.operation_delay,
        "gzip": args.gzip,
        "latency": args.latency,
        "bandwidth": args.bandwidth,
        **{name: getattr(args, name) for _, name, _, _ in _LIMIT_FLAGS},
    }


def run(args: argparse.Namespace) -> int:
    from ..errors import TolokaError
    from ..server import LocalTolokaServer, add_demo_pools

    kwargs = server_kwargs(args)
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
    previous = None
    if threading.current_thread() is threading.main_thread():
        # Before the URL is printed: a client may send SIGTERM as soon as it has read it.
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(f"Serving the Toloka API on {server.url} (API root {server.url}/api/v1)", flush=True)
        print(f"token: {server.token}", flush=True)
        print(f"pools: {', '.join(server.pool_ids) or '(none)'} from {source}", flush=True)
        print(
            f"try: curl -H 'Authorization: ApiKey {server.token}' {server.url}/api/v1/pools",
            flush=True,
        )
        print("Press Ctrl-C to stop.", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return EXIT_OK
