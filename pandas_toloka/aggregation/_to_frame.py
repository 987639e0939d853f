"""Every method's aggregating function made once from its fit: ``X(...) = fit_X(...).to_frame()``.

A method module defines ``fit_X`` (the work, returning a model: an
:class:`~pandas_toloka.aggregation.AggregationModel`, a ``RankingModel``, an
``EmbeddingModel``... anything with a ``to_frame()``) and then
``X = frame_function(fit_X, name="X", doc=...)``: the same parameters (one
signature, checked by mypy through :class:`typing.ParamSpec` and shown by
:func:`inspect.signature`), the result frame instead of the model, and the
user-facing docstring written once, in the method's module. A family whose
docstrings share paragraphs passes them as ``parts=`` and writes ``{name}``
where each goes (the pairwise methods: ``{bootstrap}``, ``{returns}``...).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ParamSpec, Protocol

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FramedModel", "fill_parts", "frame_function"]

P = ParamSpec("P")


class FramedModel(Protocol):
    """A fitted model whose result frame is ``to_frame()`` (every ``fit_*``'s return type)."""

    def to_frame(self) -> pd.DataFrame:
        """The method's result, one row per task (or per item)."""
        ...


def fill_parts(doc: str, parts: Mapping[str, str]) -> str:
    """``doc`` with each ``{name}`` of ``parts`` replaced by its text; other braces stay.

    A part's text starts where its placeholder stands and indents its further
    lines as the raw docstring around it does (four spaces more for a
    description), so fill before :func:`inspect.cleandoc`.
    """
    for name, text in parts.items():
        doc = doc.replace("{" + name + "}", text)
    return doc


def frame_function(
    fit: Callable[P, FramedModel],
    *,
    name: str,
    doc: str,
    parts: Mapping[str, str] | None = None,
) -> Callable[P, pd.DataFrame]:
    """The function returning ``fit(...).to_frame()``, named ``name`` in ``fit``'s module.

    Parameters
    ----------
    fit : callable
        The method's ``fit_X``; its parameters become the new function's.
    name : str
        The new function's ``__name__`` (e.g. ``"glad"``).
    doc : str
        Its numpydoc docstring (the one users read: ``Returns`` the frame), as
        written in source (indented); :func:`inspect.cleandoc` is applied.
    parts : mapping of str to str, optional
        Shared docstring paragraphs: each ``{name}`` in ``doc`` is replaced by
        its text (:func:`fill_parts`) before cleaning.

    Returns
    -------
    callable
        A plain function (``inspect.isfunction`` is true) whose ``__signature__``
        is ``fit``'s with ``pd.DataFrame`` as return annotation, whose
        ``__module__`` is ``fit``'s, and whose ``__wrapped__`` is ``fit``. A call
        whose arguments do not fit the signature raises :class:`TypeError`
        naming ``name`` (not ``fit``), before any work.
    """
    signature = inspect.signature(fit).replace(return_annotation="pd.DataFrame")

    def aggregate(*args: P.args, **kwargs: P.kwargs) -> pd.DataFrame:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{name}() {exc}") from None
        return fit(*args, **kwargs).to_frame()

    aggregate.__name__ = name
    aggregate.__qualname__ = name
    aggregate.__module__ = fit.__module__
    aggregate.__doc__ = inspect.cleandoc(fill_parts(doc, parts or {}))
    aggregate.__annotations__ = {**getattr(fit, "__annotations__", {}), "return": "pd.DataFrame"}
    aggregate.__signature__ = signature  # type: ignore[attr-defined]
    aggregate.__wrapped__ = fit  # type: ignore[attr-defined]
    return aggregate
