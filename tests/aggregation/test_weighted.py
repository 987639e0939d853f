"""Tests of weighted_dynamic_overlap (Toloka's aggregation by skill)."""

from __future__ import annotations

import importlib
import itertools
import logging

import numpy as np
import pandas as pd
import pytest

from pandas_toloka.aggregation import weighted_dynamic_overlap
from pandas_toloka.errors import InvalidArgumentError, MissingColumnsError

SKILLS = pd.DataFrame({"worker_id": ["a", "b", "c"], "value": [70, 80, 90]})


def _responses(tasks, workers, answers, field: str = "result") -> pd.DataFrame:
    return pd.DataFrame({"task_id": tasks, "worker_id": workers, field: answers})


def _wdo(responses, skills=SKILLS, **kw):
    kw.setdefault("fields", "result")
    kw.setdefault("n_options", 2)
    return weighted_dynamic_overlap(responses, skills, **kw)


def test_worked_values_from_the_protocol() -> None:
    df = _responses(
        ["agree"] * 3 + ["split"] * 3, list("abc") * 2, ["OK", "OK", "OK", "OK", "BAD", "OK"]
    )
    result = _wdo(df)
    assert result["task_id"].tolist() == ["agree", "split"]
    assert result["result"].tolist() == ["OK", "OK"]
    assert round(result["confidence"].iloc[0], 5) == 0.98824
    assert result["confidence"].iloc[1] == pytest.approx(0.84, abs=1e-12)


def test_answer_by_weight_confidence_by_posterior_three_options() -> None:
    # Weights: x = 0.6 + 0.6 = 1.2 beats y = 0.9. Posterior (Y = 3):
    # P(x) = .6*.6*(.1/2) = .018, P(y) = .2*.2*.9 = .036, P(z) = .2*.2*.05 = .002.
    skills = pd.DataFrame({"worker_id": ["a", "b", "c"], "value": [60, 60, 90]})
    df = _responses(["t"] * 3, list("abc"), ["x", "x", "y"])
    result = _wdo(df, skills, n_options=3)
    assert result["result"].tolist() == ["x"]
    assert result["confidence"].iloc[0] == pytest.approx(0.018 / 0.056, rel=1e-9)


def _brute_force(answers: list[str], qs: list[float], options: list[str]) -> tuple[str, float]:
    Y = len(options)
    weights = {x: sum(q for a, q in zip(answers, qs) if a == x) for x in options}
    best = max(weights.values())
    answer = min(x for x in options if abs(weights[x] - best) < 1e-12 and x in answers)
    p = {
        x: np.prod([q if a == x else (1 - q) / (Y - 1) for a, q in zip(answers, qs)])
        for x in options
    }
    return answer, p[answer] / sum(p.values())


def test_matches_brute_force_on_random_tasks() -> None:
    rng = np.random.default_rng(1)
    options = ["a", "b", "c", "d"]
    skills = pd.DataFrame({"worker_id": range(20), "value": rng.uniform(5, 95, 20)})
    rows, expected = [], {}
    for t in range(60):
        workers = rng.choice(20, size=rng.integers(1, 6), replace=False)
        answers = [options[i] for i in rng.integers(0, 4, len(workers))]
        rows += [(t, int(w), a) for w, a in zip(workers, answers)]
        expected[t] = _brute_force(
            answers, list(skills["value"].to_numpy()[workers] / 100), options
        )
    result = _wdo(
        pd.DataFrame(rows, columns=["task_id", "worker_id", "result"]), skills, n_options=4
    )
    assert result["task_id"].tolist() == list(range(60))
    assert result["result"].tolist() == [expected[t][0] for t in range(60)]
    np.testing.assert_allclose(result["confidence"], [expected[t][1] for t in range(60)], rtol=1e-9)


def test_weight_ties_more_votes_then_smallest_option() -> None:
    skills = pd.DataFrame({"worker_id": list("abcde"), "value": [70, 20, 90, 50, 50]})
    df = _responses(
        ["votes"] * 3 + ["label"] * 2, ["a", "b", "c", "d", "e"], ["y", "y", "x", "q", "p"]
    )
    result = _wdo(df, skills, n_options=4)
    # 70 + 20 == 90 exactly in skill units (0.7 + 0.2 != 0.9 in floating point): two votes win.
    assert result.set_index("task_id")["result"].to_dict() == {"label": "p", "votes": "y"}


def test_skills_of_zero_and_hundred_stay_finite() -> None:
    skills = pd.DataFrame({"worker_id": ["perfect", "hopeless"], "value": [100, 0]})
    df = _responses(
        ["t1", "t2", "t3", "t3"],
        ["perfect", "hopeless", "perfect", "hopeless"],
        ["x", "x", "x", "y"],
    )
    result = _wdo(df, skills).set_index("task_id")
    assert np.isfinite(result["confidence"]).all()
    assert result.loc["t1", "confidence"] == pytest.approx(1.0, abs=1e-5)
    # q = 0 means "always wrong": its answer has weight 0 and posterior near 0.
    assert result.loc["t2", "result"] == "x" and result.loc["t2", "confidence"] < 1e-5
    assert result.loc["t3", "result"] == "x" and result.loc["t3", "confidence"] == pytest.approx(
        1.0, abs=1e-5
    )


def test_workers_without_skill(caplog: pytest.LogCaptureFixture) -> None:
    df = _responses(
        ["mixed", "mixed", "mixed", "none", "none", "none"],
        ["a", "ghost1", "ghost2", "ghost1", "ghost2", "ghost3"],
        ["x", "y", "y", "y", "x", "y"],
    )
    with caplog.at_level(logging.WARNING, logger="pandas_toloka.aggregation"):
        result = _wdo(df, n_options=3).set_index("task_id")
    # In "mixed" only worker a has a skill: the unskilled votes do not count.
    assert result.loc["mixed", "result"] == "x"
    mixed_alone = _wdo(_responses(["mixed"], ["a"], ["x"]), n_options=3)
    assert result.loc["mixed", "confidence"] == pytest.approx(mixed_alone["confidence"].item())
    # A task with no skilled response is kept: majority answer, uniform confidence 1/Y.
    assert result.loc["none", "result"] == "y"
    assert result.loc["none", "confidence"] == pytest.approx(1 / 3)
    assert "no response from a worker with a known skill" in caplog.text


def test_null_skill_is_unknown_and_default_skill() -> None:
    skills = pd.DataFrame({"worker_id": ["a", "b"], "value": [90.0, None]})
    df = _responses(["t", "t"], ["a", "b"], ["x", "y"])
    assert _wdo(df, skills)["confidence"].item() == pytest.approx(0.9)
    with_default = _wdo(df, skills, default_skill=95)
    assert with_default["result"].item() == "y"
    assert with_default["confidence"].item() == pytest.approx(
        0.95 * 0.1 / (0.95 * 0.1 + 0.05 * 0.9)
    )


def test_several_fields_as_a_joint_tuple() -> None:
    df = pd.DataFrame(
        {
            "task_id": ["t1", "t1", "t1", "t2"],
            "worker_id": ["a", "b", "c", "a"],
            "result": ["cat", "cat", "dog", "dog"],
            "sure": [True, False, False, True],
        }
    )
    result = _wdo(df, fields=["result", "sure"], n_options={"result": 2, "sure": 2})
    assert list(result.columns) == ["task_id", "result", "sure", "confidence"]
    assert result["sure"].dtype == bool and result["result"].dtype == df["result"].dtype
    # Tuples: (cat, True) 0.7, (cat, False) 0.8, (dog, False) 0.9 -> (dog, False).
    assert result.iloc[0][["result", "sure"]].tolist() == ["dog", False]
    p = {
        "cat-T": 0.7 * 0.2 / 3 * 0.1 / 3,
        "cat-F": 0.3 / 3 * 0.8 * 0.1 / 3,
        "dog-F": 0.3 / 3 * 0.2 / 3 * 0.9,
        "dog-T": 0.3 / 3 * 0.2 / 3 * 0.1 / 3,
    }
    assert result["confidence"].iloc[0] == pytest.approx(p["dog-F"] / sum(p.values()))
    same = _wdo(df, fields=["result", "sure"], n_options=4)
    pd.testing.assert_frame_equal(result, same)


def test_tuple_ties_are_lexicographic() -> None:
    skills = pd.DataFrame({"worker_id": ["a", "b"], "value": [80, 80]})
    df = pd.DataFrame(
        {"task_id": ["t", "t"], "worker_id": ["a", "b"], "f1": [2, 1], "f2": ["a", "z"]}
    )
    result = _wdo(df, skills, fields=["f1", "f2"], n_options=4)
    assert result[["f1", "f2"]].iloc[0].tolist() == [1, "z"]


def test_single_option() -> None:
    df = _responses(["t", "t"], ["a", "b"], ["only", "only"])
    result = _wdo(df, n_options=1)
    assert result["confidence"].tolist() == [1.0]


def test_dtype_backends(backend: str, to_backend) -> None:
    df = to_backend(_responses(["t2", "t1", "t1"], ["a", "b", "c"], ["OK", "BAD", "OK"]), backend)
    skills = to_backend(
        SKILLS.astype({"value": float}), backend if backend != "categorical" else "numpy"
    )
    result = _wdo(df, skills)
    assert result["task_id"].dtype == df["task_id"].dtype
    assert result["result"].dtype == df["result"].dtype
    assert [str(v) for v in result["result"]] == ["OK", "OK"]
    assert result["confidence"].tolist() == pytest.approx(
        [0.9 * 0.2 / (0.9 * 0.2 + 0.1 * 0.8), 0.7]
    )


def test_custom_skill_columns_and_int_ids() -> None:
    skills = pd.DataFrame({"user_id": [1, 2, 3], "skill": [70, 80, 90]})
    df = pd.DataFrame({"task": [5, 5, 5], "worker": [1, 2, 3], "label": [0, 1, 0]})
    result = weighted_dynamic_overlap(
        df,
        skills,
        fields="label",
        n_options=2,
        task="task",
        worker="worker",
        skill_worker="user_id",
        skill_value="skill",
    )
    assert list(result.columns) == ["task", "label", "confidence"]
    assert result["label"].tolist() == [0] and result["confidence"].item() == pytest.approx(0.84)


def test_empty_input() -> None:
    df = pd.DataFrame(
        {
            "task_id": pd.Series([], dtype="string[pyarrow]"),
            "worker_id": pd.Series([], dtype="string[pyarrow]"),
            "result": pd.Series([], dtype="bool[pyarrow]"),
        }
    )
    result = _wdo(df)
    assert list(result.columns) == ["task_id", "result", "confidence"] and len(result) == 0
    assert result["result"].dtype == df["result"].dtype and result["confidence"].dtype == np.float64


@pytest.mark.parametrize(
    ("skills", "message"),
    [
        (pd.DataFrame({"worker_id": ["a", "a"], "value": [50, 60]}), "more than once"),
        (pd.DataFrame({"worker_id": ["a"], "value": [101]}), r"\[0, 100\]"),
        (pd.DataFrame({"worker_id": ["a"], "value": [-1]}), r"\[0, 100\]"),
        (pd.DataFrame({"worker_id": ["a"], "value": ["high"]}), "numeric"),
    ],
)
def test_bad_skills(skills: pd.DataFrame, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        _wdo(_responses(["t"], ["a"], ["x"]), skills)


def test_bad_arguments() -> None:
    df = _responses(["t", "t", "t"], list("abc"), ["x", "y", "z"])
    with pytest.raises(InvalidArgumentError, match="distinct answers"):
        _wdo(df, n_options=2)
    for bad in (0, True, "2", 2.0):
        with pytest.raises(InvalidArgumentError, match="n_options"):
            _wdo(df, n_options=bad)
    with pytest.raises(InvalidArgumentError, match="no entry"):
        _wdo(df, n_options={"other": 3})
    with pytest.raises(InvalidArgumentError, match="at least one"):
        _wdo(df, fields=[])
    with pytest.raises(MissingColumnsError) as info:
        _wdo(df, fields=["result", "sure"], n_options=6)
    assert info.value.missing == ["sure"]
    with pytest.raises(MissingColumnsError):
        _wdo(df, SKILLS.rename(columns={"value": "skill"}))
    with pytest.raises(InvalidArgumentError, match="DataFrame"):
        _wdo(df, skills={"a": 70}, n_options=3)  # type: ignore[arg-type]
    with_null = df.astype(object)
    with_null.loc[1, "result"] = None
    with pytest.raises(InvalidArgumentError, match="null"):
        _wdo(with_null, n_options=3)


def test_every_task_appears_once_sorted() -> None:
    rng = np.random.default_rng(7)
    tasks = rng.integers(0, 500, 3000)
    df = _responses(tasks, rng.integers(0, 40, 3000), rng.choice(["a", "b", "c"], 3000))
    skills = pd.DataFrame({"worker_id": range(0, 40, 2), "value": rng.integers(0, 101, 20)})
    result = _wdo(df, skills, n_options=3)
    assert result["task_id"].tolist() == sorted(set(tasks.tolist()))
    assert ((result["confidence"] > 0) & (result["confidence"] <= 1)).all()
    assert list(itertools.islice(result.columns, 3)) == ["task_id", "result", "confidence"]


def test_sparse_path_equals_dense(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    n = 4000
    df = pd.DataFrame(
        {
            "task_id": rng.integers(0, 400, n),
            "worker_id": rng.integers(0, 60, n),
            "result": rng.choice(["a", "b", "c", "d"], n),
            "sure": rng.random(n) < 0.5,
        }
    )
    skills = pd.DataFrame(
        {"worker_id": range(0, 60, 3), "value": rng.choice([0, 20, 50, 70, 100], 20)}
    )
    dense = _wdo(df, skills, fields=["result", "sure"], n_options=8)
    module = importlib.import_module("pandas_toloka.aggregation.weighted")
    monkeypatch.setattr(module, "DENSE_CELL_LIMIT", 0)
    sparse = _wdo(df, skills, fields=["result", "sure"], n_options=8)
    pd.testing.assert_frame_equal(dense, sparse, rtol=1e-12)


@pytest.mark.parametrize("path", ["dense", "sparse"])
def test_confidence_stays_finite_when_every_option_is_chosen_with_tiny_posteriors(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every one of the Y = 2 options is chosen, each by dozens of skill-0 workers: every
    # log-posterior is below -800, so exp() of it underflows to 0. The max shift must then
    # use the chosen options only (no unchosen option contributes a 0 log-posterior).
    if path == "sparse":
        module = importlib.import_module("pandas_toloka.aggregation.weighted")
        monkeypatch.setattr(module, "DENSE_CELL_LIMIT", 0)
    even = _responses(["even"] * 120, [f"e{i}" for i in range(120)], ["x", "y"] * 60)
    uneven = _responses(["uneven"] * 130, [f"u{i}" for i in range(130)], ["x"] * 70 + ["y"] * 60)
    df = pd.concat([even, uneven], ignore_index=True)
    skills = pd.DataFrame({"worker_id": df["worker_id"], "value": 0})
    result = _wdo(df, skills).set_index("task_id")
    assert np.isfinite(result["confidence"]).all()
    # Weights are all 0: the tie goes to more votes, then to the smallest option.
    assert result["result"].to_dict() == {"even": "x", "uneven": "x"}
    assert result.loc["even", "confidence"] == pytest.approx(0.5, rel=1e-12)
    e = np.log(1e-6) - np.log1p(-1e-6)  # evidence of one skill-0 answer (q clipped to 1e-6)
    expected = 1.0 / (1.0 + np.exp(-10 * e))  # P(x) / (P(x) + P(y)), S_y - S_x = -10 e
    assert result.loc["uneven", "confidence"] == pytest.approx(expected, rel=1e-9)
    assert result.loc["uneven", "confidence"] > 0


def test_duplicate_responses_both_count() -> None:
    # Worker a (skill 60) answers t twice: its weight is added twice (1.2 > 0.8) and its
    # factor enters P(x) twice: P(y) ~ .6 * .6 * .2, P(x) ~ .4 * .4 * .8.
    skills = pd.DataFrame({"worker_id": ["a", "b"], "value": [60, 80]})
    result = _wdo(_responses(["t"] * 3, ["a", "a", "b"], ["y", "y", "x"]), skills)
    assert result["result"].tolist() == ["y"]
    assert result["confidence"].iloc[0] == pytest.approx(0.072 / (0.072 + 0.128), rel=1e-12)
