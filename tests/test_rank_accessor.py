"""df.toloka.rank and aggregate_locally(type=<pairwise>) on the bundled server's side-by-side
demo pool, read over real HTTP from the results export."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

import pandas_toloka as ptk
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError
from pandas_toloka.server import LocalTolokaServer, add_demo_pools
from pandas_toloka.server.demo import PAIRWISE_POOL_ID, PAIRWISE_STRENGTHS


@pytest.fixture(scope="module")
def comparisons() -> Iterator[pd.DataFrame]:
    with LocalTolokaServer() as server:
        add_demo_pools(server)
        answer = requests.get(
            f"{server.url}/new/requester/pools/{PAIRWISE_POOL_ID}/assignments.tsv",
            headers={"Authorization": f"OAuth {server.token}"},
            timeout=60,
        )
        assert answer.status_code == 200
        yield ptk.read_assignments_tsv(io.BytesIO(answer.content))


def test_the_demo_pool_has_items_workers_and_control_tasks(comparisons: pd.DataFrame) -> None:
    assert {"left", "right", "result", "worker_id", "golden.result"} <= set(comparisons.columns)
    assert set(comparisons["result"].unique()) == {"left", "right", "tie"}
    assert set(comparisons["left"]) | set(comparisons["right"]) == set(PAIRWISE_STRENGTHS)
    assert comparisons["golden.result"].notna().any()  # control comparisons


def test_rank_recovers_the_known_strengths(comparisons: pd.DataFrame, tmp_path: Path) -> None:
    ranking = comparisons.toloka.rank("NOISY_BRADLEY_TERRY", winner="result", n_bootstrap=20)
    assert list(ranking.columns) == [
        "pool_id",
        "item",
        "score",
        "rank",
        "n_comparisons",
        "ci_low",
        "ci_high",
    ]
    assert ranking["pool_id"].unique().tolist() == [PAIRWISE_POOL_ID]
    truth = pd.Series(PAIRWISE_STRENGTHS)
    fitted = np.log(ranking.set_index("item")["score"]).reindex(truth.index)
    assert np.corrcoef(fitted, truth)[0, 1] > 0.95
    assert ranking["item"].iloc[0] == "model-a" and ranking["item"].iloc[-1] == "model-h"
    ranking.to_parquet(tmp_path / "ranking.parquet")
    back = pd.read_parquet(tmp_path / "ranking.parquet")
    pd.testing.assert_frame_equal(back, ranking)
    record = ptk.schema.get_provenance(ranking)
    assert record is not None and back.attrs["toloka"] == record
    assert (record["kind"], record["method"], record["winner"]) == (
        "ranking",
        "NOISY_BRADLEY_TERRY",
        "result",
    )
    assert (record["n_bootstrap"], record["seed"]) == (20, 0)  # the default seed
    assert record["pool_ids"] == [PAIRWISE_POOL_ID]
    # the winner's spec comes from the results export's own provenance
    assert record["output_spec"] == {"result": comparisons.attrs["toloka"]["output_spec"]["result"]}


def test_noisy_bradley_terry_finds_the_spammers(comparisons: pd.DataFrame) -> None:
    accepted = comparisons[comparisons["status"] == "ACCEPTED"]
    model = ptk.aggregation.fit_noisy_bradley_terry(accepted, winner="result", n_bootstrap=0)
    quality = model.worker_quality()
    # The "constant" spammers answer "left" whatever the items: low reliability, bias ~1.
    always_left = accepted.groupby("worker_id")["result"].agg(lambda s: (s == "left").all())
    busy = accepted["worker_id"].value_counts() >= 20
    spammers = always_left[always_left & busy.reindex(always_left.index)].index
    assert len(spammers) > 0
    found = quality.set_index("worker_id").loc[spammers]
    assert (found["bias"] > 0.9).all() and (found["reliability"] < 0.3).all()


def test_aggregate_locally_with_a_pairwise_type_is_rank(comparisons: pd.DataFrame) -> None:
    by_rank = comparisons.toloka.rank("BRADLEY_TERRY", winner="result", n_bootstrap=10, seed=2)
    by_type = comparisons.toloka.aggregate_locally(
        "bradley_terry", fields="result", method_kwargs={"n_bootstrap": 10, "seed": 2}
    )
    pd.testing.assert_frame_equal(by_rank, by_type)
    assert by_type.attrs == by_rank.attrs and by_type.attrs["toloka"]["method"] == "BRADLEY_TERRY"
    assert (by_type.attrs["toloka"]["n_bootstrap"], by_type.attrs["toloka"]["seed"]) == (10, 2)


def test_several_pools_are_ranked_apart(comparisons: pd.DataFrame) -> None:
    two = pd.concat([comparisons, comparisons.assign(pool_id="77")], ignore_index=True)
    ranking = two.toloka.rank("COUNTING", winner="result", n_bootstrap=0)
    assert ranking["pool_id"].tolist() == [PAIRWISE_POOL_ID] * 8 + ["77"] * 8
    assert ranking.attrs["toloka"]["pool_ids"] == sorted([PAIRWISE_POOL_ID, "77"])
    assert ranking.attrs["toloka"]["n_bootstrap"] == 0
    only = two.toloka.rank("COUNTING", winner="result", n_bootstrap=0, pool_id="77")
    assert only["pool_id"].unique().tolist() == ["77"]
    marked = comparisons.assign(
        status=np.where(np.arange(len(comparisons)) % 10 == 0, "REJECTED", "ACCEPTED")
    )
    rejected = int((marked["status"] == "REJECTED").sum())
    dropped = rf"dropped {rejected} of {len(marked)} response\(s\): {rejected} not of status"
    with pytest.warns(DroppedResponsesWarning, match=dropped):
        accepted = marked.toloka.rank("COUNTING", winner="result", n_bootstrap=0)
    everything = marked.toloka.rank("COUNTING", winner="result", n_bootstrap=0, status=None)
    assert accepted["n_comparisons"].sum() < everything["n_comparisons"].sum()


def test_bad_rank_arguments(comparisons: pd.DataFrame) -> None:
    with pytest.raises(InvalidArgumentError, match="method must be one of"):
        comparisons.toloka.rank("DAWID_SKENE", winner="result")
    with pytest.raises(InvalidArgumentError, match="takes the options"):
        comparisons.toloka.rank("ELO", winner="result", prior=1.0)
    with pytest.raises(InvalidArgumentError, match="one winner column"):
        comparisons.toloka.aggregate_locally("ELO", fields=["result", "left"])
    # a missing column is refused before any row is counted in a DroppedResponsesWarning
    rejected = comparisons.assign(status="REJECTED")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ptk.MissingColumnsError, match="'nope'"):
            rejected.toloka.rank(winner="nope")


def test_an_empty_frame_ranks_to_the_columns_of_a_ranked_pool(comparisons: pd.DataFrame) -> None:
    ranked = comparisons.toloka.rank("COUNTING", winner="result", n_bootstrap=0)
    empty = comparisons.iloc[:0].toloka.rank("COUNTING", winner="result", n_bootstrap=0)
    assert empty.empty
    assert empty.dtypes.to_dict() == ranked.dtypes.to_dict()
    with pytest.raises(InvalidArgumentError, match="n_bootstrap"):
        comparisons.iloc[:0].toloka.rank("COUNTING", winner="result", n_bootstrap=-1)
