"""Tests of the NumPy digamma used by MACE."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pandas_toloka.aggregation._special import digamma

EULER = 0.5772156649015329


def test_known_values_and_recurrence() -> None:
    np.testing.assert_allclose(digamma(np.array([1.0])), [-EULER], atol=1e-12)
    np.testing.assert_allclose(digamma(np.array([0.5])), [-EULER - 2 * math.log(2)], atol=1e-12)
    x = np.linspace(0.05, 40.0, 500)
    np.testing.assert_allclose(digamma(x + 1) - digamma(x), 1 / x, atol=1e-10)


def test_matches_scipy_where_installed() -> None:
    special = pytest.importorskip("scipy.special")
    x = np.r_[np.linspace(0.01, 30, 3000), 1e-3, 1e5]
    np.testing.assert_allclose(digamma(x), special.digamma(x), atol=1e-10)
