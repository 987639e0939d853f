"""GLAD (Whitehill et al., 2009): worker ability and task difficulty, fitted by EM.

Worker ``w`` answers task ``t`` correctly with probability
``sigma(alpha_w * exp(beta_t))`` and, when wrong, picks one of the other
``K - 1`` labels uniformly. ``alpha`` is the ability (negative: adversarial),
``exp(beta)`` the task's easiness (``1 / exp(beta)`` its difficulty). Priors:
``alpha ~ N(1, 1)``, ``beta ~ N(1, 1)``; class priors uniform (crowd-kit's
defaults). The E-step is one weighted ``bincount`` over (task, label); the
M-step maximizes the expected log-likelihood by alternating Newton steps on
``alpha`` (one independent 1-D problem per worker) and ``beta`` (one per task)
instead of crowd-kit's conjugate gradient (see ``docs/algorithms.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from ._encoding import Responses, check_iteration_args, encode_responses
from ._golden import encode_golden
from ._model import AggregationModel
from ._to_frame import frame_function

__all__ = ["fit_glad", "glad"]

logger = logging.getLogger(__name__)

#: Largest change of ``beta`` in one Newton step (``exp(beta)`` scales the ability).
MAX_BETA_STEP = 1.0
_LOG_2PI = float(np.log(2 * np.pi))


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log(1 / (1 + exp(-x))) = -(max(-x, 0) + log1p(exp(-|x|)))``, without overflow.

    (Several times faster than ``-numpy.logaddexp(0, -x)``.)
    """
    out = np.exp(-np.abs(x))
    np.log1p(out, out=out)
    out += np.maximum(-x, 0.0)
    np.negative(out, out=out)
    return out


@dataclass
class _Glad:
    """The arrays one GLAD fit works on (codes, posteriors and parameters)."""

    task: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    n_tasks: int
    n_workers: int
    n_labels: int
    log_priors: np.ndarray
    alpha_mean: float
    beta_mean: float
    golden_task: np.ndarray
    golden_label: np.ndarray

    def __post_init__(self) -> None:
        self.task_label = self.task * self.n_labels + self.label
        self.log_other = float(np.log(self.n_labels - 1)) if self.n_labels > 1 else 0.0

    def e_step(self, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """Posteriors ``(T, K)``: ``log p[t, k] = log prior_k + sum over t's k-responses of
        (alpha_w * exp(beta_t) + log(K - 1))`` up to a per-task constant."""
        T, K = self.n_tasks, self.n_labels
        x = alpha[self.worker] * np.exp(beta)[self.task] + self.log_other
        log_post = np.bincount(self.task_label, weights=x, minlength=T * K).reshape(T, K)
        log_post += self.log_priors
        log_post -= log_post.max(axis=1, keepdims=True)
        post = np.exp(log_post)
        post /= post.sum(axis=1, keepdims=True)
        if len(self.golden_task):
            post[self.golden_task] = 0.0
            post[self.golden_task, self.golden_label] = 1.0
        return post

    def objective(self, given: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> float:
        """crowd-kit's Q: expected log-likelihood plus the Gaussian log-priors, per (response, label).

        ``given[i]`` is the posterior of the label response ``i`` gave.
        """
        x = alpha[self.worker] * np.exp(beta)[self.task]
        log_right = _log_sigmoid(x)
        q = float(log_right.sum()) - float(((1.0 - given) * (x + self.log_other)).sum())
        q -= 0.5 * float(((alpha - self.alpha_mean) ** 2).sum() + (len(alpha) * _LOG_2PI))
        q -= 0.5 * float(((beta - self.beta_mean) ** 2).sum() + (len(beta) * _LOG_2PI))
        return q / (len(self.task) * self.n_labels)

    def _block_values(
        self, given: np.ndarray, x: np.ndarray, group: np.ndarray, size: int
    ) -> np.ndarray:
        """Per worker or per task: ``sum of given log sigma(x) + (1 - given) log sigma(-x)``.

        (``log sigma(-x) = log sigma(x) - x``: one logarithm per response.)
        """
        ll = _log_sigmoid(x)
        ll -= (1.0 - given) * x
        return np.bincount(group, weights=ll, minlength=size)

    def _worker_values(self, given: np.ndarray, easy: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        return self._block_values(given, alpha[self.worker] * easy, self.worker, self.n_workers)

    def _task_values(self, given: np.ndarray, ability: np.ndarray, beta: np.ndarray) -> np.ndarray:
        return self._block_values(given, ability * np.exp(beta)[self.task], self.task, self.n_tasks)

    def _ascend(
        self,
        params: np.ndarray,
        step: np.ndarray,
        mean: float,
        value: Callable[[np.ndarray], np.ndarray],
        current: np.ndarray,
    ) -> np.ndarray:
        """Take ``step`` per coordinate, halved (up to 5 times, else dropped) until Q does not fall.

        Each coordinate is its own 1-D problem, so every one gets its own step size.
        ``current`` is ``value(params)``, already at hand.
        """
        before = current - 0.5 * (params - mean) ** 2
        scale = np.ones_like(params)
        pending = np.ones(len(params), dtype=bool)
        out = params.copy()
        for _ in range(6):
            candidate = np.where(pending, params + scale * step, out)
            after = value(candidate) - 0.5 * (candidate - mean) ** 2
            accept = pending & (after >= before)
            out[accept] = candidate[accept]
            pending &= ~accept
            if not pending.any():
                break
            scale[pending] *= 0.5
        return out

    def m_step(
        self, given: np.ndarray, alpha: np.ndarray, beta: np.ndarray, *, max_iter: int, tol: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Maximize Q over ``alpha`` and ``beta`` by alternating safeguarded Newton steps.

        With ``x_i = alpha_w exp(beta_t)`` and ``sigma_i = sigma(x_i)``, Q's
        derivative is ``sum_i (given_i - sigma_i) * dx_i - (param - mean)``.
        Q is concave in each ``alpha_w`` (curvature ``-sum sigma(1-sigma) e^(2 beta) - 1``);
        for ``beta_t`` the exact curvature where it is negative, else the
        Gauss–Newton one ``-sum sigma(1-sigma) x^2 - 1``. Every 1-D step is
        halved until Q does not decrease. Stops when every partial derivative
        is below ``tol`` (crowd-kit's CG ``gtol``) or after ``max_iter`` rounds.
        """
        W, T = self.n_workers, self.n_tasks
        worker, task = self.worker, self.task
        for _ in range(max_iter):
            easy = np.exp(beta)[task]
            x = alpha[worker] * easy
            sigma = 1.0 / (1.0 + np.exp(-x))
            grad: np.ndarray = np.bincount(worker, weights=(given - sigma) * easy, minlength=W)
            grad = grad - (alpha - self.alpha_mean)
            curve = np.bincount(worker, weights=sigma * (1.0 - sigma) * easy * easy, minlength=W)
            alpha_grad = float(np.abs(grad).max(initial=0.0))
            alpha = self._ascend(
                alpha,
                grad / (curve + 1.0),
                self.alpha_mean,
                partial(self._worker_values, given, easy),
                self._block_values(given, x, worker, W),
            )

            ability = alpha[worker]
            x = ability * easy
            sigma = 1.0 / (1.0 + np.exp(-x))
            grad = np.bincount(task, weights=(given - sigma) * x, minlength=T)
            grad = grad - (beta - self.beta_mean)
            spread = sigma * (1.0 - sigma) * x * x
            curve = np.bincount(task, weights=spread - (given - sigma) * x, minlength=T)
            # Newton where Q is concave in beta_t, Gauss-Newton elsewhere.
            gauss = np.bincount(task, weights=spread, minlength=T)
            curve = np.where(curve > 0, curve, gauss)
            beta_grad = float(np.abs(grad).max(initial=0.0))
            beta = self._ascend(
                beta,
                np.clip(grad / (curve + 1.0), -MAX_BETA_STEP, MAX_BETA_STEP),
                self.beta_mean,
                partial(self._task_values, given, ability),
                self._block_values(given, x, task, T),
            )
            if max(alpha_grad, beta_grad) < tol:
                break
        return alpha, beta


def fit_glad(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    n_iter: int = 100,
    tol: float = 1e-5,
    m_step_max_iter: int = 25,
    m_step_tol: float = 1e-2,
    labels: Iterable[object] | None = None,
    golden: Mapping[Any, Any] | pd.Series | None = None,
) -> AggregationModel:
    """Fit GLAD; see :func:`glad`.

    Returns
    -------
    AggregationModel
        ``worker_columns``: ``alpha`` (ability); ``task_columns``: ``difficulty``
        (``exp(-beta)``, 1 for an average task, larger is harder).
    """
    n_iter, tol = check_iteration_args(n_iter, tol)
    m_step_max_iter, m_step_tol = check_iteration_args(m_step_max_iter, m_step_tol)
    data = encode_responses(
        responses, task=task, worker=worker, label=label, labels=labels, method="GLAD"
    )
    golden_tasks, golden_labels = encode_golden(
        golden, data.tasks, data.labels, task_like=responses[task], label_like=responses[label]
    )
    post, alpha, beta, n_run, converged, history = _fit(
        data, golden_tasks, golden_labels, n_iter, tol, m_step_max_iter, m_step_tol
    )
    logger.info("GLAD on %d responses: %d iterations", data.n_responses, n_run)
    return AggregationModel.build(
        "GLAD",
        data,
        post,
        names=(task, worker, label),
        golden_tasks=golden_tasks if golden is not None else None,
        worker_columns={"alpha": alpha},
        task_columns={"difficulty": np.exp(-beta)},
        n_iter_run=n_run,
        converged=converged,
        loss_history=history,
    )


def _fit(
    data: Responses,
    golden_tasks: np.ndarray,
    golden_labels: np.ndarray,
    n_iter: int,
    tol: float,
    m_step_max_iter: int,
    m_step_tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool, tuple[float, ...]]:
    T, W, K = data.tasks.size, data.workers.size, data.labels.size
    alpha, beta = np.ones(W), np.ones(T)
    if T == 0 or K <= 1:
        return np.ones((T, K)), alpha, beta, 0, True, ()
    state = _Glad(
        data.tasks.codes,
        data.workers.codes,
        data.labels.codes,
        T,
        W,
        K,
        np.full(K, -np.log(K)),
        1.0,
        1.0,
        golden_tasks,
        golden_labels,
    )
    # crowd-kit's order: E-step, M-step, then Q with the E-step's posteriors and
    # the new parameters; the answers come from the last E-step.
    loss = -np.inf
    history: list[float] = []
    converged = False
    post = state.e_step(alpha, beta)
    for _ in range(n_iter):
        post = state.e_step(alpha, beta)
        given = post[state.task, state.label]
        alpha, beta = state.m_step(given, alpha, beta, max_iter=m_step_max_iter, tol=m_step_tol)
        new_loss = state.objective(given, alpha, beta)
        history.append(new_loss)
        if new_loss - loss < tol:
            converged = True
            break
        loss = new_loss
    return post, alpha, beta, len(history), converged, tuple(history)


glad = frame_function(
    fit_glad,
    name="glad",
    doc="""Aggregate responses with GLAD (Generative model of Labels, Abilities and Difficulties).

    Worker ``w`` answers task ``t`` correctly with probability
    ``sigma(alpha_w * exp(beta_t))``, else one of the other labels uniformly.
    Abilities, difficulties and the posteriors are fitted by EM (priors
    ``alpha, beta ~ N(1, 1)``, uniform class priors), stopping when the
    objective per (response, label) gains less than ``tol``. Prefer it over
    :func:`dawid_skene` when tasks differ in difficulty and workers answer few
    tasks each.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response, columns of any dtype backend. Responses with a
        missing label are dropped with a warning.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.
    n_iter : int, default 100
        Maximum number of EM iterations.
    tol : float, default 1e-5
        Stop when the objective gains less than this in an iteration.
    m_step_max_iter : int, default 25
        Newton rounds per M-step at most.
    m_step_tol : float, default 1e-2
        An M-step stops once every partial derivative is below this.
    labels : iterable, optional
        The full label space. Default: the labels observed.
    golden : mapping or Series, optional
        Task id -> known label; those tasks' posteriors are held one-hot.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``label``, ``confidence``
        (the answer's posterior), ``golden`` (bool, only with ``golden=``) and
        ``difficulty`` (float64, ``exp(-beta_t)``: 1 for a task of prior
        difficulty, larger is harder).

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "a", "b"],
    ...                    "result": ["cat", "cat", "dog", "dog"]})
    >>> glad(df)["result"].tolist()
    ['cat', 'dog']
    """,
)
