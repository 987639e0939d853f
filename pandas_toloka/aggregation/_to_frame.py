"""Every method's aggregating function made once from its fit: ``X(...) = fit_X(...).to_frame()``.

A method module defines ``fit_X`` (the work, returning an
:class:`~pandas_toloka.aggregation.AggregationModel`) and then
``X = frame_function(fit_X, name="X", doc=...)``: the same parameters (one
signature, checked by mypy through :class:`typing.ParamSpec` and shown by
:func:`inspect.signature`), the result frame instead of the model, and the
user-facing docstring written once, in the method's module.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec

if TYPE_CHECKING:
    import pandas as pd

    from ._model import AggregationModel

__all__ = ["frame_function"]

P = ParamSpec("P")


def frame_function(
    fit: Callable[P, AggregationModel], *, name: str, doc: str
) -> Callable[P, pd.DataFrame]:
    """The function returning ``fit(...).to_frame()``, named ``name`` in ``fit``'s module.

    Parameters
    ----------
    fit : callable
        The method's ``fit_X``; its parameters become the new function's.
    name : str
        The new function's ``__name__`` (e.g. ``"glad"``).
    doc : str
        Its numpydoc docstring (the one users read: ``Returns`` the frame).

    Returns
    -------
    callable
        A plain function (``inspect.isfunction`` is true) whose ``__signature__``
        is ``fit``'s with ``pd.DataFrame`` as return annotation, whose
        ``__module__`` is ``fit``'s, and whose ``__wrapped__`` is ``fit``.
    """

    def aggregate(*args: P.args, **kwargs: P.kwargs) -> pd.DataFrame:
        return fit(*args, **kwargs).to_frame()

    signature = inspect.signature(fit).replace(return_annotation="pd.DataFrame")
    aggregate.__name__ = name
    aggregate.__qualname__ = name
    aggregate.__module__ = fit.__module__
    aggregate.__doc__ = inspect.cleandoc(doc)
    aggregate.__annotations__ = {**getattr(fit, "__annotations__", {}), "return": "pd.DataFrame"}
    aggregate.__signature__ = signature  # type: ignore[attr-defined]
    aggregate.__wrapped__ = fit  # type: ignore[attr-defined]
    return aggregate
