"""Checks of the options the pairwise methods share, run before any work."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgumentError

__all__ = ["check_bootstrap", "check_count", "check_number"]


def check_count(name: str, value: object, *, low: int = 0) -> int:
    """An integer ``>= low``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        kind = "a non-negative" if low == 0 else f"an integer >= {low}, i.e. a"
        raise InvalidArgumentError(f"{name} must be {kind} integer, got {value!r}.")
    return int(value)


def check_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}.")
    number = float(value)
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if not math.isfinite(number) or too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        bounds = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise InvalidArgumentError(f"{name} must be a finite number in {bounds}, got {value!r}.")
    return number


def check_bootstrap(
    n_bootstrap: object, confidence: object, seed: object
) -> tuple[int, float, int]:
    """``n_bootstrap`` >= 0, ``confidence`` in (0, 1), ``seed`` >= 0."""
    return (
        check_count("n_bootstrap", n_bootstrap),
        check_number("confidence", confidence, low=0.0, high=1.0, low_open=True, high_open=True),
        check_count("seed", seed),
    )
