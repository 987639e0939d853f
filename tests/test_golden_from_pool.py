"""golden="pool": the control tasks' known solutions as golden labels; skills read from the API."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import pandas_toloka as ptk
from pandas_toloka.aggregation import aggregation_report
from pandas_toloka.aggregation._golden import anchor_labels, known_solutions_from_frame
from pandas_toloka.errors import InvalidArgumentError, TolokaWarning
from pandas_toloka.server.demo import DS_POOL_ID, SKILL_ID, SKILL_POOL_ID


@pytest.fixture(scope="module")
def pool(demo_served):  # type: ignore[no-untyped-def]
    server, client, _ = demo_served
    responses = ptk.read_responses(DS_POOL_ID, client=client, progress_bar=False)
    tasks = ptk.read_tasks(DS_POOL_ID, client=client, progress_bar=False)
    return server, client, responses, tasks


def test_golden_pool_anchors_on_the_control_tasks(pool) -> None:  # type: ignore[no-untyped-def]
    server, client, responses, tasks = pool
    control = tasks[tasks["golden.result"].notna()]
    assert len(control) == len(tasks) // 20  # every 20th task of the demo
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the demo's control tasks have one answer each
        out = responses.toloka.aggregate_locally(fields="result", golden="pool", client=client)
    assert out["golden"].sum() == len(control)
    marked = out[out["golden"]].set_index("task_id")["result"].astype(str)
    truth = control.set_index("task_id")["golden.result"].astype(str)
    pd.testing.assert_series_equal(marked.sort_index(), truth.sort_index(), check_names=False)
    # the same from the tasks frame, and from url=/token= instead of a client
    by_frame = responses.toloka.aggregate_locally(fields="result", golden=tasks)
    pd.testing.assert_frame_equal(by_frame, out)
    by_url = responses.toloka.aggregate_locally(
        fields="result", golden="pool", url=server.url, token=server.token
    )
    pd.testing.assert_frame_equal(by_url, out)
    models = responses.toloka.fit_locally(fields="result", golden="pool", client=client)
    assert models[DS_POOL_ID].to_frame()["golden"].sum() == len(control)


def test_worker_quality_scores_workers_on_the_control_tasks(pool) -> None:  # type: ignore[no-untyped-def]
    _, client, responses, tasks = pool
    quality = responses.toloka.worker_quality("result", golden="pool", client=client)
    assert {"n_golden", "golden_accuracy"} <= set(quality.columns)
    truth = tasks.set_index("task_id")["golden.result"].dropna().astype(str)
    on_control = responses[responses["task_id"].isin(truth.index)]
    right = on_control["result"].astype(str).to_numpy() == truth[on_control["task_id"]].to_numpy()
    expected = (
        on_control.assign(right=right)
        .groupby("worker_id", observed=True)["right"]
        .agg(["size", "mean"])
    )
    got = quality.set_index("worker_id").loc[expected.index]
    assert (got["n_golden"].to_numpy() == expected["size"].to_numpy()).all()
    assert got["golden_accuracy"].to_numpy() == pytest.approx(expected["mean"].to_numpy())
    assert quality["n_golden"].sum() == len(on_control)


def test_a_results_export_uses_its_golden_columns_without_a_request(pool) -> None:  # type: ignore[no-untyped-def]
    server, client, responses, tasks = pool
    export = ptk.read_assignments_export(DS_POOL_ID, client=client)
    out = export.toloka.aggregate_locally(fields="result", golden="pool")  # no connection given
    assert out["golden"].sum() == tasks["golden.result"].notna().sum()
    plain = export.toloka.aggregate_locally(fields="result")
    report = aggregation_report(plain, "pool", responses=export)
    by_tasks = aggregation_report(responses.toloka.aggregate_locally(fields="result"), tasks)
    assert report["n_tasks"] == by_tasks["n_tasks"] == out["golden"].sum()
    assert report["accuracy"] == by_tasks["accuracy"]


def test_golden_pool_without_a_source_says_what_to_pass(pool) -> None:  # type: ignore[no-untyped-def]
    _, _, responses, _ = pool
    with pytest.raises(InvalidArgumentError, match=r"client= \(or token=/url=\)"):
        responses.toloka.aggregate_locally(fields="result", golden="pool")
    with pytest.raises(InvalidArgumentError, match="golden must be 'pool'"):
        responses.toloka.aggregate_locally(fields="result", golden="tasks")
    with pytest.raises(InvalidArgumentError, match="not by type='MAJORITY_VOTE'"):
        responses.toloka.aggregate_locally("MAJORITY_VOTE", fields="result", golden="pool")
    with pytest.raises(InvalidArgumentError, match="responses="):
        aggregation_report(responses.iloc[:0], "pool")


def _tasks(solutions: list[list[tuple[str, float]] | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task_id": [f"t{i}" for i in range(len(solutions))],
            "known_solutions": [
                None
                if s is None
                else [{"output_values": {"result": v}, "correctness_weight": w} for v, w in s]
                for s in solutions
            ],
        }
    )


def test_several_known_solutions_and_their_weights() -> None:
    tasks = _tasks(
        [
            [("cat", 1.0)],  # one answer: golden
            [("cat", 1.0), ("dog", 0.5)],  # cat dominates
            [("cat", 1.0), ("dog", 1.0)],  # a tie: golden for none
            [("dog", 0.0)],  # weight 0: never an anchor
            None,  # not a control task
        ]
    )
    known = known_solutions_from_frame(tasks, field="result")
    assert known == {
        "t0": {"cat": 1.0},
        "t1": {"cat": 1.0, "dog": 0.5},
        "t2": {"cat": 1.0, "dog": 1.0},
        "t3": {"dog": 0.0},
    }
    anchors, tied = anchor_labels(known)
    assert anchors == {"t0": "cat", "t1": "cat"} and tied == ["t2", "t3"]
    responses = pd.DataFrame(
        {
            "task_id": ["t0", "t1", "t2", "t3", "t4"] * 2,
            "worker_id": ["a"] * 5 + ["b"] * 5,
            "result": ["cat", "dog", "dog", "dog", "cat", "dog", "cat", "cat", "cat", "cat"],
        }
    )
    with pytest.warns(TolokaWarning, match="2 control task"):
        out = responses.toloka.aggregate_locally(fields="result", golden=tasks)
    assert out.set_index("task_id")["golden"].to_dict() == {
        "t0": True,
        "t1": True,
        "t2": False,
        "t3": False,
        "t4": False,
    }
    with pytest.warns(TolokaWarning):
        quality = responses.toloka.worker_quality("result", golden=tasks)
    # a: cat on t0 (1), dog on t1 (0.5), dog on t2 (1), dog on t3 (0) -> 2.5 / 4
    # b: dog on t0 (0), cat on t1 (1), cat on t2 (1), cat on t3 (0) -> 2 / 4
    by_worker = quality.set_index("worker_id")
    assert by_worker["n_golden"].tolist() == [4, 4]
    assert by_worker["golden_accuracy"].tolist() == pytest.approx([0.625, 0.5])
    result = pd.DataFrame(
        {"task_id": ["t0", "t1", "t2"], "result": ["dog", "dog", "dog"], "confidence": 0.5}
    )
    report = aggregation_report(result, tasks)
    assert report["n_tasks"] == 3 and report["accuracy"] == pytest.approx((0 + 0.5 + 1) / 3)


def test_local_skill_weighting_reads_the_skill_when_given_a_client(demo_served) -> None:  # type: ignore[no-untyped-def]
    _, client, _ = demo_served
    responses = ptk.read_responses(SKILL_POOL_ID, client=client, progress_bar=False)
    local = responses.toloka.aggregate_locally(
        "WEIGHTED_DYNAMIC_OVERLAP", fields="result", answer_weight_skill_id=SKILL_ID, client=client
    )
    served = ptk.read_aggregated_solutions(
        SKILL_POOL_ID,
        type="WEIGHTED_DYNAMIC_OVERLAP",
        fields="result",
        answer_weight_skill_id=SKILL_ID,
        client=client,
        progress_bar=False,
    )
    assert local["task_id"].tolist() == served["task_id"].tolist()
    assert local["result"].astype(str).tolist() == served["result"].astype(str).tolist()
    assert local["confidence"].to_numpy() == pytest.approx(served["confidence"].to_numpy())
    with pytest.raises(InvalidArgumentError, match="client= .or token=/url=. with answer_weight"):
        responses.toloka.aggregate_locally(
            "WEIGHTED_DYNAMIC_OVERLAP", fields="result", answer_weight_skill_id=SKILL_ID
        )
    with pytest.raises(InvalidArgumentError, match="pass answer_weight_skill_id="):
        responses.toloka.aggregate_locally(
            "WEIGHTED_DYNAMIC_OVERLAP", fields="result", client=client
        )


def test_the_accessors_report_reads_the_pools_control_tasks_as_truth(pool) -> None:  # type: ignore[no-untyped-def]
    server, client, responses, tasks = pool
    result = responses.toloka.aggregate_locally(fields="result")
    by_tasks = aggregation_report(result, tasks)  # the function, given the tasks frame
    assert by_tasks["n_tasks"] == tasks["golden.result"].notna().sum() > 0
    read = result.toloka.aggregation_report(client=client)  # truth="pool": read_tasks
    pd.testing.assert_series_equal(read, by_tasks)
    by_url = result.toloka.aggregation_report("pool", url=server.url, token=server.token)
    pd.testing.assert_series_equal(by_url, by_tasks)
    # with the responses: their agreement figures too; a results export needs no request
    with_responses = result.toloka.aggregation_report(responses=responses, client=client)
    assert with_responses[by_tasks.index].tolist() == by_tasks.tolist()
    assert "krippendorff_alpha" in with_responses.index
    export = ptk.read_assignments_export(DS_POOL_ID, client=client)
    plain = export.toloka.aggregate_locally(fields="result")
    offline = plain.toloka.aggregation_report(responses=export)
    assert offline["n_tasks"] == by_tasks["n_tasks"]
    # anchored tasks are right by construction: left out of the report
    anchored = responses.toloka.aggregate_locally(fields="result", golden="pool", client=client)
    assert anchored.toloka.aggregation_report(client=client)["n_tasks"] == 0
    with pytest.raises(InvalidArgumentError, match=r"truth='pool'.*client="):
        result.toloka.aggregation_report()
    with pytest.raises(InvalidArgumentError, match="n_bins"):
        result.toloka.aggregation_report(n_bins=0, url="http://127.0.0.1:9")  # before a request
