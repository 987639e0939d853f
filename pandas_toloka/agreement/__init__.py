"""Agreement between workers and uncertainty of tasks: pure NumPy/pandas, no I/O.

- :func:`krippendorff_alpha` — agreement beyond chance for nominal, ordinal,
  interval and ratio labels, missing responses allowed.
- :func:`fleiss_kappa` — agreement beyond chance of many workers, nominal labels.
- :func:`cohen_kappa` — Cohen's kappa of each pair of workers who share tasks.
- :func:`worker_agreement` — each worker against the aggregate and their peers.
- :func:`task_uncertainty` — entropy of each task's votes or posterior.
- :func:`accuracy_on_aggregates`, :func:`consistency`, :func:`entropy_threshold` —
  crowd-kit's worker metrics, consistency and worker filter.

Each takes a DataFrame of responses (any dtype backend) with task, worker and
label columns, as the aggregation functions do. The formulas, the rules for
missing and repeated responses and the degenerate cases are in
``docs/agreement.md``.
"""

from __future__ import annotations

from ._alpha import Level, krippendorff_alpha
from ._kappa import cohen_kappa, fleiss_kappa
from ._uncertainty import task_uncertainty
from ._workers import accuracy_on_aggregates, consistency, entropy_threshold, worker_agreement

__all__ = [
    "Level",
    "accuracy_on_aggregates",
    "cohen_kappa",
    "consistency",
    "entropy_threshold",
    "fleiss_kappa",
    "krippendorff_alpha",
    "task_uncertainty",
    "worker_agreement",
]
