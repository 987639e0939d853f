"""Text responses as integer word codes, shared by ROVER and the word error rates."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import InvalidArgumentError
from ._encoding import Encoded, check_distinct_names, check_frame, drop_null_labels, encode_column

__all__ = [
    "TextResponses",
    "Tokens",
    "Tokenizer",
    "Detokenizer",
    "check_tokenizers",
    "encode_text_responses",
    "text_dtype",
    "texts_of",
    "tokenize",
]

logger = logging.getLogger(__name__)

Tokenizer = Callable[[str], Sequence[str]]
Detokenizer = Callable[[list[str]], str]


@dataclass(frozen=True)
class Tokens:
    """Tokenized texts.

    Attributes
    ----------
    codes : numpy.ndarray
        ``int64`` word codes of all texts, concatenated.
    starts, lengths : numpy.ndarray
        Where each text's words start in ``codes`` and how many there are.
    words : numpy.ndarray
        The vocabulary (object array of str): ``words[code]``. Sorted by length,
        then by code point, so that ``words[0] == ""`` (the empty word) and a
        larger code means a longer word, or an equally long one later in
        code-point order.
    """

    codes: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    words: np.ndarray


def check_tokenizers(tokenizer: object, detokenizer: object) -> None:
    """Raise :class:`InvalidArgumentError` unless both are None or callable."""
    for name, value in (("tokenizer", tokenizer), ("detokenizer", detokenizer)):
        if value is not None and not callable(value):
            raise InvalidArgumentError(
                f"{name}= must be a callable or None, got {type(value).__name__}."
            )


def tokenize(texts: Sequence[str], tokenizer: Tokenizer | None) -> Tokens:
    """Split each text into words and code the words.

    Parameters
    ----------
    texts : sequence of str
    tokenizer : callable or None
        ``str -> sequence of str``; None is :meth:`str.split` (runs of whitespace).

    Raises
    ------
    InvalidArgumentError
        If the tokenizer returns something else than a sequence of strings.
    """
    split: Callable[[str], Sequence[str]] = str.split if tokenizer is None else tokenizer
    pieces = [split(text) for text in texts]
    for piece in pieces:
        if isinstance(piece, str) or not isinstance(piece, (list, tuple)):
            raise InvalidArgumentError(
                f"tokenizer= must return a list of strings, got {type(piece).__name__}."
            )
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    starts = np.zeros(len(pieces), dtype=np.int64)
    if len(pieces):
        np.cumsum(lengths[:-1], out=starts[1:])
    flat = np.empty(int(lengths.sum()) + 1, dtype=object)
    flat[0] = ""  # the empty word is always in the vocabulary
    flat[1:] = list(itertools.chain.from_iterable(pieces))
    raw, uniques = pd.factorize(flat)
    words = np.asarray(uniques, dtype=object)
    if not all(isinstance(w, str) for w in words):
        bad = next(w for w in words if not isinstance(w, str))
        raise InvalidArgumentError(
            f"tokenizer= must return strings, got a token of type {type(bad).__name__}: {bad!r}."
        )
    order = sorted(range(len(words)), key=lambda k: (len(words[k]), words[k]))
    rank = np.empty(len(words), dtype=np.int64)
    rank[order] = np.arange(len(words), dtype=np.int64)
    return Tokens(rank[raw[1:]], starts, lengths, words[order])


def text_dtype(series: pd.Series) -> object:
    """The dtype of an aggregated text column: the input's when it is a string dtype,
    else ``string[pyarrow]``."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return dtype
    if isinstance(dtype, pd.ArrowDtype) and (
        pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
    ):
        return dtype
    return pd.StringDtype("pyarrow")


def texts_of(series: pd.Series, *, role: str = "text") -> list[str]:
    """The values of a null-free text column as Python strings.

    Raises
    ------
    InvalidArgumentError
        If a value is not a string.
    """
    values = series.tolist()
    for position, value in enumerate(values):
        if not isinstance(value, str):
            raise InvalidArgumentError(
                f"The {role} column {series.name!r} holds a {type(value).__name__} value "
                f"({value!r} at index {series.index[position]!r}); every {role} must be a "
                "string."
            )
    return values


@dataclass(frozen=True)
class TextResponses:
    """A text responses frame, sorted by task (then input order).

    Attributes
    ----------
    tasks, workers : Encoded
        Factorized task and worker columns, in the sorted row order.
    texts : list of str
        The texts, in the sorted row order.
    order : numpy.ndarray
        Positions of the sorted rows in the frame after dropping nulls.
    n_dropped : int
        Responses dropped because their text was null.
    text_dtype : object
        The dtype of aggregated texts (:func:`text_dtype`).
    """

    tasks: Encoded
    workers: Encoded
    texts: list[str]
    order: np.ndarray
    n_dropped: int
    text_dtype: object

    @property
    def n_responses(self) -> int:
        return len(self.texts)


def encode_text_responses(
    responses: object,
    *,
    task: Hashable,
    worker: Hashable,
    text: Hashable,
    method: str,
    extra: Sequence[Hashable] = (),
) -> tuple[TextResponses, pd.DataFrame]:
    """Validate a text responses frame, drop null texts (with a warning) and sort by task.

    Returns
    -------
    (TextResponses, pandas.DataFrame)
        The coded responses and the frame after dropping nulls (in input order).
    """
    check_distinct_names([task, text], task=task, worker=worker, text=text)
    frame = check_frame(responses, [task, worker, text, *extra], purpose=f"for {method}")
    n_before = len(frame)
    frame = drop_null_labels(frame, text, method=method)
    tasks = encode_column(frame[task], role="task")
    workers = encode_column(frame[worker], role="worker")
    texts = texts_of(frame[text])
    order = np.argsort(tasks.codes, kind="stable")
    sorted_texts = [texts[k] for k in order]
    data = TextResponses(
        tasks=Encoded(tasks.codes[order], tasks.uniques),
        workers=Encoded(workers.codes[order], workers.uniques),
        texts=sorted_texts,
        order=order,
        n_dropped=n_before - len(frame),
        text_dtype=text_dtype(frame[text]),
    )
    return data, frame
