"""The pairwise rankings against evalica's and crowd-kit's stored outputs.

The outputs were made by ``tests/reference/pairwise/make_pairwise.py`` (its
docstring has the command); the tests never import those libraries. Scores are
compared on each library's own scale: evalica's Bradley–Terry strengths have a
geometric mean of 1 (as ours), crowd-kit's sum to 1, and crowd-kit's NoisyBT
scores are ``expit`` of log-strengths with a free common shift.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pandas_toloka.aggregation as agg

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "pairwise"


def _fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"fixture_{name}.csv", dtype=str)


def _reference(library: str, fixture: str, method: str) -> pd.Series:
    table = pd.read_csv(REFERENCE / f"{library}.csv", dtype={"item": str})
    rows = table[(table["fixture"] == fixture) & (table["method"] == method)]
    assert len(rows), (library, fixture, method)
    return rows.set_index("item")["score"].sort_index()


def _scores(model: agg.RankingModel) -> pd.Series:
    return pd.Series(model.scores, index=list(model.items)).sort_index()


FIXTURES = ["known", "sparse", "workers"]

#: method -> (our fit, relative tolerance). evalica's Bradley-Terry stops when the
#: strengths move by less than 1e-6 (Euclidean norm), so its default run is within
#: about 1e-6 of the maximum; run to 1e-12 it agrees with ours to rounding.
EVALICA = {
    "bradley_terry": (lambda d: agg.fit_bradley_terry(d, prior=0.0, n_bootstrap=0), 1e-6),
    "bradley_terry_tight": (
        lambda d: agg.fit_bradley_terry(d, prior=0.0, n_bootstrap=0, tol=1e-12),
        1e-10,
    ),
    "elo": (lambda d: agg.fit_elo(d, n_bootstrap=0), 1e-12),
    "counting": (lambda d: agg.fit_counting(d, n_bootstrap=0), 1e-12),
    "average_win_rate": (lambda d: agg.fit_average_win_rate(d, n_bootstrap=0), 1e-12),
    # evalica's eigen is stored as run on the reversed outcomes (it ranks by losses).
    "eigen": (lambda d: agg.fit_eigenvector(d, n_bootstrap=0), 1e-9),
    "pagerank": (lambda d: agg.fit_pagerank(d, n_bootstrap=0), 1e-9),
}


@pytest.mark.parametrize("fixture", FIXTURES)
@pytest.mark.parametrize("method", sorted(EVALICA))
def test_equals_evalica(fixture: str, method: str) -> None:
    fit, rtol = EVALICA[method]
    ours = _scores(fit(_fixture(fixture)))
    theirs = _reference("evalica", fixture, method)
    assert list(ours.index) == list(theirs.index)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=rtol, atol=1e-12)


def test_bradley_terry_recovers_known_strengths() -> None:
    truth = pd.read_csv(REFERENCE / "truth_known.csv").set_index("item")["log_strength"]
    ours = np.log(_scores(agg.fit_bradley_terry(_fixture("known"), n_bootstrap=0)))
    truth = truth.reindex(ours.index) - truth.mean()
    # 3,000 comparisons of 12 items: log-strengths within sampling error of the truth
    # (10% of the answers are ties drawn whatever the items, which pulls the extremes in).
    assert np.abs(ours - truth).max() < 0.35
    assert np.corrcoef(ours, truth)[0, 1] > 0.99


@pytest.mark.parametrize("fixture", ["ck_equal", "workers"])
def test_bradley_terry_equals_crowdkit_run_to_convergence(fixture: str) -> None:
    ours = _scores(agg.fit_bradley_terry(_fixture(fixture), prior=0.0, n_bootstrap=0, tol=1e-12))
    theirs = _reference("crowdkit", fixture, "BradleyTerry_tol0")
    np.testing.assert_allclose((ours / ours.sum()).to_numpy(), theirs.to_numpy(), atol=1e-9)


def test_crowdkit_default_bradley_terry_stops_after_two_steps() -> None:
    # crowd-kit's BradleyTerry compares the new scores with an alias of themselves, so it
    # stops after its second MM step whatever n_iter says (docs/side-by-side.md).
    frame = _fixture("workers")
    converged = _reference("crowdkit", "workers", "BradleyTerry_tol0")
    early = _reference("crowdkit", "workers", "BradleyTerry")
    assert np.abs(early - converged).max() > 1e-3
    # Two MM steps (Hunter, 2004) from equal strengths give crowd-kit's numbers.
    items = sorted(set(frame["left"]) | set(frame["right"]))
    code = {item: i for i, item in enumerate(items)}
    n = len(items)
    wins = np.zeros((n, n))
    for left, right, winner in frame[["left", "right", "winner"]].itertuples(index=False):
        i, j = code[left], code[right]
        wins[(i, j) if winner == "left" else (j, i)] += 1
    games = wins + wins.T
    p = np.ones(n)
    for _ in range(2):
        p = wins.sum(axis=1) / (games / (p[:, None] + p[None, :])).sum(axis=0)
        p /= p.sum()
    np.testing.assert_allclose(p, early.to_numpy(), atol=1e-12)


def _noisy_log_likelihood(
    frame: pd.DataFrame, s: pd.Series, reliability: pd.Series, bias: pd.Series
) -> float:
    """crowd-kit's NoisyBT log-likelihood (no regularisation) at the given parameters."""
    diff = s.reindex(frame["left"]).to_numpy() - s.reindex(frame["right"]).to_numpy()
    y = np.where(frame["winner"] == "left", 1.0, -1.0)
    p = reliability.reindex(frame["worker_id"]).to_numpy()
    b = bias.reindex(frame["worker_id"]).to_numpy()
    attentive = 1 / (1 + np.exp(-y * diff))
    careless = np.where(y > 0, b, 1 - b)
    return float(np.log(p * attentive + (1 - p) * careless).sum())


def test_noisy_bradley_terry_against_crowdkit() -> None:
    frame = _fixture("workers")
    model = agg.fit_noisy_bradley_terry(frame, n_bootstrap=0, prior=1e-5)
    assert model.converged
    ours = np.log(_scores(model))
    theirs = _reference("crowdkit", "workers", "NoisyBradleyTerry")
    logit = np.log(theirs / (1 - theirs))
    # The same ranking...
    assert list(ours.sort_values().index) == list(logit.sort_values().index)
    # ...and a higher likelihood under crowd-kit's own model: its L-BFGS-B is given a wrong
    # gradient and stops early (docs/side-by-side.md).
    workers = pd.read_csv(REFERENCE / "crowdkit_workers.csv", dtype={"worker_id": str})
    workers = workers[workers["fixture"] == "workers"].set_index("worker_id")
    quality = model.worker_quality().set_index("worker_id")
    mine = _noisy_log_likelihood(frame, ours, quality["reliability"], quality["bias"])
    crowdkit = _noisy_log_likelihood(frame, logit, workers["skill"], workers["bias"])
    assert mine > crowdkit + 100
    # The five careless workers (w0..w4 answer "left" 80% of the time) are found.
    careless = quality.loc[["w0", "w1", "w2", "w3", "w4"]]
    assert (careless["reliability"] < 0.3).all()
    assert (careless["bias"] > 0.7).all()


def test_noisy_bradley_terry_on_crowdkit_fixtures() -> None:
    # ck_equal is a cycle (a>b, b>c, c>a): by symmetry every item is equally strong.
    # crowd-kit's answer (0.672, 0.646, 0.633 after expit) is off by its early stop.
    equal = agg.fit_noisy_bradley_terry(_fixture("ck_equal"), n_bootstrap=0)
    np.testing.assert_allclose(equal.scores, 1.0, atol=1e-6)
    # ck_abc: a beat b and c, b beat c. crowd-kit's scores run off (1, 1, 1.5e-45); ours
    # stay finite (the prior) in the same order.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        abc = agg.fit_noisy_bradley_terry(_fixture("ck_abc"), n_bootstrap=0)
    assert np.isfinite(abc.scores).all()
    assert list(abc.to_frame()["item"]) == ["a", "b", "c"]
    theirs = _reference("crowdkit", "ck_abc", "NoisyBradleyTerry")
    assert theirs["c"] < theirs["a"] and theirs["c"] < theirs["b"]
