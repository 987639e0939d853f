"""Tests of dawid_skene / fit_dawid_skene."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pandas_toloka.aggregation import DawidSkeneModel, dawid_skene, fit_dawid_skene, majority_vote
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError

EPS = 1e-10


def _frame(tasks, workers, labels) -> pd.DataFrame:
    return pd.DataFrame({"task_id": tasks, "worker_id": workers, "result": labels})


def _reference_em(df: pd.DataFrame, n_iter: int) -> dict:
    """A slow, loop-by-loop Dawid-Skene written from the formulas (no early stop)."""
    rows = list(df[["task_id", "worker_id", "result"]].itertuples(index=False, name=None))
    tasks = sorted({t for t, _, _ in rows})
    workers = sorted({w for _, w, _ in rows})
    labels = sorted({o for _, _, o in rows})
    K = len(labels)
    post = {t: [0.0] * K for t in tasks}
    for t, _, o in rows:
        post[t][labels.index(o)] += 1
    for t in tasks:
        total = sum(post[t])
        post[t] = [v / total for v in post[t]]

    def m_step(post):
        priors = [sum(post[t][k] for t in tasks) / len(tasks) for k in range(K)]
        used = {(w, o) for _, w, o in rows}
        conf = {}
        for w in workers:
            for k in range(K):
                cells = {}
                for o in labels:
                    if (w, o) in used:
                        cells[o] = max(
                            sum(post[t][k] for t, w2, o2 in rows if w2 == w and o2 == o), EPS
                        )
                total = sum(cells.values())
                conf[w, k] = {o: v / total for o, v in cells.items()}
        return priors, conf

    priors, conf = m_step(post)
    for _ in range(n_iter):
        new = {}
        for t in tasks:
            logs = [math.log(max(priors[k], EPS)) for k in range(K)]
            for t2, w, o in rows:
                if t2 == t:
                    for k in range(K):
                        logs[k] += math.log(conf[w, k][o])
            top = max(logs)
            exps = [math.exp(v - top) for v in logs]
            new[t] = [v / sum(exps) for v in exps]
        post = new
        priors, conf = m_step(post)
    return {
        "tasks": tasks,
        "labels": labels,
        "post": np.array([post[t] for t in tasks]),
        "priors": priors,
    }


def _random_responses(
    seed: int, n_tasks: int = 40, n_workers: int = 8, n_labels: int = 3
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_labels, n_tasks)
    accuracy = rng.uniform(0.3, 0.95, n_workers)
    rows = []
    for t in range(n_tasks):
        for w in rng.choice(n_workers, size=3, replace=False):
            label = truth[t] if rng.random() < accuracy[w] else rng.integers(0, n_labels)
            rows.append((f"t{t:03d}", f"w{w}", f"L{label}"))
    return pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])


@pytest.mark.parametrize("n_iter", [0, 1, 3, 7])
def test_matches_slow_reference(n_iter: int) -> None:
    df = _random_responses(n_iter)
    model = fit_dawid_skene(df, n_iter=n_iter, tol=0.0)
    assert model.n_iter_run == n_iter or (model.converged and model.n_iter_run > 0)
    reference = _reference_em(df, model.n_iter_run)
    assert list(model.tasks) == reference["tasks"]
    assert list(model.labels) == reference["labels"]
    np.testing.assert_allclose(model.posteriors, reference["post"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.priors, reference["priors"], rtol=1e-9)


def test_n_iter_zero_gives_vote_shares() -> None:
    df = _frame(["t1", "t1", "t1", "t2"], list("abca"), ["x", "y", "x", "y"])
    model = fit_dawid_skene(df, n_iter=0)
    assert model.n_iter_run == 0
    np.testing.assert_allclose(model.posteriors, [[2 / 3, 1 / 3], [0.0, 1.0]])
    result = dawid_skene(df, n_iter=0)
    assert result["result"].tolist() == ["x", "y"]


def test_consistent_workers_recover_labels_with_high_confidence() -> None:
    df = _frame(
        ["t1"] * 3 + ["t2"] * 3 + ["t3"] * 3,
        list("abc") * 3,
        ["cat", "cat", "dog", "dog", "dog", "dog", "cat", "cat", "cat"],
    )
    result = dawid_skene(df)
    assert result["result"].tolist() == ["cat", "dog", "cat"]
    assert (result["confidence"] > 0.9).all()


def test_tie_goes_to_first_label() -> None:
    # One task, two workers who disagree: perfectly symmetric posteriors.
    df = _frame(["t", "t"], ["a", "b"], ["yes", "no"])
    model = fit_dawid_skene(df)
    np.testing.assert_allclose(model.posteriors, [[0.5, 0.5]])
    assert model.to_frame()["result"].tolist() == ["no"]  # "no" < "yes"
    assert model.to_frame()["confidence"].tolist() == [0.5]


def test_single_worker() -> None:
    df = _frame(["t1", "t2", "t3"], ["a"] * 3, [1, 0, 1])
    result = dawid_skene(df)
    assert result["result"].tolist() == [1, 0, 1]
    assert result["result"].dtype == np.int64
    assert (result["confidence"] > 0.99).all()


def test_single_class() -> None:
    df = _frame(["t1", "t1", "t2"], ["a", "b", "a"], ["only", "only", "only"])
    model = fit_dawid_skene(df)
    np.testing.assert_allclose(model.posteriors, [[1.0], [1.0]])
    np.testing.assert_allclose(model.priors, [1.0])
    np.testing.assert_allclose(model.confusion, [[[1.0]], [[1.0]]])
    assert model.to_frame()["confidence"].tolist() == [1.0, 1.0]


def test_task_and_worker_with_one_response() -> None:
    df = _frame(
        ["t1", "t1", "t2", "t2", "t3", "t4"],
        ["a", "b", "a", "b", "a", "lonely"],
        ["x", "x", "y", "y", "y", "x"],
    )
    model = fit_dawid_skene(df)
    result = model.to_frame()
    assert result["task_id"].tolist() == ["t1", "t2", "t3", "t4"]
    assert result["result"].tolist()[:3] == ["x", "y", "y"]
    # A worker who only ever used one label has confusion rows that all put
    # probability 1 on it: their response carries no information, so a task
    # answered only by them gets the priors as posterior (as in crowd-kit).
    np.testing.assert_allclose(model.confusion[model.workers.get_loc("lonely")], [[1, 0], [1, 0]])
    # (The E-step of the last iteration used the priors of the one before.)
    previous = fit_dawid_skene(df, n_iter=model.n_iter_run - 1)
    np.testing.assert_allclose(model.posteriors[3], previous.priors, rtol=1e-9)
    assert result["result"].iloc[3] == model.labels[previous.priors.argmax()]
    quality = model.worker_quality().set_index("worker_id")
    assert quality.loc["lonely", "n_responses"] == 1
    np.testing.assert_allclose(model.posteriors.sum(axis=1), 1.0)


def test_unobserved_label_in_label_space() -> None:
    df = _frame(["t1", "t1", "t2"], ["a", "b", "a"], ["x", "x", "y"])
    model = fit_dawid_skene(df, labels=["z", "y", "x"])
    assert list(model.labels) == ["x", "y", "z"]
    assert model.posteriors.shape == (2, 3)
    assert model.posteriors[:, 2].max() < 1e-6
    # A true class nobody supports: uniform over the labels the worker used.
    np.testing.assert_allclose(model.confusion[0, 2], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(model.confusion.sum(axis=2), 1.0)
    with pytest.raises(InvalidArgumentError, match="not in labels"):
        fit_dawid_skene(df, labels=["x"])


def test_model_accessors() -> None:
    df = _random_responses(5)
    model = fit_dawid_skene(df)
    assert isinstance(model, DawidSkeneModel)
    assert "DawidSkeneModel(" in repr(model)
    frame = model.to_frame()
    row = frame.iloc[7]
    single = model.task_result(row["task_id"])
    assert single == {
        "task_id": row["task_id"],
        "label": row["result"],
        "confidence": row["confidence"],
    }
    posterior = model.task_posterior(row["task_id"])
    assert posterior.idxmax() == row["result"] and posterior.sum() == pytest.approx(1.0)
    with pytest.raises(KeyError):
        model.task_result("no such task")
    assert model.posterior_frame().shape == (len(model.tasks), len(model.labels))

    quality = model.worker_quality()
    assert list(quality.columns) == ["worker_id", "n_responses", "accuracy"]
    assert quality["n_responses"].sum() == len(df)
    expected = np.einsum("wkk,k->w", model.confusion, model.priors)
    np.testing.assert_allclose(quality["accuracy"], expected)
    assert ((quality["accuracy"] >= 0) & (quality["accuracy"] <= 1)).all()

    long = model.confusion_frame()
    W, K = len(model.workers), len(model.labels)
    assert len(long) == W * K * K
    assert list(long.columns) == ["worker_id", "true_label", "observed_label", "probability"]
    sums = long.groupby(["worker_id", "true_label"])["probability"].sum()
    np.testing.assert_allclose(sums, 1.0)
    w0 = model.workers[0]
    cell = long[
        (long.worker_id == w0)
        & (long.true_label == model.labels[1])
        & (long.observed_label == model.labels[0])
    ]
    assert cell["probability"].item() == model.confusion[0, 1, 0]


def test_dtype_backends(backend: str, to_backend) -> None:
    df = to_backend(_random_responses(3), backend)
    result = dawid_skene(df)
    plain = dawid_skene(_random_responses(3))
    assert result["task_id"].dtype == df["task_id"].dtype
    assert result["result"].dtype == df["result"].dtype
    assert [str(v) for v in result["result"]] == plain["result"].tolist()
    np.testing.assert_allclose(result["confidence"], plain["confidence"])


def test_int_and_bool_labels() -> None:
    df = _frame([5, 5, 5, 1, 1, 1], list("abcabc"), [True, True, False, False, False, True])
    result = dawid_skene(df)
    assert result["task_id"].tolist() == [1, 5]
    assert result["result"].dtype == bool
    assert result["result"].tolist() == [False, True]


def test_empty_input() -> None:
    df = pd.DataFrame(
        {
            "task_id": pd.Series([], dtype="int64"),
            "worker_id": pd.Series([], dtype="str"),
            "result": pd.Series([], dtype="boolean"),
        }
    )
    result = dawid_skene(df)
    assert list(result.columns) == ["task_id", "result", "confidence"]
    assert (
        len(result) == 0
        and result["result"].dtype == "boolean"
        and result["task_id"].dtype == np.int64
    )
    assert result["confidence"].dtype == np.float64
    model = fit_dawid_skene(df, labels=[True, False])
    assert model.posteriors.shape == (0, 2) and len(model.worker_quality()) == 0


def test_bad_input() -> None:
    df = _random_responses(1)
    with pytest.raises(MissingColumnsError) as info:
        dawid_skene(df.drop(columns=["result"]))
    assert info.value.missing == ["result"]
    with_null = df.copy()
    with_null.loc[3, "result"] = None
    with pytest.warns(DroppedResponsesWarning, match="dropped 1 of") as caught:
        dropped = dawid_skene(with_null)
    assert caught[0].filename == __file__  # points at the caller
    pd.testing.assert_frame_equal(dropped, dawid_skene(df.drop(index=3)))
    with_null_task = df.copy()
    with_null_task.loc[3, "task_id"] = None
    with pytest.raises(InvalidArgumentError, match="null"):
        dawid_skene(with_null_task)
    for bad in (-1, 2.5, True):
        with pytest.raises(InvalidArgumentError, match="n_iter"):
            dawid_skene(df, n_iter=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="tol"):
        dawid_skene(df, tol=float("nan"))


def test_iteration_bookkeeping() -> None:
    df = _random_responses(2)
    one = fit_dawid_skene(df, n_iter=1)
    assert one.n_iter_run == 1 and len(one.loss_history) == 1
    full = fit_dawid_skene(df, n_iter=500, tol=1e-12)
    assert full.converged and full.n_iter_run < 500


def test_beats_majority_vote_on_synthetic_spammers() -> None:
    rng = np.random.default_rng(42)
    n_tasks, n_workers = 2000, 30
    truth = rng.integers(0, 2, n_tasks)
    accuracy = np.r_[rng.uniform(0.75, 0.95, 18), np.full(12, 0.5)]  # 12 spammers
    task = np.repeat(np.arange(n_tasks), 5)
    worker = np.concatenate([rng.choice(n_workers, 5, replace=False) for _ in range(n_tasks)])
    correct = rng.random(len(task)) < accuracy[worker]
    label = np.where(correct, truth[task], 1 - truth[task])
    df = _frame(task, worker, label)
    ds = dawid_skene(df)["result"].to_numpy()
    mv = majority_vote(df)["result"].to_numpy()
    assert (ds == truth).mean() > (mv == truth).mean()
    assert (ds == truth).mean() > 0.9


def test_real_datasets_accuracy(dataset, score) -> None:
    name, answers, truth = dataset
    result = dawid_skene(answers, task="question", worker="worker", label="answer")
    minimum = {"duck": 0.8889, "product": 0.9397}[name]
    assert round(score(result, truth), 4) >= minimum  # the reference figures are rounded


def test_equals_crowd_kit(dataset) -> None:
    # crowd-kit's DawidSkene(n_iter=100) on the same answers, stored by
    # tests/reference/crowdkit/make_crowdkit.py
    from pools import crowdkit_meta, crowdkit_posteriors, crowdkit_tasks

    name, answers, _ = dataset
    model = fit_dawid_skene(answers, task="question", worker="worker", label="answer")
    theirs = crowdkit_tasks(f"{name}-DAWID_SKENE.csv.gz")
    loss_history = crowdkit_meta()[f"{name}-DAWID_SKENE-loss_history"]
    assert model.n_iter_run == len(loss_history)
    np.testing.assert_allclose(model.loss_history, loss_history, rtol=1e-9)
    probas = crowdkit_posteriors(
        pd.DataFrame(model.posteriors, index=model.tasks, columns=model.labels), theirs
    )
    np.testing.assert_allclose(model.posteriors, probas, atol=2e-10)  # crowd-kit clips at 1e-10
    ours = model.to_frame().set_index("question")["answer"]
    # No exact ties on these datasets: labels must agree everywhere.
    assert (ours.to_numpy() == theirs["label"].reindex(ours.index).to_numpy()).all()


def test_duplicate_responses_both_count() -> None:
    # The same worker answering the same task twice (same label, or another one): both
    # responses enter the vote shares, the confusion counts and the task's posterior, as
    # in crowd-kit. The slow reference iterates over every row, duplicates included.
    df = _random_responses(11)
    repeated = pd.concat(
        [
            df,
            df.iloc[::7],
            df.iloc[[3]].assign(result="L2" if df["result"].iloc[3] != "L2" else "L0"),
        ],
        ignore_index=True,
    )
    model = fit_dawid_skene(repeated, n_iter=5, tol=0.0)
    reference = _reference_em(repeated, model.n_iter_run)
    np.testing.assert_allclose(model.posteriors, reference["post"], rtol=1e-9, atol=1e-12)
    assert model.n_responses.sum() == len(repeated)
    deduplicated = fit_dawid_skene(repeated.drop_duplicates(), n_iter=5, tol=0.0)
    assert not np.allclose(model.posteriors, deduplicated.posteriors)
    # With n_iter=0 the posteriors are the vote shares, counting both answers.
    shares = fit_dawid_skene(_frame(["t", "t", "t"], ["a", "a", "b"], ["y", "y", "x"]), n_iter=0)
    np.testing.assert_allclose(shares.posteriors, [[1 / 3, 2 / 3]])
