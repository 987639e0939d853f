"""``pandas-toloka export``: a pool's labeled dataset (inputs, labels, confidence) to Parquet.

One row per task, in task id order: ``pool_id``, ``task_id``, the task's input
fields (the image URL, the text), ``confidence`` and the aggregated outputs, and
with ``--golden`` the control tasks' known answers (``golden.<field>``). The tasks
are read while the aggregation runs on the server; the two are joined on
``task_id``. A task without an aggregated answer keeps its row with empty outputs,
and the command says how many on stderr: nothing is dropped or kept silently.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._read.args import input_names
from .._read.dataset import read_labeled_table
from .._read.specs import pool_inputs
from ..client import Client
from ..errors import NotFoundError, OperationFailedError, OperationTimeoutError, TolokaError
from ..reader import AggregatedSolutions
from ..schema import ATTRS_KEY, parse_output_spec, to_pandas
from . import add_progress_flags
from ._common import (
    EXIT_OK,
    EXIT_TIMEOUT,
    CommandError,
    cli_message,
    command_line,
)
from ._pool_options import (
    add_aggregation_flags,
    add_server_flags,
    add_wait_flags,
    check_output,
    check_token,
    make_client,
    request_error,
    write_frame,
)

__all__ = ["interrupted", "register", "run"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand."""
    parser = subparsers.add_parser(
        "export",
        help="write a pool's labeled dataset (task inputs, aggregated labels, confidence) to Parquet",
        description=(
            "Aggregate a pool on the server and write one row per task: the task's input fields "
            "(e.g. the image URL), the aggregated outputs and their confidence, and with --golden "
            "the control tasks' known answers. Tasks without an aggregated answer keep their row "
            "with empty outputs; their count is printed on stderr."
        ),
    )
    parser.add_argument("pool_id", metavar="POOL_ID", help="the pool to export")
    add_aggregation_flags(parser)
    parser.add_argument(
        "--input",
        action="append",
        dest="inputs",
        metavar="NAME",
        help="input field to keep; repeat for several (default: every input field)",
    )
    parser.add_argument(
        "--golden",
        action="store_true",
        help="add the control tasks' known answers as golden.<field> columns",
    )
    parser.add_argument(
        "--operation-id", metavar="ID", help="read an aggregation of POOL_ID already started"
    )
    add_server_flags(parser)
    add_wait_flags(parser, read="results and tasks")
    add_progress_flags(parser)
    parser.set_defaults(func=run, interrupted=interrupted)
    return parser


def _resume_notes(args: argparse.Namespace, operation_id: str | None) -> list[str]:
    if operation_id is None:
        return []
    arguments = [args.pool_id, "--operation-id", operation_id]
    for name in args.inputs or ():
        arguments += ["--input", name]
    if args.golden:
        arguments.append("--golden")
    if args.url:
        from .._http.endpoint import without_userinfo

        arguments += ["--url", without_userinfo(args.url)[0]]
    if args.environment:
        arguments += ["--environment", args.environment]
    arguments += ["-o", str(args.output)]
    if args.parents:
        arguments.append("--parents")
    notes = [f"Resume with: {command_line('export', *arguments)}"]
    if args.token is not None:
        notes.append("(with your --token again, or TOLOKA_API_KEY set: the token is never printed)")
    return notes


def interrupted(args: argparse.Namespace, exc: BaseException) -> tuple[str, list[str]]:
    """After Ctrl-C or SIGTERM: the aggregation to resume, if one was known to have started."""
    operation_id = getattr(exc, "operation_id", None)
    if operation_id is None:
        return f"{args.output} was not written", []
    return (
        f"aggregation {operation_id} stays on the server; {args.output} was not written",
        _resume_notes(args, operation_id),
    )


def _label_field(args: argparse.Namespace, client: Client) -> list[str] | None:
    """Without ``--field``: the pool's only field with allowed values, when it has several.

    A pool with one output field needs no choice (None lets the server take it);
    with several, the one enumerated field is the label (the demo pools' ``result``
    next to ``sure``), said on stderr; otherwise the server's error lists them.
    """
    if args.operation_id is not None or args.type == "WEIGHTED_DYNAMIC_OVERLAP":
        return None
    fields = parse_output_spec(client.get_output_spec(args.pool_id))
    labels = [name for name, field in fields.items() if field.allowed_values]
    if len(fields) <= 1 or len(labels) != 1:
        return None
    print(
        f"pandas-toloka export: aggregating {labels[0]!r}, the pool's only output field with "
        f"allowed values (of {list(fields)}); choose another with --field.",
        file=sys.stderr,
    )
    return labels


def run(args: argparse.Namespace) -> int:
    """Run ``pandas-toloka export``; returns the exit code."""
    check_token(args)
    check_output(args.output, parents=args.parents)  # before anything uses the quota
    client = make_client(args)
    started: list[AggregatedSolutions] = []
    try:
        with client:
            if args.inputs:  # a repeated or unknown input is refused before the aggregation
                pool_inputs(client, args.pool_id, input_names(args.inputs))
            fields = args.fields or _label_field(args, client)
            labeled = read_labeled_table(
                args.pool_id,
                client=client,
                type=args.type,
                fields=fields,
                inputs=args.inputs,
                golden=args.golden,
                answer_weight_skill_id=args.skill,
                operation_id=args.operation_id,
                page_size=args.page_size,
                tasks_page_size=args.page_size,
                wait_timeout=args.wait_timeout,
                progress_bar=args.progress_bar,
                on_stream=started.append,
            )
    except OperationTimeoutError as exc:
        raise CommandError(
            cli_message(str(exc)),
            exit_code=EXIT_TIMEOUT,
            notes=_resume_notes(args, exc.operation_id),
        ) from None
    except OperationFailedError as exc:
        raise CommandError(f"{type(exc).__name__}: {cli_message(str(exc))}") from None
    except TolokaError as exc:
        operation_id = exc.operation_id or (started[0].operation_id if started else None)
        if operation_id is None or isinstance(exc, NotFoundError):
            raise request_error(exc) from None
        raise CommandError(
            f"{type(exc).__name__}: {cli_message(str(exc))}",
            notes=_resume_notes(args, operation_id),
        ) from None
    frame = to_pandas(labeled.table, dtype_backend="pyarrow")
    frame.attrs[ATTRS_KEY] = labeled.attrs
    write_frame(frame, args.output, parents=args.parents)
    for line in labeled.counts.describe():
        print(f"pandas-toloka export: {line}.", file=sys.stderr)
    print(
        f"Wrote {len(frame)} tasks ({labeled.counts.labeled} labeled) to {args.output} "
        f"(operation {labeled.operation_id})."
    )
    return EXIT_OK
