"""Reading comparisons: winner forms, dtypes, bad input and dropped rows."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import pandas_toloka.aggregation as agg
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError

METHODS = [
    agg.bradley_terry,
    agg.noisy_bradley_terry,
    agg.elo,
    agg.counting,
    agg.average_win_rate,
    agg.eigenvector,
    agg.pagerank,
]
COLUMNS = ["item", "score", "rank", "n_comparisons", "ci_low", "ci_high"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "left": ["a", "b", "a", "c", "b", "a"],
            "right": ["b", "c", "c", "a", "a", "b"],
            "winner": ["left", "left", "tie", "right", "right", "left"],
            "worker_id": ["w1", "w1", "w2", "w2", "w3", "w3"],
        }
    )


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_every_method_returns_the_typed_ranking(method: object) -> None:
    out = method(_frame(), n_bootstrap=20)  # type: ignore[operator]
    assert list(out.columns) == COLUMNS
    assert out["item"].dtype == _frame()["left"].dtype
    assert [str(out[c].dtype) for c in COLUMNS[1:]] == [
        "float64",
        "int64",
        "int64",
        "float64",
        "float64",
    ]
    assert sorted(out["item"]) == ["a", "b", "c"]
    assert np.isfinite(out[["score", "ci_low", "ci_high"]].to_numpy()).all()
    assert (out["rank"].diff().dropna() >= 0).all()  # best first
    assert out["n_comparisons"].tolist() == [{"a": 5, "b": 4, "c": 3}[item] for item in out["item"]]


@pytest.mark.parametrize("backend", ["numpy_nullable", "pyarrow", "categorical"])
def test_dtype_backends_give_the_same_scores(backend: str) -> None:
    frame = _frame()
    converted = frame.copy()
    for column in frame:
        if backend == "categorical":
            converted[column] = frame[column].astype("category")
        else:
            converted[column] = frame[column].convert_dtypes(dtype_backend=backend)
    ours = agg.bradley_terry(converted, n_bootstrap=0)
    plain = agg.bradley_terry(frame, n_bootstrap=0)
    assert ours["item"].dtype == converted["left"].dtype
    np.testing.assert_array_equal(ours["score"], plain["score"])


def test_winner_as_item_ids_equals_winner_as_sides() -> None:
    frame = _frame()
    ids = frame.copy()
    ids["winner"] = np.select(
        [frame["winner"] == "left", frame["winner"] == "right"],
        [frame["left"], frame["right"]],
        "tie",
    )
    by_sides = agg.bradley_terry(frame, n_bootstrap=0)
    by_ids = agg.bradley_terry(ids, n_bootstrap=0)
    pd.testing.assert_frame_equal(by_sides, by_ids)
    explicit = agg.bradley_terry(ids, winner_kind="items", n_bootstrap=0)
    pd.testing.assert_frame_equal(by_ids, explicit)


def test_integer_item_ids() -> None:
    frame = pd.DataFrame({"left": [1, 2, 1], "right": [2, 3, 3], "winner": [1, 2, 3]})
    out = agg.counting(frame, n_bootstrap=0)
    assert out["item"].tolist() == [1, 2, 3]
    assert out["score"].tolist() == [1.0, 1.0, 1.0]


def test_ambiguous_winner_is_refused() -> None:
    frame = pd.DataFrame(
        {"left": ["left", "right"], "right": ["right", "x"], "winner": ["left", "right"]}
    )
    with pytest.raises(InvalidArgumentError, match="could name a side or an item"):
        agg.bradley_terry(frame)
    sides = agg.counting(frame, winner_kind="sides", n_bootstrap=0).set_index("item")["score"]
    assert sides.to_dict() == {"left": 1.0, "right": 0.0, "x": 1.0}
    items = agg.counting(frame, winner_kind="items", n_bootstrap=0).set_index("item")["score"]
    assert items.to_dict() == {"left": 1.0, "right": 1.0, "x": 0.0}


def test_unknown_winner_values_name_the_argument() -> None:
    frame = _frame()
    frame.loc[2, "winner"] = "Left"
    with pytest.raises(InvalidArgumentError, match=r"'winner'.*'Left'"):
        agg.bradley_terry(frame, winner_kind="sides")
    with pytest.raises(InvalidArgumentError, match="equal to neither"):
        agg.bradley_terry(frame, winner_kind="items")
    with pytest.raises(InvalidArgumentError, match="winner_kind must be"):
        agg.bradley_terry(_frame(), winner_kind="side")  # type: ignore[arg-type]


def test_missing_columns_and_shared_names() -> None:
    with pytest.raises(MissingColumnsError, match="choice"):
        agg.bradley_terry(_frame(), winner="choice")
    with pytest.raises(MissingColumnsError, match="worker_id"):
        agg.noisy_bradley_terry(_frame().drop(columns="worker_id"))
    # Methods that ignore workers do not need the column.
    agg.bradley_terry(_frame().drop(columns="worker_id"), n_bootstrap=0)
    with pytest.raises(InvalidArgumentError, match="both name"):
        agg.bradley_terry(_frame(), left="left", right="left")
    with pytest.raises(InvalidArgumentError, match="DataFrame"):
        agg.bradley_terry([1, 2, 3])  # type: ignore[arg-type]


def test_nulls_and_self_comparisons_are_dropped_with_a_count() -> None:
    frame = _frame()
    frame.loc[0, "winner"] = None
    frame.loc[1, "right"] = None
    frame.loc[5, "right"] = "a"  # a against a
    with pytest.warns(DroppedResponsesWarning) as caught:
        model = agg.fit_bradley_terry(frame, n_bootstrap=0)
    messages = [str(w.message) for w in caught]
    assert any("dropped 2 of 6" in m and "missing" in m for m in messages)
    assert any("dropped 1 of 4" in m and "itself" in m for m in messages)
    assert model.n_dropped == 3
    assert int(model.n_comparisons.sum()) == 2 * 3


def test_items_only_in_self_comparisons_leave_the_ranking() -> None:
    frame = pd.DataFrame({"left": ["a", "z"], "right": ["b", "z"], "winner": ["left", "tie"]})
    with pytest.warns(DroppedResponsesWarning, match="itself"):
        out = agg.bradley_terry(frame, n_bootstrap=0)
    assert out["item"].tolist() == ["a", "b"]


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_empty_frames_give_empty_typed_rankings(method: object) -> None:
    empty = _frame().iloc[:0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = method(empty)  # type: ignore[operator]
    assert list(out.columns) == COLUMNS and len(out) == 0
    assert out["rank"].dtype == np.int64 and out["score"].dtype == np.float64


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"n_bootstrap": -1}, "n_bootstrap"),
        ({"n_bootstrap": 1.5}, "n_bootstrap"),
        ({"confidence": 1.0}, "confidence"),
        ({"seed": -3}, "seed"),
        ({"prior": -0.1}, "prior"),
        ({"prior": float("nan")}, "prior"),
        ({"n_iter": -1}, "n_iter"),
        ({"tol": "x"}, "tol"),
    ],
)
def test_bad_options_are_refused_before_any_work(options: dict, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        agg.bradley_terry("not even a frame", **options)  # type: ignore[arg-type]


def test_method_specific_options() -> None:
    for options, match in [
        ({"k": 0}, "k"),
        ({"base": 1.0}, "base"),
        ({"scale": -1}, "scale"),
        ({"shuffle": "yes"}, "shuffle"),
        ({"initial": float("inf")}, "initial"),
    ]:
        with pytest.raises(InvalidArgumentError, match=match):
            agg.elo(_frame(), **options)
    with pytest.raises(InvalidArgumentError, match="prior"):
        agg.noisy_bradley_terry(_frame(), prior=0.0)
    with pytest.raises(InvalidArgumentError, match="damping"):
        agg.pagerank(_frame(), damping=1.5)


def test_errors_pickle() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        agg.bradley_terry(_frame(), winner_kind="nope")  # type: ignore[arg-type]
    again = pickle.loads(pickle.dumps(caught.value))
    assert str(again) == str(caught.value)
