"""df.toloka.aggregate: per-task and per-pool strategies over real HTTP."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pandas_toloka.accessor  # noqa: F401  (registers df.toloka)
from pandas_toloka._frame.remote import MissingAggregatesWarning
from pandas_toloka._frame.strategies import BY_TASK_MAX_TASKS, choose_strategy
from pandas_toloka.client import Client
from pandas_toloka.errors import InvalidArgumentError, MissingColumnsError, NotFoundError
from pandas_toloka.reader import read_aggregated_solutions
from pandas_toloka.server import LocalTolokaServer
from pandas_toloka.server.demo import DemoData

SKILL = "501"


def _tasks(data: DemoData, pool: str, n: int) -> pd.DataFrame:
    ids = data.pools[pool].ground_truth["task_id"].iloc[::-7][:n].tolist()  # not in task_id order
    return pd.DataFrame(
        {"task_id": ids, "pool_id": pool, "image": [f"img{i}.jpg" for i in range(n)]},
        index=pd.Index(np.arange(n) * 10 + 5, name="row"),
    )


def _count(server: LocalTolokaServer, fragment: str) -> int:
    return sum(fragment in path for _, path in server.request_log.snapshot())


@pytest.mark.parametrize("kind", ["DAWID_SKENE", "WEIGHTED_DYNAMIC_OVERLAP"])
def test_both_strategies_give_the_servers_answers(
    demo_served: tuple[LocalTolokaServer, Client, DemoData], kind: str
) -> None:
    server, client, data = demo_served
    pool = "1001" if kind == "DAWID_SKENE" else "1002"
    fields = "result" if kind == "DAWID_SKENE" else ["result", "sure"]
    tasks = _tasks(data, pool, 40)
    skill = SKILL if kind != "DAWID_SKENE" else None
    server.request_log.clear()
    by_task = tasks.toloka.aggregate(
        kind,
        fields=fields,
        answer_weight_skill_id=skill,
        client=client,
        strategy="by_task",
        progress_bar=False,
    )
    assert _count(server, "aggregate-by-task") == 40 and _count(server, "aggregate-by-pool") == 0
    server.request_log.clear()
    by_pool = tasks.toloka.aggregate(
        kind,
        fields=fields,
        answer_weight_skill_id=skill,
        client=client,
        strategy="by_pool",
        progress_bar=False,
    )
    assert _count(server, "aggregate-by-task") == 0 and _count(server, "aggregate-by-pool") == 1
    pd.testing.assert_frame_equal(by_task, by_pool, check_exact=False, rtol=1e-12)
    # index, order and every input column kept; typed columns added
    assert by_task.index.equals(tasks.index)
    pd.testing.assert_frame_equal(by_task[tasks.columns], tasks)
    whole = read_aggregated_solutions(
        pool,
        type=kind,
        fields=fields,
        answer_weight_skill_id=skill,
        client=client,
        progress_bar=False,
    ).set_index("task_id")
    added = ["confidence", *([fields] if isinstance(fields, str) else fields)]
    assert list(by_task.columns) == [*tasks.columns, *added]
    expected = whole.loc[tasks["task_id"], added]
    assert by_task["result"].tolist() == expected["result"].tolist()
    assert by_task["result"].dtype == whole["result"].dtype
    np.testing.assert_allclose(
        by_task["confidence"].to_numpy(float), expected["confidence"].to_numpy(float), atol=1e-12
    )


def test_missing_and_duplicate_tasks(
    demo_served: tuple[LocalTolokaServer, Client, DemoData],
) -> None:
    server, client, data = demo_served
    tasks = _tasks(data, "1001", 5)
    tasks = pd.concat(
        [tasks, tasks.iloc[[1, 1]], pd.DataFrame({"task_id": ["ghost", None], "pool_id": "1001"})]
    )
    for strategy in ("by_task", "by_pool"):
        server.request_log.clear()
        with pytest.warns(
            MissingAggregatesWarning, match=r"2 of 7 task\(s\).*1 because .*no task id"
        ) as record:
            out = tasks.toloka.aggregate(client=client, strategy=strategy, progress_bar=False)
        assert len(record) == 1 and record[0].filename == __file__  # points at the caller
        assert len(out) == len(tasks) and out.index.equals(tasks.index)
        assert out["confidence"].isna().tolist() == [False] * 7 + [True, True]
        dup = out[out["task_id"] == tasks["task_id"].iloc[1]]
        assert len(dup) == 3 and dup["result"].nunique() == 1 and dup["confidence"].nunique() == 1
        if strategy == "by_task":  # each distinct task asked for once
            assert _count(server, "aggregate-by-task") == 6


def test_pool_id_argument_and_numpy_nullable(
    demo_served: tuple[LocalTolokaServer, Client, DemoData],
) -> None:
    _, client, data = demo_served
    tasks = _tasks(data, "1001", 3).drop(columns="pool_id")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = tasks.toloka.aggregate(
            pool_id=1001, client=client, dtype_backend="numpy_nullable", progress_bar=False
        )
    assert (
        isinstance(out["result"].dtype, pd.CategoricalDtype)
        and out["confidence"].dtype == "Float64"
    )
    assert out["result"].notna().all() and "pool_id" not in out.columns


def test_parquet_round_trip(
    demo_served: tuple[LocalTolokaServer, Client, DemoData], tmp_path: Path
) -> None:
    _, client, data = demo_served
    out = _tasks(data, "1001", 10).toloka.aggregate(client=client, progress_bar=False)
    path = tmp_path / "joined.parquet"
    out.to_parquet(path)
    back = pd.read_parquet(path, dtype_backend="pyarrow")
    assert back.index.tolist() == out.index.tolist()
    assert back["result"].astype(str).tolist() == out["result"].astype(str).tolist()
    assert back["confidence"].tolist() == out["confidence"].tolist()


def test_wrong_frames_and_arguments(
    demo_served: tuple[LocalTolokaServer, Client, DemoData],
) -> None:
    server, client, data = demo_served
    tasks = _tasks(data, "1001", 3)
    with pytest.raises(MissingColumnsError) as info:
        tasks.drop(columns="pool_id").toloka.aggregate(client=client)
    assert info.value.missing == ["pool_id"] and "task_id" in info.value.present
    assert "pool_id=" in str(info.value)
    with pytest.raises(MissingColumnsError, match="'task'"):
        tasks.toloka.aggregate(task="task", client=client)
    server.request_log.clear()
    with pytest.raises(InvalidArgumentError, match="already has column"):
        tasks.assign(result="x").toloka.aggregate(client=client, progress_bar=False)
    assert _count(server, "aggregate-by") == 0  # refused before aggregating anything
    with pytest.raises(InvalidArgumentError, match="strategy"):
        tasks.toloka.aggregate(strategy="fast", client=client)
    with pytest.raises(InvalidArgumentError, match="answer_weight_skill_id"):
        tasks.toloka.aggregate("WEIGHTED_DYNAMIC_OVERLAP", client=client)
    with pytest.raises(NotFoundError):  # an unknown skill is an error, not "missing" tasks
        _tasks(data, "1002", 2).toloka.aggregate(
            "WEIGHTED_DYNAMIC_OVERLAP",
            fields="result",
            answer_weight_skill_id="999",
            client=client,
            strategy="by_task",
            progress_bar=False,
        )


def test_auto_cost_model() -> None:
    assert choose_strategy(1) == "by_task"
    assert choose_strategy(BY_TASK_MAX_TASKS) == "by_task"
    assert choose_strategy(BY_TASK_MAX_TASKS + 1) == "by_pool"
    assert choose_strategy(5, "by_pool") == "by_pool"
    with pytest.raises(InvalidArgumentError):
        choose_strategy(5, "quick")
