"""The transcription demo pool: served over HTTP, ROVER recovers its known texts within 6 % WER,
the workers' measured WER follows their known skill, and the result round-trips through
Parquet with pandas, polars and DuckDB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pandas_toloka  # noqa: F401  (registers df.toloka)
from pandas_toloka.aggregation import wer
from pandas_toloka.responses import read_responses
from pandas_toloka.server._demo_texts import TRANSCRIPTION_POOL_ID, worker_error_rates
from pandas_toloka.server._synthetic import workers
from pandas_toloka.server.demo import SEED


def test_transcription_pool_aggregates_to_its_truth(demo_served, tmp_path: Path) -> None:
    _, client, data = demo_served
    pool = data.pools[TRANSCRIPTION_POOL_ID]
    responses = read_responses(TRANSCRIPTION_POOL_ID, client=client, progress_bar=False)
    assert len(responses) == int((pool.responses["status"] == "ACCEPTED").sum())
    texts = responses.toloka.aggregate_locally(type="ROVER", fields="text")
    assert len(texts) == 400 and texts["pool_id"].eq(TRANSCRIPTION_POOL_ID).all()
    truth = pool.ground_truth.set_index("task_id")["text"]
    aggregate = wer(texts.assign(worker_id="ROVER"), reference=truth)["wer"].iloc[0]
    scores = wer(responses, reference=truth)
    assert aggregate < 0.06  # 4.3 % when written; the median worker's is about 15 %
    assert aggregate < scores["wer"].median() / 2

    # Measured WER against the truth follows each careful worker's known error rate.
    crowd = workers(np.random.default_rng(SEED))  # the demo draws its crowd first
    known = pd.Series(worker_error_rates(crowd), index=crowd.ids)
    careful = pd.Series(crowd.kind, index=crowd.ids).isin(["good", "mediocre"])
    busy = scores.set_index("worker_id").query("n_tasks >= 20")["wer"]
    both = pd.DataFrame({"measured": busy, "known": known[careful]}).dropna()
    assert len(both) >= 10
    assert both["measured"].rank().corr(both["known"].rank()) > 0.7

    path = tmp_path / "texts.parquet"
    texts.to_parquet(path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), texts)
    polars = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    from_polars = polars.read_parquet(path)
    assert from_polars["text"].to_list() == texts["text"].tolist()
    assert from_polars["confidence"].to_list() == texts["confidence"].tolist()
    rows = duckdb.sql(f"SELECT task_id, text FROM '{path}' ORDER BY task_id").fetchall()
    assert rows == list(zip(texts["task_id"].tolist(), texts["text"].tolist()))
