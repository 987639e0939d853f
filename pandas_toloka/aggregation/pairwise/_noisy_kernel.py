"""NoisyBT: Bradley–Terry with a reliability and a bias per worker, fitted by EM.

crowd-kit's model. Worker ``w`` is attentive with probability ``p_w`` (the
*reliability*) and then answers by Bradley–Terry on the items' log-strengths
``s``; otherwise they pick the left item with probability ``b_w`` (the
*bias*, 0.5 for a worker without a side preference)::

    P(left wins | i left, j right, w) = p_w * sigmoid(s_i - s_j) + (1 - p_w) * b_w

A tie counts as half an observation of each outcome. Fitted by EM on the
latent "attentive" indicator:

- E-step: ``r = p_w f / (p_w f + (1 - p_w) g)`` per comparison, with ``f`` the
  Bradley–Terry probability of the observed outcome and ``g`` the bias's.
- M-step: ``p_w = (sum r + 1) / (n_w + 2)`` and ``b_w = (sum (1 - r)[left] + 1)
  / (sum (1 - r) + 2)`` (one pseudo-observation each way keeps both strictly
  inside (0, 1): a Beta(2, 2) prior); ``s`` by a Newman sweep (or an MM step)
  of the Bradley–Terry likelihood weighted by ``r``, with ``prior`` pseudo-wins and
  pseudo-losses of each item against a reference of log-strength 0 (crowd-kit's
  ``regularization_ratio``, which pulls each score towards a shared parameter).

The strengths take one Newman sweep per E-step, or one MM step (Hunter,
2004) when the sweep would lower the objective (a generalised EM step: the
objective never decreases), then the common shift that best fits the
reference prior (:func:`._bt_kernel.best_shift`); the steps are accelerated by
SQUAREM (:func:`fit_noisy`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._bt_kernel import best_shift
from ._input import LEFT, TIE
from ._tally import Tally

__all__ = ["NoisyFit", "Rows", "fit_noisy", "noisy_log_likelihood", "rows"]


@dataclass(frozen=True)
class Rows:
    """A by-worker tally as rows with one outcome each (a tie split in two halves).

    Attributes
    ----------
    left, right, worker : numpy.ndarray
        ``(M,)`` codes.
    left_won : numpy.ndarray
        ``(M,)`` bool.
    kind : numpy.ndarray
        ``(M,)`` the tally row each comes from.
    share : numpy.ndarray
        ``(M,)`` 1.0, or 0.5 for each half of a tie.
    n_items, n_workers : int
    """

    left: np.ndarray
    right: np.ndarray
    worker: np.ndarray
    left_won: np.ndarray
    kind: np.ndarray
    share: np.ndarray
    n_items: int
    n_workers: int


def rows(counted: Tally) -> Rows:
    """The rows of a by-worker tally."""
    assert counted.worker is not None
    kinds = np.arange(counted.n_kinds)
    ties = counted.outcome == TIE
    decided = ~ties
    pick = np.concatenate([kinds[decided], kinds[ties], kinds[ties]])
    left_won = np.concatenate(
        [
            counted.outcome[decided] == LEFT,
            np.ones(int(ties.sum()), dtype=bool),
            np.zeros(int(ties.sum()), dtype=bool),
        ]
    )
    share = np.where(counted.outcome[pick] == TIE, 0.5, 1.0)
    return Rows(
        left=counted.left[pick],
        right=counted.right[pick],
        worker=counted.worker[pick],
        left_won=left_won,
        kind=pick,
        share=share,
        n_items=counted.n_items,
        n_workers=counted.n_workers,
    )


@dataclass(frozen=True)
class NoisyFit:
    """A NoisyBT fit.

    Attributes
    ----------
    log_strength : numpy.ndarray
        ``(n_items,)`` centred to mean 0.
    reliability, bias : numpy.ndarray
        ``(n_workers,)``.
    n_iter_run : int
    converged : bool
    loss_history : tuple of float
        The penalised log-likelihood per comparison after each iteration.
    """

    log_strength: np.ndarray
    reliability: np.ndarray
    bias: np.ndarray
    n_iter_run: int
    converged: bool
    loss_history: tuple[float, ...]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _parts(
    data: Rows, s: np.ndarray, p: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: attentive probability of the outcome ``f``, random one ``g``, and ``p``."""
    diff = s[data.left] - s[data.right]
    f = _sigmoid(np.where(data.left_won, diff, -diff))
    bias = b[data.worker]
    g = np.where(data.left_won, bias, 1.0 - bias)
    return f, g, p[data.worker]


def noisy_log_likelihood(
    data: Rows,
    weight: np.ndarray,
    s: np.ndarray,
    p: np.ndarray,
    b: np.ndarray,
    *,
    prior: float,
) -> float:
    """The log posterior (up to a constant) of parameters ``(s, p, b)``: the
    log-likelihood, the reference pseudo-comparisons and the Beta(2, 2) priors.

    ``weight`` is ``(M,)``: the rows' counts times their shares.
    """
    f, g, pw = _parts(data, s, p, b)
    with np.errstate(divide="ignore"):  # -inf for impossible parameters (an extrapolation)
        total = float((weight * np.log(pw * f + (1.0 - pw) * g)).sum())
        total += float(np.log(p).sum() + np.log1p(-p).sum() + np.log(b).sum() + np.log1p(-b).sum())
    # log sigmoid(s) + log sigmoid(-s), stable for large |s|
    total -= prior * float((np.logaddexp(0.0, -s) + np.logaddexp(0.0, s)).sum())
    return total


class _EM:
    """One EM step and the objective, on the packed parameters
    ``theta = (s, logit reliability, logit bias)``."""

    def __init__(self, data: Rows, weight: np.ndarray, prior: float) -> None:
        self.data, self.weight, self.prior = data, weight, prior
        self.n, self.n_workers = data.n_items, data.n_workers
        self.responses = np.bincount(data.worker, weights=weight, minlength=self.n_workers)
        self.winner = np.where(data.left_won, data.left, data.right)
        self.loser = np.where(data.left_won, data.right, data.left)

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n, w = self.n, self.n_workers
        return theta[:n], _sigmoid(theta[n : n + w]), _sigmoid(theta[n + w :])

    def objective(self, theta: np.ndarray) -> float:
        s, p, b = self.unpack(theta)
        return noisy_log_likelihood(self.data, self.weight, s, p, b, prior=self.prior)

    def step(self, theta: np.ndarray) -> np.ndarray:
        data, n, n_workers = self.data, self.n, self.n_workers
        s, p, b = self.unpack(theta)
        f, g, pw = _parts(data, s, p, b)
        attentive = pw * f
        rw = self.weight * (attentive / (attentive + (1.0 - pw) * g))
        new_p = (np.bincount(data.worker, weights=rw, minlength=n_workers) + 1.0) / (
            self.responses + 2.0
        )
        random_weight = self.weight - rw
        new_b = (
            np.bincount(data.worker, weights=random_weight * data.left_won, minlength=n_workers)
            + 1.0
        ) / (np.bincount(data.worker, weights=random_weight, minlength=n_workers) + 2.0)
        # The strengths: Newman's sweep of the r-weighted Bradley-Terry likelihood with the
        # reference item, kept when the objective does not drop; else an MM step (Hunter,
        # 2004), which never decreases it. Either is followed by the best common shift.
        strength = np.exp(s)
        share = rw / (strength[self.winner] + strength[self.loser])
        lost = np.bincount(self.loser, weights=share, minlength=n)
        reference = self.prior / (strength + 1.0)  # prior > 0: every sum stays positive
        newman = np.log(
            np.bincount(self.winner, weights=share * strength[self.loser], minlength=n) + reference
        ) - np.log(lost + reference)
        logit_p = np.log(new_p) - np.log1p(-new_p)
        logit_b = np.log(new_b) - np.log1p(-new_b)
        proposal = np.concatenate([newman + best_shift(newman)[0], logit_p, logit_b])
        if self.objective(proposal) >= self.objective(theta):
            return proposal
        games = np.bincount(self.winner, weights=share, minlength=n) + lost
        wins = np.bincount(self.winner, weights=rw, minlength=n)
        mm = np.log(wins + self.prior) - np.log(games + 2.0 * reference)
        return np.concatenate([mm + best_shift(mm)[0], logit_p, logit_b])


def fit_noisy(
    data: Rows,
    counts: np.ndarray,
    *,
    prior: float,
    n_iter: int,
    tol: float,
    start: np.ndarray,
) -> NoisyFit:
    """Fit NoisyBT by EM to one tally count vector ``(K,)`` (``prior > 0``).

    EM converges slowly along the ridge where strengths and reliabilities
    trade off, so the steps are accelerated by SQUAREM (Varadhan and Roland,
    2008): two EM steps, an extrapolation along them, and one EM step from
    there, kept only if the objective did not drop below the two plain steps'
    (otherwise the plain steps are kept, so the objective never decreases).

    ``start`` is ``(n_items,)`` starting log-strengths (plain Bradley–Terry's).
    Stops when no log-strength, reliability or bias moves by more than ``tol``
    over one cycle, or after ``n_iter`` EM steps.
    """
    n, n_workers = data.n_items, data.n_workers
    em = _EM(data, counts[data.kind] * data.share, prior)
    # Start: plain Bradley-Terry strengths, reliability 0.9, bias 0.5 (logit 0).
    theta = np.concatenate(
        [np.asarray(start, dtype=np.float64), np.full(n_workers, np.log(9.0)), np.zeros(n_workers)]
    )
    history: list[float] = []
    total = max(float(em.weight.sum()), 1.0)
    converged, steps = n_iter == 0, 0
    while steps < n_iter:
        first = em.step(theta)
        steps += 1
        if steps == n_iter:  # room for one plain step only
            candidate, value = first, em.objective(first)
        else:
            second = em.step(first)
            steps += 1
            r = first - theta
            v = second - first - r
            norm_v = float(np.linalg.norm(v))
            alpha = min(-float(np.linalg.norm(r)) / norm_v if norm_v > 0 else -1.0, -1.0)
            candidate, value = second, em.objective(second)
            if alpha < -1.0 and steps < n_iter:
                # one EM step from the extrapolated point
                jumped = em.step(theta - 2 * alpha * r + alpha * alpha * v)
                steps += 1
                jumped_value = em.objective(jumped)
                if np.isfinite(jumped_value) and jumped_value >= value:
                    candidate, value = jumped, jumped_value
        old = em.unpack(theta)
        new = em.unpack(candidate)
        delta = max(float(np.abs(a - c).max(initial=0.0)) for a, c in zip(old, new))
        theta = candidate
        history.append(value / total)
        if delta <= tol:
            converged = True
            break
    s, p, b = em.unpack(theta)
    return NoisyFit(s - s.mean() if n else s.copy(), p, b, steps, converged, tuple(history))
