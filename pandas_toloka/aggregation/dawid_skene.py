"""Dawid–Skene aggregation: per-worker confusion matrices fitted by EM.

Semantics follow crowd-kit 1.4's ``DawidSkene`` (see ``docs/algorithms.md``);
the implementation is vectorized over integer codes (see :mod:`._em`).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._em import EMResult, Golden, ResponseCodes, run_em
from ._encoding import check_iteration_args, encode_responses
from ._golden import encode_golden
from ._memory import DEFAULT_MAX_MEMORY, check_em_memory, check_max_memory
from ._model import AggregationModel
from ._to_frame import frame_function

__all__ = ["DawidSkeneModel", "dawid_skene", "fit_dawid_skene"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False, kw_only=True)
class DawidSkeneModel(AggregationModel):
    """A fitted Dawid–Skene model: an :class:`AggregationModel` with confusion matrices.

    Everything of :class:`AggregationModel` (``to_frame``, ``posterior_frame``,
    ``worker_quality``, ``task_result``, ...), with :attr:`method` ``"DAWID_SKENE"``,
    ``worker_columns`` holding ``accuracy`` and these fields besides:

    Attributes
    ----------
    priors : numpy.ndarray
        ``(n_labels,)`` class priors (mean posterior).
    confusion : numpy.ndarray
        ``(n_workers, n_labels, n_labels)``, indexed ``[worker, true, observed]``:
        P(worker answers ``observed`` | the true label is ``true``). Each
        ``[worker, true, :]`` row sums to 1.

    Notes
    -----
    A worker's ``accuracy`` (a column of :meth:`worker_quality`) is the
    probability, under the model, that they answer a random task correctly:
    ``sum_k priors[k] * confusion[w, k, k]``. ``loss_history`` is the evidence
    lower bound per response after each EM iteration; ``converged`` says
    whether EM stopped because it gained less than ``tol``.
    """

    method: str = "DAWID_SKENE"
    priors: np.ndarray = field(default_factory=lambda: np.zeros(0))
    confusion: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))

    def __post_init__(self) -> None:
        if "accuracy" not in self.worker_columns:
            diagonal = np.diagonal(self.confusion, axis1=1, axis2=2)  # (W, K)
            accuracy = diagonal @ self.priors if diagonal.size else np.zeros(len(self.workers))
            columns = {**self.worker_columns, "accuracy": np.asarray(accuracy, np.float64)}
            object.__setattr__(self, "worker_columns", columns)

    def confusion_frame(self) -> pd.DataFrame:
        """The confusion matrices as a long, tidy frame.

        Returns
        -------
        pandas.DataFrame
            One row per (worker, true label, observed label): columns
            :attr:`worker_column`, ``true_label``, ``observed_label``,
            ``probability`` (float64).
        """
        W, K = len(self.workers), len(self.labels)
        w, k, o = (a.ravel() for a in np.indices((W, K, K)))
        return pd.DataFrame(
            {
                self.worker_column: self.workers.take(w).array,
                "true_label": self.labels.take(k).array,
                "observed_label": self.labels.take(o).array,
                "probability": self.confusion.reshape(-1).astype(np.float64),
            }
        )


def fit_dawid_skene(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    n_iter: int = 100,
    tol: float = 1e-5,
    labels: Iterable[object] | None = None,
    golden: Mapping[Any, Any] | pd.Series | None = None,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
) -> DawidSkeneModel:
    """Fit a Dawid–Skene model to crowd responses.

    EM over one confusion matrix per worker and class priors, started from
    majority-vote shares, as crowd-kit's ``DawidSkene`` does (see
    ``docs/algorithms.md`` for the formulas and degenerate cases).

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. Columns of any dtype backend. Responses with a
        missing label are dropped with a :class:`~pandas_toloka.errors.DroppedResponsesWarning`.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.
    n_iter : int, default 100
        Maximum number of EM iterations; 0 keeps the majority-vote shares.
    tol : float, default 1e-5
        Stop when the objective (evidence lower bound per response) gains less
        than this in an iteration.
    labels : iterable, optional
        The full label space (e.g. the output field's ``allowed_values``); a
        label nobody chose can then still get posterior mass. Default: the
        labels observed.
    golden : mapping or Series, optional
        Task id -> known true label (control tasks). Their posteriors are held
        one-hot on the known label from the start and after every E-step, so
        the workers' confusion matrices are learned from them too. Golden
        tasks without responses are ignored. Where the crowd's errors belong
        to tasks rather than workers this can lower the accuracy on the other
        tasks (measured: by 0.0015-0.0019 on average on the product dataset);
        :func:`glad` models task difficulty (see ``docs/algorithms.md``).
    max_memory : int or None, default 1 GiB
        Refuse, before allocating, a fit whose dense arrays would need more
        bytes than this (about ``8 * (7 * W * K**2 + 3 * T * K)`` for ``W``
        workers, ``K`` labels, ``T`` tasks: quadratic in the labels, so free
        text with thousands of distinct answers would need gigabytes); None
        for no limit. See "Memory" in ``docs/algorithms.md``.

    Returns
    -------
    DawidSkeneModel

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If a task or worker id is null, a label is outside ``labels``, a golden
        label is outside the label space, ``n_iter``/``tol``/``max_memory`` are
        invalid, or the fit would need more than ``max_memory`` (the message
        names the alternatives).
    """
    n_iter, tol = check_iteration_args(n_iter, tol)
    max_memory = check_max_memory(max_memory)
    data = encode_responses(
        responses, task=task, worker=worker, label=label, labels=labels, method="Dawid-Skene"
    )
    tasks, workers, labs = data.tasks, data.workers, data.labels
    golden_tasks, golden_labels = encode_golden(
        golden, tasks, labs, task_like=responses[task], label_like=responses[label]
    )
    T, W, K = tasks.size, workers.size, labs.size
    check_em_memory("Dawid-Skene", T, W, K, max_memory)
    if T == 0:
        fit = EMResult(np.zeros((0, K)), np.zeros(K), np.zeros((0, K, K)), 0, True, ())
    else:
        fit = run_em(
            ResponseCodes(tasks.codes, workers.codes, labs.codes, T, W, K),
            n_iter=n_iter,
            tol=tol,
            golden=Golden(golden_tasks, golden_labels) if len(golden_tasks) else None,
        )
    logger.info(
        "Dawid-Skene on %d responses (%d tasks, %d workers, %d labels): %d iterations, converged=%s",
        data.n_responses,
        T,
        W,
        K,
        fit.n_iter_run,
        fit.converged,
    )
    return DawidSkeneModel.build(
        "DAWID_SKENE",
        data,
        fit.posteriors,
        names=(task, worker, label),
        golden_tasks=golden_tasks if golden is not None else None,
        priors=fit.priors,
        confusion=fit.confusion,
        n_iter_run=fit.n_iter_run,
        converged=fit.converged,
        loss_history=fit.loss_history,
    )


dawid_skene = frame_function(
    fit_dawid_skene,
    name="dawid_skene",
    doc="""Aggregate responses with Dawid–Skene.

    Same parameters as :func:`fit_dawid_skene`; equivalent to
    ``fit_dawid_skene(...).to_frame()``.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``label`` (the most probable
        label, same dtype as the input; ties go to the first label in sorted
        order) and ``confidence`` (float64, its posterior probability); then
        ``golden`` (bool: the task's label was given) when ``golden=`` is given.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "a", "b"],
    ...                    "result": ["cat", "cat", "dog", "dog"]})
    >>> dawid_skene(df)["result"].tolist()
    ['cat', 'dog']
    """,
)
