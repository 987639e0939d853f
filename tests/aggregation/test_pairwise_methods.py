"""The pairwise methods' documented behaviour: degenerate graphs, intervals, order, models."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import pandas_toloka.aggregation as agg
from pandas_toloka.errors import InvalidArgumentError


def _simulated(n_items: int = 6, n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.linspace(1.5, -1.5, n_items)
    left = rng.integers(0, n_items, n)
    right = (left + rng.integers(1, n_items, n)) % n_items
    p = 1 / (1 + np.exp(-(truth[left] - truth[right])))
    winner = np.where(rng.random(n) < p, "left", "right")
    names = np.array([f"i{k}" for k in range(n_items)])
    frame = pd.DataFrame(
        {
            "left": names[left],
            "right": names[right],
            "winner": winner,
            "worker_id": np.char.add("w", (rng.integers(0, 8, n)).astype(str)),
        }
    )
    return frame, truth


def test_disconnected_graph_needs_the_prior() -> None:
    # Two groups never compared with each other, and "c" never wins.
    frame = pd.DataFrame(
        {
            "left": ["a", "b", "a", "x", "y"],
            "right": ["b", "a", "c", "y", "x"],
            "winner": ["left", "left", "left", "left", "tie"],
            "worker_id": ["w1", "w2", "w1", "w2", "w1"],
        }
    )
    with pytest.raises(InvalidArgumentError, match=r"not strongly connected.*never win: \['c'\]"):
        agg.bradley_terry(frame, prior=0.0)
    out = agg.bradley_terry(frame, n_bootstrap=50).set_index("item")
    assert np.isfinite(out[["score", "ci_low", "ci_high"]].to_numpy()).all()
    assert out.loc["c", "rank"] == 5 and out.loc["c", "score"] > 0
    # Each group is centred on the reference: a and b equal, x above y.
    assert out.loc["a", "score"] == pytest.approx(out.loc["b", "score"] * 1.0, rel=0.05)
    assert out.loc["x", "score"] > out.loc["y", "score"]
    # Every method gives finite numbers here.
    for method in (
        agg.noisy_bradley_terry,
        agg.elo,
        agg.counting,
        agg.average_win_rate,
        agg.eigenvector,
        agg.pagerank,
    ):
        result = method(frame, n_bootstrap=5)
        assert np.isfinite(result[["score", "ci_low", "ci_high"]].to_numpy()).all()


def test_prior_zero_bootstrap_replicates_are_checked_too() -> None:
    # Connected, but a replicate easily drops the one loss of "a".
    frame = pd.DataFrame(
        {
            "left": ["a", "a", "b", "b"],
            "right": ["b", "b", "a", "c"],
            "winner": ["left", "left", "left", "tie"],
        }
    )
    assert agg.bradley_terry(frame, prior=0.0, n_bootstrap=0)["score"].notna().all()
    with pytest.raises(InvalidArgumentError, match="bootstrap replicate"):
        agg.bradley_terry(frame, prior=0.0, n_bootstrap=100)


def test_intervals_are_seeded_and_cover_the_truth() -> None:
    frame, truth = _simulated()
    first = agg.bradley_terry(frame, n_bootstrap=100, seed=7)
    again = agg.bradley_terry(frame, n_bootstrap=100, seed=7)
    other = agg.bradley_terry(frame, n_bootstrap=100, seed=8)
    pd.testing.assert_frame_equal(first, again)
    assert not np.array_equal(first["ci_low"], other["ci_low"])
    assert (first["ci_low"] < first["ci_high"]).all()
    # Scores have geometric mean 1, so log-scores are the centred log-strengths.
    ranked = first.set_index("item").sort_index()
    centred = truth - truth.mean()
    inside = (np.log(ranked["ci_low"]) <= centred) & (centred <= np.log(ranked["ci_high"]))
    assert inside.sum() >= 4  # 95% intervals for 6 items (centred on the estimated mean)
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5, 6]


def test_no_bootstrap_gives_intervals_equal_to_the_score() -> None:
    frame, _ = _simulated()
    for method in (agg.bradley_terry, agg.elo, agg.pagerank):
        out = method(frame, n_bootstrap=0)
        np.testing.assert_array_equal(out["ci_low"], out["score"])
        np.testing.assert_array_equal(out["ci_high"], out["score"])


def test_bootstrap_does_not_depend_on_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    frame, _ = _simulated()
    two = agg.bradley_terry(frame, n_bootstrap=60)
    monkeypatch.setenv("PANDAS_TOLOKA_MAX_THREADS", "1")
    from pandas_toloka.aggregation import _threads

    monkeypatch.setattr(_threads, "_pool", None)
    one = agg.bradley_terry(frame, n_bootstrap=60)
    pd.testing.assert_frame_equal(one, two)


def test_elo_depends_on_order_and_shuffles_by_seed() -> None:
    frame, _ = _simulated(n=200)
    forward = agg.elo(frame, n_bootstrap=0).set_index("item")["score"]
    backward = agg.elo(frame.iloc[::-1], n_bootstrap=0).set_index("item")["score"]
    assert not np.allclose(forward.sort_index(), backward.sort_index())
    shuffled = agg.elo(frame, shuffle=True, seed=3, n_bootstrap=0)
    pd.testing.assert_frame_equal(shuffled, agg.elo(frame, shuffle=True, seed=3, n_bootstrap=0))
    # Ratings are zero-sum around the initial rating.
    assert forward.mean() == pytest.approx(1000.0)
    assert agg.elo(frame, initial=1500.0, n_bootstrap=0)["score"].mean() == pytest.approx(1500.0)


def test_elo_by_hand() -> None:
    frame = pd.DataFrame({"left": ["a", "a"], "right": ["b", "b"], "winner": ["left", "tie"]})
    out = agg.elo(frame, k=32.0, n_bootstrap=0).set_index("item")["score"]
    a = 1000 + 32 * (1 - 0.5)
    expected = 1 / (1 + 10 ** ((2000 - a - a) / 400))
    a += 32 * (0.5 - expected)
    assert out["a"] == pytest.approx(a)
    assert out["b"] == pytest.approx(2000 - a)


def test_items_that_never_win_or_never_lose() -> None:
    frame = pd.DataFrame(
        {
            "left": ["a", "a", "b", "c"],
            "right": ["b", "c", "c", "d"],
            "winner": ["left", "left", "left", "left"],
        }
    )
    frame["worker_id"] = "w1"
    for method in (agg.bradley_terry, agg.noisy_bradley_terry, agg.average_win_rate, agg.pagerank):
        out = method(frame, n_bootstrap=5)
        assert out["item"].iloc[0] == "a", method.__name__  # never lost
        assert np.isfinite(out[["score", "ci_low", "ci_high"]].to_numpy()).all()
    # The prior keeps "a" (never lost) and "d" (never won) finite: the strengths are
    # those of the same data with 0.01 extra wins and losses against a reference.
    scores = agg.bradley_terry(frame, n_bootstrap=0).set_index("item")["score"]
    assert 10 < scores["a"] / scores["b"] < 1e4
    # An acyclic win graph has no positive leading eigenvector: every score tends to 0.
    eigen = agg.eigenvector(frame, n_bootstrap=0)
    assert np.isfinite(eigen["score"]).all() and (eigen["score"] >= 0).all()


def test_noisy_bradley_terry_with_a_single_worker() -> None:
    frame, _ = _simulated(n=200)
    frame["worker_id"] = "only"
    model = agg.fit_noisy_bradley_terry(frame, n_bootstrap=3, n_iter=200)
    assert model.n_iter_run <= 200
    quality = model.worker_quality()
    assert quality["worker_id"].tolist() == ["only"]
    assert quality["n_responses"].tolist() == [200]
    assert 0 < quality["reliability"].iloc[0] < 1 and 0 < quality["bias"].iloc[0] < 1
    assert model.to_frame()["item"].tolist() == [f"i{k}" for k in range(6)]


def test_noisy_bradley_terry_discounts_careless_workers() -> None:
    frame, truth = _simulated(n_items=6, n=1500, seed=4)
    careless = frame["worker_id"].isin(["w0", "w1", "w2"])
    frame.loc[careless, "winner"] = "left"  # always clicks left
    noisy = agg.fit_noisy_bradley_terry(frame, n_bootstrap=0)
    plain = agg.fit_bradley_terry(frame, n_bootstrap=0)
    quality = noisy.worker_quality().set_index("worker_id")
    assert (quality.loc[["w0", "w1", "w2"], "bias"] > 0.9).all()
    assert (quality.loc[["w0", "w1", "w2"], "reliability"] < 0.2).all()
    # Both rank the items right; NoisyBT's scale is wider (reliability < 1 of the careful
    # workers trades off against the spread of the strengths: docs/side-by-side.md).
    expected = [f"i{k}" for k in range(6)]
    assert noisy.to_frame()["item"].tolist() == expected
    assert plain.to_frame()["item"].tolist() == expected
    history = np.array(noisy.loss_history)
    assert (np.diff(history) >= -1e-12).all()  # never decreases


def test_model_frames_ranks_and_pickling() -> None:
    frame, _ = _simulated()
    model = agg.fit_noisy_bradley_terry(frame, n_bootstrap=5, n_iter=100)
    assert isinstance(model, agg.RankingModel)
    assert "n_items=6" in repr(model) and "n_bootstrap=5" in repr(model)
    assert model.replicates.shape == (5, 6)
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.to_frame(), model.to_frame())
    rates = model.win_rates()
    assert rates.shape == (6, 6) and np.isnan(np.diag(rates.to_numpy())).all()
    off = rates.to_numpy()[~np.eye(6, dtype=bool)]
    np.testing.assert_allclose(off + rates.to_numpy().T[~np.eye(6, dtype=bool)], 1.0)
    with pytest.raises(AttributeError):
        model.scores = np.zeros(6)  # type: ignore[misc]


def test_equal_scores_share_the_best_rank() -> None:
    frame = pd.DataFrame(
        {"left": ["a", "b", "c"], "right": ["b", "c", "a"], "winner": ["left", "left", "left"]}
    )
    out = agg.counting(frame, n_bootstrap=0)
    assert out["rank"].tolist() == [1, 1, 1]
    assert out["item"].tolist() == ["a", "b", "c"]


@pytest.mark.parametrize(
    "method",
    [
        agg.bradley_terry,
        agg.noisy_bradley_terry,
        agg.counting,
        agg.average_win_rate,
        agg.eigenvector,
        agg.pagerank,
    ],
    ids=lambda m: m.__name__,
)
def test_counted_comparisons_equal_the_rows(method: object) -> None:
    frame, _ = _simulated(n=300)
    frame.loc[::7, "winner"] = "tie"
    counted = (
        frame.groupby(["left", "right", "winner", "worker_id"]).size().rename("n").reset_index()
    )
    counted = counted.sample(frac=1.0, random_state=1)  # any order
    rows = method(frame, n_bootstrap=30, seed=4)  # type: ignore[operator]
    table = method(counted, counts="n", n_bootstrap=30, seed=4)  # type: ignore[operator]
    pd.testing.assert_frame_equal(rows, table, check_exact=False, rtol=1e-9, atol=1e-12)


def test_bad_counts() -> None:
    frame = pd.DataFrame({"left": ["a", "b"], "right": ["b", "a"], "winner": ["left", "left"]})
    for values in ([1, -1], [1.5, 1], [1, None]):
        with pytest.raises(InvalidArgumentError, match="counts column"):
            agg.bradley_terry(frame.assign(n=values), counts="n")
    zero = agg.counting(frame.assign(n=[2, 0]), counts="n", n_bootstrap=0)
    assert zero.set_index("item")["score"].to_dict() == {"a": 2.0, "b": 0.0}
    assert zero["n_comparisons"].tolist() == [2, 2]
