"""The fitted model every categorical method returns: posteriors plus per-worker/per-task extras."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ._encoding import Responses, build_result

__all__ = ["AggregationModel", "golden_mask"]

ModelT = TypeVar("ModelT", bound="AggregationModel")


def golden_mask(n_tasks: int, golden_tasks: np.ndarray | None) -> np.ndarray | None:
    """A boolean per task (True for golden tasks), or None without ``golden=``."""
    if golden_tasks is None:
        return None
    mask = np.zeros(n_tasks, dtype=bool)
    mask[golden_tasks] = True
    return mask


@dataclass(frozen=True, eq=False)
class AggregationModel:
    """A fitted aggregation model.

    Attributes
    ----------
    method : str
        The method's name, e.g. ``"GLAD"``.
    labels, tasks, workers : pandas.Index
        Label space, task ids and worker ids, sorted, with the input columns' dtypes.
    posteriors : numpy.ndarray
        ``(n_tasks, n_labels)``; each row sums to 1. The answer of a task is
        its first largest entry (ties go to the first label in sorted order) and
        the confidence that entry. For the voting methods (WAWA, zero-based
        skill, KOS) these are weighted vote shares rather than posteriors.
    n_responses : numpy.ndarray
        ``(n_workers,)`` responses per worker.
    worker_columns : dict of str to numpy.ndarray
        Per-worker estimates (``(n_workers,)`` each), e.g. GLAD's ``alpha``.
    task_columns : dict of str to numpy.ndarray
        Per-task extras added to :meth:`to_frame` (``(n_tasks,)`` each), e.g.
        GLAD's ``difficulty``.
    golden : numpy.ndarray or None
        ``(n_tasks,)`` bool, True for the tasks whose label was given in
        ``golden=``; None when ``golden=`` was not given.
    n_iter_run : int
        Iterations run.
    converged : bool
        Whether the method stopped on its tolerance (always True for methods
        without one).
    loss_history : tuple of float
        The objective after each iteration, where the method has one.
    n_dropped : int
        Responses left out because their label was missing.
    task_column, worker_column, label_column : hashable
        Column names of the frames this model returns.
    """

    method: str
    labels: pd.Index
    tasks: pd.Index
    workers: pd.Index
    posteriors: np.ndarray
    n_responses: np.ndarray
    worker_columns: Mapping[str, np.ndarray] = field(default_factory=dict)
    task_columns: Mapping[str, np.ndarray] = field(default_factory=dict)
    golden: np.ndarray | None = None
    n_iter_run: int = 0
    converged: bool = True
    loss_history: tuple[float, ...] = ()
    n_dropped: int = 0
    task_column: Hashable = "task_id"
    worker_column: Hashable = "worker_id"
    label_column: Hashable = "result"

    @classmethod
    def build(
        cls: type[ModelT],
        method: str,
        data: Responses,
        posteriors: np.ndarray,
        *,
        names: tuple[Hashable, Hashable, Hashable],
        golden_tasks: np.ndarray | None = None,
        **fields: object,
    ) -> ModelT:
        """Assemble a model from encoded responses and the fit's arrays."""
        task, worker, label = names
        return cls(
            method=method,
            labels=data.labels.uniques,
            tasks=data.tasks.uniques,
            workers=data.workers.uniques,
            posteriors=posteriors,
            n_responses=np.bincount(data.workers.codes, minlength=data.workers.size),
            golden=golden_mask(data.tasks.size, golden_tasks),
            n_dropped=data.n_dropped,
            task_column=task,
            worker_column=worker,
            label_column=label,
            **fields,  # type: ignore[arg-type]
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(method={self.method!r}, n_tasks={len(self.tasks)}, "
            f"n_workers={len(self.workers)}, labels={list(self.labels)!r}, "
            f"n_iter_run={self.n_iter_run}, converged={self.converged})"
        )

    @property
    def answer_codes(self) -> np.ndarray:
        """Position in :attr:`labels` of each task's answer (first maximum on ties)."""
        if self.posteriors.shape[1] == 0:
            return np.zeros(len(self.tasks), dtype=np.intp)
        return self.posteriors.argmax(axis=1)

    def to_frame(self) -> pd.DataFrame:
        """The aggregation result: one row per task, sorted by task.

        Returns
        -------
        pandas.DataFrame
            :attr:`task_column`, :attr:`label_column` (same dtype as the input),
            ``confidence`` (float64), then ``golden`` (bool, only when
            ``golden=`` was given) and the method's per-task extras
            (:attr:`task_columns`).
        """
        codes = self.answer_codes
        confidence = self.posteriors[np.arange(len(codes)), codes] if len(codes) else np.zeros(0)
        out = build_result(
            self.task_column, self.tasks, {self.label_column: self.labels.take(codes)}, confidence
        )
        if self.golden is not None:
            out["golden"] = self.golden
        for name, values in self.task_columns.items():
            out[name] = np.asarray(values, dtype=np.float64)
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
        """One row per worker, sorted by worker.

        Returns
        -------
        pandas.DataFrame
            :attr:`worker_column`, ``n_responses`` (int64), then the method's
            per-worker estimates (:attr:`worker_columns`, float64).
        """
        data: dict[Hashable, object] = {
            self.worker_column: self.workers.array,
            "n_responses": self.n_responses.astype(np.int64),
        }
        for name, values in self.worker_columns.items():
            data[name] = np.asarray(values, dtype=np.float64)
        return pd.DataFrame(data)


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
