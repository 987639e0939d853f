"""``pandas-toloka aggregate-local``: aggregate a file of responses on this machine.

The file is a Toloka results export (the TSV the web interface downloads, found by
its ``ASSIGNMENT:``/``OUTPUT:`` header and read with
:func:`~pandas_toloka.read_assignments_tsv`), or a CSV, TSV or Parquet file of
responses with one row per answer (``task_id``/``worker_id`` and the output
columns, or crowd-kit's ``task``/``worker``/``label`` named with ``--task``,
``--worker`` and ``--label``). The result is ``df.toloka.aggregate_locally``'s frame;
responses it leaves out (another status, an empty label) are counted on stderr.
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from .._protocol import ASSIGNMENT_STATUSES
from ..aggregation._registry import method_names
from ..errors import TolokaError, TolokaWarning
from ..results_export import read_assignments_tsv
from ._common import EXIT_OK, EXIT_USAGE, CommandError, cli_message
from ._files import PARQUET_SUFFIXES
from ._pool_options import add_output_flags, check_output, write_frame
from .responses import ALL

__all__ = ["interrupted", "read_responses_file", "register", "run"]

#: The results export's column groups; a header with one of them is an export.
_EXPORT_MARKERS = ("ASSIGNMENT:", "OUTPUT:")

_ARGUMENT_FLAGS = tuple(
    (re.compile(rf"\b{name}=(?=['\"\w])"), f"--{name} ")
    for name in ("task", "worker", "label", "status")
) + tuple(
    (re.compile(rf"\b{name}="), f"--{name}") for name in ("task", "worker", "label", "status")
)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``aggregate-local`` subcommand."""
    parser = subparsers.add_parser(
        "aggregate-local",
        help="aggregate a CSV, TSV or Parquet file of responses on this machine",
        description=(
            "Aggregate responses from a file, without a server: a Toloka results export TSV "
            "(found by its ASSIGNMENT:/OUTPUT: header), or a CSV/TSV/Parquet file with one row "
            "per answer. Writes one row per task (the label and its confidence) to Parquet; "
            "responses left out (another status, an empty label) are counted on stderr."
        ),
    )
    parser.add_argument(
        "file", type=Path, metavar="FILE", help="the responses (.csv, .tsv, .parquet)"
    )
    parser.add_argument(
        "--type",
        type=str.upper,
        choices=method_names(kind="categorical"),
        default="DAWID_SKENE",
        help="algorithm (default DAWID_SKENE)",
    )
    parser.add_argument(
        "--field",
        action="append",
        dest="fields",
        metavar="NAME",
        help="output column to aggregate (default: the only one of an export; result)",
    )
    parser.add_argument(
        "--label", metavar="COLUMN", help="the label column, as crowd-kit names it (--field alike)"
    )
    parser.add_argument(
        "--task", default="task_id", metavar="COLUMN", help="task id column (default task_id)"
    )
    parser.add_argument(
        "--worker",
        default="worker_id",
        metavar="COLUMN",
        help="worker id column (default worker_id)",
    )
    parser.add_argument(
        "--status",
        action="append",
        type=str.upper,
        choices=[*ASSIGNMENT_STATUSES, "APPROVED", ALL],
        metavar="STATUS",
        help="with a status column: the statuses to keep (default ACCEPTED; ALL for every one)",
    )
    add_output_flags(parser)
    parser.set_defaults(func=run, interrupted=interrupted)
    return parser


def interrupted(args: argparse.Namespace, exc: BaseException) -> tuple[str, list[str]]:
    """After Ctrl-C or SIGTERM: nothing was written."""
    return f"{args.output} was not written; run the command again", []


def _first_line(path: Path) -> str:
    with open(path, "rb") as file:
        head = file.readline(1 << 20)
    return head.decode("utf-8-sig", errors="replace")


def read_responses_file(path: Path) -> pd.DataFrame:
    """A file of responses as a DataFrame: a results export, CSV, TSV or Parquet.

    Raises
    ------
    CommandError
        If the file is missing or of no known kind (exit 2), or unreadable (exit 1).
    """
    if not path.is_file():
        raise CommandError(f"{path}: no such file", exit_code=EXIT_USAGE)
    suffix = path.suffix.lower()
    try:
        if suffix in PARQUET_SUFFIXES:
            return pd.read_parquet(path, dtype_backend="pyarrow")
        header = _first_line(path)
        if any(marker in header for marker in _EXPORT_MARKERS):
            return read_assignments_tsv(path)
        if suffix in (".csv", ".tsv", ".txt"):
            separator = "\t" if suffix == ".tsv" or "\t" in header else ","
            return pd.read_csv(path, sep=separator, dtype_backend="pyarrow")
    except TolokaError as exc:
        raise CommandError(f"{path}: {type(exc).__name__}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise CommandError(f"{path}: cannot read it: {exc}") from None
    raise CommandError(
        f"{path}: give a .csv, .tsv (a Toloka results export too) or .parquet file of responses.",
        exit_code=EXIT_USAGE,
    )


def _flags(text: str) -> str:
    for pattern, replacement in _ARGUMENT_FLAGS:
        text = pattern.sub(replacement, text)
    return cli_message(text)


def run(args: argparse.Namespace) -> int:
    """Run ``pandas-toloka aggregate-local``; returns the exit code."""
    if args.label is not None and args.fields:
        raise CommandError(
            "give the label column with --label or --field, not both.", exit_code=EXIT_USAGE
        )
    check_output(args.output, parents=args.parents)
    frame = read_responses_file(args.file)
    fields = [args.label] if args.label is not None else args.fields
    chosen = args.status or ["ACCEPTED"]
    status = None if ALL in chosen else chosen
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TolokaWarning)
        try:
            result = frame.toloka.aggregate_locally(
                args.type, fields=fields, task=args.task, worker=args.worker, status=status
            )
        except TolokaError as exc:
            raise CommandError(
                f"{type(exc).__name__}: {_flags(str(exc))}", exit_code=EXIT_USAGE
            ) from None
    for warning in caught:
        if issubclass(warning.category, TolokaWarning):
            print(f"pandas-toloka aggregate-local: {_flags(str(warning.message))}", file=sys.stderr)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    write_frame(result, args.output, parents=args.parents)
    print(f"Wrote {len(result)} aggregated tasks to {args.output}.")
    return EXIT_OK
