"""Special functions the aggregation methods need, in NumPy (no SciPy dependency)."""

from __future__ import annotations

import numpy as np

__all__ = ["digamma"]

#: Below this the recurrence ``psi(x) = psi(x + 1) - 1/x`` moves ``x`` up first.
_ASYMPTOTIC_FROM = 6.0


def digamma(x: np.ndarray) -> np.ndarray:
    """The digamma function ``psi(x) = d/dx log Gamma(x)`` for ``x > 0``, elementwise.

    Shifts ``x`` above 6 with the recurrence, then uses the asymptotic series
    ``log x - 1/(2x) - sum_k B_2k / (2k x^2k)`` to ``x^-10``: absolute error
    below ``1e-12`` (checked against SciPy in the tests).
    """
    x = np.asarray(x, dtype=np.float64).copy()
    shift = np.zeros_like(x)
    for _ in range(int(_ASYMPTOTIC_FROM)):
        low = x < _ASYMPTOTIC_FROM
        if not low.any():
            break
        shift[low] -= 1.0 / x[low]
        x[low] += 1.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (
        1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (1.0 / 132))))
    )
    return np.log(x) - 0.5 / x - series + shift
