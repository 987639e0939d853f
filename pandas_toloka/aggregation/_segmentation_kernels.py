"""Majority vote, RASA and segmentation EM on vote patterns (see :mod:`._vote_patterns`).

Every array is ``(T, Q)`` (tasks x patterns) or ``(T, Q, k)`` (x responses); ``counts``
weighs each pattern by its pixels, so a sum over patterns is the sum over pixels. Sums
over responses run in response order, as crowd-kit's sums over its stacked masks do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["KernelResult", "em_kernel", "majority_kernel", "rasa_kernel", "response_iou"]

#: RASA's bias in ``log(1 / (distance + eps) + 1)`` (crowd-kit's value).
RASA_EPS = 1e-5


@dataclass
class KernelResult:
    """Per-pattern answers and per-response extras of one pattern group."""

    chosen: np.ndarray  # (T, Q) bool
    n_iter_run: np.ndarray  # (T,) int
    response_columns: dict[str, np.ndarray] = field(default_factory=dict)  # (T, k) each


def _ordered_sum(terms: np.ndarray) -> np.ndarray:
    """Sum over the last axis term by term, in order."""
    total = terms[..., 0].copy()
    for j in range(1, terms.shape[-1]):
        total += terms[..., j]
    return total


def majority_kernel(votes: np.ndarray, skills: np.ndarray) -> KernelResult:
    """A pixel is in when ``2 * sum(skill * vote) - sum(skill) >= 0`` (ties in)."""
    scores = _ordered_sum(skills[:, None, :] * votes)
    chosen = 2 * scores - _ordered_sum(skills)[:, None] >= 0
    return KernelResult(chosen, np.zeros(len(votes), dtype=np.int64))


def response_iou(votes: np.ndarray, counts: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """``(T, k)`` IoU of each response's mask with the chosen pixels (1.0 when both are empty)."""
    chosen_f = chosen.astype(np.float64)[:, :, None]
    weights = counts[:, :, None]
    intersection = (weights * votes * chosen_f).sum(axis=1)
    union = (weights * np.maximum(votes, chosen_f)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, intersection / np.where(union > 0, union, 1.0), 1.0)


def rasa_kernel(votes: np.ndarray, counts: np.ndarray, n_iter: int, tol: float) -> KernelResult:
    """Segmentation RASA: weighted vote, weights ``log(1 / (1 - IoU + eps) + 1)``, normalised."""
    n_tasks, _, k = votes.shape
    weights = np.full((n_tasks, k), 1.0 / k)
    chosen = _ordered_sum(weights[:, None, :] * votes) >= 0.5
    last: np.ndarray | None = None
    active = np.ones(n_tasks, dtype=bool)
    n_run = np.zeros(n_tasks, dtype=np.int64)
    for _ in range(n_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        v, c = votes[idx], counts[idx]
        weighted = _ordered_sum(weights[idx][:, None, :] * v)
        mv = weighted >= 0.5
        distance = 1.0 - response_iou(v, c, mv)
        raw = np.log(1.0 / (distance + RASA_EPS) + 1.0)
        weights[idx] = raw / raw.sum(axis=1, keepdims=True)
        chosen[idx] = mv
        n_run[idx] += 1
        if last is not None:
            delta = weighted - last[idx]
            with np.errstate(invalid="ignore", divide="ignore"):
                loss = (c * delta * delta).sum(axis=1) / (c * weighted * weighted).sum(axis=1)
            active[idx[loss < tol]] = False  # a NaN loss (all weights on empty masks) goes on
        else:
            last = np.zeros((n_tasks, votes.shape[1]))
        last[idx] = weighted
    return KernelResult(chosen, n_run, {"weight": weights})


def em_kernel(
    votes: np.ndarray, counts: np.ndarray, n_iter: int, tol: float, eps: float
) -> KernelResult:
    """Segmentation EM: a one-coin Dawid-Skene model per pixel, as in crowd-kit's SegmentationEM.

    ``skill`` is the probability that a response marks a pixel correctly; priors start
    as the vote shares and become the posteriors after each iteration.
    """
    n_tasks, _, k = votes.shape
    priors = votes.sum(axis=2) / k
    weights = counts[:, :, None]
    voted = votes.max(axis=2) > 0 if votes.shape[1] else np.zeros(counts.shape, dtype=bool)
    region = (counts * voted).sum(axis=1)
    empty = region == 0
    region = np.where(empty, 1.0, region)
    sizes = (weights * votes).sum(axis=1)

    def m_step(posteriors: np.ndarray, rows: np.ndarray) -> np.ndarray:
        c = counts[rows]
        expected = (
            sizes[rows]
            + (c * posteriors).sum(axis=1)[:, None]
            - 2 * (c[:, :, None] * votes[rows] * posteriors[:, :, None]).sum(axis=1)
        ) / region[rows][:, None]
        return 1.0 - expected

    every = np.arange(n_tasks)
    skill = m_step(np.round(priors), every)
    loss = np.full(n_tasks, -np.inf)
    active = ~empty
    n_run = np.zeros(n_tasks, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        for _ in range(n_iter):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            v, prior = votes[idx], priors[idx]
            s = skill[idx][:, None, :]
            agree = s * v + (1 - s) * (1 - v)
            positive = np.log(prior) + _ordered_sum(np.log(agree))
            negative = np.log(1 - prior) + _ordered_sum(np.log(1 - agree))
            posterior = np.nan_to_num(
                np.exp(positive) / (np.exp(positive) + np.exp(negative)), nan=0.0
            )
            posterior[posterior < eps] = 0.0
            new_skill = m_step(posterior, idx)
            s = new_skill[:, None, :]
            agree = s * v + (1 - s) * (1 - v)
            inside = np.nan_to_num(
                (np.log(agree) + np.log(prior)[:, :, None]) * posterior[:, :, None], nan=0.0
            ).sum(axis=2)
            outside = np.nan_to_num(
                (np.log(1 - agree) + np.log(1 - prior)[:, :, None]) * (1 - posterior)[:, :, None],
                nan=0.0,
            ).sum(axis=2)
            entropy = np.nan_to_num(np.log(posterior) * posterior, nan=0.0)
            c = counts[idx]
            elbo = (c * (inside + outside)).sum(axis=1) - (c * entropy).sum(axis=1)
            new_loss = elbo / (k * c.sum(axis=1))
            priors[idx] = posterior
            skill[idx] = new_skill
            n_run[idx] += 1
            active[idx[new_loss - loss[idx] < tol]] = False
            loss[idx] = new_loss
    chosen = priors > 0.5
    chosen[empty] = False
    return KernelResult(chosen, n_run, {"skill": skill})
