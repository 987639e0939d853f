"""What ``pandas-toloka aggregate`` tells the user to run next: resume, look up, start again.

Every line printed here is a command that works as printed: the resume
command repeats the options (never the token, nor a password in ``--url``);
after Ctrl-C during the start request, a Python one-liner lists the
aggregations the request may have started (the CLI has no subcommand that
lists operations); for an operation the server no longer has, the command that
starts a new one.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from .. import _config
from .._http.endpoint import without_userinfo
from ..errors import NotFoundError, StartInterruptedError
from ..reader import AggregatedSolutions
from ._common import CommandError, command_line

__all__ = [
    "DEFAULTS",
    "gone_error",
    "lookup_notes",
    "resume_command",
    "resume_notes",
    "same_options",
    "start_command",
]

#: Option defaults; the resume command repeats only the options that differ.
DEFAULTS = {
    "max_attempts": _config.MAX_ATTEMPTS,
    "page_size": _config.SOLUTIONS_PAGE_SIZE,
    "wait_timeout": _config.WAIT_TIMEOUT,
}


def resume_command(args: argparse.Namespace, operation_id: str) -> str:
    """The command line that reads ``operation_id`` into the same file with the same options.

    Never the token: it comes from the environment, or must be given again.
    """
    return command_line("aggregate", "--operation-id", operation_id, *same_options(args))


def same_options(args: argparse.Namespace) -> list[str]:
    """The options of ``args`` that a resume or restart repeats: server, limits, output."""
    arguments: list[str] = []
    if args.url:
        arguments += ["--url", without_userinfo(args.url)[0]]
    if args.environment:
        arguments += ["--environment", args.environment]
    for name, default in DEFAULTS.items():
        value = getattr(args, name)
        if value != default:
            flag = "--" + name.replace("_", "-")
            arguments += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    if args.progress_bar is not None:
        arguments.append("--progress" if args.progress_bar else "--no-progress")
    if getattr(args, "parents", False):
        arguments.append("--parents")
    arguments += ["-o", str(args.output)]
    return arguments


def resume_notes(args: argparse.Namespace, operation_id: str | None) -> list[str]:
    if operation_id is None:
        return []
    notes = [f"Resume with: {resume_command(args, operation_id)}"]
    if args.token is not None:
        notes.append("(with your --token again, or TOLOKA_API_KEY set: the token is never printed)")
    return notes


def lookup_notes(args: argparse.Namespace, exc: StartInterruptedError) -> list[str]:
    """How to find an aggregation whose start was interrupted before its id was known.

    The CLI has no subcommand that lists operations, so this prints a Python
    one-liner that does (with the same server, and the token from the
    environment), then the command that reads the operation it finds.
    """
    client_args = []
    if args.url:
        client_args.append(f"url={json.dumps(without_userinfo(args.url)[0])}")
    elif args.environment:
        client_args.append(f"environment={json.dumps(args.environment)}")
    code = (
        "import pandas_toloka as ptk; "
        f"ops = ptk.Client({', '.join(client_args)}).list_operations("
        f'type="SOLUTION.AGGREGATE", submitted_gte={json.dumps(exc.submitted_gte)}); '
        '[print(o["id"], o["status"], o.get("submitted")) for o in ops '
        f'if str((o.get("parameters") or {{}}).get("pool_id")) == {json.dumps(exc.pool_id)}]'
    )
    return [
        f"Find it among the aggregations of pool {exc.pool_id} submitted since "
        f"{exc.submitted_gte} (server time, UTC), with TOLOKA_API_KEY (or TOLOKA_TOKEN) set:",
        f"  {shlex.join([sys.executable, '-c', code])}",
        "If it lists one, read it instead of starting another: "
        f"{resume_command(args, 'OPERATION_ID')}",
    ]


def start_command(
    args: argparse.Namespace,
    pool_id: str,
    *,
    type: str | None,
    fields: list[str] | None,
    skill: str | None,
) -> str:
    """The command line that starts a new aggregation of ``pool_id`` into the same file."""
    arguments = [pool_id]
    if type is not None:
        arguments += ["--type", type]
    for name in fields or []:
        arguments += ["--field", name]
    if skill is not None:
        arguments += ["--skill", skill]
    return command_line("aggregate", *arguments, *same_options(args))


def gone_error(
    args: argparse.Namespace,
    exc: NotFoundError,
    operation_id: str,
    stream: AggregatedSolutions | None,
) -> CommandError:
    """The error for an operation the server no longer has: no resume command, a new start."""
    if stream is not None:  # what the operation aggregated, even when read by --operation-id
        request = stream.request
        command = start_command(
            args,
            request.pool_id,
            type=request.type.value,
            fields=[field.name for field in request.fields],
            skill=request.answer_weight_skill_id,
        )
    else:  # gone while waiting: the pool is known if it was given
        command = start_command(
            args, args.pool_id or "POOL_ID", type=args.type, fields=args.fields, skill=args.skill
        )
    return CommandError(
        f"aggregation {operation_id} is no longer on the server, so it cannot be resumed "
        f"({exc.status} {exc.code}: {exc.message}); {args.output} was not written",
        notes=[f"Start a new aggregation: {command}"],
    )
