"""The agreement measures on hand-made pools: definitions, degenerate cases, bad input."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pandas_toloka.agreement as ag
from pandas_toloka.aggregation import fit_dawid_skene
from pandas_toloka.agreement import _alpha, _kappa
from pandas_toloka.agreement._common import pairs_within_groups
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError


def _frame(rows: list[tuple[object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])


def _brute_alpha(frame: pd.DataFrame, level: str) -> float:
    """Krippendorff's definition, literally: the coincidence matrix, pair by pair."""
    units = [g["result"].tolist() for _, g in frame.groupby("task_id") if len(g) >= 2]
    values = sorted({v for unit in units for v in unit})
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for unit in units:
        for i, j in itertools.permutations(range(len(unit)), 2):
            o[index[unit[i]], index[unit[j]]] += 1.0 / (len(unit) - 1)
    n_c = o.sum(axis=0)
    n = n_c.sum()

    def delta(c: int, k: int) -> float:
        a, b = values[c], values[k]
        if level == "nominal":
            return float(a != b)
        if level == "interval":
            return float((a - b) ** 2)
        if level == "ratio":
            return 0.0 if a + b == 0 else float(((a - b) / (a + b)) ** 2)
        lo, hi = min(c, k), max(c, k)
        return float((n_c[lo : hi + 1].sum() - (n_c[c] + n_c[k]) / 2) ** 2)

    d = np.array([[delta(c, k) for k in range(len(values))] for c in range(len(values))])
    return float(1 - (n - 1) * (o * d).sum() / (np.outer(n_c, n_c) * d).sum())


# -- Krippendorff's alpha ---------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 4), st.sampled_from([0.0, 1.0, 2.0, 4.5, 7.0])),
        min_size=2,
        max_size=40,
    ),
    st.sampled_from(["nominal", "ordinal", "interval", "ratio"]),
)
def test_alpha_is_the_definition(rows, level) -> None:
    # repeated (task, worker) pairs included: every response is a value of its task
    frame = _frame(rows)
    sizes = frame.groupby("task_id").size()
    pairable = frame[frame["task_id"].isin(sizes[sizes >= 2].index)]
    alpha = ag.krippendorff_alpha(frame, level=level)
    if pairable.empty:
        assert np.isnan(alpha)
    elif pairable["result"].nunique() == 1:
        assert alpha == 1.0
    else:
        assert alpha == pytest.approx(_brute_alpha(frame, level), abs=1e-9)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_alpha_by_cells_equals_alpha_by_count_matrix(monkeypatch, level) -> None:
    # large pools (tasks x labels above a limit) count the occupied cells only
    rng = np.random.default_rng(8)
    rows = [(t, w, float(rng.choice([0.5, 1, 3, 8]))) for t in range(50) for w in range(5)]
    frame = _frame([r for r in rows if rng.random() < 0.6] + [(99, 0, 1.0)])
    dense = ag.krippendorff_alpha(frame, level=level)
    monkeypatch.setattr(_alpha, "_DENSE_CELLS", 0)
    assert ag.krippendorff_alpha(frame, level=level) == pytest.approx(dense, abs=1e-12)
    assert ag.krippendorff_alpha(frame, level=level) == pytest.approx(
        _brute_alpha(frame, level), abs=1e-9
    )


def test_interval_alpha_keeps_its_precision_far_from_zero() -> None:
    rows = [
        (t, w, 1e9 + v)
        for t, vs in enumerate([(0, 1), (2, 2), (5, 4), (1, 0), (3, 3)])
        for w, v in enumerate(vs)
    ]
    shifted = _frame(rows)
    plain = shifted.assign(result=shifted["result"] - 1e9)
    assert ag.krippendorff_alpha(shifted, level="interval") == pytest.approx(
        ag.krippendorff_alpha(plain, level="interval"), abs=1e-9
    )


def test_ordinal_alpha_follows_category_order_not_spelling() -> None:
    order = ["low", "mid", "high"]
    rows = [
        ("t1", "a", "low"),
        ("t1", "b", "mid"),
        ("t2", "a", "high"),
        ("t2", "b", "high"),
        ("t3", "a", "low"),
        ("t3", "b", "low"),
    ]
    frame = _frame(rows)
    ordered = frame.assign(result=pd.Categorical(frame["result"], categories=order, ordered=True))
    numbers = frame.assign(result=frame["result"].map({"low": 0, "mid": 1, "high": 2}))
    assert ag.krippendorff_alpha(ordered, level="ordinal") == pytest.approx(
        ag.krippendorff_alpha(numbers, level="ordinal"), abs=1e-12
    )


def test_alpha_degenerate_cases() -> None:
    same = _frame([("t1", "a", "x"), ("t1", "b", "x"), ("t2", "a", "x"), ("t2", "b", "x")])
    assert ag.krippendorff_alpha(same) == 1.0
    one_worker = _frame([("t1", "a", "x"), ("t2", "a", "y")])
    assert np.isnan(ag.krippendorff_alpha(one_worker))
    assert np.isnan(ag.krippendorff_alpha(_frame([])))
    # a single value next to pairable ones does not count
    unpaired = _frame([("t1", "a", "x"), ("t1", "b", "x"), ("t2", "a", "y")])
    assert ag.krippendorff_alpha(unpaired) == 1.0


def test_alpha_counts_dropped_labels_and_checks_arguments() -> None:
    frame = _frame(
        [("t1", "a", 1.0), ("t1", "b", None), ("t1", "c", 1.0), ("t2", "a", 2.0), ("t2", "b", 3.0)]
    )
    with pytest.warns(DroppedResponsesWarning, match="dropped 1 of 5"):
        ag.krippendorff_alpha(frame)
    with pytest.raises(InvalidArgumentError, match="level must be one of"):
        ag.krippendorff_alpha(frame.dropna(), level="cardinal")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="level='interval' needs numeric labels"):
        ag.krippendorff_alpha(frame.dropna().astype({"result": str}), level="interval")
    with pytest.raises(InvalidArgumentError, match="finite"):
        ag.krippendorff_alpha(frame.dropna().replace({3.0: np.inf}), level="ratio")
    with pytest.raises(MissingColumnsError, match="'label'"):
        ag.krippendorff_alpha(frame, label="label")
    with pytest.raises(InvalidArgumentError, match="responses must be a pandas DataFrame"):
        ag.krippendorff_alpha([1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="worker column"):
        ag.krippendorff_alpha(frame.dropna().assign(worker_id=[None, "b", "a", "b"]))


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "category", "object"])
def test_alpha_is_the_same_on_every_dtype_backend(dtype) -> None:
    rows = [(f"t{t}", f"w{w}", "abc"[(t * w) % 3]) for t in range(8) for w in range(3)]
    frame = _frame(rows)
    assert ag.krippendorff_alpha(frame.astype(dtype)) == pytest.approx(
        ag.krippendorff_alpha(frame), abs=1e-12
    )


@pytest.mark.parametrize("choices", [[2, 3, 5, 9], [4, 5, 6]])  # gaps, or every value
def test_integer_labels_coded_by_offset_equal_hashed_ones(choices) -> None:
    rng = np.random.default_rng(3)
    rows = [
        (t, w, int(rng.choice(choices))) for t in range(30) for w in range(4) if rng.random() < 0.7
    ]
    frame = _frame(rows)
    as_float = frame.astype({"result": "float64"})  # hashed (factorize) path
    for dtype in ["int64", "Int64", "int8", "uint16", "uint64", "int64[pyarrow]"]:
        typed = frame.astype({"result": dtype})
        for level in ["nominal", "ordinal", "interval", "ratio"]:
            expected = ag.krippendorff_alpha(as_float, level=level)
            assert ag.krippendorff_alpha(typed, level=level) == pytest.approx(expected, abs=1e-12)
        assert ag.fleiss_kappa(typed) == pytest.approx(ag.fleiss_kappa(as_float), abs=1e-12)


# -- Fleiss' and Cohen's kappa ----------------------------------------------------------------


def test_fleiss_kappa_on_fleiss_1971() -> None:
    # The worked example of Fleiss (1971) as given on Wikipedia: 10 subjects, 14 raters each,
    # 5 categories; kappa = 0.210 (P = 0.378, P_e = 0.213).
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    rows = []
    for subject, counts in enumerate(table):
        raters = iter(range(14))
        for category, count in enumerate(counts):
            rows += [(subject, next(raters), category) for _ in range(count)]
    assert ag.fleiss_kappa(_frame(rows)) == pytest.approx(0.20993, abs=5e-6)


def test_fleiss_kappa_degenerate_cases() -> None:
    assert (
        ag.fleiss_kappa(_frame([("t1", "a", 1), ("t1", "b", 1), ("t2", "a", 1), ("t2", "c", 1)]))
        == 1.0
    )
    assert np.isnan(ag.fleiss_kappa(_frame([("t1", "a", 1), ("t2", "a", 2)])))


def test_cohen_kappa_is_sparse_and_typed() -> None:
    frame = _frame(
        [
            ("t1", "a", "x"),
            ("t1", "b", "x"),
            ("t2", "a", "y"),
            ("t2", "b", "x"),
            ("t3", "c", "y"),
            ("t3", "d", "y"),
        ]
    )
    result = ag.cohen_kappa(frame)
    assert result[["worker_a", "worker_b"]].values.tolist() == [["a", "b"], ["c", "d"]]
    assert result["n_shared"].dtype == np.int64
    assert result["kappa"].tolist() == [0.0, 1.0]  # p_o = 1/2 = p_e; one shared label: 1.0
    assert ag.cohen_kappa(frame, min_shared=2)["worker_a"].tolist() == ["a"]
    alone = ag.cohen_kappa(_frame([("t1", "a", "x")]))
    assert (
        list(alone.columns) == ["worker_a", "worker_b", "n_shared", "agreement", "kappa"]
        and alone.empty
    )
    with pytest.raises(InvalidArgumentError, match="min_shared"):
        ag.cohen_kappa(frame, min_shared=0)


def test_cohen_kappa_keeps_the_first_of_repeated_answers() -> None:
    frame = _frame(
        [("t1", "a", "x"), ("t1", "a", "y"), ("t1", "b", "x"), ("t2", "a", "y"), ("t2", "b", "y")]
    )
    with pytest.warns(DroppedResponsesWarning, match="dropped 1 of 5"):
        result = ag.cohen_kappa(frame)
    assert result["agreement"].tolist() == [1.0]


def test_cohen_kappa_in_chunks_and_sorted_equals_one_dense_pass(monkeypatch) -> None:
    rng = np.random.default_rng(5)
    rows = [
        (t, w, int(rng.integers(0, 3))) for t in range(60) for w in range(9) if rng.random() < 0.6
    ]
    frame = _frame(rows)
    whole = ag.cohen_kappa(frame)
    monkeypatch.setattr(_kappa, "_PAIRS_PER_CHUNK", 7)
    chunked = ag.cohen_kappa(frame)
    pd.testing.assert_frame_equal(whole, chunked)
    monkeypatch.setattr(_kappa, "_DENSE_PAIRS", 0)  # many workers: keys reduced by sorting
    pd.testing.assert_frame_equal(whole, ag.cohen_kappa(frame))


def test_pairs_within_groups() -> None:
    first, second = pairs_within_groups(np.array([3, 0, 1, 2]))
    assert list(zip(first.tolist(), second.tolist(), strict=True)) == [
        (0, 1),
        (0, 2),
        (1, 2),
        (4, 5),
    ]


# -- workers, tasks, crowd-kit's metrics ------------------------------------------------------


def test_worker_agreement_by_hand() -> None:
    frame = _frame(
        [
            ("t1", "a", "x"),
            ("t1", "b", "x"),
            ("t1", "c", "y"),
            ("t2", "a", "y"),
            ("t2", "b", "y"),
            ("t3", "d", "x"),
        ]
    )
    result = ag.worker_agreement(frame).set_index("worker_id")
    assert result["n_responses"].tolist() == [2, 2, 1, 1]
    assert result["n_peer_pairs"].tolist() == [3, 3, 2, 0]
    np.testing.assert_allclose(result["agreement_with_peers"][:3], [2 / 3, 2 / 3, 0.0])
    assert np.isnan(result.loc["d", "agreement_with_peers"])  # nobody to compare with
    assert result["agreement_with_aggregate"].tolist() == [1.0, 1.0, 0.0, 1.0]
    np.testing.assert_allclose(result["entropy"], [np.log(2), np.log(2), 0.0, 0.0])
    # an aggregate from elsewhere: a frame, a Series or a mapping give the same
    truth = {"t1": "y", "t2": "y"}
    by_mapping = ag.worker_agreement(frame, aggregate=truth)
    by_series = ag.worker_agreement(frame, aggregate=pd.Series(truth))
    by_frame = ag.worker_agreement(
        frame, aggregate=pd.DataFrame({"task_id": ["t1", "t2"], "result": ["y", "y"]})
    )
    pd.testing.assert_frame_equal(by_mapping, by_series)
    pd.testing.assert_frame_equal(by_mapping, by_frame)
    assert by_mapping["n_evaluated"].tolist() == [2, 2, 1, 0]
    assert by_mapping["agreement_with_aggregate"].tolist()[:3] == [0.5, 0.5, 1.0]


def test_aggregate_and_skills_errors_name_the_argument() -> None:
    frame = _frame([("t1", "a", "x"), ("t1", "b", "y")])
    with pytest.raises(InvalidArgumentError, match="aggregate shares no task"):
        ag.worker_agreement(frame, aggregate={"other": "x"})
    with pytest.raises(InvalidArgumentError, match="aggregate lists some task"):
        ag.accuracy_on_aggregates(frame, aggregate=pd.Series(["x", "y"], index=["t1", "t1"]))
    with pytest.raises(InvalidArgumentError, match="aggregate must be"):
        ag.accuracy_on_aggregates(frame, aggregate=["x"])  # type: ignore[arg-type]
    with pytest.raises(MissingColumnsError, match="in aggregate="):
        ag.accuracy_on_aggregates(frame, aggregate=pd.DataFrame({"task_id": ["t1"]}))
    with pytest.raises(InvalidArgumentError, match="skills has no value for 1 worker"):
        ag.consistency(frame, skills={"a": 0.9})
    with pytest.raises(InvalidArgumentError, match="skills must hold probabilities"):
        ag.task_uncertainty(frame, skills={"a": 0.9, "b": 1.5})
    with pytest.raises(InvalidArgumentError, match="percentile"):
        ag.entropy_threshold(frame, percentile=101)
    with pytest.raises(InvalidArgumentError, match="min_answers"):
        ag.entropy_threshold(frame, min_answers=-1)


def test_an_aggregate_label_nobody_chose_is_a_disagreement() -> None:
    frame = _frame([("t1", "a", "x"), ("t1", "b", "x"), ("t2", "a", "x"), ("t2", "b", "y")])
    assert ag.accuracy_on_aggregates(frame, aggregate={"t1": "z", "t2": "x"}) == 0.25
    result = ag.consistency(
        frame, aggregate={"t1": "z", "t2": "x"}, skills={"a": 0.8, "b": 0.8}, by_task=True
    )
    assert result["consistency"].tolist()[0] == 0.0


def test_consistency_without_estimable_skills_asks_for_them() -> None:
    frame = _frame([("t1", "a", "x"), ("t1", "b", "x"), ("t2", "c", "y")])
    with pytest.raises(InvalidArgumentError, match="pass skills="):
        ag.consistency(frame, aggregate={"t1": "x"})


def test_consistency_with_certain_workers() -> None:
    # skills of 1 contradicting each other: every label's likelihood is 0 -> 0, as crowd-kit
    frame = _frame([("t1", "a", "x"), ("t1", "b", "y"), ("t2", "a", "x"), ("t2", "b", "x")])
    result = ag.consistency(frame, skills={"a": 1.0, "b": 1.0}, by_task=True)
    assert result["consistency"].tolist() == [0.0, 1.0]
    # many responses do not underflow
    many = _frame([("t1", f"w{i}", "x") for i in range(2000)] + [("t1", "z", "y")])
    assert ag.consistency(
        many, skills=dict.fromkeys([f"w{i}" for i in range(2000)] + ["z"], 0.6)
    ) == pytest.approx(1.0)


def test_consistency_of_no_responses_is_nan_not_a_crash() -> None:
    empty = _frame([("t1", "a", "x")]).iloc[0:0]
    assert np.isnan(ag.consistency(empty))
    assert ag.consistency(empty, by_task=True).empty
    unlabelled = _frame([("t1", "a", "x"), ("t1", "b", "x")]).assign(result=None)
    with pytest.warns(DroppedResponsesWarning):
        assert np.isnan(ag.consistency(unlabelled))


def test_task_uncertainty_of_posteriors() -> None:
    rng = np.random.default_rng(1)
    frame = _frame([(t, w, int(rng.integers(0, 3))) for t in range(20) for w in range(5)])
    model = fit_dawid_skene(frame)
    posterior = model.posterior_frame()
    from_model = ag.task_uncertainty(posteriors=model)
    from_frame = ag.task_uncertainty(posteriors=posterior * 3)  # rows are normalised
    p = posterior.to_numpy()
    expected = -(np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0)).sum(axis=1)
    np.testing.assert_allclose(from_model["entropy"], expected, atol=1e-12)
    np.testing.assert_allclose(from_frame["entropy"], expected, atol=1e-12)
    bits = ag.task_uncertainty(frame, base=2)
    np.testing.assert_allclose(bits["entropy"], ag.task_uncertainty(frame)["entropy"] / np.log(2))
    with pytest.raises(InvalidArgumentError, match="not both or neither"):
        ag.task_uncertainty(frame, posteriors=model)
    with pytest.raises(InvalidArgumentError, match="not both or neither"):
        ag.task_uncertainty()
    with pytest.raises(InvalidArgumentError, match="row summing to 0"):
        ag.task_uncertainty(posteriors=posterior * 0)
    with pytest.raises(InvalidArgumentError, match="base"):
        ag.task_uncertainty(frame, base=1)


def test_entropy_threshold_keeps_unlabelled_rows_and_small_workers() -> None:
    rows = [(t, "spam", "x") for t in range(6)] + [(t, "good", "xy"[t % 2]) for t in range(6)]
    rows += [(0, "new", "y"), (1, "good", None)]
    frame = _frame(rows)
    with pytest.warns(DroppedResponsesWarning, match="removed 6 of 14 response"):
        kept = ag.entropy_threshold(frame, percentile=10, min_answers=2)
    assert set(kept["worker_id"]) == {"good", "new"}
    assert kept["result"].isna().sum() == 1


def test_errors_pickle() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        ag.krippendorff_alpha(_frame([]), level="bad")  # type: ignore[arg-type]
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)
