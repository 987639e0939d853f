"""``pandas-toloka responses``: a pool's raw responses (one row per answer) to Parquet."""

from __future__ import annotations

import argparse
from typing import Any

from .._config import RESPONSES_PAGE_SIZE
from .._protocol import ASSIGNMENT_STATUSES, MAX_PAGE_SIZE
from ..errors import TolokaError
from ..responses import read_responses
from . import add_progress_flags
from ._common import EXIT_OK, count
from ._pool_options import (
    add_server_flags,
    check_output,
    check_token,
    make_client,
    request_error,
    write_frame,
)

__all__ = ["interrupted", "register", "run"]

#: ``--status ALL``: every status (``status=None`` in Python).
ALL = "ALL"


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``responses`` subcommand."""
    parser = subparsers.add_parser(
        "responses",
        help="write a pool's raw responses (one row per answer) to Parquet",
        description=(
            "Read the answers of a pool's assignments, typed from the project's output spec, "
            "with each task's input values, into a Parquet file: the frame read_responses "
            "returns. By default only accepted work."
        ),
    )
    parser.add_argument("pool_id", metavar="POOL_ID", help="the pool to read")
    parser.add_argument(
        "--status",
        action="append",
        type=str.upper,
        choices=[*ASSIGNMENT_STATUSES, "APPROVED", ALL],
        metavar="STATUS",
        help=(
            "assignment status to keep; repeat for several, ALL for every one "
            f"(default ACCEPTED; one of {', '.join(ASSIGNMENT_STATUSES)}, APPROVED, {ALL})"
        ),
    )
    add_server_flags(parser)
    parser.add_argument(
        "--page-size",
        type=count(1, MAX_PAGE_SIZE),
        default=RESPONSES_PAGE_SIZE,
        metavar="N",
        help=f"assignments per request (1 to {MAX_PAGE_SIZE}; default {RESPONSES_PAGE_SIZE})",
    )
    add_progress_flags(parser)
    parser.set_defaults(func=run, interrupted=interrupted)
    return parser


def statuses(args: argparse.Namespace) -> list[str] | None:
    """``--status`` as ``status=``: None for ALL, ACCEPTED when not given."""
    chosen = args.status or ["ACCEPTED"]
    return None if ALL in chosen else chosen


def interrupted(args: argparse.Namespace, exc: BaseException) -> tuple[str, list[str]]:
    """After Ctrl-C or SIGTERM: nothing was written; the same command reads it again."""
    return f"{args.output} was not written; run the command again", []


def run(args: argparse.Namespace) -> int:
    """Run ``pandas-toloka responses``; returns the exit code."""
    check_token(args)
    check_output(args.output, parents=args.parents)
    client = make_client(args)
    try:
        with client:
            frame = read_responses(
                args.pool_id,
                status=statuses(args),
                client=client,
                page_size=args.page_size,
                progress_bar=args.progress_bar,
            )
    except TolokaError as exc:
        raise request_error(exc) from None
    write_frame(frame, args.output, parents=args.parents)
    print(f"Wrote {len(frame)} responses to {args.output}.")
    return EXIT_OK
