"""Tests of the NumPy digamma used by MACE."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from pandas_toloka.aggregation._special import digamma

EULER = 0.5772156649015329


def test_known_values_and_recurrence() -> None:
    np.testing.assert_allclose(digamma(np.array([1.0])), [-EULER], atol=1e-12)
    np.testing.assert_allclose(digamma(np.array([0.5])), [-EULER - 2 * math.log(2)], atol=1e-12)
    x = np.linspace(0.05, 40.0, 500)
    np.testing.assert_allclose(digamma(x + 1) - digamma(x), 1 / x, atol=1e-10)


def test_matches_scipy() -> None:
    # SciPy's values, stored by tests/reference/scipy/make_scipy.py (no SciPy needed here)
    reference = Path(__file__).resolve().parents[1] / "reference" / "scipy" / "digamma.csv"
    stored = np.loadtxt(reference, delimiter=",", skiprows=2)
    assert len(stored) > 600
    x, expected = stored[:, 0], stored[:, 1]
    np.testing.assert_allclose(digamma(x), expected, atol=1e-10)
