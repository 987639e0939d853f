"""What ``export`` and ``responses`` share: the server's flags, the client, the Parquet file.

The same flags and messages as ``aggregate`` (``--token``, ``--url``,
``--environment``, ``--max-attempts``, ``-o``); the output is checked before any
request and written atomically (:func:`~pandas_toloka.cli._files.atomic_output`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pyarrow as pa

from .. import _config
from .._protocol import MAX_PAGE_SIZE
from .._read.connect import open_client
from ..aggregation._registry import method_names
from ..client import Client
from ..errors import InvalidArgumentError, MissingTokenError, TolokaError
from ._aggregate_hints import DEFAULTS
from ._common import EXIT_USAGE, CommandError, cli_message, count, positive_seconds
from ._files import atomic_output, not_writable, wrong_suffix

__all__ = [
    "add_aggregation_flags",
    "add_output_flags",
    "add_server_flags",
    "add_wait_flags",
    "check_output",
    "check_token",
    "make_client",
    "request_error",
    "write_frame",
]


def add_aggregation_flags(parser: argparse.ArgumentParser) -> None:
    """``--type``, ``--field`` and ``--skill``: what the server aggregates."""
    parser.add_argument(
        "--type",
        type=str.upper,
        choices=method_names(server=True),  # the registry's server methods
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
        "--skill",
        metavar="ID",
        help="the skill that weighs each answer (WEIGHTED_DYNAMIC_OVERLAP only)",
    )


def add_wait_flags(parser: argparse.ArgumentParser, *, read: str) -> None:
    """``--page-size`` (of ``read``, e.g. "results") and ``--wait-timeout``."""
    parser.add_argument(
        "--page-size",
        type=count(1, MAX_PAGE_SIZE),
        default=DEFAULTS["page_size"],
        metavar="N",
        help=f"{read} per request (1 to {MAX_PAGE_SIZE}, the default)",
    )
    parser.add_argument(
        "--wait-timeout",
        type=positive_seconds,
        default=DEFAULTS["wait_timeout"],
        metavar="SECONDS",
        help="give up waiting after this long (default 6 h; exit code 3); resume later",
    )


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    """``-o`` and ``--parents``."""
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        metavar="FILE",
        help="Parquet file to write (.parquet; replaced only when complete, never a non-regular file)",
    )
    parser.add_argument(
        "--parents",
        action="store_true",
        help=(
            "create the missing folders of -o (never through a symbolic link); without it a "
            "missing folder is an error, before anything is sent"
        ),
    )


def add_server_flags(parser: argparse.ArgumentParser) -> None:
    """``--token``, ``--url``, ``--environment``, ``-o``, ``--parents`` and ``--max-attempts``."""
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help=(
            "Toloka API key; prefer the TOLOKA_API_KEY environment variable: a flag stays in "
            "your shell history and shows in the process list (never printed or logged)"
        ),
    )
    parser.add_argument(
        "--url", help="base URL of a Toloka-compatible server (default: TOLOKA_URL)"
    )
    parser.add_argument("--environment", help="PRODUCTION or SANDBOX (default: PRODUCTION)")
    add_output_flags(parser)
    parser.add_argument(
        "--max-attempts",
        type=count(1),
        default=_config.MAX_ATTEMPTS,
        metavar="N",
        help="attempts per HTTP request before giving up (default 5)",
    )


def check_output(output: Path, *, parents: bool = False) -> None:
    """Refuse ``-o`` (exit 2) if it cannot be written, before any request.

    The suffix, the target (a regular file or absent, through symbolic links),
    its folder (existing, or created with ``parents``; writable), and the
    length of its name and of the temporary name written first.
    """
    problem = wrong_suffix(output) or not_writable(output, parents=parents)
    if problem is not None:
        raise CommandError(f"-o {problem}", exit_code=EXIT_USAGE)


def check_token(args: argparse.Namespace) -> None:
    if args.token is not None and not args.token.strip():
        raise CommandError(
            "--token is empty (an unset variable?); set TOLOKA_API_KEY or give the token.",
            exit_code=EXIT_USAGE,
        )


def make_client(args: argparse.Namespace) -> Client:
    """The client of the flags and the environment; a usage error for bad ones."""
    try:
        client, _ = open_client(
            None,
            token=args.token,
            environment=args.environment,
            url=args.url,
            max_attempts=args.max_attempts,
        )
        return client
    except InvalidArgumentError as exc:
        raise CommandError(cli_message(str(exc)), exit_code=EXIT_USAGE) from None
    except MissingTokenError:
        raise CommandError(
            "no Toloka token: set the environment variable TOLOKA_API_KEY (an API key from "
            "Profile → Integrations; TOLOKA_TOKEN for a legacy OAuth token), or pass --token "
            "(which stays in your shell history)."
        ) from None


def request_error(exc: TolokaError) -> CommandError:
    """The one line for an error of the library (a bad argument is a usage error)."""
    if isinstance(exc, InvalidArgumentError):
        return CommandError(cli_message(str(exc)), exit_code=EXIT_USAGE)
    return CommandError(f"{type(exc).__name__}: {cli_message(str(exc))}")


def write_frame(frame: pd.DataFrame, output: Path, *, parents: bool = False) -> None:
    """Write ``frame`` (with its ``attrs``) to ``output`` atomically.

    ``df.to_parquet``, so a plain ``pd.read_parquet`` gives the frame's dtypes back.

    Raises
    ------
    CommandError
        If the file cannot be written (exit 1, nothing left behind).
    """
    try:
        with atomic_output(Path(output), parents=parents) as tmp:
            frame.to_parquet(tmp, index=False)
    except (OSError, pa.ArrowException) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CommandError(f"cannot write {output}: {reason}") from None
