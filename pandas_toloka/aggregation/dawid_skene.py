"""Dawid–Skene aggregation: per-worker confusion matrices fitted by EM.

Semantics follow crowd-kit 1.4's ``DawidSkene`` (see ``docs/algorithms.md``);
the implementation is vectorized over integer codes (see :mod:`._em`).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._em import EMResult, Golden, ResponseCodes, run_em
from ._encoding import build_result, check_iteration_args, encode_responses
from ._golden import encode_golden
from ._memory import DEFAULT_MAX_MEMORY, check_em_memory, check_max_memory
from ._model import golden_mask

__all__ = ["DawidSkeneModel", "dawid_skene", "fit_dawid_skene"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class DawidSkeneModel:
    """A fitted Dawid–Skene model.

    Attributes
    ----------
    labels : pandas.Index
        The label space, sorted, with the input label column's dtype.
    tasks : pandas.Index
        Task ids, sorted, with the input task column's dtype.
    workers : pandas.Index
        Worker ids, sorted, with the input worker column's dtype.
    posteriors : numpy.ndarray
        ``(n_tasks, n_labels)``: ``posteriors[t, k]`` = P(true label of task ``t`` is ``labels[k]``).
    priors : numpy.ndarray
        ``(n_labels,)`` class priors (mean posterior).
    confusion : numpy.ndarray
        ``(n_workers, n_labels, n_labels)``, indexed ``[worker, true, observed]``:
        P(worker answers ``observed`` | the true label is ``true``). Each
        ``[worker, true, :]`` row sums to 1.
    n_responses : numpy.ndarray
        ``(n_workers,)`` number of responses of each worker.
    n_iter_run : int
        EM iterations run.
    converged : bool
        Whether EM stopped because the objective gained less than ``tol``.
    loss_history : tuple of float
        The objective (evidence lower bound per response) after each iteration.
    task_column, worker_column, label_column : hashable
        Column names used for the frames this model returns.
    golden : numpy.ndarray or None
        ``(n_tasks,)`` bool, True for the tasks given in ``golden=`` (their
        posteriors were held one-hot on the known label); None without ``golden=``.
    n_dropped : int
        Responses left out because their label was missing.
    """

    labels: pd.Index
    tasks: pd.Index
    workers: pd.Index
    posteriors: np.ndarray
    priors: np.ndarray
    confusion: np.ndarray
    n_responses: np.ndarray
    n_iter_run: int
    converged: bool
    loss_history: tuple[float, ...] = ()
    task_column: Hashable = "task_id"
    worker_column: Hashable = "worker_id"
    label_column: Hashable = "result"
    golden: np.ndarray | None = None
    n_dropped: int = 0

    def __repr__(self) -> str:
        return (
            f"DawidSkeneModel(n_tasks={len(self.tasks)}, n_workers={len(self.workers)}, "
            f"labels={list(self.labels)!r}, n_iter_run={self.n_iter_run}, converged={self.converged})"
        )

    @property
    def answer_codes(self) -> np.ndarray:
        """Position in :attr:`labels` of each task's answer (first maximum on ties)."""
        if self.posteriors.shape[1] == 0:
            return np.zeros(len(self.tasks), dtype=np.intp)
        return self.posteriors.argmax(axis=1)

    def to_frame(self) -> pd.DataFrame:
        """The aggregation result: one row per task.

        Returns
        -------
        pandas.DataFrame
            Columns :attr:`task_column`, :attr:`label_column` (the most probable
            label; ties go to the first label in sorted order) and ``confidence``
            (its posterior probability), sorted by task; then ``golden`` (bool)
            when the model was fitted with ``golden=``.
        """
        codes = self.answer_codes
        confidence = self.posteriors[np.arange(len(codes)), codes] if len(codes) else np.zeros(0)
        out = build_result(
            self.task_column, self.tasks, {self.label_column: self.labels.take(codes)}, confidence
        )
        if self.golden is not None:
            out["golden"] = self.golden
        return out

    def _task_position(self, task_id: Any) -> int:
        try:
            position = self.tasks.get_loc(task_id)
        except (KeyError, TypeError) as exc:
            raise KeyError(f"Task {task_id!r} is not in the fitted responses.") from exc
        if not isinstance(position, (int, np.integer)):  # pragma: no cover - tasks are unique
            raise KeyError(f"Task {task_id!r} is ambiguous.")
        return int(position)

    def task_posterior(self, task_id: Any) -> pd.Series:
        """The posterior distribution of one task's true label.

        Returns
        -------
        pandas.Series
            Indexed by :attr:`labels`, named after the task.

        Raises
        ------
        KeyError
            If the task was not in the fitted responses.
        """
        row = self.posteriors[self._task_position(task_id)]
        return pd.Series(row, index=self.labels, name=task_id, dtype=np.float64)

    def task_result(self, task_id: Any) -> dict[str, Any]:
        """The aggregated answer of one task, in O(1) after the first call.

        Returns
        -------
        dict
            ``{"task_id": ..., "label": ..., "confidence": float}`` with the
            task id and label as Python scalars.

        Raises
        ------
        KeyError
            If the task was not in the fitted responses.
        """
        position = self._task_position(task_id)
        row = self.posteriors[position]
        code = int(row.argmax())
        return {
            "task_id": _scalar(self.tasks[position]),
            "label": _scalar(self.labels[code]),
            "confidence": float(row[code]),
        }

    def posterior_frame(self) -> pd.DataFrame:
        """All posteriors as a ``tasks x labels`` frame (index: tasks, columns: labels)."""
        return pd.DataFrame(self.posteriors, index=self.tasks, columns=self.labels)

    def worker_quality(self) -> pd.DataFrame:
        """One row per worker: responses and expected accuracy.

        ``accuracy`` is the probability, under the model, that the worker
        answers a random task correctly: ``sum_k priors[k] * confusion[w, k, k]``.

        Returns
        -------
        pandas.DataFrame
            Columns :attr:`worker_column`, ``n_responses`` (int64), ``accuracy``
            (float64), sorted by worker.
        """
        diagonal = np.diagonal(self.confusion, axis1=1, axis2=2)  # (W, K)
        accuracy = diagonal @ self.priors if diagonal.size else np.zeros(len(self.workers))
        return pd.DataFrame(
            {
                self.worker_column: self.workers.array,
                "n_responses": self.n_responses.astype(np.int64),
                "accuracy": np.asarray(accuracy, dtype=np.float64),
            }
        )

    @property
    def worker_columns(self) -> dict[str, np.ndarray]:
        """Per-worker estimates, as :attr:`AggregationModel.worker_columns`."""
        return {"accuracy": self.worker_quality()["accuracy"].to_numpy()}

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


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


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
    n_responses = np.bincount(workers.codes, minlength=W)
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
    return DawidSkeneModel(
        labels=labs.uniques,
        tasks=tasks.uniques,
        workers=workers.uniques,
        posteriors=fit.posteriors,
        priors=fit.priors,
        confusion=fit.confusion,
        n_responses=n_responses,
        n_iter_run=fit.n_iter_run,
        converged=fit.converged,
        loss_history=fit.loss_history,
        task_column=task,
        worker_column=worker,
        label_column=label,
        golden=golden_mask(T, golden_tasks if golden is not None else None),
        n_dropped=data.n_dropped,
    )


def dawid_skene(
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
) -> pd.DataFrame:
    """Aggregate responses with Dawid–Skene.

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
    """
    return fit_dawid_skene(
        responses,
        task=task,
        worker=worker,
        label=label,
        n_iter=n_iter,
        tol=tol,
        labels=labels,
        golden=golden,
        max_memory=max_memory,
    ).to_frame()
