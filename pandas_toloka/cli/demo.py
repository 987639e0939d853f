"""``pandas-toloka demo``: the whole job end to end on the bundled server's demo data.

Starts a local Toloka-compatible server on 127.0.0.1 with the demo pools (in
memory, no files needed), reads the Dawid-Skene and the skill-weighted
aggregation with :func:`read_aggregated_solutions` exactly as against the
real Toloka, compares their accuracy with majority vote on the demo's ground
truth, and writes the results to Parquet. This is the one module that joins
the server and the client side.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from ..aggregation import majority_vote
from ..client import Client
from ..dataset import read_labeled_dataset
from ..errors import TolokaError
from ..reader import read_aggregated_solutions
from ..responses import read_responses
from ..server import LocalTolokaServer
from ..server.demo import DS_POOL_ID, SKILL_ID, SKILL_POOL_ID, DemoPool, add_demo_pools
from . import add_progress_flags
from ._common import EXIT_OK, EXIT_USAGE, CommandError, command_line, non_negative_seconds
from ._files import atomic_output, not_a_directory, not_writable

__all__ = ["OUTPUT_FILES", "interrupted", "register", "run", "run_demo"]

#: The files the demo writes into its output directory.
OUTPUT_FILES = (
    "aggregated.parquet",
    "aggregated_by_skill.parquet",
    "confidence.png",
    "dataset.parquet",
)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="aggregate the demo pools on a local server and write Parquet",
        description=(
            "Start the bundled Toloka-compatible server on the demo data, read the Dawid-Skene "
            "and the skill-weighted aggregations into typed DataFrames, compare them with "
            "majority vote on the ground truth and write Parquet files."
        ),
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("demo-output"),
        metavar="DIR",
        help="directory for the Parquet files (default: ./demo-output)",
    )
    parser.add_argument(
        "--operation-delay",
        type=non_negative_seconds,
        default=0.0,
        metavar="SECONDS",
        help="seconds each aggregation spends PENDING and again RUNNING (to watch progress)",
    )
    add_progress_flags(parser)
    parser.set_defaults(func=run, interrupted=interrupted)
    return parser


def _accuracy(predicted: pd.DataFrame, truth: pd.DataFrame, field: str) -> float:
    joined = truth[["task_id", field]].merge(
        predicted[["task_id", field]].astype({field: object, "task_id": object}),
        on="task_id",
        suffixes=("_true", "_pred"),
    )
    return float((joined[f"{field}_true"].astype(object) == joined[f"{field}_pred"]).mean())


def _majority(pool: DemoPool, field: str) -> pd.DataFrame:
    accepted = pool.responses[pool.responses["status"] == "ACCEPTED"]
    return majority_vote(accepted, label=field)


def _section(title: str, out: TextIO) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)), file=out)


def _dataset_section(
    server_result: pd.DataFrame,
    client: Client,
    output: Path,
    written: dict[str, Path],
    *,
    progress_bar: bool | None,
    out: TextIO,
) -> None:
    """The labeled dataset (inputs next to labels) and the accuracy on the control tasks."""
    operation = server_result.attrs["toloka"]["operation_id"]
    _section(f"Pool {DS_POOL_ID}: the labeled dataset (what was labeled, and its label)", out)
    print(
        f'dataset = ptk.read_labeled_dataset("{DS_POOL_ID}", fields="result", golden=True, '
        f'operation_id="{operation}")',
        file=out,
    )
    dataset = read_labeled_dataset(
        DS_POOL_ID,
        fields="result",
        golden=True,
        operation_id=operation,  # the aggregation above, read again: none is started
        client=client,
        progress_bar=progress_bar,
    )
    columns = ["task_id", "image", "confidence", "result", "golden.result"]
    print(dataset[columns].head().to_string(), file=out)
    control = dataset[dataset["golden.result"].notna()]
    right = (control["result"].astype(object) == control["golden.result"].astype(object)).mean()
    print(
        f"\naccuracy on the pool's {len(control)} control tasks (their known answers): "
        f"{float(right):.3f}",
        file=out,
    )
    written["labeled_dataset"] = output / OUTPUT_FILES[3]
    with atomic_output(written["labeled_dataset"]) as tmp:
        dataset.to_parquet(tmp)


def _local_section(
    server_result: pd.DataFrame,
    client: Client,
    output: Path,
    written: dict[str, Path],
    *,
    progress_bar: bool | None,
    out: TextIO,
) -> None:
    """Raw responses aggregated locally, checked against the server; worker quality; a plot."""
    _section(f"Pool {DS_POOL_ID}: raw responses, aggregated locally", out)
    print(f'responses = ptk.read_responses("{DS_POOL_ID}")', file=out)
    print(
        'local = responses.toloka.aggregate_locally(type="DAWID_SKENE", fields="result")', file=out
    )
    responses = read_responses(DS_POOL_ID, client=client, progress_bar=progress_bar)
    local = responses.toloka.aggregate_locally(type="DAWID_SKENE", fields="result")
    same_labels = local["result"].astype(object).equals(server_result["result"].astype(object))
    gap = float((local["confidence"] - server_result["confidence"]).abs().max())
    print(
        f"{len(responses)} accepted responses; local result equals the server's: labels "
        f"{'identical' if same_labels else 'DIFFERENT'}, max |confidence difference| {gap:.2g}",
        file=out,
    )
    quality = responses.toloka.worker_quality("result").sort_values("accuracy")
    print("\nleast accurate workers (Dawid-Skene estimate):", file=out)
    print(quality.head().to_string(index=False), file=out)
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        print(
            "\n(no matplotlib: pip install 'pandas-toloka[plot]' for the confidence plot)", file=out
        )
        return
    ax = server_result.toloka.plot_confidence()
    written["confidence_plot"] = output / OUTPUT_FILES[2]
    with atomic_output(written["confidence_plot"]) as tmp:
        ax.figure.savefig(tmp, dpi=100, bbox_inches="tight", format="png")


def run_demo(
    output: Path,
    *,
    progress_bar: bool | None = None,
    out: TextIO | None = None,
    operation_delay: float = 0.0,
) -> dict[str, Path]:
    """Run the demo, print its report to ``out`` (stdout) and return the Parquet files written.

    ``operation_delay`` seconds are spent by each aggregation in PENDING and
    again in RUNNING, to watch the progress bars.
    """
    out = out if out is not None else sys.stdout
    server = LocalTolokaServer(operation_delay=operation_delay)
    data = add_demo_pools(server)
    output.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    with server, Client(server.token, url=server.url, poll_min=0.05, poll_max=0.5) as client:
        print(
            f"Local Toloka-compatible server on {server.url} serving pools {server.pool_ids}",
            file=out,
        )

        ds_pool = data.pools[DS_POOL_ID]
        _section(f"Pool {DS_POOL_ID}: {ds_pool.description}", out)
        print(
            f'df = ptk.read_aggregated_solutions("{DS_POOL_ID}", type="DAWID_SKENE", fields="result")',
            file=out,
        )
        ds = read_aggregated_solutions(
            DS_POOL_ID,
            type="DAWID_SKENE",
            fields="result",
            client=client,
            progress_bar=progress_bar,
        )
        print(ds.head().to_string(), file=out)
        print("\ndtypes:\n" + ds.dtypes.to_string(), file=out)
        ds_acc = _accuracy(ds, ds_pool.ground_truth, "result")
        mv_acc = _accuracy(_majority(ds_pool, "result"), ds_pool.ground_truth, "result")
        print(
            f"\naccuracy vs ground truth: Dawid-Skene {ds_acc:.3f}, majority vote {mv_acc:.3f} "
            f"({len(ds)} tasks)",
            file=out,
        )
        written["dawid_skene"] = output / OUTPUT_FILES[0]
        with atomic_output(written["dawid_skene"]) as tmp:
            ds.to_parquet(tmp)
        _dataset_section(ds, client, output, written, progress_bar=progress_bar, out=out)
        _local_section(ds, client, output, written, progress_bar=progress_bar, out=out)

        wdo_pool = data.pools[SKILL_POOL_ID]
        _section(f"Pool {SKILL_POOL_ID}: {wdo_pool.description}", out)
        print(
            f'df = ptk.read_aggregated_solutions("{SKILL_POOL_ID}", type="WEIGHTED_DYNAMIC_OVERLAP", '
            f'fields=["result", "sure"], answer_weight_skill_id="{SKILL_ID}")',
            file=out,
        )
        wdo = read_aggregated_solutions(
            SKILL_POOL_ID,
            type="WEIGHTED_DYNAMIC_OVERLAP",
            fields=["result", "sure"],
            answer_weight_skill_id=SKILL_ID,
            client=client,
            progress_bar=progress_bar,
        )
        print(wdo.head().to_string(), file=out)
        print("\ndtypes:\n" + wdo.dtypes.to_string(), file=out)
        for field in ("result", "sure"):
            acc = _accuracy(wdo, wdo_pool.ground_truth, field)
            mv = _accuracy(_majority(wdo_pool, field), wdo_pool.ground_truth, field)
            print(
                f"accuracy of {field!r} vs ground truth: skill-weighted {acc:.3f}, "
                f"majority vote {mv:.3f}",
                file=out,
            )
        written["weighted_dynamic_overlap"] = output / OUTPUT_FILES[1]
        with atomic_output(written["weighted_dynamic_overlap"]) as tmp:
            wdo.to_parquet(tmp)

    _section("Written", out)
    for path in written.values():
        if path.suffix == ".parquet":
            # A plain read gives the frame that was written, dtypes included, which can be
            # written and read again; dtype_backend="pyarrow" would turn its categoricals
            # into Arrow dictionaries, which pandas writes but cannot read back (pandas#54392).
            hint = f"read back: pd.read_parquet({str(path)!r})"
            print(f"{path}  ({hint})", file=out)
        else:
            print(path, file=out)
    return written


def _again(args: argparse.Namespace) -> str:
    arguments = ["-o", str(args.output)]
    if args.operation_delay:
        arguments += ["--operation-delay", f"{args.operation_delay:g}"]
    if args.progress_bar is not None:
        arguments.append("--progress" if args.progress_bar else "--no-progress")
    return command_line("demo", *arguments)


def interrupted(args: argparse.Namespace, exc: BaseException) -> tuple[str, list[str]]:
    """After Ctrl-C or SIGTERM: the demo's server stopped with it, so it can only run again."""
    return (
        "the demo's own server stopped with it, so there is nothing to resume "
        "(files already written are complete)",
        [f"Run it again with: {_again(args)}"],
    )


def run(args: argparse.Namespace) -> int:
    """Run ``pandas-toloka demo``; returns the exit code."""
    output = Path(args.output)
    problem = not_a_directory(output) or next(
        (p for p in (not_writable(output / name, parents=True) for name in OUTPUT_FILES) if p), None
    )
    if problem is not None:
        raise CommandError(f"-o {problem}", exit_code=EXIT_USAGE)
    try:
        run_demo(output, progress_bar=args.progress_bar, operation_delay=args.operation_delay)
    except TolokaError as exc:
        raise CommandError(f"{type(exc).__name__}: {exc}") from None
    except OSError as exc:
        raise CommandError(f"cannot write in {output}: {exc.strerror or exc}") from None
    return EXIT_OK
