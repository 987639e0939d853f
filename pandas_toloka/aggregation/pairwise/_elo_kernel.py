"""Elo ratings, one comparison after another, in the given order.

Every item starts at ``initial``. For a comparison of ``x`` (left) with ``y``
(right), evalica's update::

    e_x = 1 / (1 + base ** ((r_y - r_x) / scale))     (= q_x / (q_x + q_y), q = base ** (r / scale))
    r_x += k * (s_x - e_x)
    r_y -= k * (s_x - e_x)                            (= k * (s_y - e_y))

where ``s_x`` is 1 when ``x`` wins, 0 when ``y`` wins and 0.5 for a tie.

The ratings depend on the order, and each update depends on the ones before
it, so this is a loop over the comparisons. It runs on Python floats (one
``exp`` per comparison), which is faster than NumPy calls on one element:
vectorising over comparisons that share no item was measured slower (a
round holds only a few comparisons).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["elo_ratings"]


def elo_ratings(
    n_items: int,
    left: np.ndarray,
    right: np.ndarray,
    outcome: np.ndarray,
    *,
    initial: float,
    k: float,
    base: float,
    scale: float,
) -> np.ndarray:
    """Ratings ``(n_items,)`` after running the comparisons in order.

    Parameters
    ----------
    left, right : numpy.ndarray
        Item codes, in the order the comparisons run.
    outcome : numpy.ndarray
        Outcome codes (0 left wins, 1 right wins, 2 tie).
    """
    ratings = [float(initial)] * n_items
    scored = np.choose(outcome, [1.0, 0.0, 0.5]).tolist()
    rate = math.log(base) / scale
    exp = math.exp
    for x, y, s in zip(left.tolist(), right.tolist(), scored):
        r_x = ratings[x]
        r_y = ratings[y]
        step = k * (s - 1.0 / (1.0 + exp((r_y - r_x) * rate)))
        ratings[x] = r_x + step
        ratings[y] = r_y - step
    return np.asarray(ratings, dtype=np.float64)
