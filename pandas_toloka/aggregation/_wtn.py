"""ROVER's word transition network, built for many tasks at once.

Each task's network is a sequence of *slots*; a slot holds the words its
responses put there and how many responses did (the empty word ``""`` for the
responses with nothing there). The first response makes one slot per word;
each further response is aligned to the slots by the edit-distance programme
of Fiscus (1997) as crowd-kit implements it, then merged:

- a word matching a word of the slot costs 0, another word 1 (substitution);
- skipping a slot (the response has nothing there) costs 0 if the slot
  already holds the empty word, else 1; along the table's first row every
  skipped slot costs 1;
- a word between slots (insertion) costs 1 and opens a new slot holding the
  word once and the empty word once for each earlier response;
- among equal costs the diagonal move wins, then the skip, then the insertion.

The tasks of a batch are aligned together: one NumPy operation per row of the
table (a word of the response) for every task of the batch, and one per step of
the walk back through the table (:mod:`._edit` explains the row).
"""

from __future__ import annotations

import numpy as np

from ._edit import padded, row_minimum

__all__ = ["vote_slots"]

DIAGONAL, SKIP, INSERT = 0, 1, 2
#: Table cells (tasks x response words x slots) per batch.
BATCH_CELLS = 1 << 20


def vote_slots(
    codes: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    task_first: np.ndarray,
    task_count: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Align the responses of every task and vote in each slot.

    Parameters
    ----------
    codes, starts, lengths : numpy.ndarray
        Word codes of all responses (:class:`._tokens.Tokens`), code 0 the empty
        word; a larger code wins a tie of votes.
    task_first, task_count : numpy.ndarray
        Each task's responses are ``task_first[t] .. task_first[t] + task_count[t] - 1``
        (in the order they are aligned). Every task has at least one.

    Returns
    -------
    winners : numpy.ndarray
        Winning word code of every slot, tasks one after the other.
    votes : numpy.ndarray
        Responses voting for each winner.
    n_slots : numpy.ndarray
        Slots per task.
    """
    n_tasks = len(task_first)
    total = np.add.reduceat(lengths, task_first) if n_tasks else np.zeros(0, np.int64)
    longest = _longest_response(lengths, task_first)
    # Similar tasks together: batches by overlap, then by size.
    order = np.lexsort((total, task_count))
    winners_of: list[np.ndarray] = [np.zeros(0, np.int64)] * n_tasks
    votes_of: list[np.ndarray] = [np.zeros(0, np.int64)] * n_tasks
    begin = 0
    while begin < n_tasks:
        end = begin + 1
        cells = (int(total[order[begin]]) + 1) * (int(longest[order[begin]]) + 1)
        while end < n_tasks:
            t = order[end]
            cell = (int(total[t]) + 1) * (int(longest[t]) + 1)
            if (end - begin + 1) * max(cells, cell) > BATCH_CELLS:
                break
            cells = max(cells, cell)
            end += 1
        batch = order[begin:end]
        words, counts, n_slots = _network(
            codes, starts, lengths, task_first[batch], task_count[batch]
        )
        slot_winners, slot_votes = _vote(words, counts)
        for position, t in enumerate(batch):
            winners_of[t] = slot_winners[position, : n_slots[position]]
            votes_of[t] = slot_votes[position, : n_slots[position]]
        begin = end
    n_slots_all = np.fromiter((len(w) for w in winners_of), dtype=np.int64, count=n_tasks)
    if n_tasks == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), n_slots_all
    return np.concatenate(winners_of), np.concatenate(votes_of), n_slots_all


def _longest_response(lengths: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The most words of one response, per task."""
    if len(first) == 0:
        return np.zeros(0, np.int64)
    return np.maximum.reduceat(lengths, first)


def _vote(words: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each slot's winner: most votes, then the largest code (the longest word, then the
    last in code-point order)."""
    n_codes = int(words.max()) + 2 if words.size else 1
    key = counts.astype(np.int64) * n_codes + words
    best = key.argmax(axis=2)
    winners = np.take_along_axis(words, best[..., None], axis=2)[..., 0]
    votes = np.take_along_axis(counts, best[..., None], axis=2)[..., 0]
    return winners, votes.astype(np.int64)


def _network(
    codes: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The networks of one batch of tasks: ``(words, counts, n_slots)`` with words and
    counts ``(tasks, slots, width)`` (-1 and 0 where unused)."""
    n, width = len(first), int(count.max())
    hyp = padded(codes, starts[first], lengths[first], -1)
    words = np.full((n, max(hyp.shape[1], 1), width), -1, dtype=np.int64)
    counts = np.zeros((n, max(hyp.shape[1], 1), width), dtype=np.int64)
    n_slots = lengths[first].astype(np.int64)
    words[:, : hyp.shape[1], 0] = hyp
    counts[:, : hyp.shape[1], 0] = hyp >= 0
    for k in range(1, width):
        live = np.flatnonzero(count > k)
        response = first[live] + k
        new_words, new_counts, new_slots = _align(
            words[live],
            counts[live],
            n_slots[live],
            padded(codes, starts[response], lengths[response], -2),
            lengths[response],
            k,
        )
        if len(live) == n:
            words, counts = new_words, new_counts
        else:
            grow = new_words.shape[1] - words.shape[1]
            if grow > 0:
                words = np.concatenate([words, np.full((n, grow, width), -1, np.int64)], axis=1)
                counts = np.concatenate([counts, np.zeros((n, grow, width), np.int64)], axis=1)
            words[live] = -1
            counts[live] = 0
            words[live, : new_words.shape[1]] = new_words
            counts[live, : new_words.shape[1]] = new_counts
        n_slots[live] = new_slots
    return words, counts, n_slots


def _align(
    words: np.ndarray,
    counts: np.ndarray,
    n_slots: np.ndarray,
    hyp: np.ndarray,
    hyp_len: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Align response ``k`` of each task to its network and merge it in."""
    n, n_columns = len(n_slots), int(n_slots.max()) + 1
    n_rows = hyp.shape[1] + 1
    # One contiguous plane per word position of the slots; after k responses a
    # slot holds at most k distinct words, in its first k positions.
    planes = np.ascontiguousarray(words[:, : n_columns - 1, :k].transpose(2, 0, 1), dtype=np.int32)
    has_empty = planes[0] == 0
    for plane in planes[1:]:
        has_empty |= plane == 0
    skip_cost = (~has_empty).astype(np.int32)  # the slot lacks the empty word
    prefix = np.zeros((n, n_columns), dtype=np.int32)
    np.cumsum(skip_cost, axis=1, out=prefix[:, 1:])
    moves = np.empty((n, n_rows, n_columns), dtype=np.int8)
    moves[:, 0, :] = SKIP
    moves[:, 1:, 0] = INSERT
    row = np.broadcast_to(np.arange(n_columns, dtype=np.int32), (n, n_columns))
    hyp32 = hyp.astype(np.int32)
    base = np.empty((n, n_columns), dtype=np.int32)
    for i in range(1, n_rows):
        word = hyp32[:, i - 1, None]
        match = planes[0] == word
        for plane in planes[1:]:
            match |= plane == word
        diagonal = row[:, :-1] + 1
        diagonal -= match
        insert = row[:, 1:] + 1
        base[:, 0] = i
        np.minimum(diagonal, insert, out=base[:, 1:])
        row = row_minimum(base, prefix)
        skip = row[:, :-1] + skip_cost
        move = (skip > insert).view(np.int8) + SKIP  # SKIP, or INSERT when strictly cheaper
        move[diagonal <= np.minimum(skip, insert)] = DIAGONAL
        moves[:, i, 1:] = move
    return _walk_back(words, counts, n_slots, hyp, hyp_len, moves, k)


def _walk_back(
    words: np.ndarray,
    counts: np.ndarray,
    n_slots: np.ndarray,
    hyp: np.ndarray,
    hyp_len: np.ndarray,
    moves: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Follow the cheapest path back from the table's corner, then merge the response
    into the slots along it (one merged slot per step of the path)."""
    n, width = len(n_slots), words.shape[2]
    max_steps = int((n_slots + hyp_len).max())
    if words.shape[1] == 0:  # no slot yet (every earlier response empty): one blank
        words = np.full((n, 1, width), -1, dtype=np.int64)
        counts = np.zeros((n, 1, width), dtype=np.int64)
    if hyp.shape[1] == 0:  # every response of this step empty
        hyp = np.full((n, 1), -2, dtype=np.int64)
    i, j = hyp_len.astype(np.int64), n_slots.astype(np.int64)
    path_move = np.full((n, max(max_steps, 1)), -1, dtype=np.int8)
    path_i = np.zeros((n, max(max_steps, 1)), dtype=np.int64)
    path_j = np.zeros((n, max(max_steps, 1)), dtype=np.int64)
    tasks = np.arange(n)
    for step in range(max_steps):
        live = (i > 0) | (j > 0)
        if not live.any():
            break
        move = np.where(live, moves[tasks, i, j], -1).astype(np.int8)
        path_move[:, step], path_i[:, step], path_j[:, step] = move, i, j
        i -= live & (move != SKIP)
        j -= live & (move != INSERT)
    steps = (path_move >= 0).sum(axis=1)
    # The path runs from the last slot to the first: read it backwards.
    n_out = int(steps.max()) if n else 0
    source = steps[:, None] - 1 - np.arange(n_out)[None, :]
    valid = source >= 0
    task = np.broadcast_to(tasks[:, None], source.shape)[valid]
    at = source[valid]
    move, pi, pj = path_move[task, at], path_i[task, at], path_j[task, at]
    inserted = move == INSERT
    slot_w = words[task, np.maximum(pj - 1, 0)]
    slot_c = counts[task, np.maximum(pj - 1, 0)]
    slot_w[inserted] = -1
    slot_w[inserted, 0] = 0  # a new slot: the empty word for each earlier response
    slot_c[inserted] = 0
    slot_c[inserted, 0] = k
    word = np.where(move == SKIP, 0, hyp[task, np.maximum(pi - 1, 0)])
    same = slot_w == word[:, None]
    position = np.where(same.any(axis=1), same.argmax(axis=1), (slot_w < 0).argmax(axis=1))
    merged = np.arange(len(word))
    slot_w[merged, position] = word
    slot_c[merged, position] += 1
    new_w = np.full((n, n_out, width), -1, dtype=np.int64)
    new_c = np.zeros((n, n_out, width), dtype=np.int64)
    new_w[valid] = slot_w
    new_c[valid] = slot_c
    return new_w, new_c, steps.astype(np.int64)
