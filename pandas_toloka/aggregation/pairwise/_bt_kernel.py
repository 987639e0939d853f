"""Bradley–Terry maximum likelihood by Newman's (2023) fixed-point iteration.

Strengths ``pi > 0`` with ``P(i beats j) = pi_i / (pi_i + pi_j)``. With
``a_ij`` the wins of ``i`` over ``j`` (a tie is half a win for each side),
every sweep sets, for all items at once (a Jacobi sweep)::

    pi_i <- sum_j a_ij pi_j / (pi_i + pi_j)  /  sum_j a_ji / (pi_i + pi_j)

whose fixed point is the maximum-likelihood estimate (Newman, JMLR 24, 2023;
it converges several times faster than Zermelo's/Hunter's MM update).

``prior = lam > 0`` adds, for every item, ``lam`` wins and ``lam`` losses
against a virtual reference item of strength 1: the penalised likelihood
``sum a_ij log(pi_i / (pi_i + pi_j)) + lam * sum_i log(pi_i / (1 + pi_i)^2)``
(a logistic prior on each log-strength, centred on the reference). Its
maximum always exists, whatever the comparison graph. With ``lam = 0`` the
maximum exists (and is unique up to a common factor) only when the graph of
"``i`` beat ``j`` at least half a time" is strongly connected; callers check
that first (:func:`check_connected`).

The kernels work on a batch of replicates at once (``(B, ...)`` weights),
either on dense ``(B, n, n)`` win matrices (few items, many comparisons) or
on ``(B, M)`` winner/loser weights (many items, sparse comparisons).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InvalidArgumentError
from ._tally import Duels

__all__ = ["BTFit", "best_shift", "check_connected", "fit_bt", "use_dense"]

#: Dense matrices are used while n * n is at most this many times the entries.
_DENSE_RATIO = 2
#: A batch whose (rows x entries) exceeds this is fitted in chunks of rows: the
#: replicates are independent, and arrays that stay in cache are ~2x faster.
_CHUNK_CELLS = 1 << 18


@dataclass(frozen=True)
class BTFit:
    """Log-strengths ``(B, n)`` centred to mean 0, sweeps run, and convergence."""

    log_strength: np.ndarray
    n_iter_run: int
    converged: bool


def best_shift(log_strength: np.ndarray) -> np.ndarray:
    """The common shift ``c`` (``(B, 1)``) that maximises the reference prior
    ``sum_i log sigmoid(s_i + c) + log sigmoid(-(s_i + c))`` for each row.

    The likelihood does not change when every log-strength moves by the same
    amount, so this is an exact coordinate step; without it the iteration
    would take ~n/prior sweeps to settle the overall level. Solves
    ``sum_i tanh((s_i + c) / 2) = 0`` (increasing in ``c``) by Newton's method
    from ``c = -mean(s)``, each step clipped to at most 1 in size.
    """
    s = np.atleast_2d(log_strength)
    if not s.shape[1]:
        return np.zeros((s.shape[0], 1))
    c = -s.mean(axis=1, keepdims=True)
    for _ in range(50):
        t = np.tanh(0.5 * (s + c))
        slope = (0.5 * (1.0 - t * t)).sum(axis=1, keepdims=True)
        step = np.clip(t.sum(axis=1, keepdims=True) / np.maximum(slope, 1e-300), -1.0, 1.0)
        c -= step
        if np.abs(step).max(initial=0.0) < 1e-13:
            break
    return c


def use_dense(data: Duels) -> bool:
    """Whether dense matrices are the cheaper layout for these duels."""
    n = data.n_items
    return n * n <= _DENSE_RATIO * max(len(data.winner), 1)


def _reaches_all(source: np.ndarray, target: np.ndarray, n: int) -> np.ndarray:
    """Which items item 0 reaches along ``source -> target`` edges."""
    seen = np.zeros(n, dtype=bool)
    seen[0] = True
    frontier = seen.copy()
    for _ in range(n):
        if not frontier.any():
            break
        nxt = np.zeros(n, dtype=bool)
        nxt[target[frontier[source]]] = True
        nxt &= ~seen
        seen |= nxt
        frontier = nxt
    return seen


def _reaches_all_dense(adjacent: np.ndarray) -> np.ndarray:
    """Which items item 0 reaches in a boolean ``(n, n)`` adjacency matrix."""
    n = len(adjacent)
    seen = np.zeros(n, dtype=bool)
    seen[0] = True
    frontier = seen.copy()
    for _ in range(n):
        if not frontier.any():
            break
        nxt = adjacent[frontier].any(axis=0) & ~seen
        seen |= nxt
        frontier = nxt
    return seen


def _strongly_connected(source: np.ndarray, target: np.ndarray, n: int) -> bool:
    """Whether the ``source -> target`` edges join all ``n`` items both ways."""
    if n * n <= _DENSE_RATIO * max(len(source), 1):  # a boolean matrix is cheaper
        flat = np.zeros(n * n, dtype=bool)
        flat[source * n + target] = True
        adjacent = flat.reshape(n, n)
        return bool(_reaches_all_dense(adjacent).all() and _reaches_all_dense(adjacent.T).all())
    return bool(_reaches_all(source, target, n).all() and _reaches_all(target, source, n).all())


def check_connected(data: Duels, weights: np.ndarray, items: object, *, method: str) -> None:
    """Raise unless every batch row's "beat" graph is strongly connected.

    Parameters
    ----------
    weights : numpy.ndarray
        ``(B, M)`` duel weights.
    items : pandas.Index
        Item ids, for the message.
    """
    n = data.n_items
    if n <= 1:
        return
    for row, w in enumerate(np.atleast_2d(weights)):
        present = w > 0
        source, target = data.winner[present], data.loser[present]
        if _strongly_connected(source, target, n):
            continue
        wins = np.bincount(source, minlength=n)
        losses = np.bincount(target, minlength=n)
        ids = list(items)  # type: ignore[call-overload]
        never_win = [ids[i] for i in np.flatnonzero(wins == 0)[:5]]
        never_lose = [ids[i] for i in np.flatnonzero(losses == 0)[:5]]
        detail = []
        if never_win:
            detail.append(f"never win: {never_win!r}")
        if never_lose:
            detail.append(f"never lose: {never_lose!r}")
        if not detail:
            detail.append("some group of items never loses to the others")
        where = "the comparisons" if row == 0 and len(weights) == 1 else "a bootstrap replicate"
        raise InvalidArgumentError(
            f"{method}: in {where} the comparison graph is not strongly connected "
            f"({'; '.join(detail)}), so maximum-likelihood strengths do not exist (they run "
            "off to 0 or infinity). Pass prior= > 0 (e.g. the default 0.01: pseudo-comparisons "
            "against a reference item) or n_bootstrap=0."
        )


def _sweep_dense(
    matrix: np.ndarray, strength: np.ndarray, scratch: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One sweep's sums over a ``(B, n, n)`` win matrix, in ``scratch`` (the same shape).

    Row and column sums by ``einsum`` and reductions, not BLAS: on a shared
    machine OpenBLAS' threads made a matrix-vector product ~10x slower than
    one pass over the matrix.
    """
    shares = scratch[: len(strength)]
    np.add(strength[:, :, None], strength[:, None, :], out=shares)
    np.divide(matrix, shares, out=shares)
    numerator = np.einsum("bij,bj->bi", shares, strength)
    lost = shares.sum(axis=1)
    return numerator, lost, shares.sum(axis=2) + lost


def _flat_index(data: Duels, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """Per batch row, the winners' and losers' positions in a flattened ``(batch, n)``."""
    offsets = (np.arange(batch) * data.n_items)[:, None]
    return (data.winner + offsets).ravel(), (data.loser + offsets).ravel()


def _sweep_sparse(
    data: Duels,
    weights: np.ndarray,
    strength: np.ndarray,
    flat: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    batch, n = strength.shape
    won_by, lost_by = flat
    beaten = strength[:, data.loser]
    share = weights / (strength[:, data.winner] + beaten)
    size = batch * n
    numerator = np.bincount(won_by, weights=(share * beaten).ravel(), minlength=size)
    lost = np.bincount(lost_by, weights=share.ravel(), minlength=size).reshape(batch, n)
    won = np.bincount(won_by, weights=share.ravel(), minlength=size).reshape(batch, n)
    return numerator.reshape(batch, n), lost, won + lost


def fit_bt(
    data: Duels,
    counts: np.ndarray,
    *,
    prior: float,
    n_iter: int,
    tol: float,
    start: np.ndarray | None = None,
) -> BTFit:
    """Fit Bradley–Terry to a batch of tallies.

    Each sweep is Newman's update; a replicate whose step stops shrinking
    (Newman's Jacobi sweep can cycle on small, lopsided data) goes on with
    Hunter's MM update ``pi_i <- W_i / sum_j n_ij / (pi_i + pi_j)``, which
    never decreases the likelihood. Both are followed by :func:`best_shift`
    (``prior > 0``) or centring (``prior = 0``).

    Parameters
    ----------
    data : Duels
    counts : numpy.ndarray
        ``(B, K)`` tally counts.
    prior : float
        Pseudo-wins and pseudo-losses of each item against the reference.
    n_iter, tol : int, float
        At most ``n_iter`` sweeps; stop when no log-strength moves by more than ``tol``.
    start : numpy.ndarray, optional
        ``(n,)`` or ``(B, n)`` starting log-strengths (default 0).

    Returns
    -------
    BTFit
        Log-strengths centred to mean 0 per row.
    """
    counts = np.atleast_2d(counts)
    batch, n = counts.shape[0], data.n_items
    size = n * n if use_dense(data) else len(data.winner)
    rows_per_chunk = max(1, _CHUNK_CELLS // max(size, 1))
    if batch > rows_per_chunk:
        starts = np.atleast_2d(start) if start is not None else np.zeros((1, n))
        fits = [
            fit_bt(
                data,
                counts[k : k + rows_per_chunk],
                prior=prior,
                n_iter=n_iter,
                tol=tol,
                start=starts[k : k + rows_per_chunk] if len(starts) > 1 else starts[0],
            )
            for k in range(0, batch, rows_per_chunk)
        ]
        return BTFit(
            np.concatenate([f.log_strength for f in fits], axis=0),
            max(f.n_iter_run for f in fits),
            all(f.converged for f in fits),
        )
    log_strength = np.zeros((batch, n))
    if start is not None:
        log_strength[:] = start
    if n == 0:
        return BTFit(log_strength, 0, True)
    strength = np.exp(log_strength - log_strength.mean(axis=1, keepdims=True))
    dense = use_dense(data)
    table = data.matrix(counts) if dense else data.weights(counts)
    if dense:
        wins = table.sum(axis=2)
    else:
        offsets = (np.arange(batch) * n)[:, None]
        wins = np.bincount(
            (data.winner + offsets).ravel(), weights=table.ravel(), minlength=batch * n
        ).reshape(batch, n)
    wins = wins + prior
    # The replicates still moving, and their data: shrunk when some converge.
    rows = np.arange(batch)
    current = strength.copy()
    careful = np.zeros(batch, dtype=bool)  # rows switched to MM
    previous = np.full(batch, np.inf)
    flat = _flat_index(data, batch) if not dense else (np.zeros(0), np.zeros(0))
    scratch = np.empty_like(table) if dense else np.zeros(0)
    converged, sweeps = False, 0
    for sweeps in range(1, n_iter + 1):  # noqa: B007 - sweeps is reported
        if dense:
            numerator, lost, games = _sweep_dense(table, current, scratch)
        else:
            numerator, lost, games = _sweep_sparse(data, table, current, flat)
        reference = prior / (current + 1.0)
        new = np.where(
            careful[:, None],
            np.log(wins) - np.log(games + 2.0 * reference),
            np.log(numerator + reference) - np.log(lost + reference),
        )
        new += best_shift(new) if prior > 0 else -new.mean(axis=1, keepdims=True)
        delta = np.abs(new - np.log(current)).max(axis=1)
        careful |= delta >= previous
        previous = delta
        current = np.exp(new)
        still = delta > tol
        if not still.all():
            strength[rows[~still]] = current[~still]
            rows, current, table = rows[still], current[still], table[still]
            wins, careful, previous = wins[still], careful[still], previous[still]
            if not dense:
                flat = _flat_index(data, len(rows))
        if not len(rows):
            converged = True
            break
    strength[rows] = current
    log_strength = np.log(strength)
    log_strength -= log_strength.mean(axis=1, keepdims=True)
    return BTFit(log_strength, sweeps if n_iter else 0, converged or n_iter == 0)
