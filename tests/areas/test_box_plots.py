"""plot_boxes draws each worker's boxes and the aggregate on a blank canvas (PNG in tmp_path)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from pandas_toloka import plotting  # noqa: E402
from pandas_toloka.aggregation import bounding_boxes  # noqa: E402
from pandas_toloka.errors import InvalidArgumentError, MissingColumnsError  # noqa: E402


def box(left: float, top: float) -> dict[str, float]:
    return {"left": left, "top": top, "width": 0.25, "height": 0.2}


@pytest.fixture
def responses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task_id": ["img", "img", "img", "other"],
            "worker_id": ["ann", "bob", "cid", "ann"],
            "boxes": [
                [box(0.1, 0.1), box(0.6, 0.5)],
                [box(0.11, 0.12)],
                [box(0.09, 0.1), box(0.61, 0.52), box(0.3, 0.8)],
                [],
            ],
        }
    )


def _outlines(ax: object) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]  # type: ignore[attr-defined]


def test_each_worker_and_the_aggregate_are_drawn(responses: pd.DataFrame, tmp_path: Path) -> None:
    ax = plotting.plot_boxes(responses, task_id="img", width=400, height=300)
    outlines = _outlines(ax)
    thick = [p for p in outlines if p.get_linewidth() > 2]
    assert len(outlines) == 6 + 2  # six drawn, two aggregated (2/3 each)
    assert len(thick) == 2
    first = min(thick, key=lambda p: p.get_x())
    assert first.get_x() == pytest.approx(0.1 * 400)
    assert first.get_width() == pytest.approx(0.25 * 400)
    assert ax.get_ylim() == (300, 0)  # y down, as on the image
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["ann", "bob", "cid", "aggregate"]
    assert ax.get_title() == "img: 3 workers, 2 aggregated boxes"
    path = tmp_path / "boxes.png"
    ax.figure.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    plt.close(ax.figure)


@pytest.mark.parametrize("flat", [False, True])
def test_a_given_aggregate_is_drawn(responses: pd.DataFrame, flat: bool) -> None:
    aggregate = bounding_boxes(responses, min_confidence=0.0, flat=flat)
    ax = plotting.plot_boxes(responses, task_id="img", aggregate=aggregate)
    assert len([p for p in _outlines(ax) if p.get_linewidth() > 2]) == 3
    plt.close(ax.figure)


def test_bad_arguments(responses: pd.DataFrame) -> None:
    with pytest.raises(InvalidArgumentError, match="no response"):
        plotting.plot_boxes(responses, task_id="missing")
    with pytest.raises(InvalidArgumentError, match="width"):
        plotting.plot_boxes(responses, task_id="img", width=0)
    with pytest.raises(MissingColumnsError):
        plotting.plot_boxes(responses, task_id="img", boxes="rectangles")
