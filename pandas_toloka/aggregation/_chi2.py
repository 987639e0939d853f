"""Quantiles of the chi-squared distribution (RASA's prior reliabilities), without SciPy.

``chi2_isf(q, k)`` is the ``x`` with ``P(X > x) = q`` for ``X ~ chi2(k)``, i.e.
``Q(k/2, x/2) = q`` with ``Q`` the regularized upper incomplete gamma function.
``Q`` is evaluated by its series (below ``a + 1``) or its continued fraction
(Lentz's method), as in Numerical Recipes §6.2; the equation is solved by
Newton's method kept inside a bracket that bisection shrinks when a step
leaves it. Accurate to a few units in the last place against
``scipy.stats.chi2.isf`` (tests/reference/texts/chi2_isf.json).
"""

from __future__ import annotations

import math

__all__ = ["chi2_isf"]

_TINY = 1e-300
_MAX_TERMS = 100_000


def _lower_series(a: float, x: float) -> float:
    """``P(a, x)`` by its series (converges fast for ``x < a + 1``)."""
    term = total = 1.0 / a
    denominator = a
    for _ in range(_MAX_TERMS):
        denominator += 1.0
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * 1e-17:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _upper_fraction(a: float, x: float) -> float:
    """``Q(a, x)`` by its continued fraction (converges fast for ``x > a + 1``)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-17:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def _upper(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function ``Q(a, x)``."""
    if x <= 0.0:
        return 1.0
    if x < a + 1.0:
        return 1.0 - _lower_series(a, x)
    return _upper_fraction(a, x)


def chi2_isf(q: float, k: float) -> float:
    """The ``x`` with ``P(chi2(k) > x) = q``, for ``0 < q < 1`` and ``k > 0``."""
    a = 0.5 * k
    lo, hi = 0.0, max(2.0 * a, 1.0)
    for _ in range(2000):  # bracket: Q decreases from 1 to 0
        if _upper(a, hi) < q:
            break
        lo, hi = hi, 2.0 * hi
    y = 0.5 * (lo + hi)
    log_norm = math.lgamma(a)
    for _ in range(200):
        f = _upper(a, y) - q
        if f > 0:
            lo = y
        else:
            hi = y
        slope = -math.exp((a - 1.0) * math.log(y) - y - log_norm) if y > 0 else 0.0
        step = f / slope if slope != 0.0 else 0.0
        candidate = y - step
        if not (lo < candidate < hi) or step == 0.0:
            candidate = 0.5 * (lo + hi)
        if abs(candidate - y) <= 4e-16 * max(abs(y), 1e-300) or hi - lo <= 4e-16 * hi:
            y = candidate
            break
        y = candidate
    return 2.0 * y
