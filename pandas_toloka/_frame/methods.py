"""The methods ``df.toloka.aggregate_locally`` (and its Dask twin) run, by name."""

from __future__ import annotations

from ..aggregation._methods import MethodName
from ..aggregation._registry import method_names
from ..errors import InvalidArgumentError

__all__ = ["LOCAL_TYPES", "LocalType", "check_local_type"]

#: Aggregation types that :meth:`~pandas_toloka.accessor.TolokaAccessor.aggregate_locally` runs:
#: every registered method (the server's three, the local-only categorical methods, then
#: the text and embedding methods).
LOCAL_TYPES = method_names()
LocalType = MethodName


def check_local_type(type: object) -> str:
    """Validate ``type=`` of local aggregation, returning its upper-case name."""
    kind = getattr(type, "value", type)
    if not isinstance(kind, str) or kind.upper() not in LOCAL_TYPES:
        raise InvalidArgumentError(f"type must be one of {list(LOCAL_TYPES)}, got {type!r}.")
    return kind.upper()
