"""``pandas-toloka make-demo-data DIR``: write the deterministic demo pools."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import EXIT_OK, EXIT_USAGE, CommandError, command_line, count
from ._files import RefusedPathError, not_a_directory, staged_directory

__all__ = ["interrupted", "register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``make-demo-data`` subcommand."""
    parser = subparsers.add_parser(
        "make-demo-data",
        help="write synthetic demo pools with ground truth to a data directory",
        description=(
            "Write deterministic synthetic pools (cats vs dogs for DAWID_SKENE; a smart-mixing "
            "pool with a skill for WEIGHTED_DYNAMIC_OVERLAP) with their ground truth, in the "
            "layout `pandas-toloka serve --data DIR` reads."
        ),
    )
    parser.add_argument("dir", metavar="DIR", help="directory to write (created if missing)")
    parser.add_argument(
        "--seed",
        type=count(0),
        default=None,
        metavar="N",
        help="random seed, 0 or more (default: the fixed demo seed)",
    )
    parser.set_defaults(func=run, interrupted=interrupted)


def interrupted(args: argparse.Namespace, exc: BaseException) -> tuple[str, list[str]]:
    """After Ctrl-C or SIGTERM: the directory may be partly written."""
    arguments = [args.dir] + ([] if args.seed is None else ["--seed", str(args.seed)])
    return (
        f"{args.dir} may be partly written",
        [f"Write it whole with: {command_line('make-demo-data', *arguments)}"],
    )


def run(args: argparse.Namespace) -> int:
    """Run ``pandas-toloka make-demo-data``; returns the exit code."""
    from ..server.demo import SEED, demo_data, make_demo_data

    problem = not_a_directory(Path(args.dir))
    if problem is not None:
        raise CommandError(problem, exit_code=EXIT_USAGE)
    seed = SEED if args.seed is None else args.seed
    root = Path(args.dir)
    try:
        # Written aside, then moved in: a FIFO in DIR must be refused, not opened (it would hang).
        with staged_directory(root) as stage:
            make_demo_data(stage, seed=seed)
    except RefusedPathError as exc:
        raise CommandError(str(exc), exit_code=EXIT_USAGE) from None
    except OSError as exc:
        raise CommandError(f"cannot write {args.dir}: {exc.strerror or exc}") from None
    for pool in demo_data(seed).pools.values():
        print(f"pool {pool.pool_id}: {pool.description}")
    print(f"wrote {root}; serve it with: {command_line('serve', '--data', str(root))}")
    return EXIT_OK
