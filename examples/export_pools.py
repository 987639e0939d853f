"""Export the aggregated answers of several pools into one Parquet dataset.

An ETL script: the token and the server come from the environment, so the same
script runs against Toloka and against the bundled server::

    export TOLOKA_API_KEY=...                  # real Toloka
    python examples/export_pools.py out/ 36502086 36502087 --field result

    pandas-toloka serve --port 8000 --token secret &     # or the bundled server
    TOLOKA_URL=http://127.0.0.1:8000 TOLOKA_API_KEY=secret \\
        python examples/export_pools.py out/ 1001 --field result

Each pool becomes a file ``out/pool-<id>.parquet``; read them all back with
``pd.read_parquet("out/", dtype_backend="pyarrow")`` (ids stay strings: they
are stored in the files, not parsed from directory names). Pools are streamed
chunk by chunk, so memory stays flat however large a pool is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import pandas_toloka as ptk


def export_pool(pool_id: str, out: Path, *, field: str, skill: str | None) -> int:
    """Write one pool's aggregated answers to ``out/pool-<id>.parquet``; return the rows."""
    kind = "WEIGHTED_DYNAMIC_OVERLAP" if skill else "DAWID_SKENE"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"pool-{pool_id}.parquet"
    rows = 0
    writer = None
    try:
        for chunk in ptk.iter_aggregated_solutions(
            pool_id, type=kind, fields=field, answer_weight_skill_id=skill
        ):
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
            rows += table.num_rows
    except BaseException:
        if writer is not None:  # no half-written file left behind
            writer.close()
            path.unlink(missing_ok=True)
        raise
    if writer is not None:
        writer.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="dataset directory")
    parser.add_argument("pool_ids", nargs="+", metavar="POOL_ID")
    parser.add_argument("--field", required=True, help="output field to aggregate")
    parser.add_argument("--skill", help="skill id: aggregate by skill instead of Dawid-Skene")
    args = parser.parse_args(argv)
    try:
        for pool_id in args.pool_ids:
            rows = export_pool(pool_id, args.out, field=args.field, skill=args.skill)
            print(f"pool {pool_id}: {rows} tasks -> {args.out / f'pool-{pool_id}.parquet'}")
    except ptk.TolokaError as exc:
        print(f"export failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
