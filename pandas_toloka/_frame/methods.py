"""The methods ``df.toloka.aggregate_locally`` (and its Dask twin) run, by name: the registry's."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any, TypeVar

from ..aggregation._methods import MethodName
from ..aggregation._registry import METHODS, get_method, method_names
from ..errors import InvalidArgumentError

__all__ = [
    "AREA_TYPES",
    "area_type",
    "LOCAL_KINDS",
    "LOCAL_TYPES",
    "METHODS_MARKER",
    "LocalType",
    "check_local_type",
    "document_methods",
    "method_list",
]

F = TypeVar("F", bound=Callable[..., Any])

#: ``type=`` of :meth:`~pandas_toloka.accessor.TolokaAccessor.aggregate_locally` for type
#: checkers: every method of the registry (:mod:`pandas_toloka.aggregation._registry`).
LocalType = MethodName

#: The families ``aggregate_locally`` feeds (one label, several fields weighted by skill, texts
#: and embeddings; the pairwise rankings go through ``rank``).
LOCAL_KINDS = ("categorical", "skill_weighted", "text", "embedding")

#: Aggregation types that :meth:`~pandas_toloka.accessor.TolokaAccessor.aggregate_locally` runs:
#: the server's two, majority vote, then the local-only methods (the registry's order).
LOCAL_TYPES = tuple(name for name in method_names() if METHODS[name].kind in LOCAL_KINDS)

#: Area selection (``docs/areas.md``): segmentation masks and bounding boxes, which
#: ``aggregate_locally`` runs on a JSON field's shapes (:mod:`._frame.areas`).
AREA_TYPES = (*method_names(kind="segmentation"), *method_names(kind="boxes"))


def area_type(type: object) -> str | None:
    """The upper-case name when ``type`` names an area method (:data:`AREA_TYPES`), else None."""
    name = getattr(type, "value", type)
    if isinstance(name, str) and name.upper() in AREA_TYPES:
        return name.upper()
    return None


def check_local_type(type: object) -> str:
    """Validate ``type=`` of local aggregation (any registered method, case-insensitive, or an
    ``AggregationType``), returning its upper-case name."""
    kind = getattr(type, "value", type)
    row = get_method(kind, what="type", among=tuple(METHODS))
    if row.kind not in LOCAL_KINDS:
        raise InvalidArgumentError(
            f"type={row.name!r} is a {row.kind} method, which aggregate_locally does not run; "
            f"call pandas_toloka.aggregation.{row.function.__name__} on the frame."
        )
    return row.name


#: The marker a docstring puts where the list of methods goes (:func:`document_methods`).
METHODS_MARKER = "%(methods)s"


def method_list(names: tuple[str, ...] | None = None) -> str:
    """``'A', 'B', ... or 'Z'``: the methods (default: every registered one) in prose,
    binary-only ones marked."""
    names = method_names() if names is None else names
    quoted = [f"'{n}'" + (" (binary only)" if METHODS[n].binary_only else "") for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def document_methods(function: F) -> F:
    """Write the registry's method list into ``function``'s docstring at :data:`METHODS_MARKER`,
    wrapped at the marker's indentation."""
    doc = function.__doc__ or ""
    for line in doc.splitlines():
        if METHODS_MARKER in line:
            indent = " " * (len(line) - len(line.lstrip()))
            text = line.strip().replace(METHODS_MARKER, method_list())
            wrapped = textwrap.fill(text, width=88, initial_indent=indent, subsequent_indent=indent)
            doc = doc.replace(line, wrapped)
    function.__doc__ = doc
    return function
