"""The methods ``df.toloka.aggregate_locally`` (and its Dask twin) run, by name."""

from __future__ import annotations

from typing import Literal

from ..aggregation import LOCAL_METHODS, LocalMethod
from ..errors import InvalidArgumentError

__all__ = ["LOCAL_TYPES", "LocalType", "check_local_type"]

#: Aggregation types that :meth:`~pandas_toloka.accessor.TolokaAccessor.aggregate_locally` runs:
#: the server's three, then the local-only methods of :mod:`pandas_toloka.aggregation`.
LOCAL_TYPES = ("DAWID_SKENE", "WEIGHTED_DYNAMIC_OVERLAP", "MAJORITY_VOTE", *LOCAL_METHODS)
LocalType = Literal["DAWID_SKENE", "WEIGHTED_DYNAMIC_OVERLAP", "MAJORITY_VOTE"] | LocalMethod


def check_local_type(type: object) -> str:
    """Validate ``type=`` of local aggregation, returning its upper-case name."""
    kind = getattr(type, "value", type)
    if not isinstance(kind, str) or kind.upper() not in LOCAL_TYPES:
        raise InvalidArgumentError(f"type must be one of {list(LOCAL_TYPES)}, got {type!r}.")
    return kind.upper()
