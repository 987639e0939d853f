"""read_labeled_dataset: one row per task, inputs next to the label, in one call."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import pandas_toloka as ptk
from pandas_toloka.server import LocalTolokaServer
from pandas_toloka.server.demo import DS_POOL_ID

TOKEN = "dataset-token"
POOL = "777"
SPEC = {"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}}
INPUT_SPEC = {"image": {"type": "URL"}, "width": {"type": "INTEGER"}}
ANSWERED = [f"t{i:02d}" for i in range(6)]
UNANSWERED = ["t98", "t99"]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalTolokaServer, ptk.Client]]:
    responses = pd.DataFrame(
        [
            (task, f"w{w}", "cat" if (i + w) % 3 else "dog")
            for i, task in enumerate(ANSWERED)
            for w in range(3)
        ],
        columns=["task_id", "worker_id", "result"],
    )
    ids = ANSWERED + UNANSWERED
    tasks = pd.DataFrame(
        {
            "task_id": ids,
            "image": [f"https://img.example/{t}.jpg" for t in ids],
            "width": [100 + i for i in range(len(ids))],
            "known_solutions": [
                [{"output_values": {"result": "cat"}, "correctness_weight": 1}]
                if t == "t00"
                else None
                for t in ids
            ],
        }
    )
    with (
        LocalTolokaServer(token=TOKEN) as server,
        ptk.Client(TOKEN, url=server.url, poll_min=0.02) as client,
    ):
        server.add_pool(
            POOL, responses=responses, output_spec=SPEC, input_spec=INPUT_SPEC, tasks=tasks
        )
        yield server, client


def test_every_task_has_a_row_with_its_inputs_and_label(served, tmp_path: Path) -> None:
    _, client = served
    with pytest.warns(ptk.MissingAggregatesWarning, match="2 of 8 tasks have no aggregated"):
        dataset = ptk.read_labeled_dataset(POOL, golden=True, client=client, progress_bar=False)
    assert list(dataset.columns) == [
        "pool_id",
        "task_id",
        "image",
        "width",
        "confidence",
        "result",
        "golden.result",
    ]
    assert dataset["task_id"].tolist() == ANSWERED + UNANSWERED
    assert dataset["image"].tolist() == [f"https://img.example/{t}.jpg" for t in dataset["task_id"]]
    labels = ptk.read_aggregated_solutions(POOL, client=client, progress_bar=False)
    answered = dataset.iloc[: len(ANSWERED)].reset_index(drop=True)
    pd.testing.assert_series_equal(answered["result"], labels["result"])
    pd.testing.assert_series_equal(answered["confidence"], labels["confidence"])
    assert dataset.iloc[len(ANSWERED) :][["confidence", "result"]].isna().all().all()
    assert dataset["golden.result"].notna().tolist() == [t == "t00" for t in dataset["task_id"]]
    assert dataset.attrs["toloka"]["pool_id"] == POOL
    path = tmp_path / "dataset.parquet"
    dataset.to_parquet(path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), dataset)


def test_inputs_choose_columns_and_unknown_ones_are_refused_before_aggregating(served) -> None:
    server, client = served
    before = len(server.operations.all())
    with pytest.raises(ptk.InvalidArgumentError, match="has no input field 'nope'"):
        ptk.read_labeled_dataset(POOL, inputs=["image", "nope"], client=client)
    assert len(server.operations.all()) == before  # nothing started
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ptk.MissingAggregatesWarning)
        dataset = ptk.read_labeled_dataset(
            POOL, inputs="width", dtype_backend="numpy_nullable", client=client, progress_bar=False
        )
    assert list(dataset.columns) == ["pool_id", "task_id", "width", "confidence", "result"]
    assert str(dataset["width"].dtype) == "Int64"


@pytest.mark.parametrize(
    ("inputs", "columns"),
    [
        (None, ["image", "width"]),
        (True, ["image", "width"]),
        ("all", ["image", "width"]),
        (False, []),
    ],
)
def test_inputs_all_or_none(served, inputs: object, columns: list[str]) -> None:
    _, client = served
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ptk.MissingAggregatesWarning)
        dataset = ptk.read_labeled_dataset(POOL, inputs=inputs, client=client, progress_bar=False)
    assert list(dataset.columns) == ["pool_id", "task_id", *columns, "confidence", "result"]
    assert len(dataset) == len(ANSWERED) + len(UNANSWERED)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"golden": "yes"}, "golden must be True or False"),
        ({"fields": []}, "fields is empty"),
        ({"page_size": 0}, "page_size"),
        ({"dtype_backend": "numpy"}, "dtype_backend"),
        ({"client": "c"}, "client"),
        ({"inputs": 3}, "inputs must be True or 'all'"),
        ({"inputs": ["image", "image"]}, "inputs has duplicates"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(kwargs, match: str) -> None:
    with pytest.raises(ptk.InvalidArgumentError, match=match):
        ptk.read_labeled_dataset(POOL, url="http://127.0.0.1:9", token="t", **kwargs)


def test_the_demo_pool_in_one_call_is_the_export_command(demo_served) -> None:
    _, client, _ = demo_served
    dataset = ptk.read_labeled_dataset(
        DS_POOL_ID, fields="result", golden=True, client=client, progress_bar=False
    )
    tasks = ptk.read_tasks(DS_POOL_ID, client=client, progress_bar=False)
    assert dataset["task_id"].tolist() == tasks["task_id"].tolist()
    assert dataset["image"].tolist() == tasks["image"].tolist()
    assert dataset["result"].notna().all()
    control = dataset[dataset["golden.result"].notna()]
    assert len(control) > 0
