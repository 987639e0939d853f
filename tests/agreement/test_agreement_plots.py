"""Confusion-matrix heatmaps and reliability diagrams, rendered to PNG (Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from pandas_toloka import plotting  # noqa: E402
from pandas_toloka.aggregation import aggregation_report, dawid_skene, fit_dawid_skene  # noqa: E402
from pandas_toloka.errors import InvalidArgumentError  # noqa: E402


@pytest.fixture(scope="module")
def pool() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(4)
    truth = pd.Series(rng.choice(["cat", "dog", "fox"], 80), index=[f"t{i:02d}" for i in range(80)])
    skill = {f"w{w}": q for w, q in enumerate([0.9, 0.8, 0.7, 0.55, 0.4])}
    rows = []
    for task, true in truth.items():
        for w, q in skill.items():
            answer = true if rng.random() < q else rng.choice(["cat", "dog", "fox"])
            rows.append((task, w, answer))
    return pd.DataFrame(rows, columns=["task_id", "worker_id", "result"]), truth


def _save(ax: Any, path: Path) -> None:
    ax.figure.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    plt.close(ax.figure)


def test_confusion_matrix_of_a_model(pool, tmp_path: Path) -> None:
    frame, _ = pool
    model = fit_dawid_skene(frame)
    ax = plotting.plot_confusion_matrix(model)
    shown = ax.images[0].get_array()
    weights = model.n_responses / model.n_responses.sum()
    np.testing.assert_allclose(shown, np.tensordot(weights, model.confusion, axes=1))
    assert ax.get_title() == "Confusion matrix: all 5 workers (Dawid–Skene)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "fox"]
    assert len(ax.texts) == 9  # each cell annotated
    _save(ax, tmp_path / "model_all.png")
    ax = plotting.plot_confusion_matrix(model, for_worker="w3")
    np.testing.assert_allclose(ax.images[0].get_array(), model.confusion[3])
    assert ax.get_title().startswith("Confusion matrix: worker w3")
    _save(ax, tmp_path / "model_w3.png")
    with pytest.raises(InvalidArgumentError, match="for_worker='nobody'"):
        plotting.plot_confusion_matrix(model, for_worker="nobody")


def test_confusion_matrix_from_responses_and_truth(pool, tmp_path: Path) -> None:
    frame, truth = pool
    ax = plotting.plot_confusion_matrix(frame, truth=truth, for_worker="w0")
    mine = frame[frame["worker_id"] == "w0"]
    expected = pd.crosstab(truth.reindex(mine["task_id"]).to_numpy(), mine["result"].to_numpy())
    expected = (expected.T / expected.sum(axis=1)).T
    np.testing.assert_allclose(ax.images[0].get_array(), expected.to_numpy())
    _save(ax, tmp_path / "responses_w0.png")
    ax = plotting.plot_confusion_matrix(frame, truth=truth.to_dict(), normalize=False)
    assert ax.images[0].get_array().sum() == len(frame)
    assert ax.get_title() == "Confusion matrix: all 5 workers"
    _save(ax, tmp_path / "responses_counts.png")
    with pytest.raises(InvalidArgumentError, match="needs truth="):
        plotting.plot_confusion_matrix(frame)
    with pytest.raises(InvalidArgumentError, match="nothing to count"):
        plotting.plot_confusion_matrix(frame, truth={"elsewhere": "cat"})
    with pytest.raises(InvalidArgumentError, match="source must be"):
        plotting.plot_confusion_matrix([1, 2])  # type: ignore[arg-type]


def test_reliability_diagram_shows_the_reports_ece(pool, tmp_path: Path) -> None:
    frame, truth = pool
    result = dawid_skene(frame)
    report = aggregation_report(result, truth, n_bins=5)
    ax = plotting.plot_reliability(result, truth, n_bins=5)
    assert ax.get_title() == f"Reliability: ECE {report['ece']:.3f} on 80 tasks"
    heights = [bar.get_height() for bar in ax.patches]
    confidence = result["confidence"].to_numpy()
    right = (result.set_index("task_id")["result"] == truth.reindex(result["task_id"])).to_numpy()
    bins = np.clip(np.ceil(confidence * 5).astype(int) - 1, 0, 4)
    expected = [right[bins == b].mean() for b in range(5) if (bins == b).any()]
    np.testing.assert_allclose(heights, expected)
    assert ax.get_legend() is not None
    _save(ax, tmp_path / "reliability.png")
    with pytest.raises(InvalidArgumentError, match="n_bins"):
        plotting.plot_reliability(result, truth, n_bins=0)
    with pytest.raises(InvalidArgumentError, match="pass label="):
        plotting.plot_reliability(result.assign(extra=1), truth)
