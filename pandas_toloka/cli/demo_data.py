"""``pandas-toloka make-demo-data DIR``: write the deterministic demo pools."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import EXIT_ERROR, EXIT_OK


def register(subparsers: Any) -> None:
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
        "--seed", type=int, default=None, help="random seed (default: the fixed demo seed)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..server.demo import SEED, demo_data, make_demo_data

    seed = SEED if args.seed is None else args.seed
    try:
        root = make_demo_data(args.dir, seed=seed)
    except OSError as exc:
        print(f"error: cannot write {args.dir}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for pool in demo_data(seed).pools.values():
        print(f"pool {pool.pool_id}: {pool.description}")
    print(f"wrote {root}; serve it with: pandas-toloka serve --data {root}")
    return EXIT_OK
