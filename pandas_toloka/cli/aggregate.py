"""``pandas-toloka aggregate``: aggregate a pool on the server, stream the results to Parquet.

Constant memory: each page is written as it arrives. The file is written
under a temporary name in the target directory and renamed only on success
(:func:`~pandas_toloka.cli._files.atomic_output`), so a script never sees a
half-written file. Once an aggregation has started, every way this command can
end early -- an error, a timeout, Ctrl-C, SIGTERM -- prints the command line
that resumes it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import (
    InvalidArgumentError,
    NotFoundError,
    OperationFailedError,
    OperationInterruptedError,
    OperationTimeoutError,
    StartInterruptedError,
    TolokaError,
)
from ..reader import AggregatedSolutions, open_aggregated_solutions
from ..schema import ATTRS_KEY, to_pandas
from . import add_progress_flags
from ._aggregate_hints import (
    gone_error,
    lookup_notes,
    resume_command,
    resume_notes,
)
from ._common import (
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    CommandError,
    cli_message,
    note_interruption,
    note_operation,
)
from ._files import atomic_output
from ._pool_options import (
    add_aggregation_flags,
    add_server_flags,
    add_wait_flags,
    check_output,
    check_token,
    make_client,
)

__all__ = ["register", "resume_command", "run", "write_parquet"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``aggregate`` subcommand."""
    parser = subparsers.add_parser(
        "aggregate",
        help="aggregate a pool on the server and write the results to Parquet",
        description=(
            "Start the aggregation of a pool (or resume one with --operation-id), wait for it and "
            "stream the typed results into a Parquet file. The token comes from TOLOKA_API_KEY "
            "(or TOLOKA_TOKEN, or --token); TOLOKA_URL selects another server. If it stops after "
            "the aggregation started (an error, a timeout, Ctrl-C, SIGTERM), it prints the "
            "command that resumes it."
        ),
    )
    parser.add_argument(
        "pool_id",
        nargs="?",
        metavar="POOL_ID",
        help="the pool to aggregate (optional with --operation-id)",
    )
    add_aggregation_flags(parser)
    parser.add_argument("--operation-id", metavar="ID", help="read an aggregation already started")
    add_server_flags(parser)
    add_wait_flags(parser, read="results")
    add_progress_flags(parser)
    parser.set_defaults(func=run, interrupted=interrupted)
    return parser


def _schema_with_metadata(stream: AggregatedSolutions) -> pa.Schema:
    """The Arrow schema ``to_parquet`` writes for the frame the Python reader returns.

    The stream's schema as pandas converts its frame (``dtype_backend="pyarrow"``,
    the reader's default) to Arrow, with pandas' metadata and ``attrs``: text as
    ``large_string``, enumerated fields as dictionaries with pandas' index width.
    A plain ``pd.read_parquet(path)`` of the CLI's file then gives the dtypes of
    ``read_aggregated_solutions``, as ``df.to_parquet(path)`` of that frame does.
    """
    empty = to_pandas(stream.empty_table(), dtype_backend="pyarrow")
    empty.attrs[ATTRS_KEY] = dict(stream.attrs)
    schema = pa.Table.from_pandas(empty, preserve_index=False).schema
    metadata = dict(schema.metadata or {})
    metadata[b"PANDAS_ATTRS"] = json.dumps(empty.attrs).encode()
    return schema.with_metadata(metadata)


def write_parquet(stream: AggregatedSolutions, output: Path, *, parents: bool = False) -> int:
    """Write every batch of ``stream`` to ``output`` atomically; return the row count."""
    rows = 0
    schema = _schema_with_metadata(stream)
    with (
        atomic_output(Path(output), parents=parents) as tmp,
        pq.ParquetWriter(tmp, schema) as writer,
    ):
        for page in stream.iter_pages():
            writer.write_table(page.cast(schema))
            rows += page.num_rows
    return rows


def interrupted(args: argparse.Namespace, exc: BaseException) -> tuple[str, list[str]]:
    """What to say after Ctrl-C or SIGTERM: the aggregation to resume, if one started."""
    if isinstance(exc, StartInterruptedError):
        return (
            f"the aggregation of pool {exc.pool_id} may have started on the server, but its "
            f"id is not known; {args.output} was not written",
            lookup_notes(args, exc),
        )
    operation_id = getattr(exc, "operation_id", None)
    if operation_id is None:
        return "no aggregation was known to have started; nothing to resume", []
    return (
        f"aggregation {operation_id} stays on the server; {args.output} was not written",
        resume_notes(args, operation_id),
    )


def _check_usage(args: argparse.Namespace) -> None:
    """What argparse cannot check alone; nothing has been sent yet."""
    if args.pool_id is None and args.operation_id is None:
        raise CommandError(
            "give the POOL_ID to aggregate, or --operation-id to read an aggregation already "
            "started.",
            exit_code=EXIT_USAGE,
        )
    check_token(args)
    if (
        args.skill is not None
        and args.operation_id is None
        and (args.type or "DAWID_SKENE") != "WEIGHTED_DYNAMIC_OVERLAP"
    ):
        raise CommandError(
            f"--skill weighs answers in WEIGHTED_DYNAMIC_OVERLAP only, not {args.type or 'DAWID_SKENE'}: "
            "add --type WEIGHTED_DYNAMIC_OVERLAP, or drop --skill.",
            exit_code=EXIT_USAGE,
        )
    check_output(args.output, parents=args.parents)  # before anything uses the quota


def run(args: argparse.Namespace) -> int:
    """Run ``pandas-toloka aggregate``; returns the exit code."""
    _check_usage(args)
    client = make_client(args)
    stream: AggregatedSolutions | None = None
    try:
        with client:
            try:
                stream = open_aggregated_solutions(
                    args.pool_id,
                    type=args.type,
                    fields=args.fields,
                    answer_weight_skill_id=args.skill,
                    operation_id=args.operation_id,
                    client=client,
                    progress_bar=args.progress_bar,
                    page_size=args.page_size,
                    wait_timeout=args.wait_timeout,
                )
                note_operation(stream.operation_id)  # a second signal may come at any moment
                with stream:
                    rows = write_parquet(stream, args.output, parents=args.parents)
            except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM, perhaps between two pages
                # Noted before the client is closed: the hint stays right if closing hangs.
                if stream is None or getattr(exc, "operation_id", None) is not None:
                    note_interruption(exc)
                    raise
                named = OperationInterruptedError(
                    f"Interrupted while writing aggregation {stream.operation_id}.",
                    operation_id=stream.operation_id,
                )
                note_interruption(named)
                raise named from exc
    except OperationTimeoutError as exc:
        raise CommandError(
            cli_message(str(exc)),
            exit_code=EXIT_TIMEOUT,
            notes=resume_notes(args, exc.operation_id),
        ) from None
    except OperationFailedError as exc:  # resuming reads the same failure: no hint
        raise CommandError(f"{type(exc).__name__}: {cli_message(str(exc))}") from None
    except TolokaError as exc:
        operation_id = exc.operation_id or (stream.operation_id if stream is not None else None)
        if isinstance(exc, NotFoundError) and operation_id is not None:
            # Only the operation's own requests are made once it is known (polls, pages):
            # a 404 then means it is gone (evicted), and resuming would 404 again.
            raise gone_error(args, exc, operation_id, stream) from None
        if isinstance(exc, InvalidArgumentError) and operation_id is None:
            raise CommandError(cli_message(str(exc)), exit_code=EXIT_USAGE) from None
        raise CommandError(
            f"{type(exc).__name__}: {cli_message(str(exc))}",
            notes=resume_notes(args, operation_id),
        ) from None
    except (OSError, pa.ArrowException) as exc:  # the output could not be written
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CommandError(
            f"cannot write {args.output}: {reason}",
            notes=resume_notes(args, stream.operation_id if stream is not None else None),
        ) from None
    print(f"Wrote {rows} aggregated rows to {args.output} (operation {stream.operation_id}).")
    return EXIT_OK
