"""``pandas-toloka aggregate``: aggregate a pool on the server, stream the results to Parquet.

Constant memory: each page is written as it arrives. The file is written
under a temporary name in the target directory and renamed only on success,
so a script never sees a half-written file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..client import AggregationType, Client
from ..errors import (
    InvalidArgumentError,
    MissingTokenError,
    OperationError,
    OperationInterruptedError,
    OperationTimeoutError,
    TolokaError,
)
from ..reader import AggregatedSolutions, open_aggregated_solutions
from ..schema import ATTRS_KEY, to_pandas
from . import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_TIMEOUT, EXIT_USAGE, add_progress_flags

__all__ = ["check_output", "register", "run", "write_parquet"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``aggregate`` subcommand."""
    parser = subparsers.add_parser(
        "aggregate",
        help="aggregate a pool on the server and write the results to Parquet",
        description=(
            "Start the aggregation of a pool (or resume one with --operation-id), wait for it and "
            "stream the typed results into a Parquet file. The token comes from TOLOKA_API_KEY or "
            "TOLOKA_TOKEN; TOLOKA_URL selects another server."
        ),
    )
    parser.add_argument(
        "pool_id", nargs="?", help="the pool to aggregate (optional with --operation-id)"
    )
    parser.add_argument(
        "--type",
        type=str.upper,
        choices=[t.value for t in AggregationType],
        default=None,
        help="algorithm (default DAWID_SKENE, or the operation's own with --operation-id)",
    )
    parser.add_argument(
        "--field",
        action="append",
        dest="fields",
        metavar="NAME",
        help="output field to aggregate; repeat for several (WEIGHTED_DYNAMIC_OVERLAP)",
    )
    parser.add_argument(
        "--skill", metavar="ID", help="answer_weight_skill_id (WEIGHTED_DYNAMIC_OVERLAP)"
    )
    parser.add_argument("--operation-id", metavar="ID", help="read an aggregation already started")
    parser.add_argument(
        "--url", help="base URL of a Toloka-compatible server (default: TOLOKA_URL)"
    )
    parser.add_argument("--environment", help="PRODUCTION or SANDBOX (default: PRODUCTION)")
    parser.add_argument("-o", "--output", required=True, type=Path, help="Parquet file to write")
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=5,
        metavar="N",
        help="attempts per HTTP request before giving up (default 5)",
    )
    parser.add_argument(
        "--page-size", type=int, default=100_000, help="results per request (max 100000)"
    )
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=6 * 3600.0,
        metavar="SECONDS",
        help="give up waiting after this long (default 6 h); resume later with --operation-id",
    )
    add_progress_flags(parser)
    parser.set_defaults(func=run)
    return parser


def _schema_with_metadata(stream: AggregatedSolutions) -> pa.Schema:
    """The stream's schema with pandas metadata and ``attrs`` as ``to_parquet`` writes them.

    The pandas metadata describes the ``numpy_nullable`` dtypes (categories, not
    Arrow dictionaries) so that a plain ``pd.read_parquet(path)`` can read the
    file; ``dtype_backend="pyarrow"`` still gives the Arrow dtypes.
    """
    empty = to_pandas(stream.schema.empty_table(), dtype_backend="numpy_nullable")
    empty.attrs[ATTRS_KEY] = dict(stream.attrs)
    metadata = dict(pa.Table.from_pandas(empty, preserve_index=False).schema.metadata or {})
    metadata[b"PANDAS_ATTRS"] = json.dumps(empty.attrs).encode()
    return stream.schema.with_metadata(metadata)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_output(output: Path) -> str | None:
    """Why ``output`` cannot be written (checked before an aggregation is started), or None."""
    output = Path(output)
    try:
        if output.is_dir():
            return f"-o {output}: is a directory; give the path of the Parquet file to write."
    except OSError as exc:  # e.g. a name too long for the file system
        return f"-o {output}: {exc.strerror or exc}."
    directory = output.parent if str(output.parent) else Path(".")
    for parent in (directory, *directory.parents):
        if parent.exists():
            if not parent.is_dir():
                return f"-o {output}: {parent} is not a directory."
            if not os.access(parent, os.W_OK | os.X_OK):
                return f"-o {output}: cannot write in {parent} (permission denied)."
            return None
    return None  # pragma: no cover - the root always exists


def write_parquet(stream: AggregatedSolutions, output: Path) -> int:
    """Write every batch of ``stream`` to ``output`` atomically; return the row count."""
    output = Path(output)
    directory = output.parent if str(output.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=directory)
    os.close(handle)
    tmp = Path(tmp_name)
    rows = 0
    try:
        with pq.ParquetWriter(tmp, _schema_with_metadata(stream)) as writer:
            for page in stream.iter_pages():
                writer.write_table(page)
                rows += page.num_rows
        # mkstemp creates the file readable by its owner only; give it the mode any new file gets.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows


def run(args: argparse.Namespace) -> int:
    """Run ``pandas-toloka aggregate``; returns the exit code."""
    problem = check_output(args.output)
    if problem is not None:  # before anything uses up the aggregation quota
        print(f"pandas-toloka aggregate: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        client = Client(environment=args.environment, url=args.url, max_attempts=args.max_attempts)
    except InvalidArgumentError as exc:
        print(f"pandas-toloka aggregate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MissingTokenError as exc:
        print(f"pandas-toloka aggregate: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        with (
            client,
            open_aggregated_solutions(
                args.pool_id,
                type=args.type,
                fields=args.fields,
                answer_weight_skill_id=args.skill,
                operation_id=args.operation_id,
                client=client,
                progress_bar=args.progress_bar,
                page_size=args.page_size,
                wait_timeout=args.wait_timeout,
            ) as stream,
        ):
            rows = write_parquet(stream, args.output)
            operation_id = stream.operation_id
    except OperationTimeoutError as exc:
        print(f"pandas-toloka aggregate: {exc}", file=sys.stderr)
        print(f"Resume with: --operation-id {exc.operation_id}", file=sys.stderr)
        return EXIT_TIMEOUT
    except OperationInterruptedError as exc:
        print(f"pandas-toloka aggregate: {exc}", file=sys.stderr)
        print(f"Resume with: --operation-id {exc.operation_id}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except InvalidArgumentError as exc:
        print(f"pandas-toloka aggregate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TolokaError as exc:
        print(f"pandas-toloka aggregate: {type(exc).__name__}: {exc}", file=sys.stderr)
        resumable = getattr(exc, "operation_id", None)
        if resumable is not None and not isinstance(exc, OperationError):  # e.g. the network broke
            print(f"Resume with: --operation-id {resumable}", file=sys.stderr)
        return EXIT_ERROR
    except (OSError, pa.ArrowException) as exc:  # the output could not be written
        print(f"pandas-toloka aggregate: cannot write {args.output}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"Wrote {rows} aggregated rows to {args.output} (operation {operation_id}).")
    return EXIT_OK
