"""The ``pandas-toloka`` console script.

argparse keeps the dependency list at four packages; each subcommand lives in
its own module exposing ``register(subparsers)`` (adds its parser and sets
``func``) so that importing the CLI stays cheap and subcommands stay apart.

Exit codes a shell script can rely on:

* 0 — success
* 1 — a Toloka error (API error, failed operation, bad data)
* 2 — bad command-line usage (argparse's convention)
* 3 — the wait for an operation timed out (resume with ``--operation-id``)
* 130 — interrupted (Ctrl-C)
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .._version import __version__

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_INTERRUPTED = 130

_SUBCOMMAND_MODULES = ("serve", "demo_data", "demo", "aggregate")


def add_progress_flags(parser: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress``; neither: bars only in a terminal (``progress_bar=None``)."""
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        dest="progress_bar",
        action="store_true",
        default=None,
        help="always show progress bars",
    )
    progress.add_argument(
        "--no-progress", dest="progress_bar", action="store_false", help="never show progress bars"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pandas-toloka",
        description="Toloka result aggregation into pandas and Parquet, and a local Toloka-compatible server.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-v: INFO, -vv: DEBUG)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a subcommand not written yet
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
