"""Word error rates: each worker against a reference, and the agreement within each task."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError
from ._edit import edit_distances, pairs_within
from ._tokens import Tokenizer, check_tokenizers, encode_text_responses, texts_of, tokenize

__all__ = ["error_rate", "text_agreement", "wer"]

logger = logging.getLogger(__name__)


def error_rate(errors: np.ndarray, words: np.ndarray) -> np.ndarray:
    """``errors / words``; where there are no reference words, 0.0 without errors, else 1.0."""
    errors = np.asarray(errors, dtype=np.float64)
    words = np.asarray(words, dtype=np.float64)
    return np.where(words > 0, errors / np.maximum(words, 1), np.where(errors > 0, 1.0, 0.0))


def _reference_texts(
    reference: object, *, task: Hashable, text: Hashable, task_like: pd.Series
) -> tuple[pd.Index, list[str]]:
    """Task ids (in the task column's dtype) and texts of ``reference``, nulls left out."""
    if isinstance(reference, pd.DataFrame):
        missing = [str(c) for c in (task, text) if c not in reference.columns]
        if missing:
            raise InvalidArgumentError(
                f"reference= lacks the column(s) {missing}: it needs the task column {task!r} "
                f"and the text column {text!r} (as rover() returns them)."
            )
        keys, values = reference[task], reference[text]
    elif isinstance(reference, pd.Series):
        keys, values = pd.Series(reference.index), reference.reset_index(drop=True)
    elif isinstance(reference, Mapping):
        keys, values = pd.Series(list(reference.keys())), pd.Series(list(reference.values()))
    else:
        raise InvalidArgumentError(
            "reference= must be a DataFrame with the task and text columns, or a Series or "
            f"mapping of task id -> text, got {type(reference).__name__}."
        )
    present = ~np.asarray(pd.isna(values.to_numpy(dtype=object)), dtype=bool)
    if not present.all():
        logger.info("reference: %d task(s) without a text are left out", int((~present).sum()))
    keys = keys[present].reset_index(drop=True)
    values = values[present].reset_index(drop=True).rename("reference")
    try:
        index = pd.Index(pd.array(keys.tolist(), dtype=task_like.dtype))
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"reference= task ids cannot be converted to the dtype {task_like.dtype} of the "
            f"task column {task_like.name!r}: {exc}"
        ) from exc
    if index.hasnans:
        raise InvalidArgumentError("reference= holds a null task id.")
    if index.has_duplicates:
        raise InvalidArgumentError(
            f"reference= lists the task {index[index.duplicated()][0]!r} more than once."
        )
    return index, texts_of(values, role="reference text")


def wer(
    responses: pd.DataFrame,
    *,
    reference: pd.DataFrame | pd.Series | Mapping[object, str],
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    text: Hashable = "text",
    tokenizer: Tokenizer | None = None,
) -> pd.DataFrame:
    """Word error rate of each worker against reference texts.

    The word error rate of a response is the edit distance between its words
    and the reference's (the fewest substitutions, deletions and insertions
    of words), divided by the number of reference words. A worker's rate
    pools their responses: the sum of the distances over the sum of the
    reference lengths, as ASR corpora are scored.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. Responses with a missing text are dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning`.
    reference : pandas.DataFrame, pandas.Series or mapping
        The texts to compare with: the aggregate (a frame with the ``task``
        and ``text`` columns, as :func:`rover` returns it) or golden
        transcriptions (a Series or mapping of task id -> text). Tasks with a
        null text have no reference. Only responses to tasks with a reference
        are scored.
    task, worker, text : hashable, default "task_id", "worker_id", "text"
        Column names (of ``responses``, and of ``reference`` when a frame).
    tokenizer : callable, optional
        ``str -> list of str``; default :meth:`str.split`.

    Returns
    -------
    pandas.DataFrame
        One row per worker with at least one scored response, sorted by
        worker: ``worker``, ``n_tasks`` (responses scored, int64), ``wer``
        (float64), ``errors`` and ``words`` (int64: summed edit distances and
        reference words; ``wer = errors / words``). Where the references hold
        no word at all, ``wer`` is 0.0 for empty responses and 1.0 otherwise.

    Raises
    ------
    MissingColumnsError
        If a column of ``responses`` is absent.
    InvalidArgumentError
        If ``reference`` is malformed (wrong type, missing columns, a task
        listed twice) or a text is not a string.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2", "t2"],
    ...                    "worker_id": ["a", "b", "a", "b"],
    ...                    "text": ["the cat sat", "the cat", "a dog", "the dog"]})
    >>> wer(df, reference={"t1": "the cat sat", "t2": "a dog"})
      worker_id  n_tasks   wer  errors  words
    0         a        2  0.0       0      5
    1         b        2  0.4       2      5
    """
    check_tokenizers(tokenizer, None)
    data, frame = encode_text_responses(
        responses, task=task, worker=worker, text=text, method="wer"
    )
    ref_tasks, ref_texts = _reference_texts(reference, task=task, text=text, task_like=frame[task])
    position = ref_tasks.get_indexer(data.tasks.uniques)[data.tasks.codes]
    scored = np.flatnonzero(position >= 0)
    tokens = tokenize(data.texts + ref_texts, tokenizer)
    n = data.n_responses
    distances = edit_distances(
        tokens.codes, tokens.starts, tokens.lengths, scored, n + position[scored]
    )
    worker_codes = data.workers.codes[scored]
    n_workers = data.workers.size
    errors = np.bincount(worker_codes, weights=distances, minlength=n_workers)
    words = np.bincount(
        worker_codes, weights=tokens.lengths[n + position[scored]], minlength=n_workers
    )
    counts = np.bincount(worker_codes, minlength=n_workers)
    keep = counts > 0
    logger.info("wer: %d of %d responses scored", len(scored), n)
    return pd.DataFrame(
        {
            worker: data.workers.uniques.array[keep],
            "n_tasks": counts[keep].astype(np.int64),
            "wer": error_rate(errors[keep], words[keep]),
            "errors": errors[keep].astype(np.int64),
            "words": words[keep].astype(np.int64),
        }
    )


def text_agreement(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    text: Hashable = "text",
    tokenizer: Tokenizer | None = None,
) -> pd.DataFrame:
    """How much the responses of each task agree: their mean pairwise word error rate.

    For every ordered pair of two responses ``(a, b)`` of a task, the word
    error rate of ``a`` against ``b`` (edit distance over the words of ``b``;
    0.0 or 1.0 when ``b`` is empty, as in :func:`wer`); their mean over the
    pairs is the task's ``mean_pairwise_wer``: 0.0 when all the responses are
    the same words, larger the more they differ.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response. Responses with a missing text are dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning`.
    task, worker, text : hashable, default "task_id", "worker_id", "text"
        Column names.
    tokenizer : callable, optional
        ``str -> list of str``; default :meth:`str.split`.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``n_responses`` (int64)
        and ``mean_pairwise_wer`` (float64; 0.0 for a task with a single
        response: no pair disagrees).

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t2"],
    ...                    "worker_id": ["a", "b", "a"],
    ...                    "text": ["the cat sat", "the cat", "a dog"]})
    >>> text_agreement(df)
      task_id  n_responses  mean_pairwise_wer
    0      t1            2           0.416667
    1      t2            1           0.000000
    """
    check_tokenizers(tokenizer, None)
    data, _ = encode_text_responses(
        responses, task=task, worker=worker, text=text, method="text_agreement"
    )
    tokens = tokenize(data.texts, tokenizer)
    n_tasks = data.tasks.size
    count = np.bincount(data.tasks.codes, minlength=n_tasks).astype(np.int64)
    first = np.zeros(n_tasks, dtype=np.int64)
    if n_tasks:
        np.cumsum(count[:-1], out=first[1:])
    left, right = pairs_within(first, count)
    distances = edit_distances(tokens.codes, tokens.starts, tokens.lengths, left, right)
    rates = error_rate(distances, tokens.lengths[right]) + error_rate(
        distances, tokens.lengths[left]
    )
    pair_task = data.tasks.codes[left]
    sums = np.bincount(pair_task, weights=rates, minlength=n_tasks)
    n_ordered = count * (count - 1)
    mean = np.where(n_ordered > 0, sums / np.maximum(n_ordered, 1), 0.0)
    return pd.DataFrame(
        {
            task: data.tasks.uniques.array,
            "n_responses": count,
            "mean_pairwise_wer": mean.astype(np.float64),
        }
    )
