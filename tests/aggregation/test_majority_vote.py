"""Tests of majority_vote."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from pandas_toloka.aggregation import majority_vote
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError


def _frame(tasks, workers, labels) -> pd.DataFrame:
    return pd.DataFrame({"task_id": tasks, "worker_id": workers, "result": labels})


SIMPLE = _frame(
    ["t2", "t1", "t1", "t1", "t2", "t3"],
    ["a", "a", "b", "c", "b", "a"],
    ["dog", "cat", "dog", "cat", "dog", "cat"],
)


def test_hand_computed() -> None:
    result = majority_vote(SIMPLE)
    assert list(result.columns) == ["task_id", "result", "confidence"]
    assert result["task_id"].tolist() == ["t1", "t2", "t3"]
    assert result["result"].tolist() == ["cat", "dog", "cat"]
    np.testing.assert_allclose(result["confidence"], [2 / 3, 1.0, 1.0])
    assert result["confidence"].dtype == np.float64
    assert isinstance(result.index, pd.RangeIndex)


def test_tie_goes_to_smallest_label() -> None:
    df = _frame(["t"] * 4, list("abcd"), ["zebra", "ant", "zebra", "ant"])
    result = majority_vote(df)
    assert result["result"].tolist() == ["ant"]
    assert result["confidence"].tolist() == [0.5]


def test_tie_with_int_labels_uses_numeric_order() -> None:
    df = _frame(["t"] * 2, ["a", "b"], [10, 9])
    assert majority_vote(df)["result"].tolist() == [9]


def test_tie_with_categorical_uses_category_order() -> None:
    labels = pd.Categorical(["low", "high"], categories=["low", "high"], ordered=True)
    df = _frame(["t", "t"], ["a", "b"], labels)
    result = majority_vote(df)
    assert result["result"].tolist() == ["low"]
    assert isinstance(result["result"].dtype, pd.CategoricalDtype)


def test_int_task_ids_sorted_numerically() -> None:
    df = _frame([10, 2, 1, 2], ["a", "a", "a", "b"], ["x", "y", "x", "y"])
    result = majority_vote(df)
    assert result["task_id"].tolist() == [1, 2, 10]
    assert result["task_id"].dtype == np.int64


def test_bool_labels_stay_bool() -> None:
    df = _frame(["t1", "t1", "t1", "t2"], list("abca"), [True, False, True, False])
    result = majority_vote(df)
    assert result["result"].dtype == bool
    assert result["result"].tolist() == [True, False]


def test_dtype_backends_preserved(backend: str, to_backend) -> None:
    df = to_backend(SIMPLE, backend)
    result = majority_vote(df)
    assert result["task_id"].dtype == df["task_id"].dtype
    assert result["result"].dtype == df["result"].dtype
    assert result["confidence"].dtype == np.float64
    assert [str(v) for v in result["result"]] == ["cat", "dog", "cat"]
    assert [str(v) for v in result["task_id"]] == ["t1", "t2", "t3"]


@pytest.mark.parametrize("backend", ["numpy", "numpy_nullable", "pyarrow"])
def test_int_ids_and_labels_backends(backend: str, to_backend) -> None:
    df = to_backend(_frame([3, 1, 1, 3], [7, 7, 8, 8], [0, 1, 1, 0]), backend)
    result = majority_vote(df)
    assert result["task_id"].tolist() == [1, 3]
    assert result["result"].tolist() == [1, 0]
    assert result["result"].dtype == df["result"].dtype


def test_custom_column_names() -> None:
    df = SIMPLE.rename(columns={"task_id": "q", "worker_id": "w", "result": "ans"})
    result = majority_vote(df, task="q", worker="w", label="ans")
    assert list(result.columns) == ["q", "ans", "confidence"]
    assert result["ans"].tolist() == ["cat", "dog", "cat"]


def test_labels_fix_the_dtype_and_reject_unknown() -> None:
    df = SIMPLE.astype({"result": "string[pyarrow]"})
    result = majority_vote(df, labels=["cat", "dog", "bird"])
    assert result["result"].dtype == df["result"].dtype
    assert result["result"].tolist() == ["cat", "dog", "cat"]
    with pytest.raises(InvalidArgumentError, match="not in labels"):
        majority_vote(df, labels=["cat"])


def test_empty_input() -> None:
    df = pd.DataFrame(
        {
            "task_id": pd.Series([], dtype="string[pyarrow]"),
            "worker_id": pd.Series([], dtype="string[pyarrow]"),
            "result": pd.Series([], dtype="int64[pyarrow]"),
        }
    )
    result = majority_vote(df)
    assert list(result.columns) == ["task_id", "result", "confidence"]
    assert len(result) == 0
    assert result["task_id"].dtype == df["task_id"].dtype
    assert result["result"].dtype == df["result"].dtype
    assert result["confidence"].dtype == np.float64


def test_missing_columns() -> None:
    with pytest.raises(MissingColumnsError) as info:
        majority_vote(SIMPLE.drop(columns=["worker_id"]))
    assert info.value.missing == ["worker_id"]


@pytest.mark.parametrize("column", ["task_id", "worker_id"])
def test_null_ids_raise(column: str) -> None:
    df = SIMPLE.astype(object)
    df.loc[2, column] = None
    with pytest.raises(InvalidArgumentError, match="null"):
        majority_vote(df)


def test_null_labels_are_dropped_with_a_warning() -> None:
    df = SIMPLE.astype(object)
    df.loc[2, "result"] = None
    with pytest.warns(DroppedResponsesWarning, match="dropped 1 of"):
        result = majority_vote(df)
    pd.testing.assert_frame_equal(result, majority_vote(df.drop(index=2)))


def test_not_a_frame_and_clashing_names() -> None:
    with pytest.raises(InvalidArgumentError, match="DataFrame"):
        majority_vote([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="both name"):
        majority_vote(SIMPLE, label="task_id")


def test_sparse_path_equals_dense(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    df = _frame(rng.integers(0, 300, 3000), rng.integers(0, 50, 3000), rng.integers(0, 6, 3000))
    dense = majority_vote(df)
    module = importlib.import_module("pandas_toloka.aggregation.majority_vote")
    monkeypatch.setattr(module, "DENSE_CELL_LIMIT", 0)
    sparse = majority_vote(df)
    pd.testing.assert_frame_equal(dense, sparse)


def test_real_datasets_accuracy(dataset, score) -> None:
    name, answers, truth = dataset
    result = majority_vote(answers, task="question", worker="worker", label="answer")
    assert len(result) == answers["question"].nunique()
    minimum = {"duck": 0.7593, "product": 0.8966}[name]
    assert round(score(result, truth), 4) >= minimum  # the reference figures are rounded


def test_equals_crowd_kit(dataset) -> None:
    # crowd-kit's MajorityVote on the same answers, stored by
    # tests/reference/crowdkit/make_crowdkit.py
    from pools import crowdkit_tasks

    name, answers, _ = dataset
    ours = majority_vote(answers, task="question", worker="worker", label="answer").set_index(
        "question"
    )
    theirs = crowdkit_tasks(f"{name}-MAJORITY_VOTE.csv.gz").reindex(ours.index)
    pd.testing.assert_series_equal(
        ours["answer"], theirs["label"], check_names=False, check_dtype=False
    )
    confidence = theirs.filter(like="p_", axis=1).max(axis=1)
    np.testing.assert_allclose(ours["confidence"].to_numpy(), confidence.to_numpy())


def test_duplicate_responses_both_count() -> None:
    # Worker a answers t twice: two votes for y (counted once it would be a tie -> x).
    df = pd.DataFrame(
        {"task_id": ["t", "t", "t"], "worker_id": ["a", "a", "b"], "result": ["y", "y", "x"]}
    )
    result = majority_vote(df)
    assert result["result"].tolist() == ["y"]
    assert result["confidence"].tolist() == pytest.approx([2 / 3])


@pytest.mark.parametrize("n_labels", [2, 5, 40, 3000])
def test_winners_are_the_first_maximum_for_few_and_many_labels(n_labels: int) -> None:
    # Few labels are compared row by row, many by argmax: both give the first (smallest)
    # label among the most voted, and its share of the votes.
    from pandas_toloka.aggregation.majority_vote import _winners_dense

    rng = np.random.default_rng(n_labels)
    n_tasks = 300
    task = np.r_[np.arange(n_tasks), rng.integers(0, n_tasks, 3000)]
    label = rng.integers(0, n_labels, len(task))
    label[: min(n_labels, n_tasks)] = np.arange(min(n_labels, n_tasks))
    counts = np.zeros((n_tasks, n_labels))
    np.add.at(counts, (task, label), 1)
    expected = counts.argmax(axis=1)
    winner, share = _winners_dense(task, label, n_tasks, n_labels)
    np.testing.assert_array_equal(winner, expected)
    np.testing.assert_allclose(share, counts.max(axis=1) / counts.sum(axis=1))
