"""MACE (Hovy et al., 2013): every worker either knows the answer or spams.

Worker ``w`` knows the answer with probability ``theta_w`` (and gives it), and
otherwise answers from their own spamming distribution ``xi_w`` (the paper's
names; here, as in crowd-kit, ``spam[w] = (1 - theta_w, theta_w)`` and
``theta[w] = xi_w``). Fitted by variational-Bayes EM with Beta(0.5, 0.5)
priors on knowing and symmetric Dirichlet(10) priors on ``xi`` (the reference
implementation's and crowd-kit's defaults), all in log space (crowd-kit
multiplies the per-response probabilities directly and underflows on tasks
with many responses).

The paper draws true labels uniformly. By default the class distribution is
learned too (Dirichlet(1) prior, the same variational update): the uniform
model cannot express an imbalanced pool and answers its rare class too often
(see docs/algorithms.md).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError
from ._encoding import Responses, check_iteration_args, encode_responses
from ._golden import encode_golden
from ._model import AggregationModel
from ._special import digamma
from ._to_frame import frame_function

__all__ = ["fit_mace", "mace"]

logger = logging.getLogger(__name__)

#: Beta prior on (spamming, knowing) and the Dirichlet prior on the spamming distribution.
KNOWING_PRIOR = (0.5, 0.5)
STRATEGY_PRIOR = 10.0
#: Symmetric Dirichlet prior on the class distribution when it is learned.
CLASS_PRIOR = 1.0

ClassPriors = Literal["learned", "uniform"]


def _variational_normalize(counts: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """``exp(psi(c + prior)) / exp(psi(sum(c + prior)))`` row by row (sub-normalized)."""
    total = counts + prior
    return np.exp(digamma(total) - digamma(total.sum(axis=1, keepdims=True)))


def _initial(data: Responses, seed: int, restart: int) -> tuple[np.ndarray, np.ndarray]:
    """A random start: uniform draws in [1, 2.5], rows normalized.

    The first start is crowd-kit's: both tables drawn from
    ``RandomState(seed)`` for workers and labels in order of first appearance
    (as crowd-kit factorizes them), then placed at their sorted codes; labels
    of ``labels=`` that nobody gave get the draws' mean, 1.75. Restart ``r > 0``
    draws from ``default_rng((seed, r))`` instead, so restarts differ (as in
    the reference implementation; crowd-kit's all repeat the first).
    """
    W, K = data.workers.size, data.labels.size
    seen_workers = pd.unique(data.workers.codes)
    seen_labels = pd.unique(data.labels.codes)
    spam = np.empty((W, 2))
    theta = np.full((W, K), 1.75)
    if restart == 0:
        spam_draws = np.random.RandomState(seed).uniform(size=(W, 2))
        theta_draws = np.random.RandomState(seed).uniform(size=(W, len(seen_labels)))
    else:
        rng = np.random.default_rng((seed, restart))
        spam_draws = rng.uniform(size=(W, 2))
        theta_draws = rng.uniform(size=(W, len(seen_labels)))
    spam[seen_workers] = 1.0 + 1.5 * spam_draws
    theta[np.ix_(seen_workers, seen_labels)] = 1.0 + 1.5 * theta_draws
    return spam / spam.sum(axis=1, keepdims=True), theta / theta.sum(axis=1, keepdims=True)


def _e_step(
    data: Responses,
    spam: np.ndarray,
    theta: np.ndarray,
    log_prior: np.ndarray,
    golden_tasks: np.ndarray,
    golden_labels: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Posteriors ``(T, K)``, expected (spamming, knowing) counts ``(W, 2)``, expected
    spamming-label counts ``(W, K)`` and the log marginal likelihood.

    ``log_prior`` is the ``(K,)`` log class distribution (``-log K`` each when uniform).
    """
    task, worker, label = data.tasks.codes, data.workers.codes, data.labels.codes
    T, W, K = data.tasks.size, data.workers.size, data.labels.size
    spamming = spam[worker, 0] * theta[worker, label]  # P(answer o | spamming)
    either = spamming + spam[worker, 1]  # P(answer o | the true label is o)
    log_spamming = np.log(spamming)
    log_post = np.bincount(
        task * K + label, weights=np.log(either) - log_spamming, minlength=T * K
    ).reshape(T, K)
    log_post += log_prior
    base = np.bincount(task, weights=log_spamming, minlength=T)
    top = log_post.max(axis=1, keepdims=True)
    post = np.exp(log_post - top)
    z = post.sum(axis=1, keepdims=True)
    post /= z
    log_likelihood = float((np.log(z[:, 0]) + top[:, 0] + base).sum())
    if len(golden_tasks):
        post[golden_tasks] = 0.0
        post[golden_tasks, golden_labels] = 1.0
    right = post[task, label]
    knowing = right * spam[worker, 1] / either
    strategy = 1.0 - knowing
    counts = np.empty((W, 2))
    counts[:, 0] = np.bincount(worker, weights=strategy, minlength=W)
    counts[:, 1] = np.bincount(worker, weights=knowing, minlength=W)
    strategy_counts = np.bincount(worker * K + label, weights=strategy, minlength=W * K)
    return post, counts, strategy_counts.reshape(W, K), log_likelihood


def _log_class_prior(post: np.ndarray) -> np.ndarray:
    """The variational update of the class distribution: ``psi(n_k + a) - psi(sum(n + a))``."""
    total = post.sum(axis=0) + CLASS_PRIOR
    return np.asarray(digamma(total) - digamma(total.sum()))


def _fit_once(
    data: Responses,
    spam: np.ndarray,
    theta: np.ndarray,
    *,
    n_iter: int,
    learn_prior: bool,
    golden_tasks: np.ndarray,
    golden_labels: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float, tuple[float, ...]]:
    """``n_iter`` VB-EM iterations from one start.

    Returns the posteriors, the last (spamming, knowing) table, the final log
    marginal likelihood and its per-iteration history (per response).
    """
    W, K = data.workers.size, data.labels.size
    knowing_prior = np.broadcast_to(np.asarray(KNOWING_PRIOR), (W, 2))
    strategy_prior = np.full((W, K), STRATEGY_PRIOR)
    log_prior = np.full(K, -np.log(K))
    post, counts, strategy_counts, ll = _e_step(
        data, spam, theta, log_prior, golden_tasks, golden_labels
    )
    history = []
    for _ in range(n_iter):
        spam = _variational_normalize(counts, knowing_prior)
        theta = _variational_normalize(strategy_counts, strategy_prior)
        if learn_prior:
            log_prior = _log_class_prior(post)
        post, counts, strategy_counts, ll = _e_step(
            data, spam, theta, log_prior, golden_tasks, golden_labels
        )
        history.append(ll / data.n_responses)
    return post, spam, ll, tuple(history)


def _check_options(seed: object, n_restarts: object, class_priors: object) -> None:
    for name, value, low in (("seed", seed, 0), ("n_restarts", n_restarts, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            kind = "non-negative" if low == 0 else "positive"
            raise InvalidArgumentError(f"{name} must be a {kind} integer, got {value!r}.")
    if class_priors not in ("learned", "uniform"):
        raise InvalidArgumentError(
            f"class_priors must be 'learned' or 'uniform', got {class_priors!r}."
        )


def fit_mace(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    n_iter: int = 50,
    seed: int = 0,
    n_restarts: int = 1,
    class_priors: ClassPriors = "learned",
    labels: Iterable[object] | None = None,
    golden: Mapping[Any, Any] | pd.Series | None = None,
) -> AggregationModel:
    """Fit MACE; see :func:`mace`.

    Returns
    -------
    AggregationModel
        ``worker_columns``: ``competence`` (the probability that the worker
        knows the answer rather than spams).
    """
    n_iter, _ = check_iteration_args(n_iter, 0.0)
    _check_options(seed, n_restarts, class_priors)
    data = encode_responses(
        responses, task=task, worker=worker, label=label, labels=labels, method="MACE"
    )
    golden_tasks, golden_labels = encode_golden(
        golden, data.tasks, data.labels, task_like=responses[task], label_like=responses[label]
    )
    T, W, K = data.tasks.size, data.workers.size, data.labels.size
    post, competence = np.zeros((0, K)), np.zeros(W)
    history: tuple[float, ...] = ()
    if T:
        best = -np.inf
        for restart in range(int(n_restarts)):
            spam, theta = _initial(data, int(seed), restart)
            fitted = _fit_once(
                data,
                spam,
                theta,
                n_iter=n_iter,
                learn_prior=class_priors == "learned",
                golden_tasks=golden_tasks,
                golden_labels=golden_labels,
            )
            logger.debug("MACE start %d: log marginal likelihood %.6g", restart, fitted[2])
            if restart == 0 or fitted[2] > best:  # ties keep the earlier start
                post, spam, best, history = fitted
                competence = spam[:, 1] / spam.sum(axis=1)
    logger.info(
        "MACE on %d responses: %d iterations x %d starts", data.n_responses, n_iter, n_restarts
    )
    return AggregationModel.build(
        "MACE",
        data,
        post,
        names=(task, worker, label),
        golden_tasks=golden_tasks if golden is not None else None,
        worker_columns={"competence": competence},
        n_iter_run=n_iter if T else 0,
        loss_history=history,
    )


mace = frame_function(
    fit_mace,
    name="mace",
    doc="""Aggregate responses with MACE (Multi-Annotator Competence Estimation).

    Each worker either knows the true label and gives it (probability
    ``competence``) or spams, answering from a label distribution of their own.
    Fitted by ``n_iter`` variational-Bayes EM iterations (Beta(0.5, 0.5) prior
    on knowing, Dirichlet(10) on the spamming distribution, Dirichlet(1) on the
    class distribution) from crowd-kit's seeded random start. Prefer it when
    some workers click at random or always pick the same label.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response, columns of any dtype backend. Responses with a
        missing label are dropped with a warning.
    task, worker, label : hashable, default "task_id", "worker_id", "result"
        Column names.
    n_iter : int, default 50
        EM iterations (MACE has no stopping tolerance).
    seed : int, default 0
        Seed of the random starts (the first is crowd-kit's
        ``numpy.random.RandomState(seed)`` start).
    n_restarts : int, default 1
        Random starts; the fit with the highest log marginal likelihood wins
        (the reference implementation runs 10; each costs one whole fit).
    class_priors : {"learned", "uniform"}, default "learned"
        ``"learned"``: the class distribution is fitted with the rest (a
        Dirichlet(1) prior, variational update), as Dawid–Skene does.
        ``"uniform"``: the paper's and crowd-kit's model, every class equally
        likely a priori; on imbalanced pools it pushes answers to the rarer
        classes.
    labels : iterable, optional
        The full label space. Default: the labels observed.
    golden : mapping or Series, optional
        Task id -> known label; those tasks' posteriors are held one-hot.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``label``, ``confidence``
        (the answer's posterior), and ``golden`` (bool) when ``golden=`` is given.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "a", "b"],
    ...                    "result": ["cat", "cat", "dog", "dog"]})
    >>> mace(df)["result"].tolist()
    ['cat', 'dog']
    """,
)
