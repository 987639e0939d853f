"""Aggregation of responses that come with an embedding: ClosestToAverage, RASA and HRRASA.

Each method estimates a task's *aggregated embedding* and answers with the
response whose embedding is closest to it (cosine distance). The embeddings
are the user's: a column of lists or arrays, or an Arrow ``list`` /
``fixed_size_list`` column; no model is bundled. The formulas are in
``docs/texts.md``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import DroppedResponsesWarning, InvalidArgumentError
from ._encoding import (
    check_distinct_names,
    check_frame,
    check_iteration_args,
    encode_column,
    user_stacklevel,
)
from ._reliability import (
    Fit,
    closest_rows,
    cosine_distances,
    local_reliabilities,
    reliability_fit,
    task_bounds,
    weighted_means,
)
from ._to_frame import frame_function
from ._vectors import embedding_column, embedding_matrix, golden_embeddings, null_embeddings

__all__ = [
    "EmbeddingModel",
    "closest_to_average",
    "fit_closest_to_average",
    "fit_hrrasa",
    "fit_rasa",
    "hrrasa",
    "rasa",
]

logger = logging.getLogger(__name__)

Similarity = Callable[[object, object], float]


@dataclass(frozen=True, eq=False, kw_only=True)
class EmbeddingModel:
    """A fitted embedding aggregation.

    Attributes
    ----------
    method : str
        ``"CLOSEST_TO_AVERAGE"``, ``"RASA"``, ``"HRRASA"``, ``"TEXT_RASA"`` or
        ``"TEXT_HRRASA"``.
    tasks, workers : pandas.Index
        Task and worker ids, sorted, with the input columns' dtypes.
    outputs : pandas.api.extensions.ExtensionArray
        The chosen response's output per task (the output column's dtype).
    embeddings : numpy.ndarray
        ``(n_tasks, dim)`` the chosen responses' embeddings.
    aggregated : numpy.ndarray
        ``(n_tasks, dim)`` the tasks' aggregated embeddings.
    confidence : numpy.ndarray
        ``(n_tasks,)`` cosine similarity of the chosen embedding with the
        aggregated one, in [-1, 1]; 0.0 where either is the zero vector.
    n_responses : numpy.ndarray
        ``(n_workers,)`` responses per worker.
    worker_columns : dict of str to numpy.ndarray
        RASA/HRRASA: ``skill`` (the global reliability β) and ``prior_skill``
        (its chi-squared numerator); NaN for a worker HRRASA could not rate
        (one who only answered tasks with a single response).
    golden : numpy.ndarray or None
        ``(n_tasks,)`` bool, True for the tasks whose embedding was given in
        ``golden=``; None without ``golden=``.
    n_iter_run, converged, loss_history
        Iterations run, whether the tolerance stopped them, the relative
        change of the aggregated embeddings after each iteration but the first.
    n_dropped : int
        Responses left out because their output or embedding was missing.
    task_column, worker_column, output_column, embedding_column : hashable
        Column names of the frames this model returns.
    with_embedding : bool
        Whether :meth:`to_frame` has the embedding column (False for the
        text methods).
    """

    method: str
    tasks: pd.Index
    workers: pd.Index
    outputs: pd.api.extensions.ExtensionArray
    embeddings: np.ndarray
    aggregated: np.ndarray
    confidence: np.ndarray
    n_responses: np.ndarray
    worker_columns: Mapping[str, np.ndarray] = field(default_factory=dict)
    golden: np.ndarray | None = None
    n_iter_run: int = 0
    converged: bool = True
    loss_history: tuple[float, ...] = ()
    n_dropped: int = 0
    task_column: Hashable = "task_id"
    worker_column: Hashable = "worker_id"
    output_column: Hashable = "output"
    embedding_column: Hashable = "embedding"
    with_embedding: bool = True

    def __repr__(self) -> str:
        return (
            f"EmbeddingModel(method={self.method!r}, n_tasks={len(self.tasks)}, "
            f"n_workers={len(self.workers)}, n_iter_run={self.n_iter_run})"
        )

    def to_frame(self) -> pd.DataFrame:
        """The aggregation result: one row per task, sorted by task.

        Returns
        -------
        pandas.DataFrame
            :attr:`task_column`, :attr:`output_column` (the chosen response's
            output, input dtype), :attr:`embedding_column` (its embedding: an
            object column of 1-D float64 arrays; not for the text methods), ``confidence``
            (float64), then ``golden`` (bool, only with ``golden=``).
        """
        data: dict[Hashable, object] = {
            self.task_column: self.tasks.array,
            self.output_column: self.outputs,
        }
        if self.with_embedding:
            data[self.embedding_column] = embedding_column(self.embeddings)
        data["confidence"] = np.asarray(self.confidence, dtype=np.float64)
        out = pd.DataFrame(data, index=pd.RangeIndex(len(self.tasks)))
        if self.golden is not None:
            out["golden"] = self.golden
        return out

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


@dataclass(frozen=True)
class _Coded:
    task_codes: np.ndarray
    worker_codes: np.ndarray
    embeddings: np.ndarray
    outputs: pd.api.extensions.ExtensionArray
    tasks: pd.Index
    workers: pd.Index
    golden: tuple[np.ndarray, np.ndarray]
    n_dropped: int


def _coded(
    responses: object,
    *,
    task: Hashable,
    worker: Hashable,
    output: Hashable,
    embedding: Hashable,
    golden: object,
    method: str,
) -> _Coded:
    check_distinct_names(
        [task, output, embedding], task=task, worker=worker, output=output, embedding=embedding
    )
    frame = check_frame(responses, [task, worker, output, embedding], purpose=f"for {method}")
    missing = frame[output].isna().to_numpy(dtype=bool) | null_embeddings(frame[embedding])
    if missing.any():
        warnings.warn(
            DroppedResponsesWarning(
                f"{method}: dropped {int(missing.sum())} of {len(frame)} response(s) whose "
                f"output ({output!r}) or embedding ({embedding!r}) is missing."
            ),
            stacklevel=user_stacklevel(),
        )
        frame = frame[~missing]
    tasks = encode_column(frame[task], role="task")
    workers = encode_column(frame[worker], role="worker")
    matrix = embedding_matrix(frame[embedding])
    order = np.argsort(tasks.codes, kind="stable")
    dim = matrix.shape[1] if matrix.ndim == 2 else 0
    return _Coded(
        task_codes=tasks.codes[order],
        worker_codes=workers.codes[order],
        embeddings=matrix[order].reshape(len(order), dim),
        outputs=frame[output].array.take(order),
        tasks=tasks.uniques,
        workers=workers.uniques,
        golden=golden_embeddings(golden, tasks.uniques, dim=dim, task_like=frame[task]),
        n_dropped=int(missing.sum()),
    )


def _finish(
    method: str,
    data: _Coded,
    aggregated: np.ndarray,
    fit: Fit | None,
    *,
    names: tuple[Hashable, Hashable, Hashable, Hashable],
    golden_given: bool,
) -> EmbeddingModel:
    """Choose each task's closest response to its aggregated embedding; build the model."""
    n_tasks = len(data.tasks)
    distance = cosine_distances(data.embeddings, aggregated[data.task_codes])
    rows = closest_rows(data.task_codes, distance, n_tasks)
    chosen = distance[rows]
    golden = None
    if golden_given:
        golden = np.zeros(n_tasks, dtype=bool)
        golden[data.golden[0]] = True
    task, worker, output, embedding = names
    worker_columns = {} if fit is None else {"skill": fit.skill, "prior_skill": fit.prior}
    return EmbeddingModel(
        method=method,
        tasks=data.tasks,
        workers=data.workers,
        outputs=data.outputs.take(rows),
        embeddings=data.embeddings[rows],
        aggregated=aggregated,
        confidence=np.where(np.isfinite(chosen), 1.0 - chosen, 0.0),
        n_responses=np.bincount(data.worker_codes, minlength=len(data.workers)),
        worker_columns=worker_columns,
        golden=golden,
        n_iter_run=0 if fit is None else fit.n_iter_run,
        converged=True if fit is None else fit.converged,
        loss_history=() if fit is None else fit.loss_history,
        n_dropped=data.n_dropped,
        task_column=task,
        worker_column=worker,
        output_column=output,
        embedding_column=embedding,
    )


def _check_number(name: str, value: object, *, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}.")
    number = float(value)
    if not np.isfinite(number) or number < low or (high is not None and number >= high):
        bound = f">= {low}" if high is None else f"in [{low}, {high})"
        raise InvalidArgumentError(f"{name} must be a finite number {bound}, got {value!r}.")
    return number


def _check_alpha(alpha: object) -> float:
    number = _check_number("alpha", alpha, low=0.0, high=1.0)
    if number == 0.0:
        raise InvalidArgumentError("alpha must be > 0, got 0.")
    return number


def fit_closest_to_average(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    output: Hashable = "output",
    embedding: Hashable = "embedding",
    golden: Mapping[object, object] | pd.Series | None = None,
) -> EmbeddingModel:
    """Fit ClosestToAverage; see :func:`closest_to_average`.

    Returns
    -------
    EmbeddingModel
    """
    data = _coded(
        responses,
        task=task,
        worker=worker,
        output=output,
        embedding=embedding,
        golden=golden,
        method="CLOSEST_TO_AVERAGE",
    )
    starts = task_bounds(data.task_codes, len(data.tasks))
    aggregated = weighted_means(data.embeddings, np.ones(len(data.task_codes)), starts, data.golden)
    return _finish(
        "CLOSEST_TO_AVERAGE",
        data,
        aggregated,
        None,
        names=(task, worker, output, embedding),
        golden_given=golden is not None,
    )


closest_to_average = frame_function(
    fit_closest_to_average,
    name="closest_to_average",
    doc="""Answer each task with the response closest to the mean of its embeddings.

    The task's aggregated embedding is the mean of its responses'
    embeddings (or its known embedding, for a task in ``golden``); the
    answer is the response with the smallest cosine distance to it, the
    first in row order on ties.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. Responses with a missing output or embedding
        are dropped with a :class:`~pandas_toloka.errors.DroppedResponsesWarning`.
    task, worker, output, embedding : hashable
        Column names (default ``"task_id"``, ``"worker_id"``, ``"output"``,
        ``"embedding"``). Embeddings: lists or arrays of one length, or an
        Arrow ``list`` / ``fixed_size_list`` column.
    golden : mapping or Series, optional
        Task id -> known embedding of the true answer.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``output`` (the chosen
        response's, input dtype), ``embedding`` (its embedding: object
        dtype, a 1-D float64 array per task, ``list<double>`` in Parquet), ``confidence`` (float64: its cosine similarity
        with the aggregated embedding, in [-1, 1]; 0.0 for a zero vector),
        and ``golden`` (bool) with ``golden=``.

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If the embeddings are not numeric vectors of one length, hold NaN or
        infinity, or ``golden=`` is malformed.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t1"],
    ...                    "worker_id": ["a", "b", "c"],
    ...                    "output": ["cat", "cat!", "dog"],
    ...                    "embedding": [[1.0, 0.1], [1.0, 0.0], [0.0, 1.0]]})
    >>> closest_to_average(df)[["task_id", "output"]]
      task_id output
    0      t1    cat
    """,
)


def fit_rasa(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    output: Hashable = "output",
    embedding: Hashable = "embedding",
    golden: Mapping[object, object] | pd.Series | None = None,
    n_iter: int = 100,
    tol: float = 1e-9,
    alpha: float = 0.05,
) -> EmbeddingModel:
    """Fit RASA; see :func:`rasa`.

    Returns
    -------
    EmbeddingModel
        With ``skill`` and ``prior_skill`` per worker.
    """
    n_iter, tol = check_iteration_args(n_iter, tol)
    alpha = _check_alpha(alpha)
    data = _coded(
        responses,
        task=task,
        worker=worker,
        output=output,
        embedding=embedding,
        golden=golden,
        method="RASA",
    )
    fit = reliability_fit(
        data.task_codes,
        data.worker_codes,
        data.embeddings,
        np.ones(len(data.task_codes)),
        n_tasks=len(data.tasks),
        n_workers=len(data.workers),
        golden=data.golden,
        n_iter=n_iter,
        tol=tol,
        alpha=alpha,
    )
    logger.info("RASA: %d iterations, converged=%s", fit.n_iter_run, fit.converged)
    return _finish(
        "RASA",
        data,
        fit.aggregated,
        fit,
        names=(task, worker, output, embedding),
        golden_given=golden is not None,
    )


rasa = frame_function(
    fit_rasa,
    name="rasa",
    doc="""Aggregate with RASA (Reliability Aware Sequence Aggregation; Li and Fukumoto, 2019).

    Alternates two steps: each task's aggregated embedding is the mean of its
    responses' embeddings weighted by the workers' reliabilities ``β``; each
    worker's ``β_k = chi2.isf(alpha/2, n_k) / Σ |e - ê|²`` over their ``n_k``
    responses. It stops after ``n_iter`` iterations or when the relative
    change of the aggregated embeddings falls below ``tol``; the answer is
    the response closest (cosine distance) to the aggregated embedding.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response; see :func:`closest_to_average`.
    task, worker, output, embedding : hashable
        Column names (default ``"task_id"``, ``"worker_id"``, ``"output"``,
        ``"embedding"``).
    golden : mapping or Series, optional
        Task id -> known embedding of the true answer: the task's aggregated
        embedding is held at it.
    n_iter : int, default 100
        Maximum iterations; 0 gives :func:`closest_to_average`.
    tol : float, default 1e-9
        Stop when ``Σ|ê - ê_prev|² / Σ|ê|²`` falls below it.
    alpha : float, default 0.05
        Significance level of the chi-squared quantile.

    Returns
    -------
    pandas.DataFrame
        As :func:`closest_to_average`. Worker reliabilities:
        ``fit_rasa(...).worker_quality()``.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t1"],
    ...                    "worker_id": ["a", "b", "c"],
    ...                    "output": ["a", "a", "b"],
    ...                    "embedding": [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]})
    >>> rasa(df)[["task_id", "output", "confidence"]]
      task_id output  confidence
    0      t1      a         1.0
    """,
)


def fit_hrrasa(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    output: Hashable = "output",
    embedding: Hashable = "embedding",
    golden: Mapping[object, object] | pd.Series | None = None,
    n_iter: int = 100,
    tol: float = 1e-9,
    lambda_emb: float = 0.5,
    lambda_out: float = 0.5,
    alpha: float = 0.05,
    similarity: Literal["gleu"] | Similarity = "gleu",
) -> EmbeddingModel:
    """Fit HRRASA; see :func:`hrrasa`.

    Returns
    -------
    EmbeddingModel
        With ``skill`` and ``prior_skill`` per worker.
    """
    n_iter, tol = check_iteration_args(n_iter, tol)
    alpha = _check_alpha(alpha)
    lambda_emb = _check_number("lambda_emb", lambda_emb, low=0.0)
    lambda_out = _check_number("lambda_out", lambda_out, low=0.0)
    if similarity != "gleu" and not callable(similarity):
        raise InvalidArgumentError(
            f"similarity= must be 'gleu' or a callable (a, b) -> float, got {similarity!r}."
        )
    data = _coded(
        responses,
        task=task,
        worker=worker,
        output=output,
        embedding=embedding,
        golden=golden,
        method="HRRASA",
    )
    n_tasks = len(data.tasks)
    counts = np.bincount(data.task_codes, minlength=n_tasks)
    several = counts[data.task_codes] > 1  # tasks with one response are not fitted
    kept = np.flatnonzero(counts > 1)
    renumber = np.full(n_tasks, -1, dtype=np.int64)
    renumber[kept] = np.arange(len(kept))
    sub_tasks = renumber[data.task_codes[several]]
    sub_embeddings = data.embeddings[several]
    outputs = data.outputs.take(np.flatnonzero(several)).tolist()
    local = local_reliabilities(
        sub_tasks,
        sub_embeddings,
        outputs,
        n_tasks=len(kept),
        lambda_emb=lambda_emb,
        lambda_out=lambda_out,
        similarity=None if similarity == "gleu" else similarity,
    )
    golden_kept = renumber[data.golden[0]] >= 0
    fit = reliability_fit(
        sub_tasks,
        data.worker_codes[several],
        sub_embeddings,
        local,
        n_tasks=len(kept),
        n_workers=len(data.workers),
        golden=(renumber[data.golden[0][golden_kept]], data.golden[1][golden_kept]),
        n_iter=n_iter,
        tol=tol,
        alpha=alpha,
    )
    # A task with one response: that response, its own embedding as the aggregate.
    aggregated = np.empty_like(data.embeddings[:n_tasks])
    single = counts == 1
    aggregated[single] = data.embeddings[~several]
    aggregated[kept] = fit.aggregated
    aggregated[data.golden[0]] = data.golden[1]
    logger.info("HRRASA: %d iterations, converged=%s", fit.n_iter_run, fit.converged)
    return _finish(
        "HRRASA",
        data,
        aggregated,
        fit,
        names=(task, worker, output, embedding),
        golden_given=golden is not None,
    )


hrrasa = frame_function(
    fit_hrrasa,
    name="hrrasa",
    doc="""Aggregate with HRRASA (Hybrid Reliability and Representation Aware Sequence
    Aggregation; Li, 2020).

    RASA (:func:`rasa`) with a *local* reliability ``γ`` of each response
    besides the workers' global ``β``: ``γ = lambda_emb * mean_k' exp(-|e - e'|² /
    (|e|² |e'|²)) + lambda_out * mean_k' similarity(output, output')`` over the
    other responses of the task. The aggregated embedding weighs responses by
    ``β γ``; ``β_k = chi2.isf(alpha/2, n_k) / Σ |e - ê|² / γ``. Tasks with a
    single response are not fitted: the answer is that response.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response; see :func:`closest_to_average`.
    task, worker, output, embedding : hashable
        Column names (default ``"task_id"``, ``"worker_id"``, ``"output"``,
        ``"embedding"``).
    golden : mapping or Series, optional
        Task id -> known embedding of the true answer.
    n_iter, tol, alpha
        As in :func:`rasa`.
    lambda_emb, lambda_out : float, default 0.5, 0.5
        Weights of the embedding and output parts of the local reliability.
    similarity : "gleu" or callable, default "gleu"
        Similarity of two outputs: sentence GLEU of their words (1- to 4-grams
        shared over the larger n-gram total), or a callable ``(a, b) -> float``.

    Returns
    -------
    pandas.DataFrame
        As :func:`closest_to_average`. Worker reliabilities:
        ``fit_hrrasa(...).worker_quality()``.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t1"],
    ...                    "worker_id": ["a", "b", "c"],
    ...                    "output": ["a cat", "a cat", "dog"],
    ...                    "embedding": [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]})
    >>> hrrasa(df)["output"].tolist()
    ['a cat']
    """,
)
