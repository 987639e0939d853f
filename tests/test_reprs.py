"""Reprs say what an object holds (pool, operation, state, columns, provenance), never the token."""

from __future__ import annotations

import pandas as pd
import pytest

import pandas_toloka as ptk
from pandas_toloka._frame import captions
from pandas_toloka.client import Client
from pandas_toloka.server import LocalTolokaServer
from pandas_toloka.server.demo import DemoData

Served = tuple[LocalTolokaServer, Client, DemoData]


def test_aggregated_solutions_repr(demo_served: Served) -> None:
    server, client, data = demo_served
    skill = str(data.skills["skill_id"].iloc[0])
    with ptk.open_aggregated_solutions(
        "1002",
        type="WEIGHTED_DYNAMIC_OVERLAP",
        fields=["result", "sure"],
        answer_weight_skill_id=skill,
        client=client,
    ) as stream:
        text = repr(stream)
    assert text.startswith("AggregatedSolutions(pool_id='1002', operation_id=")
    assert f"operation_id={stream.operation_id!r}" in text
    assert "type='WEIGHTED_DYNAMIC_OVERLAP'" in text
    assert f"answer_weight_skill_id={skill!r}" in text
    assert "status='SUCCESS'" in text
    assert "columns=['pool_id', 'task_id', 'confidence', 'result', 'sure']" in text
    assert server.url in text and server.token not in text


def test_accessor_repr_of_server_results(demo_served: Served) -> None:
    server, client, _ = demo_served
    df = ptk.read_aggregated_solutions("1001", fields="result", client=client)
    text = repr(df.toloka)
    assert text.startswith(f"<df.toloka accessor: {len(df):,} rows × 4 columns [")
    assert "[pool_id, task_id, confidence, result]" in text
    assert "aggregated by the server: pool 1001 (Dawid–Skene of result; " in text
    assert df.attrs["toloka"]["operation_id"] in text and server.url in text
    assert server.token not in text


def test_accessor_repr_of_responses_and_local_results(demo_served: Served) -> None:
    _, client, data = demo_served
    responses = ptk.read_responses("1001", client=client)
    assert "raw responses of pool 1001 (status ACCEPTED)" in repr(responses.toloka)
    local = responses.toloka.aggregate_locally(fields="result")
    assert "aggregated on this machine: pool 1001 (Dawid–Skene of result)" in repr(local.toloka)
    tasks = data.pools["1001"].ground_truth[["task_id"]].head(5).assign(pool_id="1001")
    joined = tasks.toloka.aggregate(fields="result", client=client)
    assert "tasks with answers aggregated by the server: pool 1001 (Dawid–Skene of result; " in (
        repr(joined.toloka)
    )


def test_accessor_repr_of_a_plain_frame() -> None:
    frame = pd.DataFrame({f"c{i}": [1, 2] for i in range(10)})
    text = repr(frame.toloka)
    assert "2 rows × 10 columns [c0, c1, c2, c3, c4, c5, c6, c7, … (2 more)]" in text
    assert "no Toloka provenance" in text


def test_urls_lose_their_credentials() -> None:
    frame = pd.DataFrame({"task_id": ["t"]})
    frame.attrs["toloka"] = {
        "pool_id": "7",
        "operation_id": "op",
        "type": "DAWID_SKENE",
        "fields": ["result"],
        "base_url": "https://user:s3cret@proxy.example:8443/toloka",
    }
    text = repr(frame.toloka)
    assert "s3cret" not in text and "user" not in text
    assert "from https://proxy.example:8443/toloka" in text


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("short", 16, "short"),
        ("75d50d8c75a493fa03c8ae0740b6662c", 16, "75d50d8c…0b6662c"),
        ("abcdefghij", 5, "ab…ij"),
    ],
)
def test_shorten_cuts_in_the_middle(text: str, width: int, expected: str) -> None:
    assert captions.shorten(text, width) == expected
    assert len(captions.shorten(text, width)) == min(len(text), width)


def test_accessor_repr_of_worker_quality(demo_served: Served) -> None:
    _, client, _ = demo_served
    quality = ptk.read_responses("1001", client=client).toloka.worker_quality("result")
    assert "worker quality in pool 1001 (Dawid–Skene of result)" in repr(quality.toloka)
