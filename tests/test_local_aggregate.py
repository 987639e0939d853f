"""df.toloka.aggregate_locally: the server's algorithms and schema, on this machine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pandas_toloka.accessor  # noqa: F401  (registers df.toloka)
from pandas_toloka import schema
from pandas_toloka.aggregation import LOCAL_METHODS, fit_aggregation, majority_vote
from pandas_toloka.client import Client
from pandas_toloka.errors import (
    DroppedResponsesWarning,
    InvalidArgumentError,
    MissingColumnsError,
)
from pandas_toloka.reader import read_aggregated_solutions
from pandas_toloka.responses import read_responses
from pandas_toloka.server import LocalTolokaServer
from pandas_toloka.server.demo import DemoData


def synthetic_pool(*, n_tasks: int, n_labels: int) -> tuple[pd.DataFrame, pd.Series]:
    """Tasks answered by 4 of 8 workers of accuracy 0.6-0.95, with the truth."""
    rng = np.random.default_rng(3)
    truth = rng.integers(0, n_labels, n_tasks)
    accuracy = rng.uniform(0.6, 0.95, 8)
    task = np.repeat(np.arange(n_tasks), 4)
    worker = np.concatenate([rng.choice(8, 4, replace=False) for _ in range(n_tasks)])
    right = rng.random(len(task)) < accuracy[worker]
    label = np.where(right, truth[task], (truth[task] + 1) % n_labels)
    ids = np.array([f"t{t:03d}" for t in range(n_tasks)])
    frame = pd.DataFrame(
        {"task_id": ids[task], "worker_id": [f"w{w}" for w in worker], "result": label}
    )
    return frame, pd.Series(truth, index=ids)


SKILL = "501"


def _assert_same(local: pd.DataFrame, remote: pd.DataFrame) -> None:
    assert list(local.columns) == list(remote.columns)
    assert local.dtypes.equals(remote.dtypes)
    assert local["task_id"].tolist() == remote["task_id"].tolist()
    for column in local.columns.drop(["confidence"]):
        assert local[column].tolist() == remote[column].tolist(), column
    np.testing.assert_allclose(
        local["confidence"].to_numpy(float), remote["confidence"].to_numpy(float), rtol=0, atol=1e-9
    )


def test_dawid_skene_equals_the_server(
    demo_served: tuple[LocalTolokaServer, Client, DemoData],
) -> None:
    _, client, _ = demo_served
    responses = read_responses("1001", client=client, progress_bar=False)
    remote = read_aggregated_solutions(
        "1001", type="DAWID_SKENE", client=client, progress_bar=False
    )
    local = responses.toloka.aggregate_locally(type="DAWID_SKENE", fields="result")
    assert len(local) == 2000
    _assert_same(local, remote)


def test_weighted_dynamic_overlap_equals_the_server(
    demo_served: tuple[LocalTolokaServer, Client, DemoData],
) -> None:
    _, client, data = demo_served
    responses = read_responses("1002", client=client, progress_bar=False)
    remote = read_aggregated_solutions(
        "1002",
        type="WEIGHTED_DYNAMIC_OVERLAP",
        fields=["result", "sure"],
        answer_weight_skill_id=SKILL,
        client=client,
        progress_bar=False,
    )
    local = responses.toloka.aggregate_locally(
        "WEIGHTED_DYNAMIC_OVERLAP",
        fields=["result", "sure"],
        skills=data.skills,
        answer_weight_skill_id=SKILL,
    )
    _assert_same(local, remote)
    # the same skills as a Series indexed by worker give the same answers
    skills = data.skills.set_index("worker_id")["value"]
    again = responses.toloka.aggregate_locally(
        "WEIGHTED_DYNAMIC_OVERLAP", fields=["result", "sure"], skills=skills
    )
    pd.testing.assert_frame_equal(again, local)


def test_rejected_answers_do_not_count(
    demo_served: tuple[LocalTolokaServer, Client, DemoData],
) -> None:
    _, client, _ = demo_served
    everything = read_responses("1001", status=None, client=client, progress_bar=False)
    accepted = read_responses("1001", client=client, progress_bar=False)
    assert len(everything) > len(accepted)
    rejected = len(everything) - len(accepted)
    dropped = rf"dropped {rejected} of {len(everything)} response\(s\): {rejected} not of status"
    with pytest.warns(DroppedResponsesWarning, match=dropped):
        without_rejected = everything.toloka.aggregate_locally()
    pd.testing.assert_frame_equal(
        without_rejected.drop(columns="confidence"),
        accepted.toloka.aggregate_locally().drop(columns="confidence"),
    )
    with_rejected = everything.toloka.aggregate_locally(status=None)
    assert not with_rejected["confidence"].equals(accepted.toloka.aggregate_locally()["confidence"])


def test_parquet_round_trip(
    demo_served: tuple[LocalTolokaServer, Client, DemoData], tmp_path: Path
) -> None:
    _, client, _ = demo_served
    local = read_responses("1001", client=client, progress_bar=False).toloka.aggregate_locally()
    path = tmp_path / "local.parquet"
    local.to_parquet(path)
    back = pd.read_parquet(path, dtype_backend="pyarrow")
    assert back["result"].astype(str).tolist() == local["result"].astype(str).tolist()
    assert back["confidence"].tolist() == local["confidence"].tolist()


CROWD = pd.DataFrame(
    {
        "task": [1, 1, 1, 2, 2, 2, 3],
        "worker": ["a", "b", "c", "a", "b", "c", "a"],
        "label": ["yes", "no", "yes", "no", "no", "yes", "yes"],
    }
)


def test_crowd_kit_style_frame() -> None:
    out = CROWD.toloka.aggregate_locally("MAJORITY_VOTE", task="task", worker="worker")
    assert list(out.columns) == ["pool_id", "task_id", "confidence", "label"]
    assert out["task_id"].tolist() == ["1", "2", "3"] and out["pool_id"].isna().all()
    expected = majority_vote(CROWD, task="task", worker="worker", label="label")
    assert out["label"].tolist() == expected["label"].tolist()
    np.testing.assert_allclose(
        out["confidence"].to_numpy(float), expected["confidence"].to_numpy(float)
    )
    ds = CROWD.toloka.aggregate_locally(task="task", worker="worker", fields="label", pool_id="p1")
    assert ds["pool_id"].tolist() == ["p1"] * 3 and ds["label"].notna().all()


def test_y_fallback_observed_values_or_categories() -> None:
    """Y: the spec's allowed values, else categories, else distinct answers seen (at least 2)."""
    frame = pd.DataFrame(
        {"task_id": ["t"] * 3, "worker_id": ["a", "b", "c"], "result": ["yes"] * 3}
    )
    skills = pd.DataFrame({"worker_id": ["a", "b", "c"], "value": [70, 80, 90]})
    free = frame.toloka.aggregate_locally(
        "WEIGHTED_DYNAMIC_OVERLAP", fields="result", skills=skills
    )
    assert free["confidence"].iloc[0] == pytest.approx(0.98824, abs=1e-5)  # Y = max(2, 1 seen)
    cat = frame.astype({"result": pd.CategoricalDtype(["yes", "no", "maybe"])})
    three = cat.toloka.aggregate_locally("WEIGHTED_DYNAMIC_OVERLAP", fields="result", skills=skills)
    q = np.array([0.7, 0.8, 0.9])
    p_yes, p_other = q.prod(), ((1 - q) / 2).prod()
    assert three["confidence"].iloc[0] == pytest.approx(p_yes / (p_yes + 2 * p_other))
    spec = {"result": {"type": "STRING", "allowed_values": ["yes", "no", "maybe", "never"]}}
    four = frame.toloka.aggregate_locally(
        "WEIGHTED_DYNAMIC_OVERLAP", fields="result", skills=skills, output_spec=spec
    )
    p_other4 = ((1 - q) / 3).prod()
    assert four["confidence"].iloc[0] == pytest.approx(p_yes / (p_yes + 3 * p_other4))
    assert list(four["result"].cat.categories) == ["yes", "no", "maybe", "never"]


def test_several_pools_are_aggregated_separately() -> None:
    two = pd.concat([CROWD.assign(pool_id="p2"), CROWD.assign(pool_id="p1", label="no")])
    out = two.toloka.aggregate_locally(
        "MAJORITY_VOTE", fields="label", task="task", worker="worker"
    )
    assert out["pool_id"].tolist() == ["p1"] * 3 + ["p2"] * 3
    assert out["label"].tolist()[:3] == ["no"] * 3
    only = two.toloka.aggregate_locally(
        "MAJORITY_VOTE", fields="label", task="task", worker="worker", pool_id="p2"
    )
    assert only["pool_id"].tolist() == ["p2"] * 3


def test_wrong_frames_and_arguments_are_rejected() -> None:
    with pytest.raises(MissingColumnsError) as info:
        CROWD.toloka.aggregate_locally()
    assert info.value.missing == ["task_id", "worker_id"] and info.value.present == [
        "task",
        "worker",
        "label",
    ]
    with pytest.raises(MissingColumnsError, match="'answer'"):
        CROWD.toloka.aggregate_locally(fields="answer", task="task", worker="worker")
    with pytest.raises(InvalidArgumentError, match="type must be one of"):
        CROWD.toloka.aggregate_locally("BEST", task="task", worker="worker")
    with pytest.raises(InvalidArgumentError, match="needs skills"):
        CROWD.toloka.aggregate_locally("WEIGHTED_DYNAMIC_OVERLAP", task="task", worker="worker")
    two_skills = pd.DataFrame({"worker_id": ["a", "a"], "skill_id": ["1", "2"], "value": [50, 60]})
    with pytest.raises(InvalidArgumentError, match="skill_id="):
        CROWD.toloka.aggregate_locally(
            "WEIGHTED_DYNAMIC_OVERLAP",
            fields="label",
            skills=two_skills,
            task="task",
            worker="worker",
        )
    with pytest.raises(InvalidArgumentError, match="several fields"):
        CROWD.assign(extra=1).toloka.aggregate_locally(task="task", worker="worker")
    with pytest.raises(MissingColumnsError, match="value"):
        CROWD.toloka.aggregate_locally(
            "WEIGHTED_DYNAMIC_OVERLAP",
            fields="label",
            skills=pd.DataFrame({"worker_id": ["a"]}),
            task="task",
            worker="worker",
        )


def test_dawid_skene_takes_one_field() -> None:
    frame = CROWD.assign(other="x")
    with pytest.raises(InvalidArgumentError, match="exactly one field"):
        frame.toloka.aggregate_locally(
            "DAWID_SKENE", fields=["label", "other"], task="task", worker="worker"
        )


@pytest.mark.parametrize("method", LOCAL_METHODS)
def test_local_only_methods_give_the_server_schema(method: str) -> None:
    frame, _ = synthetic_pool(n_tasks=20, n_labels=2)
    frame = frame.assign(result=frame["result"].map({0: "no", 1: "yes"}))
    two = pd.concat([frame.assign(pool_id="p2"), frame.assign(pool_id="p1")])
    out = two.toloka.aggregate_locally(method, fields="result")
    dawid_skene_out = two.toloka.aggregate_locally("DAWID_SKENE", fields="result")
    assert list(out.columns) == list(dawid_skene_out.columns)
    assert out.dtypes.equals(dawid_skene_out.dtypes)
    assert out["pool_id"].tolist() == ["p1"] * 20 + ["p2"] * 20
    expected = fit_aggregation(frame, method=method).to_frame()
    assert out["result"].tolist()[:20] == expected["result"].tolist()
    np.testing.assert_allclose(
        out["confidence"].to_numpy(float)[:20], expected["confidence"].to_numpy(float)
    )
    assert schema.get_provenance(out)["type"] == method


def test_method_kwargs_reach_the_method() -> None:
    frame, _ = synthetic_pool(n_tasks=40, n_labels=3)
    options = {"n_restarts": 3, "class_priors": "uniform", "seed": 2}
    out = frame.toloka.aggregate_locally("MACE", fields="result", method_kwargs=options)
    expected = fit_aggregation(frame, method="MACE", **options).to_frame()
    default = fit_aggregation(frame, method="MACE").to_frame()
    np.testing.assert_allclose(
        out["confidence"].to_numpy(float), expected["confidence"].to_numpy(float)
    )
    assert not np.allclose(out["confidence"].to_numpy(float), default["confidence"].to_numpy(float))


@pytest.mark.parametrize(
    ("method", "method_kwargs", "message"),
    [
        ("MACE", {"restarts": 3}, r"takes only \['seed', 'n_restarts', 'class_priors'\]"),
        ("MACE", {"n_iter": 3}, "Pass n_iter= to aggregate_locally itself"),
        ("GLAD", {"golden": {}}, "Pass golden= to aggregate_locally itself"),
        ("WEIGHTED_DYNAMIC_OVERLAP", {"seed": 1}, "takes no method_kwargs"),
        ("MAJORITY_VOTE", {"seed": 1}, "takes no method_kwargs"),
        ("MACE", [("seed", 1)], "must be a mapping"),
    ],
)
def test_bad_method_kwargs_are_refused_before_any_work(method, method_kwargs, message) -> None:
    frame = pd.DataFrame({"task_id": ["t"], "worker_id": ["w"]})  # no field: work would fail
    with pytest.raises(InvalidArgumentError, match=message):
        frame.toloka.aggregate_locally(method, method_kwargs=method_kwargs)


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("MACE", {"method_kwargs": {"n_restarts": -5}}, "n_restarts must be a positive integer"),
        ("MACE", {"method_kwargs": {"class_priors": "bogus"}}, "class_priors must be"),
        ("GLAD", {"n_iter": -1}, "n_iter must be a non-negative integer"),
        ("MACE", {"tol": 1e-3}, "does not take tol="),
        ("MAJORITY_VOTE", {"n_iter": 3}, "does not take n_iter="),
    ],
)
def test_bad_option_values_are_refused_even_without_rows(method, kwargs, message) -> None:
    frame, _ = synthetic_pool(n_tasks=5, n_labels=2)
    for rows in (frame.iloc[:0], frame):  # with no rows no pool is aggregated: still refused
        with pytest.raises(InvalidArgumentError, match=message):
            rows.toloka.aggregate_locally(method, fields="result", **kwargs)


def test_golden_tasks_locally_and_worker_quality() -> None:
    frame, truth = synthetic_pool(n_tasks=30, n_labels=3)
    golden = truth.iloc[:10]
    out = frame.toloka.aggregate_locally("GLAD", fields="result", golden=golden)
    assert out.columns[-1] == "golden" and out["golden"].sum() == 10
    marked = out[out["golden"]].set_index("task_id")["result"]
    assert marked.tolist() == golden.reindex(marked.index).tolist()
    with pytest.raises(InvalidArgumentError, match="golden= is supported"):
        frame.toloka.aggregate_locally("WAWA", fields="result", golden=golden)
    with pytest.raises(InvalidArgumentError, match="does not take"):
        frame.toloka.aggregate_locally("WAWA", fields="result", n_iter=3)
    quality = frame.toloka.worker_quality("result", golden=golden)
    assert list(quality.columns) == [
        "worker_id",
        "n_responses",
        "accuracy",
        "n_golden",
        "golden_accuracy",
    ]
    answered = frame[frame["task_id"].isin(golden.index)]
    right = answered["result"].to_numpy() == golden.reindex(answered["task_id"]).to_numpy()
    by_worker = pd.Series(right, index=answered["worker_id"].to_numpy()).groupby(level=0).mean()
    got = quality.set_index("worker_id")["golden_accuracy"].reindex(by_worker.index)
    np.testing.assert_allclose(got.to_numpy(float), by_worker.to_numpy(float))
