"""Aggregation of crowd responses: pure NumPy/pandas, no I/O.

- :func:`majority_vote` — the most frequent label per task.
- :func:`dawid_skene` / :func:`fit_dawid_skene` — per-worker confusion matrices fitted by EM.
- :func:`weighted_dynamic_overlap` — Toloka's aggregation by skill.

Each takes a DataFrame of responses (any dtype backend) and returns one row per
task, sorted by task: the task column, the label column(s) and ``confidence``.
The formulas, tie rules and degenerate cases are in ``docs/algorithms.md``.
"""

from __future__ import annotations

from .dawid_skene import DawidSkeneModel, dawid_skene, fit_dawid_skene
from .majority_vote import majority_vote
from .weighted import weighted_dynamic_overlap

__all__ = [
    "DawidSkeneModel",
    "dawid_skene",
    "fit_dawid_skene",
    "majority_vote",
    "weighted_dynamic_overlap",
]
