"""``pandas-toloka serve``: run the bundled Toloka-compatible server until interrupted."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from typing import Any

from ._common import EXIT_OK, CommandError, non_negative_seconds, port

__all__ = ["register", "run", "server_kwargs"]


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve",
        help="serve the Toloka aggregation API locally",
        description=(
            "Serve the Toloka aggregation API under /api/v1 from a data directory "
            "(see docs/server.md), or from demo data generated in memory. It serves until "
            "Ctrl-C or SIGTERM, either of which stops it with exit code 0."
        ),
    )
    parser.add_argument(
        "--data", metavar="DIR", help="data directory (default: demo data in memory)"
    )
    parser.add_argument(
        "--host", type=_host, default="127.0.0.1", help="address to bind (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=port, default=8000, help="port (default: 8000; 0 picks a free one)"
    )
    parser.add_argument(
        "--token", type=_token, help="token clients must send (default: a random one, printed)"
    )
    parser.add_argument(
        "--operation-delay",
        type=non_negative_seconds,
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
    ("--max-connections", "max_connections", int, "requests answered at once (threads)"),
    ("--max-open-connections", "max_open_connections", int, "connections open at once"),
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


def _host(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "empty; give an address: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
        )
    return text.strip()


def _token(text: str) -> str:
    if not text or any(c.isspace() for c in text) or not text.isprintable():
        raise argparse.ArgumentTypeError(
            "give a non-empty token without spaces (or omit --token for a random one)"
        )
    return text


def _bind_problem(exc: OSError, host: str, port: int) -> str:
    """What a failed bind means, naming the host and port and what to change."""
    if isinstance(exc, socket.gaierror):
        return f"--host {host}: not a known host or address ({exc.strerror or exc})."
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another server?); pick another with "
            "--port, or --port 0 for a free one."
        )
    if exc.errno == errno.EACCES:
        return (
            f"no permission to listen on port {port} of {host} (ports below 1024 need "
            "privileges); pick another with --port."
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host}: not an address of this machine; use 127.0.0.1 to serve locally."
    return f"cannot listen on {host} port {port}: {exc.strerror or exc}."


def run(args: argparse.Namespace) -> int:
    """Run ``pandas-toloka serve``; returns the exit code (0 when stopped by a signal)."""
    from ..errors import TolokaError
    from ..server import LocalTolokaServer, add_demo_pools

    kwargs = server_kwargs(args)
    try:
        if args.data:
            server = LocalTolokaServer.from_directory(args.data, **kwargs)
        else:
            server = LocalTolokaServer(**kwargs)
            add_demo_pools(server)
    except TolokaError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot read {args.data}: {exc.strerror or exc}") from None
    try:
        server.start()
    except OSError as exc:
        raise CommandError(_bind_problem(exc, args.host, args.port)) from None
    source = args.data or "demo data (in memory)"
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
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the CLI raises it for both)
        print("stopping", file=sys.stderr)
    finally:
        server.stop()
    return EXIT_OK
