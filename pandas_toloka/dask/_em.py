"""Dawid–Skene by EM over partitions that hold whole tasks: what runs on the workers.

Each partition becomes a :class:`Block` on a worker: its responses laid out by
task (:class:`pandas_toloka.aggregation._layout.TaskGrid`, with cells
``worker * K + label`` in one global encoding) and its tasks' posteriors.
Blocks stay where they are for the whole fit. An iteration is

1. E-step on every block, given the broadcast ``(priors, log confusion)``:
   new posteriors, kept in the block, and the block's sufficient statistics —
   soft counts ``(W, K, K)``, the sum of its posteriors ``(K,)`` and their
   entropy (one float);
2. the statistics of all blocks summed in one task, which runs the M-step
   (priors, confusion matrices) and the objective;
3. the driver reads the objective (one float) and stops as the single-process
   :func:`pandas_toloka.aggregation.dawid_skene` does.

So per iteration ``W*K*K + K + 1`` floats travel from each block to the
reducing worker and ``2*W*K*K + K`` back to each worker; responses never move.
The driver's loop is :mod:`._fit`.
The arithmetic is :mod:`pandas_toloka.aggregation._em`'s, term for term, so
the result equals the single-process one up to the order of floating-point
sums.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np
import pandas as pd
from dask.sizeof import sizeof

from ..aggregation._em import EPS, ResponseCodes, log_confusion
from ..aggregation._em import e_step as single_e_step
from ..aggregation._encoding import check_no_nulls, encode_column, encode_labels
from ..aggregation._layout import TaskGrid
from ..aggregation.majority_vote import vote_counts
from ..errors import InvalidArgumentError

__all__ = ["Block", "Encodings", "LocalCodes", "Model", "build_block", "e_step", "m_step"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Encodings:
    """The global encoding of workers and labels, shared by every block."""

    workers: pd.Index
    labels: pd.Index


@dataclass(frozen=True)
class LocalCodes:
    """A partition's responses factorised locally (before the global encoding is known)."""

    tasks: pd.Index
    task: np.ndarray
    worker: np.ndarray
    worker_uniques: pd.Series
    label: np.ndarray
    label_uniques: pd.Series
    pool: Any = None


@dataclass(frozen=True)
class Stats:
    """A block's sufficient statistics for the M-step and the objective."""

    counts: np.ndarray  # (W, K, K) soft counts
    post_sum: np.ndarray  # (K,)
    entropy: float
    n_tasks: int
    n_responses: int


@dataclass(frozen=True)
class Part:
    """One partition's tasks: their layout by task and their posteriors ``(K, T)``."""

    tasks: pd.Index
    layout: TaskGrid
    post: np.ndarray


@dataclass(frozen=True)
class Block:
    """The parts one worker holds, with what the M-step needs of them."""

    parts: tuple[Part, ...]
    used: np.ndarray  # (W * K,) bool: worker w used label o
    worker_counts: np.ndarray  # (W,) responses per worker
    n_workers: int
    n_labels: int
    stats: Stats | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Model:
    """What the M-step broadcasts, and the objective the driver reads."""

    priors: np.ndarray
    confusion: np.ndarray
    log_conf: np.ndarray
    objective: float


# --------------------------------------------------------------------------- on the workers
def _factorize(series: pd.Series, role: str) -> tuple[np.ndarray, pd.Index]:
    """Codes in order of appearance (the global order is made once, on the small uniques)."""
    check_no_nulls(series, role)
    try:
        codes, uniques = series.factorize(sort=False)
    except TypeError as exc:
        raise InvalidArgumentError(
            f"The {role} column {series.name!r} holds values that cannot be hashed and "
            f"sorted ({exc}); use one type of scalar per column."
        ) from exc
    return np.asarray(codes, dtype=np.intp), pd.Index(uniques)


def local_codes(frame: pd.DataFrame, task: Any, worker: Any, label: Any) -> LocalCodes:
    """Factorise a partition's task, worker and label columns (nulls raise as in pandas)."""
    task_codes, tasks = _factorize(frame[task], "task")
    worker_codes, workers = _factorize(frame[worker], "worker")
    label_codes, labels = _factorize(frame[label], "label")
    return LocalCodes(
        tasks=tasks,
        task=task_codes,
        worker=worker_codes,
        worker_uniques=pd.Series(workers.array, name=worker),
        label=label_codes,
        label_uniques=pd.Series(labels.array, name=label),
    )


def merge_encodings(*parts: LocalCodes, labels: Sequence[Any] | None) -> Encodings:
    """The global, naturally sorted worker and label spaces, as the pandas function builds them."""
    workers = pd.concat([p.worker_uniques for p in parts], ignore_index=True)
    observed = pd.concat([p.label_uniques for p in parts], ignore_index=True)
    return Encodings(
        workers=encode_column(workers, role="worker").uniques,
        labels=encode_labels(observed, labels).uniques,
    )


def _vote_shares(task: np.ndarray, label: np.ndarray, n_tasks: int, n_labels: int) -> np.ndarray:
    votes = vote_counts(task, label, n_tasks, n_labels)
    return votes / votes.sum(axis=0)


def _stats(block: Block, entropies: list[float] | None = None) -> Stats:
    """Soft counts, posterior sums and entropy (given by the E-step, else computed)."""
    W, K = block.n_workers, block.n_labels
    counts = np.zeros((W, K, K))
    post_sum = np.zeros(K)
    entropy = 0.0
    for i, part in enumerate(block.parts):
        for k in range(K):
            counts[:, k, :] += part.layout.cell_sums(part.post[k]).reshape(W, K)
        post_sum += part.post.sum(axis=1)
        if entropies is not None:
            entropy += entropies[i]
        else:
            clipped = np.maximum(part.post, EPS)
            entropy -= float((clipped * np.log(clipped)).sum())
    return Stats(
        counts=counts,
        post_sum=post_sum,
        entropy=entropy,
        n_tasks=sum(part.post.shape[1] for part in block.parts),
        n_responses=int(block.worker_counts.sum()),
    )


def _part(codes: LocalCodes, encodings: Encodings) -> tuple[Part, np.ndarray, np.ndarray]:
    W, K = len(encodings.workers), len(encodings.labels)
    worker_map = encodings.workers.get_indexer(pd.Index(codes.worker_uniques.array))
    label_map = encodings.labels.get_indexer(pd.Index(codes.label_uniques.array))
    worker = worker_map[codes.worker] if len(codes.worker) else codes.worker
    label = label_map[codes.label] if len(codes.label) else codes.label
    cell = worker * K + label
    T = len(codes.tasks)
    part = Part(
        tasks=codes.tasks,
        layout=TaskGrid.build(codes.task, cell, T, W * K, shards=False),
        post=_vote_shares(codes.task, label, T, K),
    )
    return part, np.bincount(cell, minlength=W * K) > 0, np.bincount(worker, minlength=W)


def build_block(*codes: LocalCodes, encodings: Encodings) -> Block:
    """Lay out partitions' responses in the global encoding, started from vote shares."""
    W, K = len(encodings.workers), len(encodings.labels)
    parts = []
    used = np.zeros(W * K, dtype=bool)
    worker_counts = np.zeros(W, dtype=np.int64)
    for one in codes:
        part, part_used, part_counts = _part(one, encodings)
        parts.append(part)
        used |= part_used
        worker_counts += part_counts
    block = Block(tuple(parts), used, worker_counts, W, K)
    return replace(block, stats=_stats(block))


@dataclass(frozen=True)
class _PartView:
    """What the single-process E-step reads of its data: the layout and the sizes."""

    layout: TaskGrid
    n_tasks: int
    n_labels: int


def e_step(block: Block, model: Model) -> Block:
    """New posteriors of the block's tasks, and their statistics.

    Each part runs the single-process E-step itself
    (:func:`pandas_toloka.aggregation._em.e_step`), so the arithmetic is the
    pandas function's, term for term.
    """
    K = block.n_labels
    parts = []
    entropies = []
    for part in block.parts:
        view = _PartView(part.layout, part.post.shape[1], K)
        step = single_e_step(cast(ResponseCodes, view), model.priors, model.log_conf)
        parts.append(replace(part, post=step.post))
        entropies.append(step.entropy)
    updated = replace(block, parts=tuple(parts), stats=None)
    return replace(updated, stats=_stats(updated, entropies))


def block_stats(block: Block) -> Stats:
    assert block.stats is not None
    return block.stats


def block_used(block: Block) -> np.ndarray:
    return block.used


def block_worker_counts(block: Block) -> np.ndarray:
    return block.worker_counts


def m_step(used: np.ndarray, *stats: Stats) -> Model:
    """Priors, confusion matrices and the objective from the summed statistics.

    The formulas of :func:`pandas_toloka.aggregation._em.m_step` and
    :func:`~pandas_toloka.aggregation._em.objective`, on sums over blocks.
    """
    counts = stats[0].counts.copy()
    post_sum = stats[0].post_sum.copy()
    for s in stats[1:]:
        counts += s.counts
        post_sum += s.post_sum
    n_tasks = sum(s.n_tasks for s in stats)
    n_responses = sum(s.n_responses for s in stats)
    entropy = float(sum(s.entropy for s in stats))
    W, K = counts.shape[0], counts.shape[1]
    if n_responses == 0:  # a pool without answers: nothing to fit
        return Model(np.zeros(K), np.zeros((W, K, K)), np.zeros((W, K, K)), 0.0)
    priors = post_sum / n_tasks
    floored = np.where(used.reshape(W, 1, K), np.maximum(counts, EPS), 0.0)
    confusion = floored / floored.sum(axis=2, keepdims=True)
    log_conf = log_confusion(confusion)
    finite = np.where(counts > 0, counts * np.where(np.isfinite(log_conf), log_conf, 0.0), 0.0)
    joint = float(finite.sum())
    joint += float(counts.sum(axis=(0, 2)) @ np.log(np.maximum(priors, EPS)))
    return Model(priors, confusion, log_conf, (joint + entropy) / n_responses)


def combine_used(*used: np.ndarray) -> np.ndarray:
    out = used[0].copy()
    for u in used[1:]:
        out |= u
    return out


def combine_counts(*counts: np.ndarray) -> np.ndarray:
    return np.sum(counts, axis=0)


def objective_of(model: Model) -> float:
    """The objective of a fitted M-step (what the driver reads each iteration)."""
    return model.objective


def answers(block: Block) -> list[tuple[pd.Index, np.ndarray, np.ndarray]]:
    """Per part: tasks, answer codes (first maximum on ties) and confidences."""
    out = []
    for part in block.parts:
        post = part.post
        if post.shape[0] == 0 or post.shape[1] == 0:
            out.append(
                (part.tasks, np.zeros(post.shape[1], dtype=np.intp), np.zeros(post.shape[1]))
            )
            continue
        codes = post.argmax(axis=0)
        out.append((part.tasks, codes, post[codes, np.arange(post.shape[1])]))
    return out


@sizeof.register(Block)
def _sizeof_block(block: Block) -> int:
    """Dask's memory accounting (spilling, placement) must see the arrays inside."""
    total = block.used.nbytes + block.worker_counts.nbytes
    for part in block.parts:
        total += part.layout.nbytes + part.post.nbytes + int(part.tasks.memory_usage(deep=False))
    return total


@sizeof.register(LocalCodes)
def _sizeof_codes(codes: LocalCodes) -> int:
    arrays = codes.task.nbytes + codes.worker.nbytes + codes.label.nbytes
    return arrays + int(codes.tasks.memory_usage(deep=False))
