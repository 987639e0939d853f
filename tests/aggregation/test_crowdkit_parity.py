"""Every categorical method against crowd-kit's same-named class on small fixed pools.

crowd-kit's outputs are stored in tests/reference/crowdkit/ (its script,
make_crowdkit.py, regenerates them with crowd-kit 1.4.2), with the pools
they were computed on: the tests read the same responses and never import
crowd-kit. The pools list workers and labels in sorted order, so crowd-kit's
orders agree with ours (its MACE mixes first-appearance and sorted order
otherwise).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pools import (
    crowdkit_meta,
    crowdkit_posteriors,
    crowdkit_tasks,
    crowdkit_workers,
    reference_pool,
    synthetic_pool,
)

import pandas_toloka.aggregation as agg


def _same_labels(ours: pd.DataFrame, theirs: pd.Series) -> None:
    mine = ours.set_index("task_id")["result"].reindex(theirs.index)
    assert mine.tolist() == theirs.tolist()


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("binary30", {"n_labels": 2, "n_tasks": 30}),
        ("ternary30", {"n_labels": 3, "n_tasks": 30}),
        ("ternary25", {"n_labels": 3, "n_tasks": 25}),
    ],
)
def test_stored_pools_are_the_synthetic_pools(name, kwargs) -> None:
    # The stored pools are synthetic_pool's, so these tests and the rest of the
    # aggregation tests speak of the same responses.
    frame, _ = synthetic_pool(**kwargs)
    pd.testing.assert_frame_equal(reference_pool(name), frame, check_dtype=False)


def test_stored_outputs_are_crowdkit_1_4() -> None:
    assert crowdkit_meta()["crowd-kit"] == "1.4.2"


@pytest.mark.parametrize("pool", ["binary30", "ternary30"])
@pytest.mark.parametrize(
    ("method", "options", "atol"),
    [
        ("DAWID_SKENE", {}, 1e-8),
        ("ONE_COIN_DAWID_SKENE", {}, 1e-8),
        # crowd-kit's MACE (n_restarts=1) is the paper's model: uniform class priors.
        ("MACE", {"class_priors": "uniform"}, 1e-8),
        ("MAJORITY_VOTE", {}, 1e-12),
    ],
)
def test_deterministic_methods_equal_crowdkit(method, options, atol, pool) -> None:
    frame = reference_pool(pool)
    theirs = crowdkit_tasks(f"{pool}-{method}.csv")
    model = agg.fit_aggregation(frame, method=method, **options)
    _same_labels(model.to_frame(), theirs["label"])
    posteriors = model.posterior_frame()
    expected = crowdkit_posteriors(posteriors, theirs)
    assert not np.isnan(expected).any()
    np.testing.assert_allclose(posteriors.to_numpy(), expected, atol=atol)


def test_mace_equals_order_fixed_crowdkit_on_real_data(dataset) -> None:
    # On duck and product, as given, workers first appear in unsorted order, so
    # crowd-kit's MACE reads other workers' spamming distributions. With that fixed
    # (make_crowdkit.OrderFixedMACE) it equals our class_priors="uniform" (the
    # paper's model) on every posterior; its unfixed 0.9290 on product is the
    # mix-up's luck (fixed: 0.8162).
    name, answers, truth = dataset
    frame = answers.rename(
        columns={"question": "task_id", "worker": "worker_id", "answer": "result"}
    )
    assert list(pd.unique(frame["worker_id"])) != sorted(pd.unique(frame["worker_id"]))
    fixed = crowdkit_tasks(f"{name}-MACE_ORDER_FIXED.csv.gz")
    model = agg.fit_mace(frame, class_priors="uniform")
    posteriors = model.posterior_frame()
    expected = crowdkit_posteriors(posteriors, fixed)
    assert not np.isnan(expected).any()
    np.testing.assert_allclose(posteriors.to_numpy(), expected, atol=1e-8)
    shipped = crowdkit_meta()[f"{name}-MACE-accuracy"]
    assert round(shipped, 4) == {"duck": 0.8519, "product": 0.9290}[name]


def test_kos_equals_crowdkit_with_the_same_seed() -> None:
    theirs = crowdkit_tasks("binary30-KOS.csv")
    _same_labels(agg.kos(reference_pool("binary30"), n_iter=10), theirs["label"])


def test_glad_close_to_crowdkit() -> None:
    # Our M-step (safeguarded Newton) differs from crowd-kit's conjugate gradient:
    # posteriors are close, not equal.
    frame = reference_pool("ternary25")
    theirs = crowdkit_tasks("ternary25-GLAD.csv")
    model = agg.fit_glad(frame)
    _same_labels(model.to_frame(), theirs["label"])
    posteriors = model.posterior_frame()
    np.testing.assert_allclose(
        posteriors.to_numpy(), crowdkit_posteriors(posteriors, theirs), atol=0.03
    )
    alphas = crowdkit_workers("ternary25-GLAD-workers.csv").reindex(model.workers).to_numpy()
    np.testing.assert_allclose(model.worker_columns["alpha"], alphas, atol=0.05)


@pytest.mark.parametrize(
    ("method", "options"), [("WAWA", {}), ("ZERO_BASED_SKILL", {"n_iter": 30})]
)
def test_voting_methods_equal_crowdkit(method, options) -> None:
    # crowd-kit's own predict step fails under current scikit-learn (check_is_fitted
    # needs __sklearn_tags__), so the stored labels are its fitted skills put
    # through its MajorityVote, which is all that step does.
    frame = reference_pool("ternary30")
    model = agg.fit_aggregation(frame, method=method, **options)
    _same_labels(model.to_frame(), crowdkit_tasks(f"ternary30-{method}.csv")["label"])
    skills = crowdkit_workers(f"ternary30-{method}-workers.csv").reindex(model.workers)
    np.testing.assert_allclose(model.worker_columns["skill"], skills.to_numpy(), atol=1e-12)
