"""Image segmentation: majority vote, RASA and EM over the workers' boolean masks.

The three methods of crowd-kit's ``aggregation.image_segmentation`` with the same
results on crowd-kit's fixtures, run on vote patterns (:mod:`._vote_patterns`) for
all tasks at once. Formulas, tie rules and the differences from crowd-kit are in
``docs/areas.md``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DroppedResponsesWarning, InvalidArgumentError
from ._encoding import (
    Encoded,
    check_distinct_names,
    check_frame,
    check_iteration_args,
    encode_column,
    user_stacklevel,
)
from ._masks import masks_column, read_masks
from ._segmentation_kernels import (
    KernelResult,
    em_kernel,
    majority_kernel,
    rasa_kernel,
    response_iou,
)
from ._to_frame import frame_function
from ._vote_patterns import PatternGroup, pattern_groups

__all__ = [
    "SegmentationModel",
    "fit_segmentation_em",
    "fit_segmentation_majority_vote",
    "fit_segmentation_rasa",
    "segmentation_em",
    "segmentation_majority_vote",
    "segmentation_rasa",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False, kw_only=True)
class SegmentationModel:
    """A fitted segmentation aggregation.

    Attributes
    ----------
    method : str
        ``"SEGMENTATION_MV"``, ``"SEGMENTATION_RASA"`` or ``"SEGMENTATION_EM"``.
    tasks, workers : pandas.Index
        Task and worker ids, sorted, with the input columns' dtypes.
    masks : tuple of numpy.ndarray
        The aggregated ``(height, width)`` bool mask of each task.
    response_tasks, response_workers : numpy.ndarray
        Task and worker code of each response kept.
    response_iou : numpy.ndarray
        IoU of each response's mask with its task's aggregate (1.0 when both are empty).
    response_columns : dict of str to numpy.ndarray
        Per-response estimates of the method: RASA's final ``weight``, EM's ``skill``.
    n_iter_run : numpy.ndarray
        Iterations run for each task.
    n_dropped : int
        Responses left out because their mask was missing.
    task_column, worker_column, mask_column : hashable
        Column names of the frames this model returns.
    """

    method: str
    tasks: pd.Index
    workers: pd.Index
    masks: tuple[np.ndarray, ...]
    response_tasks: np.ndarray
    response_workers: np.ndarray
    response_iou: np.ndarray
    response_columns: Mapping[str, np.ndarray] = field(default_factory=dict)
    n_iter_run: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_dropped: int = 0
    task_column: Hashable = "task_id"
    worker_column: Hashable = "worker_id"
    mask_column: Hashable = "mask"

    def __repr__(self) -> str:
        return (
            f"SegmentationModel(method={self.method!r}, n_tasks={len(self.tasks)}, "
            f"n_workers={len(self.workers)})"
        )

    def to_frame(self) -> pd.DataFrame:
        """The aggregated masks: one row per task, sorted by task.

        Returns
        -------
        pandas.DataFrame
            :attr:`task_column` (the input dtype) and :attr:`mask_column`, a
            ``pd.ArrowDtype(list<list<bool>>)`` column: each mask as a list of
            pixel rows (:func:`mask_arrays` turns them into NumPy arrays).
        """
        return pd.DataFrame(
            {
                self.task_column: self.tasks.array,
                self.mask_column: masks_column(list(self.masks)).array,
            }
        )

    def worker_quality(self) -> pd.DataFrame:
        """One row per worker, sorted by worker.

        Returns
        -------
        pandas.DataFrame
            :attr:`worker_column`, ``n_responses`` (int64), ``mean_iou``
            (float64: mean IoU of the worker's masks with the aggregates), then
            the mean of each of :attr:`response_columns` over the worker's
            responses (EM's ``skill``, RASA's ``weight``).
        """
        n_workers = len(self.workers)
        n = np.bincount(self.response_workers, minlength=n_workers)
        divisor = np.maximum(n, 1)
        data: dict[Hashable, object] = {
            self.worker_column: self.workers.array,
            "n_responses": n.astype(np.int64),
            "mean_iou": np.bincount(
                self.response_workers, weights=self.response_iou, minlength=n_workers
            )
            / divisor,
        }
        for name, values in self.response_columns.items():
            data[name] = (
                np.bincount(self.response_workers, weights=values, minlength=n_workers) / divisor
            )
        return pd.DataFrame(data)


@dataclass(frozen=True)
class _Inputs:
    tasks: Encoded
    workers: Encoded
    groups: list[PatternGroup]
    n_dropped: int
    frame: pd.DataFrame


def _prepare(
    responses: object, *, task: Hashable, worker: Hashable, mask: Hashable, method: str
) -> _Inputs:
    check_distinct_names([task, mask], task=task, worker=worker, mask=mask)
    frame = check_frame(responses, [task, worker, mask], purpose=f"for {method}")
    masks = read_masks(frame[mask])
    missing = np.fromiter((m is None for m in masks), dtype=bool, count=len(masks))
    n_dropped = int(missing.sum())
    if n_dropped:
        warnings.warn(
            DroppedResponsesWarning(
                f"{method}: dropped {n_dropped} of {len(frame)} response(s) whose mask "
                f"({mask!r}) is missing."
            ),
            stacklevel=user_stacklevel(),
        )
        frame = frame[~missing]
        masks = [m for m in masks if m is not None]
    tasks = encode_column(frame[task], role="task")
    workers = encode_column(frame[worker], role="worker")
    kept: list[np.ndarray] = [m for m in masks if m is not None]
    groups = pattern_groups(kept, tasks.codes, tasks.uniques)
    return _Inputs(tasks, workers, groups, n_dropped, frame)


def _fit(
    inputs: _Inputs,
    kernel: Callable[[PatternGroup], KernelResult],
    *,
    method: str,
    names: tuple[Hashable, Hashable, Hashable],
) -> SegmentationModel:
    n_tasks = inputs.tasks.size
    n_responses = len(inputs.tasks.codes)
    masks: list[np.ndarray] = [np.zeros((0, 0), dtype=bool)] * n_tasks
    iou = np.ones(n_responses)
    n_iter_run = np.zeros(n_tasks, dtype=np.int64)
    extras: dict[str, np.ndarray] = {}
    for group in inputs.groups:
        result = kernel(group)
        for t, picture in zip(group.tasks, group.expand(result.chosen)):
            masks[t] = picture
        iou[group.slots] = response_iou(group.votes, group.counts, result.chosen)
        n_iter_run[group.tasks] = result.n_iter_run
        for name, values in result.response_columns.items():
            extras.setdefault(name, np.zeros(n_responses))[group.slots] = values
    task, worker, mask = names
    logger.debug("%s: %d responses, %d tasks", method, n_responses, n_tasks)
    return SegmentationModel(
        method=method,
        tasks=inputs.tasks.uniques,
        workers=inputs.workers.uniques,
        masks=tuple(masks),
        response_tasks=inputs.tasks.codes,
        response_workers=inputs.workers.codes,
        response_iou=iou,
        response_columns=extras,
        n_iter_run=n_iter_run,
        n_dropped=inputs.n_dropped,
        task_column=task,
        worker_column=worker,
        mask_column=mask,
    )


def _skill_of_responses(
    skills: object, workers: Encoded, frame_worker: pd.Series
) -> np.ndarray | None:
    if skills is None:
        return None
    if isinstance(skills, Mapping):
        skills = pd.Series(dict(skills), dtype=object)
    if not isinstance(skills, pd.Series):
        raise InvalidArgumentError(
            f"skills must be a pandas Series or a mapping worker -> weight, got "
            f"{type(skills).__name__}."
        )
    positions = skills.index.get_indexer(workers.uniques) if skills.index.is_unique else None
    if positions is None:
        raise InvalidArgumentError("skills has a duplicated worker in its index.")
    if (positions < 0).any():
        unknown = list(workers.uniques[positions < 0])[:10]
        raise InvalidArgumentError(
            f"skills has no weight for worker(s) {unknown!r}; give every worker a weight."
        )
    try:
        values = np.asarray(skills.to_numpy()[positions], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"skills must hold numbers ({exc}).") from exc
    if not np.isfinite(values).all():
        raise InvalidArgumentError("skills must be finite numbers (no NaN or infinity).")
    return values[workers.codes]


def fit_segmentation_majority_vote(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    mask: Hashable = "mask",
    skills: pd.Series | Mapping[object, float] | None = None,
) -> SegmentationModel:
    """Fit :func:`segmentation_majority_vote` and return the model.

    Parameters and errors are those of :func:`segmentation_majority_vote`.

    Returns
    -------
    SegmentationModel
    """
    method = "segmentation_majority_vote"
    inputs = _prepare(responses, task=task, worker=worker, mask=mask, method=method)
    weights = _skill_of_responses(skills, inputs.workers, inputs.frame[worker])

    def kernel(group: PatternGroup) -> KernelResult:
        slot_skills = np.ones(group.slots.shape) if weights is None else weights[group.slots]
        return majority_kernel(group.votes, slot_skills)

    return _fit(inputs, kernel, method="SEGMENTATION_MV", names=(task, worker, mask))


segmentation_majority_vote = frame_function(
    fit_segmentation_majority_vote,
    name="segmentation_majority_vote",
    doc="""Aggregate segmentation masks pixel by pixel by (weighted) majority vote.

    A pixel is in the aggregate when at least half of the task's responses
    (weighted by ``skills``) have it in their mask: ``2 * sum(skill * vote) -
    sum(skill) >= 0``, so a tie puts the pixel in (as crowd-kit's
    ``SegmentationMajorityVote``).

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. The ``mask`` column holds 2-D boolean (or 0/1)
        arrays or nested lists (``height x width``), or an Arrow
        ``list<list<bool>>`` column; :func:`rasterize_shapes` makes masks from
        polygons. All masks of a task must have the same size. Responses with
        a null mask are dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning`; an all-False
        mask is a valid answer ("nothing here").
    task, worker, mask : hashable, default "task_id", "worker_id", "mask"
        Column names.
    skills : pandas.Series or mapping, optional
        A weight per worker (index: worker ids). Default: every vote weighs 1.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task`` and ``mask``, a
        ``pd.ArrowDtype(list<list<bool>>)`` column (rows of pixels; read it
        with :func:`mask_arrays`).

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If a task or worker id is null, a mask is not 2-D boolean, the masks
        of a task differ in size, or ``skills`` lacks a worker.

    See Also
    --------
    segmentation_em : Weighs workers by their estimated pixel accuracy.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "task_id": ["t1", "t1", "t1"],
    ...     "worker_id": ["a", "b", "c"],
    ...     "mask": [np.array([[1, 0], [1, 1]], dtype=bool),
    ...              np.array([[0, 1], [1, 1]], dtype=bool),
    ...              np.array([[0, 1], [1, 0]], dtype=bool)],
    ... })
    >>> result = segmentation_majority_vote(df)
    >>> mask_arrays(result["mask"])[0]
    array([[False,  True],
           [ True,  True]])
    """,
)


def fit_segmentation_rasa(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    mask: Hashable = "mask",
    n_iter: int = 10,
    tol: float = 1e-5,
) -> SegmentationModel:
    """Fit :func:`segmentation_rasa` and return the model (with each response's final ``weight``).

    Parameters and errors are those of :func:`segmentation_rasa`.

    Returns
    -------
    SegmentationModel
    """
    n_iter, tol = check_iteration_args(n_iter, tol)
    inputs = _prepare(responses, task=task, worker=worker, mask=mask, method="segmentation_rasa")
    return _fit(
        inputs,
        lambda group: rasa_kernel(group.votes, group.counts, n_iter, tol),
        method="SEGMENTATION_RASA",
        names=(task, worker, mask),
    )


segmentation_rasa = frame_function(
    fit_segmentation_rasa,
    name="segmentation_rasa",
    doc="""Aggregate segmentation masks by RASA (reliability-aware sequence aggregation).

    Starting from equal weights, each iteration takes the weighted vote
    (``sum(w * vote) >= 0.5``) and re-weighs each response by
    ``log(1 / (1 - IoU + 1e-5) + 1)`` of its IoU with that vote, normalised
    to sum to 1 per task; it stops after ``n_iter`` iterations or when the
    relative squared change of the weighted votes falls below ``tol``
    (Li and Fukumoto, 2019; crowd-kit's ``SegmentationRASA``).

    Parameters
    ----------
    responses : pandas.DataFrame
        As for :func:`segmentation_majority_vote`.
    task, worker, mask : hashable, default "task_id", "worker_id", "mask"
        Column names.
    n_iter : int, default 10
        Most iterations. With 0 the result is the unweighted vote (ties in).
    tol : float, default 1e-5
        Stop when ``sum((v - v_prev)**2) / sum(v**2)`` is below it.

    Returns
    -------
    pandas.DataFrame
        As :func:`segmentation_majority_vote`.

    Raises
    ------
    MissingColumnsError, InvalidArgumentError
        As :func:`segmentation_majority_vote`; also for a bad ``n_iter`` or ``tol``.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "task_id": ["t1", "t1", "t1"],
    ...     "worker_id": ["a", "b", "c"],
    ...     "mask": [[[1, 0], [1, 1]], [[0, 1], [1, 1]], [[0, 1], [1, 1]]],
    ... })
    >>> mask_arrays(segmentation_rasa(df)["mask"])[0]
    array([[False,  True],
           [ True,  True]])
    """,
)


def fit_segmentation_em(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    mask: Hashable = "mask",
    n_iter: int = 10,
    tol: float = 1e-5,
    eps: float = 1e-15,
) -> SegmentationModel:
    """Fit :func:`segmentation_em` and return the model (with each response's ``skill``).

    Parameters and errors are those of :func:`segmentation_em`.

    Returns
    -------
    SegmentationModel
    """
    n_iter, tol = check_iteration_args(n_iter, tol)
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 <= eps < 0.5:
        raise InvalidArgumentError(f"eps must be a number in [0, 0.5), got {eps!r}.")
    inputs = _prepare(responses, task=task, worker=worker, mask=mask, method="segmentation_em")
    return _fit(
        inputs,
        lambda group: em_kernel(group.votes, group.counts, n_iter, tol, float(eps)),
        method="SEGMENTATION_EM",
        names=(task, worker, mask),
    )


segmentation_em = frame_function(
    fit_segmentation_em,
    name="segmentation_em",
    doc="""Aggregate segmentation masks by EM: a one-coin Dawid-Skene model per pixel.

    Each response has a ``skill``, the probability that it marks a pixel
    correctly inside the task's region (the pixels some response marked).
    Pixel priors start as the vote shares; each iteration computes the
    posterior of every pixel being in, zeroes posteriors below ``eps``,
    re-estimates the skills from the posteriors and replaces the priors by
    the posteriors, until ``n_iter`` iterations or until the evidence lower
    bound (per response and pixel) gains less than ``tol`` (Jung-Lin Lee et
    al., 2018; crowd-kit's ``SegmentationEM``). A pixel is in when its final
    probability exceeds 0.5.

    Parameters
    ----------
    responses : pandas.DataFrame
        As for :func:`segmentation_majority_vote`.
    task, worker, mask : hashable, default "task_id", "worker_id", "mask"
        Column names.
    n_iter : int, default 10
        Most iterations. With 0 the result is the strict majority (ties out).
    tol : float, default 1e-5
        Stop when the lower bound gains less than this.
    eps : float, default 1e-15
        Posteriors below it are set to 0.

    Returns
    -------
    pandas.DataFrame
        As :func:`segmentation_majority_vote`. A task whose masks are all
        empty gets an empty mask.

    Raises
    ------
    MissingColumnsError, InvalidArgumentError
        As :func:`segmentation_majority_vote`; also for a bad ``n_iter``,
        ``tol`` or ``eps``.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "task_id": ["t1", "t1", "t1"],
    ...     "worker_id": ["a", "b", "c"],
    ...     "mask": [[[1, 0], [1, 1]], [[0, 1], [1, 1]], [[0, 1], [1, 1]]],
    ... })
    >>> mask_arrays(segmentation_em(df)["mask"])[0]
    array([[False,  True],
           [ True,  True]])
    """,
)
