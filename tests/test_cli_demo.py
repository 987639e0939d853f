"""``pandas-toloka demo``: the README's main job runs end to end and writes Parquet."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from pandas_toloka.cli import EXIT_OK, main


def test_demo_reports_accuracy_and_writes_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--output", str(out), "--no-progress"]) == EXIT_OK
    text = capsys.readouterr().out
    ds_acc, mv_acc = map(
        float, re.search(r"Dawid-Skene ([\d.]+), majority vote ([\d.]+)", text).groups()
    )
    assert ds_acc > mv_acc  # the demo pool is made for Dawid-Skene to beat majority vote
    assert "skill-weighted" in text and "double[pyarrow]" in text
    ds = pd.read_parquet(out / "aggregated.parquet", dtype_backend="pyarrow")
    wdo = pd.read_parquet(out / "aggregated_by_skill.parquet", dtype_backend="pyarrow")
    assert len(ds) == 2000 and ds.attrs["toloka"]["type"] == "DAWID_SKENE"
    assert list(wdo.columns) == ["pool_id", "task_id", "confidence", "result", "sure"]
    assert str(wdo["sure"].dtype) == "bool[pyarrow]"
    assert str(out / "aggregated.parquet") in text
    # The read-back advice gives a frame that round-trips through Parquet again.
    advice = re.findall(r"read back: (pd\.read_parquet\(.*?\))\)", text)
    assert len(advice) == 3 and all("dtype_backend" not in a for a in advice)
    for code in advice:
        frame = eval(code, {"pd": pd})
        assert isinstance(frame["result"].dtype, pd.CategoricalDtype)
        frame.to_parquet(tmp_path / "again.parquet")
        again = pd.read_parquet(tmp_path / "again.parquet")
        pd.testing.assert_frame_equal(again, frame)
        assert again.attrs == frame.attrs
    # the labeled dataset: the inputs next to the labels, the control tasks scored
    dataset = pd.read_parquet(out / "dataset.parquet")
    assert list(dataset.columns) == [
        "pool_id",
        "task_id",
        "image",
        "confidence",
        "result",
        "golden.result",
    ]
    assert dataset["task_id"].tolist() == ds["task_id"].astype(object).tolist()
    assert dataset["image"].str.startswith("https://").all()
    control = float(re.search(r"accuracy on the pool's \d+ control tasks .*: ([\d.]+)", text)[1])
    assert 0.8 < control <= 1.0
    # local aggregation of the raw responses agrees with the server, and the plot is saved
    assert "local result equals the server's: labels identical" in text
    assert "least accurate workers" in text
    png = out / "confidence.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
