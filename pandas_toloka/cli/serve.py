"""``pandas-toloka serve``: run the bundled Toloka-compatible server until interrupted."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from typing import Any

from ._common import EXIT_OK, CommandError, non_negative_seconds, port

__all__ = ["register", "run"]


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
    parser.set_defaults(func=run)


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
