"""The ``pandas-toloka`` console script.

argparse keeps the dependency list at four packages; each subcommand lives in
its own module exposing ``register(subparsers)`` (adds its parser and sets
``func``, and optionally ``interrupted``: what to print after Ctrl-C or SIGTERM)
so that importing the CLI stays cheap and subcommands stay apart.
:func:`build_parser` has no side effects (the docs generate the CLI page from it).

Exit codes a shell script can rely on (also in ``pandas-toloka --help``):

* 0 — success (and ``serve`` stopped by Ctrl-C or SIGTERM, its normal end)
* 1 — an error: API error, failed operation, no token, an unwritable file, a busy port
* 2 — bad command-line usage (argparse's convention), found before anything was started
* 3 — the wait for an operation timed out (resume with ``--operation-id``)
* 130 — interrupted (Ctrl-C); 143 — terminated (SIGTERM)
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from functools import partial

from .._version import __version__
from ..errors import TolokaError
from ._common import (
    EXIT_CODES_HELP,
    EXIT_ERROR,
    EXIT_HANGUP,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    CommandError,
    cli_message,
    report,
    signals_as_interrupts,
)

__all__ = [
    "EXIT_ERROR",
    "EXIT_HANGUP",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "add_progress_flags",
    "build_parser",
    "main",
]

_SUBCOMMAND_MODULES = (
    "serve",
    "demo_data",
    "demo",
    "aggregate",
    "export",
    "responses",
    "aggregate_local",
)


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
    """The ``pandas-toloka`` parser with every subcommand (no side effects)."""
    parser = argparse.ArgumentParser(
        prog="pandas-toloka",
        description="Toloka result aggregation into pandas and Parquet, and a local Toloka-compatible server.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-v: INFO, -vv: DEBUG)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _SUBCOMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the console script with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    explain = getattr(args, "interrupted", None)
    with signals_as_interrupts(
        args.command, partial(explain, args) if explain else None
    ) as signals:
        try:
            return int(args.func(args))
        except CommandError as exc:
            report(args.command, str(exc), notes=exc.notes)
            return exc.exit_code
        except TolokaError as exc:  # one a subcommand did not expect: still no traceback
            report(args.command, f"{type(exc).__name__}: {cli_message(str(exc))}")
            return EXIT_ERROR
        except KeyboardInterrupt as exc:
            for line in signals.report_lines(exc):
                print(line, file=sys.stderr)
            return signals.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
