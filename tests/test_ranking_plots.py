"""The pairwise rankings' pictures: a forest plot and a win-rate heatmap, rendered to PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import pandas_toloka.aggregation as agg  # noqa: E402
from pandas_toloka import plotting  # noqa: E402
from pandas_toloka.errors import InvalidArgumentError, MissingColumnsError  # noqa: E402


@pytest.fixture(scope="module")
def comparisons() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    strength = np.array([1.0, 0.5, 0.0, -0.5, -1.0])
    left = rng.integers(0, 5, 300)
    right = (left + rng.integers(1, 5, 300)) % 5
    p = 1 / (1 + np.exp(-(strength[left] - strength[right])))
    names = np.array(["a", "b", "c", "d", "e"])
    return pd.DataFrame(
        {
            "left": names[left],
            "right": names[right],
            "winner": np.where(rng.random(300) < p, "left", "right"),
        }
    )


def _save(ax: object, path: Path) -> None:
    ax.figure.savefig(path)  # type: ignore[attr-defined]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    plt.close(ax.figure)  # type: ignore[attr-defined]


def test_forest_plot_of_a_frame_and_of_a_model(comparisons: pd.DataFrame, tmp_path: Path) -> None:
    ranking = agg.bradley_terry(comparisons, n_bootstrap=50)
    ax = plotting.plot_ranking(ranking)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ranking["item"].tolist()[::-1]  # best on top
    assert ax.get_title() == "Ranking with 95% intervals"
    _save(ax, tmp_path / "forest.png")
    model = agg.fit_elo(comparisons, n_bootstrap=20)
    ax = plotting.plot_ranking(model)
    assert ax.get_xscale() == "linear" and ax.get_title().endswith("ELO")
    _save(ax, tmp_path / "forest-elo.png")


def test_forest_plot_refuses_what_it_cannot_draw(comparisons: pd.DataFrame) -> None:
    ranking = agg.counting(comparisons, n_bootstrap=0)
    with pytest.raises(MissingColumnsError, match="ci_low"):
        plotting.plot_ranking(ranking.drop(columns="ci_low"))
    two = pd.concat([ranking.assign(pool_id="1"), ranking.assign(pool_id="2")])
    with pytest.raises(InvalidArgumentError, match="several pools"):
        plotting.plot_ranking(two)


def test_win_rate_heatmap(comparisons: pd.DataFrame, tmp_path: Path) -> None:
    model = agg.fit_bradley_terry(comparisons, n_bootstrap=0)
    ax = plotting.plot_win_rates(model)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c", "d", "e"]
    shown = ax.images[0].get_array()
    assert shown.mask[np.diag_indices(5)].all()  # no rate against itself
    assert 0.5 < shown[0, 4] <= 1.0  # the strongest beats the weakest
    _save(ax, tmp_path / "win-rates.png")
    with pytest.raises(InvalidArgumentError, match="RankingModel"):
        plotting.plot_win_rates(agg.bradley_terry(comparisons))  # type: ignore[arg-type]
