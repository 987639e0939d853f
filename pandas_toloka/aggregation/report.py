"""How far to trust an aggregation: accuracy and calibration of ``confidence`` on known labels."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError
from ._encoding import check_frame
from ._golden import KnownSolutions, known_from_mapping, known_solutions_from_frame

__all__ = [
    "aggregation_report",
    "calibration_bins",
    "check_n_bins",
    "evaluated_tasks",
    "expected_calibration_error",
    "golden_worker_accuracy",
]

logger = logging.getLogger(__name__)


def calibration_bins(
    confidence: np.ndarray, correct: np.ndarray, *, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width confidence bin: the number of tasks, their summed confidence and
    their number of right answers.

    Bin ``b`` holds the confidences in ``(b/n_bins, (b+1)/n_bins]`` (the first bin
    also holds 0).
    """
    bins = np.clip(np.ceil(confidence * n_bins).astype(np.intp) - 1, 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    conf_sum = np.bincount(bins, weights=confidence, minlength=n_bins)
    hit_sum = np.bincount(bins, weights=correct.astype(np.float64), minlength=n_bins)
    return counts, conf_sum, hit_sum


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, *, n_bins: int = 10
) -> float:
    """``sum_b (n_b / n) |accuracy_b - mean confidence_b|`` over equal-width confidence bins.

    Bins as :func:`calibration_bins`. NaN for no tasks.
    """
    n = len(confidence)
    if n == 0:
        return float("nan")
    _, conf_sum, hit_sum = calibration_bins(confidence, correct, n_bins=n_bins)
    return float(np.abs(hit_sum - conf_sum).sum() / n)


def aggregation_report(
    result: pd.DataFrame,
    truth: Mapping[Any, Any] | pd.Series | pd.DataFrame | str,
    *,
    task: Hashable = "task_id",
    label: Hashable = "result",
    n_bins: int = 10,
    responses: pd.DataFrame | None = None,
    worker: Hashable = "worker_id",
) -> pd.Series:
    """Accuracy and calibration of an aggregation result on tasks with known labels.

    Parameters
    ----------
    result : pandas.DataFrame
        One row per task with ``task``, ``label`` and ``confidence`` columns, as
        returned by the aggregation functions or ``aggregate_locally``. Rows
        marked ``golden`` (their label was given to the method, so they are
        right by construction) are left out.
    truth : mapping, Series, DataFrame or "pool"
        Task id -> known label (or -> ``{label: correctness weight}`` for a task
        with several correct answers). A DataFrame of tasks
        (:func:`~pandas_toloka.read_tasks`: its ``known_solutions``) or of
        responses with ``golden.<label>`` columns (a results export) gives the
        control tasks' known solutions; ``"pool"`` takes them from the
        ``golden.<label>`` column of ``responses`` (this function sends no
        request: for a pool read from the API pass ``truth=ptk.read_tasks(pool_id)``).
        A task with several known solutions counts a label as right by the
        correctness weight of the known solution it equals (0 when none). To
        measure calibration on golden tasks, hold some of them out: pass the
        rest as ``golden=`` to the method and these here.
    task, label : hashable, default "task_id", "result"
        Column names in ``result`` (and in ``responses``).
    n_bins : int, default 10
        Equal-width confidence bins for the expected calibration error.
    responses : pandas.DataFrame, optional
        The responses the result was aggregated from (``task``, ``worker`` and
        ``label`` columns): adds how much the workers agree, on all their tasks.
    worker : hashable, default "worker_id"
        The worker column of ``responses``.

    Returns
    -------
    pandas.Series
        ``n_tasks`` (tasks evaluated), ``accuracy`` (share whose label equals the
        known one), ``mean_confidence`` and ``ece`` (expected calibration error:
        the task-weighted mean over bins of ``|accuracy - mean confidence|``; 0
        is perfectly calibrated; the number
        :func:`~pandas_toloka.plotting.plot_reliability` shows). NaN for the rates
        when no task is evaluated. With ``responses``, also
        ``krippendorff_alpha`` (nominal) and ``fleiss_kappa`` of the responses,
        and ``agreement_with_aggregate``: the share of responses equal to the
        result's label of their task (crowd-kit's ``accuracy_on_aggregates``);
        see :mod:`pandas_toloka.agreement` for their definitions and degenerate
        cases.

    Raises
    ------
    MissingColumnsError
        If ``result`` or ``responses`` lacks a column.
    InvalidArgumentError
        If ``truth`` is not a mapping/Series or ``n_bins`` is not a positive integer.

    Examples
    --------
    >>> result = pd.DataFrame({"task_id": ["t1", "t2"], "result": ["cat", "dog"],
    ...                        "confidence": [0.9, 0.6]})
    >>> aggregation_report(result, {"t1": "cat", "t2": "cat"})["accuracy"]
    np.float64(0.5)
    """
    n_bins = check_n_bins(n_bins)
    if isinstance(truth, str):
        if truth != "pool":
            raise InvalidArgumentError(
                f"truth must be a mapping, a Series, a frame or 'pool', got {truth!r}."
            )
        if responses is None:
            raise InvalidArgumentError(
                "truth='pool' reads the control tasks' known answers from the golden.<field> "
                "columns of responses= (a results export); for a pool read from the API pass "
                "truth=ptk.read_tasks(pool_id) instead."
            )
        truth = responses
    if isinstance(truth, pd.DataFrame):
        truth = known_solutions_from_frame(truth, field=str(label), task=task)
    confidence, correct = evaluated_tasks(result, truth, task=task, label=label)
    n = len(correct)
    figures: dict[str, object] = {
        "n_tasks": n,
        "accuracy": float(correct.mean()) if n else float("nan"),
        "mean_confidence": float(confidence.mean()) if n else float("nan"),
        "ece": expected_calibration_error(confidence, correct, n_bins=n_bins),
    }
    if responses is not None:
        figures.update(_agreement_figures(responses, result, task=task, worker=worker, label=label))
    return pd.Series(figures, dtype=object, name="report")


def _agreement_figures(
    responses: pd.DataFrame,
    result: pd.DataFrame,
    *,
    task: Hashable,
    worker: Hashable,
    label: Hashable,
) -> dict[str, float]:
    # pandas_toloka.agreement builds on this package (encoding, majority vote); imported
    # here, from its modules that import aggregation's modules only, so no cycle forms.
    from ..agreement._alpha import krippendorff_alpha
    from ..agreement._kappa import fleiss_kappa
    from ..agreement._workers import accuracy_on_aggregates

    aggregate = result[[task, label]]
    return {
        "krippendorff_alpha": krippendorff_alpha(responses, task=task, worker=worker, label=label),
        "fleiss_kappa": fleiss_kappa(responses, task=task, worker=worker, label=label),
        "agreement_with_aggregate": accuracy_on_aggregates(
            responses, aggregate=aggregate, task=task, worker=worker, label=label
        ),
    }


def check_n_bins(n_bins: object) -> int:
    """``n_bins`` as a positive int, or an :class:`InvalidArgumentError`."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise InvalidArgumentError(f"n_bins must be a positive integer, got {n_bins!r}.")
    return int(n_bins)


def evaluated_tasks(
    result: pd.DataFrame,
    truth: Mapping[Any, Any] | pd.Series,
    *,
    task: Hashable = "task_id",
    label: Hashable = "result",
) -> tuple[np.ndarray, np.ndarray]:
    """The confidence and rightness (bool) of each task of ``result`` with a known label
    (golden rows left out), in the result's order."""
    frame = check_frame(
        result, [task, label, "confidence"], purpose="for the report", argument="result"
    )
    if not isinstance(truth, (Mapping, pd.Series)):
        raise InvalidArgumentError(
            f"truth must be a mapping or a pandas Series of task id -> label, got {type(truth).__name__}."
        )
    weighted = any(isinstance(v, Mapping) for v in _values(truth))
    known = known_from_mapping(truth)
    if "golden" in frame.columns:
        frame = frame[~frame["golden"].to_numpy(dtype=bool, na_value=False)]
    tasks = [_key(t) for t in frame[task].array]
    present = np.fromiter((t in known for t in tasks), dtype=bool, count=len(tasks))
    answers = frame[label].array[present]
    expected = [known[t] for t, p in zip(tasks, present, strict=True) if p]
    credit = np.fromiter(
        (e.get(_key(a), 0.0) for a, e in zip(answers, expected, strict=True)),
        dtype=np.float64,
        count=len(expected),
    )
    correct = credit if weighted else credit > 0
    confidence = frame["confidence"].to_numpy(dtype=np.float64)[present]
    logger.debug("aggregation_report: %d of %d tasks have a known label", len(correct), len(frame))
    return confidence, correct


def _values(truth: Mapping[Any, Any] | pd.Series) -> Any:
    return truth.array if isinstance(truth, pd.Series) else truth.values()


def _key(value: Any) -> Any:
    """A hashable, type-normalized key: NumPy scalars as Python ones."""
    return value.item() if isinstance(value, np.generic) else value


def golden_worker_accuracy(
    responses: pd.DataFrame,
    golden: Mapping[Any, Any] | pd.Series,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
) -> pd.DataFrame:
    """Each worker's observed accuracy on the golden tasks they answered.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response (rows with a missing label are ignored).
    golden : mapping or Series
        Task id -> known label, or -> ``{label: correctness weight}`` for a task
        with several known solutions (a response then scores the weight of the
        known solution it equals, 0 when none).
    task, worker, label : hashable
        Column names.

    Returns
    -------
    pandas.DataFrame
        One row per worker with at least one response, sorted by worker:
        ``worker``, ``n_golden`` (int64, their responses to golden tasks) and
        ``golden_accuracy`` (float64, the share of those equal to the known
        label, weighted as above; NaN without golden responses).
    """
    frame = check_frame(
        responses, {"task": task, "worker": worker, "label": label}, purpose="for golden accuracy"
    )
    if not isinstance(golden, (Mapping, pd.Series)):
        raise InvalidArgumentError(
            f"golden must be a mapping or a pandas Series, got {type(golden).__name__}."
        )
    known: KnownSolutions = known_from_mapping(golden)
    frame = frame[frame[label].notna().to_numpy(dtype=bool)]
    expected = [known.get(_key(t)) for t in frame[task].array]
    is_golden = np.fromiter((e is not None for e in expected), dtype=bool, count=len(expected))
    correct = np.fromiter(
        (
            0.0 if e is None else e.get(_key(a), 0.0)
            for a, e in zip(frame[label].array, expected, strict=True)
        ),
        dtype=np.float64,
        count=len(expected),
    )
    codes, workers = frame[worker].factorize(sort=True)
    n_golden = np.bincount(codes, weights=is_golden, minlength=len(workers)).astype(np.int64)
    hits = np.bincount(codes, weights=correct, minlength=len(workers))
    accuracy = np.divide(hits, n_golden, out=np.full(len(workers), np.nan), where=n_golden > 0)
    return pd.DataFrame(
        {worker: pd.Index(workers).array, "n_golden": n_golden, "golden_accuracy": accuracy}
    )
