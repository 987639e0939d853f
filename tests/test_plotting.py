"""Pictures: confidence distributions and worker quality (Agg backend, PNG in tmp_path)."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import pandas_toloka.accessor  # noqa: E402,F401  (registers df.toloka)
from pandas_toloka import plotting  # noqa: E402
from pandas_toloka.errors import TolokaError  # noqa: E402
from pandas_toloka.server.demo import demo_pools  # noqa: E402


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    frame = demo_pools()["1001"].responses
    return frame[frame["status"] == "ACCEPTED"] if "status" in frame.columns else frame


def test_plot_confidence_one_line_per_answer(responses: pd.DataFrame, tmp_path: Path) -> None:
    aggregated = responses.toloka.aggregate_locally("DAWID_SKENE", fields="result", pool_id="1001")
    ax = aggregated.toloka.plot_confidence(bins=10)
    assert len(ax.patches) == 2  # one step histogram per answer: cat, dog
    assert ax.get_xlabel() == "confidence" and ax.get_ylabel() == "tasks"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    counts = aggregated["result"].value_counts()
    assert legend == [f"cat (n={counts['cat']})", f"dog (n={counts['dog']})"]
    path = tmp_path / "confidence.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 1000
    plt.close(ax.figure)


def test_plot_worker_quality_bars(responses: pd.DataFrame, tmp_path: Path) -> None:
    ax = responses.toloka.plot_worker_quality("result", top=5)
    assert len(ax.patches) == 5
    assert ax.get_xlabel() == "accuracy" and ax.get_ylabel() == "worker_id"
    widths = [p.get_width() for p in ax.patches]
    assert widths == sorted(widths, reverse=True)
    quality = responses.toloka.worker_quality("result")
    assert widths[0] == pytest.approx(quality["accuracy"].max())
    path = tmp_path / "workers.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 1000
    plt.close(ax.figure)
    all_workers = quality.toloka.plot_worker_quality(top=None)  # a quality frame is plotted as is
    assert len(all_workers.patches) == len(quality)
    plt.close(all_workers.figure)


def test_bad_arguments() -> None:
    frame = pd.DataFrame({"confidence": [0.5], "result": ["a"]})
    with pytest.raises(TolokaError, match="bins"):
        plotting.plot_confidence(frame, bins=0)
    with pytest.raises(TolokaError, match="answer"):
        plotting.plot_confidence(frame, by="answer")


def test_clear_error_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    frame = pd.DataFrame({"confidence": [0.5], "result": ["a"]})
    with pytest.raises(
        plotting.PlottingUnavailableError, match=r"pip install 'pandas-toloka\[plot\]'"
    ):
        plotting.plot_confidence(frame)
    assert issubclass(plotting.PlottingUnavailableError, ImportError)
