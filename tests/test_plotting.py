"""Pictures: confidence distributions and worker quality (Agg backend, PNG in tmp_path)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

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


def _legend_is_outside(ax: Any) -> bool:
    """The legend's box lies right of the axes' box once drawn."""
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    return bool(legend.x0 >= ax.get_window_extent().x1)


def _save(ax: Any, path: Path) -> None:
    ax.figure.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    plt.close(ax.figure)


def test_plot_confidence_one_line_per_answer(responses: pd.DataFrame, tmp_path: Path) -> None:
    aggregated = responses.toloka.aggregate_locally("DAWID_SKENE", fields="result", pool_id="1001")
    ax = aggregated.toloka.plot_confidence(bins=10)
    assert len(ax.patches) == 2  # one step histogram per answer: cat, dog
    assert ax.get_title() == "Confidence by result: pool 1001, Dawid–Skene"
    assert ax.get_xlabel() == "confidence" and ax.get_ylabel() == "tasks"
    legend = ax.get_legend()
    counts = aggregated["result"].value_counts()
    assert [t.get_text() for t in legend.get_texts()] == [
        f"cat (n={counts['cat']})",
        f"dog (n={counts['dog']})",
    ]
    assert legend.get_title().get_text() == "result"
    assert _legend_is_outside(ax)
    _save(ax, tmp_path / "confidence.png")


def test_plot_confidence_of_server_results_names_pool_and_algorithm(tmp_path: Path) -> None:
    frame = pd.DataFrame({"task_id": ["a", "b"], "confidence": [0.6, 0.9], "result": ["x", "y"]})
    frame.attrs["toloka"] = {
        "pool_id": "36502086",
        "type": "WEIGHTED_DYNAMIC_OVERLAP",
        "fields": ["result"],
    }
    ax = plotting.plot_confidence(frame)
    assert ax.get_title() == "Confidence by result: pool 36502086, skill-weighted (WDO)"
    plt.close(ax.figure)
    ax = plotting.plot_confidence(frame, title="Mine")
    assert ax.get_title() == "Mine"
    _save(ax, tmp_path / "mine.png")


def test_plot_worker_quality_leads_with_the_worst(responses: pd.DataFrame, tmp_path: Path) -> None:
    quality = responses.toloka.worker_quality("result")
    ax = responses.assign(pool_id="1001").toloka.plot_worker_quality("result", top=5)
    assert len(ax.patches) == 5
    widths = [p.get_width() for p in ax.patches]
    assert widths == sorted(quality["accuracy"].nsmallest(5).tolist())  # lowest at the top
    assert ax.get_title() == (
        f"Worker accuracy: pool 1001, Dawid–Skene (5 lowest of {len(quality)} workers)"
    )
    assert ax.get_xlabel() == "accuracy" and ax.get_ylabel() == "worker_id"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    worst = quality.nsmallest(5, "accuracy")["worker_id"].tolist()
    assert all(len(label) <= 16 and "…" in label for label in labels)  # 32-character hashes
    assert [(w[:8], w[-7:]) for w in worst] == [(x[:8], x[-7:]) for x in labels]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    mean = quality["accuracy"].mean()
    assert legend == [f"mean of all {len(quality)} workers ({mean:.2f})", "accuracy per worker"]
    assert _legend_is_outside(ax)
    _save(ax, tmp_path / "workers.png")


def test_plot_worker_quality_best_and_all(responses: pd.DataFrame, tmp_path: Path) -> None:
    quality = responses.toloka.worker_quality("result")
    best = quality.toloka.plot_worker_quality(which="best", top=3, id_width=40)
    assert [p.get_width() for p in best.patches] == quality["accuracy"].nlargest(3).tolist()
    assert [t.get_text() for t in best.get_yticklabels()] == (
        quality.nlargest(3, "accuracy")["worker_id"].tolist()  # not shortened at 40
    )
    assert best.get_title() == f"Worker accuracy: Dawid–Skene (3 highest of {len(quality)} workers)"
    plt.close(best.figure)
    every = quality.toloka.plot_worker_quality(which="all")  # a quality frame is plotted as is
    widths = [p.get_width() for p in every.patches]
    assert len(widths) == len(quality) and widths == sorted(widths)
    assert every.get_title() == (
        f"Worker accuracy: Dawid–Skene (all {len(quality)} workers, lowest first)"
    )
    _save(every, tmp_path / "all.png")


def test_bad_arguments() -> None:
    frame = pd.DataFrame({"confidence": [0.5], "result": ["a"]})
    with pytest.raises(TolokaError, match="bins"):
        plotting.plot_confidence(frame, bins=0)
    with pytest.raises(TolokaError, match="answer"):
        plotting.plot_confidence(frame, by="answer")
    quality = pd.DataFrame({"worker_id": ["w"], "accuracy": [0.5]})
    with pytest.raises(TolokaError, match="which must be one of"):
        plotting.plot_worker_quality(quality, which="median")  # type: ignore[arg-type]
    with pytest.raises(TolokaError, match="id_width"):
        plotting.plot_worker_quality(quality, id_width=2)
    with pytest.raises(TolokaError, match="top"):
        plotting.plot_worker_quality(quality, top=0)


def test_clear_error_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    frame = pd.DataFrame({"confidence": [0.5], "result": ["a"]})
    with pytest.raises(
        plotting.PlottingUnavailableError, match=r"pip install 'pandas-toloka\[plot\]'"
    ):
        plotting.plot_confidence(frame)
    assert issubclass(plotting.PlottingUnavailableError, ImportError)


def test_wer_by_worker_renders_to_png(tmp_path: Path) -> None:
    from pandas_toloka.aggregation import rover, wer

    pool = demo_pools()["1004"]
    responses = pool.responses[pool.responses["status"] == "ACCEPTED"]
    scores = wer(responses, reference=rover(responses))
    ax = plotting.plot_wer(scores, top=12)
    assert len(ax.patches) == 12
    heights = [p.get_width() for p in ax.patches]
    assert heights == sorted(heights, reverse=True)
    assert heights[0] == pytest.approx(scores["wer"].max())
    assert "12 highest of" in ax.get_title()
    pooled = scores["errors"].sum() / scores["words"].sum()
    assert ax.get_lines()[0].get_xdata()[0] == pytest.approx(pooled)
    assert _legend_is_outside(ax)
    _save(ax, tmp_path / "wer.png")
    with pytest.raises(TolokaError, match="wer"):
        plotting.plot_wer(scores.drop(columns="wer"))
