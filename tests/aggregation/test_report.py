"""Tests of the calibration report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pools import synthetic_pool

from pandas_toloka.aggregation import aggregation_report, dawid_skene
from pandas_toloka.aggregation.report import expected_calibration_error
from pandas_toloka.errors import InvalidArgumentError, MissingColumnsError


def test_hand_computed() -> None:
    result = pd.DataFrame(
        {
            "task_id": ["a", "b", "c", "d"],
            "result": [1, 1, 0, 0],
            "confidence": [0.95, 0.95, 0.55, 0.55],
        }
    )
    report = aggregation_report(result, {"a": 1, "b": 0, "c": 0, "d": 0, "zz": 1})
    assert report["n_tasks"] == 4
    assert report["accuracy"] == 0.75
    assert report["mean_confidence"] == pytest.approx(0.75)
    # Bins: (0.9, 1] holds a, b: accuracy 0.5 vs 0.95; (0.5, 0.6] holds c, d: 1.0 vs 0.55.
    assert report["ece"] == pytest.approx(0.5 * 0.45 + 0.5 * 0.45)


def test_ece_of_a_calibrated_forecast_is_small() -> None:
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1.0, 200_000)
    correct = rng.random(len(confidence)) < confidence
    assert expected_calibration_error(confidence, correct) < 0.01
    assert np.isnan(expected_calibration_error(np.zeros(0), np.zeros(0, bool)))


def test_golden_rows_are_left_out_and_held_out_ones_measured() -> None:
    frame, truth = synthetic_pool(n_tasks=60, n_labels=3)
    golden = truth.iloc[:20]
    result = dawid_skene(frame, golden=golden)
    report = aggregation_report(result, truth)
    assert report["n_tasks"] == 40  # the 20 golden tasks are right by construction
    assert 0.5 < report["accuracy"] <= 1.0
    assert 0.0 <= report["ece"] <= 1.0
    everything = aggregation_report(result.drop(columns="golden"), truth)
    assert everything["n_tasks"] == 60


def test_bad_input() -> None:
    result = pd.DataFrame({"task_id": ["a"], "result": [1], "confidence": [1.0]})
    with pytest.raises(MissingColumnsError):
        aggregation_report(result.drop(columns="confidence"), {"a": 1})
    with pytest.raises(InvalidArgumentError, match="n_bins"):
        aggregation_report(result, {"a": 1}, n_bins=0)
    with pytest.raises(InvalidArgumentError, match="mapping"):
        aggregation_report(result, [("a", 1)])  # type: ignore[arg-type]
    empty = aggregation_report(result, {"b": 1})
    assert empty["n_tasks"] == 0 and np.isnan(empty["accuracy"])


def test_agreement_figures_next_to_accuracy() -> None:
    from pandas_toloka.agreement import accuracy_on_aggregates, fleiss_kappa, krippendorff_alpha

    frame, truth = synthetic_pool(n_tasks=60, n_labels=3)
    result = dawid_skene(frame)
    plain = aggregation_report(result, truth)
    report = aggregation_report(result, truth, responses=frame)
    assert list(report.index) == [
        *plain.index,
        "krippendorff_alpha",
        "fleiss_kappa",
        "agreement_with_aggregate",
    ]
    assert report["ece"] == plain["ece"]
    assert report["krippendorff_alpha"] == krippendorff_alpha(frame)
    assert report["fleiss_kappa"] == fleiss_kappa(frame)
    assert report["agreement_with_aggregate"] == accuracy_on_aggregates(frame, aggregate=result)
    assert report["agreement_with_aggregate"] != accuracy_on_aggregates(frame)  # not the vote's
    with pytest.raises(MissingColumnsError, match="'worker'"):
        aggregation_report(result, truth, responses=frame, worker="worker")
