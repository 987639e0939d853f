"""The driver's side of distributed Dawid–Skene: where blocks live, and the EM loop.

:mod:`._em` holds what runs on the workers (codes, blocks, E- and M-steps).
Here the driver places each partition's codes on a worker (balancing the
responses), builds one block per worker, and iterates: E-steps on the blocks
where they live, one M-step on the summed statistics, the objective read back
to apply the single-process stopping rule.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError
from ._em import (
    Encodings,
    Model,
    block_stats,
    block_used,
    block_worker_counts,
    build_block,
    combine_counts,
    combine_used,
    e_step,
    m_step,
    merge_encodings,
    objective_of,
)

__all__ = ["FitResult", "assign_parts", "distributed_client", "fit_many", "on_worker"]

logger = logging.getLogger(__name__)


def distributed_client(purpose: str) -> Any:
    """The active ``distributed`` client, or an error saying how to start one."""
    from distributed import get_client

    try:
        return get_client()
    except ValueError as exc:
        raise InvalidArgumentError(
            f"{purpose} on a Dask DataFrame runs on a distributed cluster: create a "
            "distributed.Client first (e.g. distributed.Client(distributed.LocalCluster()))."
        ) from exc


def assign_parts(holders: list[list[str]], weights: list[int], workers: list[str]) -> list[str]:
    """The worker of each part: its holder unless that one is full, else the least loaded.

    A worker is full beyond its share of the total weight. Parts are placed from
    the largest down; ties go to the first worker by name.
    """
    share = sum(weights) / len(workers)
    load = dict.fromkeys(workers, 0)
    chosen = [""] * len(weights)
    for index in sorted(range(len(weights)), key=lambda i: -weights[i]):
        held = [w for w in holders[index] if w in load]
        if held and load[held[0]] + weights[index] <= share:
            target = held[0]
        else:
            target = min(load, key=lambda w: (load[w], w))
        load[target] += weights[index]
        chosen[index] = target
    return chosen


def group_by_worker(
    client: Any, futures: list[Any], sizes: Sequence[int] | None = None
) -> list[tuple[str | None, list[Any]]]:
    """Assign the parts to workers, one block each, balancing their responses.

    A part stays on the worker that holds it unless that worker would get more
    than its share of the responses; it then goes to the least
    loaded worker (Dask moves it once). Iterations take as long as the slowest
    block, so balance matters more than the one move.
    """
    from distributed import wait

    wait(futures)
    holders = client.who_has(futures)
    try:
        info = client.scheduler_info(n_workers=-1)  # every worker (the default lists 5)
    except TypeError:  # distributed before 2025.4 lists them all anyway
        info = client.scheduler_info()
    workers = sorted(info["workers"])
    weights = list(sizes) if sizes is not None else [1] * len(futures)
    if not workers:  # pragma: no cover - a cluster without workers computed nothing
        return [(None, list(futures))]
    where = [list(holders.get(f.key, ())) for f in futures]
    groups: dict[str | None, list[Any]] = {}
    for future, target in zip(futures, assign_parts(where, weights, workers)):
        groups.setdefault(target, []).append(future)
    return list(groups.items())


@dataclass
class FitResult:
    """A fitted pool in the driver: futures of its blocks, the encodings and the small model."""

    blocks: list[Any]
    addresses: list[str | None]
    encodings: Encodings
    model: Model | None
    worker_counts: np.ndarray
    n_iter_run: int
    converged: bool
    loss_history: tuple[float, ...]


@dataclass
class _Iteration:
    blocks: list[Any]
    model: Any
    objective: Any = None


@dataclass
class _Fit:
    """One pool's EM in flight: the last kept iteration and up to two submitted ahead."""

    used: Any
    addresses: list[str | None]
    kept: _Iteration
    ahead: list[_Iteration] = field(default_factory=list)
    submitted: int = 0
    history: list[float] = field(default_factory=list)
    converged: bool = False
    done: bool = False


def on_worker(client: Any, address: str | None, function: Any, *args: Any, **kwargs: Any) -> Any:
    """Submit ``function`` to run where a block lives: blocks never move between workers."""
    where = {} if address is None else {"workers": [address], "allow_other_workers": False}
    return client.submit(function, *args, pure=False, **where, **kwargs)


def _submit_iteration(
    client: Any, used: Any, addresses: list[str | None], previous: _Iteration
) -> _Iteration:
    blocks = [
        on_worker(client, a, e_step, b, model=previous.model)
        for a, b in zip(addresses, previous.blocks)
    ]
    stats = [on_worker(client, a, block_stats, b) for a, b in zip(addresses, blocks)]
    model = client.submit(m_step, used, *stats, pure=False)
    return _Iteration(blocks, model, client.submit(objective_of, model, pure=False))


def fit_many(
    client: Any,
    codes: dict[Any, list[Any]],
    *,
    labels: Sequence[Any] | None,
    n_iter: int,
    tol: float,
    sizes: dict[Any, list[int]] | None = None,
) -> dict[Any, FitResult]:
    """Run EM for several pools at once, over futures of :class:`LocalCodes`.

    Parameters
    ----------
    client : distributed.Client
    codes : dict
        Pool -> futures of each partition's :class:`LocalCodes` of that pool
        (every task wholly inside one partition).
    labels : sequence, optional
        The label space (as ``labels=`` of :func:`~pandas_toloka.aggregation.dawid_skene`).
    n_iter, tol
        As for the pandas function: the same stopping rule, iteration by iteration.

    Notes
    -----
    The driver must read each iteration's objective before deciding to go on.
    To hide that round trip, the next iteration is already submitted while the
    objective is read (and dropped if EM stops); the pools' iterations are
    interleaved so that one wait serves them all.
    """
    started = time.perf_counter()
    pools = list(codes)
    encodings_futures = [
        client.submit(merge_encodings, *codes[p], labels=labels, pure=False) for p in pools
    ]
    encodings = dict(zip(pools, client.gather(encodings_futures)))
    logger.debug("encodings merged: %.2f s", time.perf_counter() - started)
    fits: dict[Any, _Fit] = {}
    counts_futures = []
    for pool, enc_future in zip(pools, encodings_futures):
        groups = group_by_worker(client, codes[pool], None if sizes is None else sizes[pool])
        addresses = [address for address, _ in groups]
        blocks = [
            on_worker(client, address, build_block, *group, encodings=enc_future)
            for address, group in groups
        ]
        used = client.submit(
            combine_used,
            *[on_worker(client, a, block_used, b) for a, b in zip(addresses, blocks)],
            pure=False,
        )
        counts_futures.append(
            client.submit(
                combine_counts,
                *[on_worker(client, a, block_worker_counts, b) for a, b in zip(addresses, blocks)],
                pure=False,
            )
        )
        stats = [on_worker(client, a, block_stats, b) for a, b in zip(addresses, blocks)]
        model = client.submit(m_step, used, *stats, pure=False)
        fits[pool] = _Fit(used=used, addresses=addresses, kept=_Iteration(blocks, model))
    del codes
    worker_counts = dict(zip(pools, client.gather(counts_futures)))
    logger.debug("blocks built: %.2f s", time.perf_counter() - started)
    for pool, run in fits.items():
        if n_iter == 0 or worker_counts[pool].sum() == 0:
            run.done, run.converged = True, worker_counts[pool].sum() == 0 or run.converged
    while True:
        active = [run for run in fits.values() if not run.done]
        if not active:
            break
        for run in active:
            while len(run.ahead) < 2 and run.submitted < n_iter:
                last = run.ahead[-1] if run.ahead else run.kept
                run.ahead.append(_submit_iteration(client, run.used, run.addresses, last))
                run.submitted += 1
        objectives = client.gather([run.ahead[0].objective for run in active])
        for run, value in zip(active, objectives):
            new_loss = float(value)
            previous = run.history[-1] if run.history else -np.inf
            run.kept = run.ahead.pop(0)
            run.history.append(new_loss)
            if new_loss - previous < tol:
                run.converged = True
            if run.converged or len(run.history) >= n_iter:
                run.done = True
                run.ahead.clear()  # a speculative iteration: released
    logger.debug("iterations done: %.2f s", time.perf_counter() - started)
    results = {}
    models = client.gather([fits[p].kept.model for p in pools])
    for pool, model in zip(pools, models):
        run = fits[pool]
        empty = worker_counts[pool].sum() == 0
        logger.info(
            "Dawid-Skene of pool %s on %d responses in %d blocks: %d iterations, converged=%s",
            pool,
            int(worker_counts[pool].sum()),
            len(run.kept.blocks),
            len(run.history),
            run.converged,
        )
        results[pool] = FitResult(
            blocks=run.kept.blocks,
            addresses=run.addresses,
            encodings=encodings[pool],
            model=None if empty else model,
            worker_counts=worker_counts[pool],
            n_iter_run=len(run.history),
            converged=run.converged,
            loss_history=tuple(run.history),
        )
    return results
