"""ROVER: transcriptions aligned into a word transition network, then a vote per slot."""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError
from ._to_frame import frame_function
from ._tokens import (
    Detokenizer,
    Tokenizer,
    check_tokenizers,
    encode_text_responses,
    tokenize,
)
from ._wtn import vote_slots

__all__ = ["TextAggregationModel", "fit_rover", "rover"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False, kw_only=True)
class TextAggregationModel:
    """A fitted text aggregation.

    Attributes
    ----------
    method : str
        ``"ROVER"``.
    tasks : pandas.Index
        Task ids, sorted, with the input column's dtype.
    texts : pandas.array
        The aggregated text of each task (a string dtype).
    confidence : numpy.ndarray
        ``(n_tasks,)`` float64; see :func:`rover`.
    n_responses : numpy.ndarray
        ``(n_tasks,)`` responses aggregated per task.
    n_slots : numpy.ndarray
        ``(n_tasks,)`` slots of each task's word transition network.
    n_dropped : int
        Responses left out because their text was missing.
    task_column, text_column : hashable
        Column names of the frame :meth:`to_frame` returns.
    """

    method: str
    tasks: pd.Index
    texts: pd.api.extensions.ExtensionArray
    confidence: np.ndarray
    n_responses: np.ndarray
    n_slots: np.ndarray
    n_dropped: int = 0
    task_column: Hashable = "task_id"
    text_column: Hashable = "text"

    def __repr__(self) -> str:
        return (
            f"TextAggregationModel(method={self.method!r}, n_tasks={len(self.tasks)}, "
            f"n_responses={int(self.n_responses.sum())}, n_dropped={self.n_dropped})"
        )

    def to_frame(self) -> pd.DataFrame:
        """The aggregation result: one row per task, sorted by task.

        Returns
        -------
        pandas.DataFrame
            :attr:`task_column` (input dtype), :attr:`text_column` (a string
            dtype) and ``confidence`` (float64).
        """
        return pd.DataFrame(
            {
                self.task_column: self.tasks.array,
                self.text_column: self.texts,
                "confidence": np.asarray(self.confidence, dtype=np.float64),
            },
            index=pd.RangeIndex(len(self.tasks)),
        )


def fit_rover(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    text: Hashable = "text",
    tokenizer: Tokenizer | None = None,
    detokenizer: Detokenizer | None = None,
) -> TextAggregationModel:
    """Fit ROVER; see :func:`rover`.

    Returns
    -------
    TextAggregationModel
    """
    check_tokenizers(tokenizer, detokenizer)
    data, _ = encode_text_responses(responses, task=task, worker=worker, text=text, method="ROVER")
    tokens = tokenize(data.texts, tokenizer)
    n_tasks = data.tasks.size
    task_count = np.bincount(data.tasks.codes, minlength=n_tasks).astype(np.int64)
    task_first = np.zeros(n_tasks, dtype=np.int64)
    if n_tasks:
        np.cumsum(task_count[:-1], out=task_first[1:])
    winners, votes, n_slots = vote_slots(
        tokens.codes, tokens.starts, tokens.lengths, task_first, task_count
    )
    slot_task = np.repeat(np.arange(n_tasks), n_slots)
    share = votes / task_count[slot_task] if len(votes) else np.zeros(0)
    sums = np.bincount(slot_task, weights=share, minlength=n_tasks)
    # A task without any slot (every response empty) agrees completely on the empty text.
    confidence = np.where(n_slots > 0, sums / np.maximum(n_slots, 1), 1.0)
    texts = _detokenized(tokens.words, winners, n_slots, detokenizer)
    logger.info("ROVER on %d responses, %d tasks", data.n_responses, n_tasks)
    return TextAggregationModel(
        method="ROVER",
        tasks=data.tasks.uniques,
        texts=pd.array(texts, dtype=data.text_dtype),
        confidence=confidence,
        n_responses=task_count,
        n_slots=n_slots,
        n_dropped=data.n_dropped,
        task_column=task,
        text_column=text,
    )


def _detokenized(
    words: np.ndarray, winners: np.ndarray, n_slots: np.ndarray, detokenizer: Detokenizer | None
) -> list[str]:
    """Each task's winning words without the empty word, joined back into a text."""
    bounds = np.zeros(len(n_slots) + 1, dtype=np.int64)
    np.cumsum(n_slots, out=bounds[1:])
    strings = words[winners].tolist()
    texts: list[str] = []
    for t in range(len(n_slots)):
        kept = [w for w in strings[bounds[t] : bounds[t + 1]] if w != ""]
        if detokenizer is None:
            texts.append(" ".join(kept))
            continue
        joined = detokenizer(kept)
        if not isinstance(joined, str):
            raise InvalidArgumentError(
                f"detokenizer= must return a string, got {type(joined).__name__}."
            )
        texts.append(joined)
    return texts


rover = frame_function(
    fit_rover,
    name="rover",
    doc="""Aggregate transcriptions with ROVER (Recognizer Output Voting Error Reduction).

    The responses of each task are split into words and aligned one after
    the other, in the order they appear in ``responses``, into a word
    transition network: a sequence of slots, each holding the words the
    responses put there and the empty word for the responses that have
    nothing there (Fiscus, 1997). Each slot then votes; the winners, empty
    words left out, are joined into the task's text. The alignment and the
    vote are crowd-kit's ``ROVER``'s; ``docs/texts.md`` gives the costs and
    the tie rules.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response, columns of any dtype backend. Responses with a
        missing text are dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning` saying how
        many; an empty string is an answer with no words.
    task, worker, text : hashable, default "task_id", "worker_id", "text"
        Column names. ``worker`` must exist but does not affect the result.
    tokenizer : callable, optional
        ``str -> list of str``. Default: :meth:`str.split` (runs of whitespace;
        ``lambda s: s.split(" ")``, as in crowd-kit's examples, differs only
        on repeated, leading or trailing spaces).
    detokenizer : callable, optional
        ``list of str -> str``. Default: ``" ".join``.

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``text`` (the input's
        string dtype, else ``string[pyarrow]``) and ``confidence`` (float64):
        the mean, over the slots of the task's network, of the share of the
        task's responses that voted for the slot's winner (the empty word
        included); 1.0 for a task whose responses are all empty.

    Raises
    ------
    MissingColumnsError
        If a column is absent.
    InvalidArgumentError
        If a task or worker id is null, a text is not a string, or the
        tokenizer/detokenizer returns the wrong type.

    See Also
    --------
    wer : Each worker's word error rate against the result.
    text_agreement : How much the responses of each task agree.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t1"],
    ...                    "worker_id": ["w1", "w2", "w3"],
    ...                    "text": ["a b c d", "b z d e", "b c d e f"]})
    >>> rover(df)
      task_id     text  confidence
    0      t1  b c d e    0.777778
    """,
)
