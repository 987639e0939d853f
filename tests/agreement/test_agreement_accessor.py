"""df.toloka.agreement: one typed row of figures per pool."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pandas_toloka  # noqa: F401  (registers df.toloka)
import pandas_toloka.agreement as ag
from pandas_toloka.errors import (
    DroppedResponsesWarning,
    InvalidArgumentError,
    MissingColumnsError,
)


def _responses() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    rows = []
    for pool in ("11", "7"):
        for t in range(25):
            for w in range(4):
                rows.append(
                    (pool, f"{pool}-t{t}", f"w{w}", "abc"[int(rng.integers(0, 3))], "ACCEPTED")
                )
    rows.append(("7", "7-t0", "w9", "c", "REJECTED"))
    rows.append(("7", "7-t1", "w9", None, "ACCEPTED"))
    rows += [("30", "30-t0", "w1", "a", "ACCEPTED"), ("30", "30-t1", "w2", "b", "ACCEPTED")]
    return pd.DataFrame(rows, columns=["pool_id", "task_id", "worker_id", "result", "status"])


def test_one_row_per_pool_equal_to_the_functions() -> None:
    frame = _responses()
    dropped = r"dropped 2 of 204 response\(s\): 1 not of status \['ACCEPTED'\], 1 without an answer"
    with pytest.warns(DroppedResponsesWarning, match=dropped):
        out = frame.toloka.agreement("result")
    assert out["pool_id"].tolist() == ["11", "30", "7"]
    assert str(out["pool_id"].dtype).startswith("large_string") or "string" in str(
        out["pool_id"].dtype
    )
    assert out["n_responses"].tolist() == [100, 2, 100]  # REJECTED and unanswered rows left out
    for pool, row in out.set_index("pool_id").iterrows():
        rows = frame[(frame["pool_id"] == pool) & (frame["status"] == "ACCEPTED")].dropna()
        if pool == "30":  # no task with two responses: nothing to measure
            assert np.isnan(row["krippendorff_alpha"]) and np.isnan(row["fleiss_kappa"])
            continue
        assert row["krippendorff_alpha"] == pytest.approx(ag.krippendorff_alpha(rows))
        assert row["fleiss_kappa"] == pytest.approx(ag.fleiss_kappa(rows))
        assert row["agreement_with_majority"] == pytest.approx(ag.accuracy_on_aggregates(rows))
        assert row["mean_task_entropy"] == pytest.approx(
            ag.task_uncertainty(rows)["entropy"].mean()
        )
        assert row["n_tasks"] == 25 and row["n_workers"] == 4
    record = out.attrs["toloka"]
    assert record["kind"] == "agreement" and record["pool_ids"] == ["11", "30", "7"]
    numpy = frame.toloka.agreement("result", pool_id="11", dtype_backend="numpy_nullable")
    assert numpy["pool_id"].tolist() == ["11"] and numpy["n_tasks"].dtype == "Int64"


def test_levels_and_bad_arguments() -> None:
    frame = _responses().assign(result=lambda f: f["result"].map({"a": 1, "b": 2, "c": 3}))
    interval = frame.toloka.agreement("result", level="interval", pool_id="11")
    rows = frame[(frame["pool_id"] == "11")]
    assert interval["krippendorff_alpha"].iloc[0] == pytest.approx(
        ag.krippendorff_alpha(rows, level="interval")
    )
    with pytest.raises(InvalidArgumentError, match="level must be one of"):
        frame.toloka.agreement("result", level="cardinal")  # type: ignore[arg-type]
    with pytest.raises(MissingColumnsError):
        frame.toloka.agreement("result", worker="annotator")
    with pytest.raises(MissingColumnsError):
        frame.toloka.agreement("answer")
