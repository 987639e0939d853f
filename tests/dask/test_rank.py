"""Pairwise rankings on a Dask DataFrame (the comparisons counted on the cluster) equal pandas'."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import pandas_toloka.dask as ptd
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError


@pytest.fixture(scope="module")
def comparisons() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frames = []
    for pool in ("61", "62"):
        n = 400
        strength = rng.normal(size=6)
        left = rng.integers(0, 6, n)
        right = (left + rng.integers(1, 6, n)) % 6
        p = 1 / (1 + np.exp(-(strength[left] - strength[right])))
        winner = np.where(rng.random(n) < p, "left", "right")
        winner = np.where(rng.random(n) < 0.1, "tie", winner)
        frames.append(
            pd.DataFrame(
                {
                    "pool_id": pool,
                    "left": [f"m{k}" for k in left],
                    "right": [f"m{k}" for k in right],
                    "winner": winner,
                    "worker_id": [f"w{k}" for k in rng.integers(0, 10, n)],
                    "status": np.where(rng.random(n) < 0.05, "REJECTED", "ACCEPTED"),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True).astype("string[pyarrow]")  # as Dask keeps them
    out.loc[3, "winner"] = None  # dropped, and counted, by both
    return out.sample(frac=1.0, random_state=2, ignore_index=True)


def _rejected(n: int, of: int) -> str:
    """The count of the fixture's REJECTED comparisons, left out by both fronts."""
    return rf"rank: dropped {n} of {of} response\(s\): {n} not of status \['ACCEPTED'\]\.$"


@pytest.mark.parametrize("method", ["BRADLEY_TERRY", "NOISY_BRADLEY_TERRY", "PAGERANK"])
def test_rank_on_dask_equals_pandas(dask_client, comparisons, method) -> None:
    spread = dd.from_pandas(comparisons, npartitions=3, sort=False)
    with (
        pytest.warns(DroppedResponsesWarning, match=_rejected(41, 800)),
        pytest.warns(UserWarning, match="dropped 1 of"),
    ):
        expected = comparisons.toloka.rank(method, n_bootstrap=8, seed=5)
    with (
        pytest.warns(DroppedResponsesWarning, match=_rejected(41, 800)),
        pytest.warns(UserWarning, match="dropped 1 of"),
    ):
        result = spread.toloka.rank(method, n_bootstrap=8, seed=5)
    assert result["pool_id"].unique().tolist() == ["61", "62"]
    pd.testing.assert_frame_equal(result, expected, check_exact=False, rtol=1e-9, atol=1e-12)
    assert result.attrs["toloka"] == expected.attrs["toloka"]
    assert result.attrs["toloka"]["kind"] == "ranking"
    assert result.attrs["toloka"]["pool_ids"] == ["61", "62"]


def test_aggregate_locally_with_a_pairwise_type_and_elo_refused(dask_client, comparisons) -> None:
    spread = dd.from_pandas(comparisons.dropna(), npartitions=2, sort=False)
    with pytest.warns(DroppedResponsesWarning, match=_rejected(41, 799)):
        by_type = spread.toloka.aggregate_locally(
            "COUNTING", fields="winner", method_kwargs={"n_bootstrap": 0}
        )
    with pytest.warns(DroppedResponsesWarning, match=_rejected(41, 799)):
        on_pandas = comparisons.dropna().toloka.rank("COUNTING", n_bootstrap=0)
    pd.testing.assert_frame_equal(by_type, on_pandas)
    with pytest.raises(InvalidArgumentError, match="order"):
        ptd.rank(spread, "ELO")


def test_the_results_export_statuses_count_as_on_pandas(dask_client, comparisons) -> None:
    """One status filter for both fronts: ``APPROVED`` (the results export's) is ACCEPTED."""
    exported = comparisons.dropna().reset_index(drop=True)
    exported["status"] = exported["status"].mask(exported.index % 3 == 0, "APPROVED")
    # every third row is now APPROVED, kept as ACCEPTED: 29 of the 41 REJECTED are left out
    with pytest.warns(DroppedResponsesWarning, match=_rejected(29, 799)):
        expected = exported.toloka.rank("COUNTING", n_bootstrap=0)
    spread = dd.from_pandas(exported, npartitions=3, sort=False)
    with pytest.warns(DroppedResponsesWarning, match=_rejected(29, 799)):
        result = ptd.rank(spread, "COUNTING", n_bootstrap=0)
    pd.testing.assert_frame_equal(result, expected)
    accepted = exported[exported["status"] != "REJECTED"]
    assert result["n_comparisons"].sum() == 2 * len(accepted)
