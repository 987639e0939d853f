"""RASA and HRRASA on texts with the user's embeddings: the chosen text per task."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping
from typing import Literal

import pandas as pd

from ._to_frame import frame_function
from .embeddings import EmbeddingModel, Similarity, fit_hrrasa, fit_rasa

__all__ = ["fit_text_hrrasa", "fit_text_rasa", "text_hrrasa", "text_rasa"]


def fit_text_rasa(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    text: Hashable = "text",
    embedding: Hashable = "embedding",
    golden: Mapping[object, object] | pd.Series | None = None,
    n_iter: int = 100,
    tol: float = 1e-5,
    alpha: float = 0.05,
) -> EmbeddingModel:
    """Fit RASA on texts; see :func:`text_rasa`.

    Returns
    -------
    EmbeddingModel
        Its :meth:`~EmbeddingModel.to_frame` has the text, not the embedding.
    """
    model = fit_rasa(
        responses,
        task=task,
        worker=worker,
        output=text,
        embedding=embedding,
        golden=golden,
        n_iter=n_iter,
        tol=tol,
        alpha=alpha,
    )
    return dataclasses.replace(model, method="TEXT_RASA", with_embedding=False)


text_rasa = frame_function(
    fit_text_rasa,
    name="text_rasa",
    doc="""Aggregate texts with RASA over embeddings of the texts you provide.

    :func:`rasa` with the text as the output: crowd-kit's ``TextRASA``
    without its encoder (compute the embeddings with any sentence encoder and
    pass them as a column). The default ``tol`` is ``TextRASA``'s.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response, with the text and its embedding. Responses with
        a missing text or embedding are dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning`.
    task, worker, text, embedding : hashable
        Column names (default ``"task_id"``, ``"worker_id"``, ``"text"``,
        ``"embedding"``).
    golden : mapping or Series, optional
        Task id -> embedding of the true text.
    n_iter, tol, alpha
        As in :func:`rasa` (``tol`` default 1e-5).

    Returns
    -------
    pandas.DataFrame
        One row per task, sorted by task: ``task``, ``text`` (the chosen
        response's, input dtype), ``confidence`` (float64: cosine similarity
        of its embedding with the aggregated one), ``golden`` with ``golden=``.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t1"],
    ...                    "worker_id": ["a", "b", "c"],
    ...                    "text": ["a cat", "a cat", "a dog"],
    ...                    "embedding": [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]})
    >>> text_rasa(df)["text"].tolist()
    ['a cat']
    """,
)


def fit_text_hrrasa(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    text: Hashable = "text",
    embedding: Hashable = "embedding",
    golden: Mapping[object, object] | pd.Series | None = None,
    n_iter: int = 100,
    tol: float = 1e-5,
    lambda_emb: float = 0.5,
    lambda_out: float = 0.5,
    alpha: float = 0.05,
    similarity: Literal["gleu"] | Similarity = "gleu",
) -> EmbeddingModel:
    """Fit HRRASA on texts; see :func:`text_hrrasa`.

    Returns
    -------
    EmbeddingModel
        Its :meth:`~EmbeddingModel.to_frame` has the text, not the embedding.
    """
    model = fit_hrrasa(
        responses,
        task=task,
        worker=worker,
        output=text,
        embedding=embedding,
        golden=golden,
        n_iter=n_iter,
        tol=tol,
        lambda_emb=lambda_emb,
        lambda_out=lambda_out,
        alpha=alpha,
        similarity=similarity,
    )
    return dataclasses.replace(model, method="TEXT_HRRASA", with_embedding=False)


text_hrrasa = frame_function(
    fit_text_hrrasa,
    name="text_hrrasa",
    doc="""Aggregate texts with HRRASA over embeddings of the texts you provide.

    :func:`hrrasa` with the text as the output (its GLEU similarity compares
    the texts' words): crowd-kit's ``TextHRRASA`` without its encoder. The
    default ``tol`` is ``TextHRRASA``'s.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response, with the text and its embedding; see
        :func:`text_rasa`.
    task, worker, text, embedding : hashable
        Column names (default ``"task_id"``, ``"worker_id"``, ``"text"``,
        ``"embedding"``).
    golden : mapping or Series, optional
        Task id -> embedding of the true text.
    n_iter, tol, lambda_emb, lambda_out, alpha, similarity
        As in :func:`hrrasa` (``tol`` default 1e-5).

    Returns
    -------
    pandas.DataFrame
        As :func:`text_rasa`.

    Examples
    --------
    >>> df = pd.DataFrame({"task_id": ["t1", "t1", "t1"],
    ...                    "worker_id": ["a", "b", "c"],
    ...                    "text": ["a cat", "a cat", "a dog"],
    ...                    "embedding": [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]})
    >>> text_hrrasa(df)["text"].tolist()
    ['a cat']
    """,
)
