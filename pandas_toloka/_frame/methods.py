"""The methods ``df.toloka.aggregate_locally`` (and its Dask twin) run, by name."""

from __future__ import annotations

from typing import Literal

from ..aggregation import LOCAL_METHODS, LocalMethod
from ..aggregation._registry import method_names
from ..errors import InvalidArgumentError

__all__ = ["AREA_TYPES", "LOCAL_TYPES", "AreaType", "LocalType", "check_local_type"]

#: Aggregation types that :meth:`~pandas_toloka.accessor.TolokaAccessor.aggregate_locally` runs:
#: the server's three, then the local-only methods of :mod:`pandas_toloka.aggregation`.
#: Area selection (``docs/areas.md``): segmentation masks and bounding boxes.
AREA_TYPES = (*method_names(kind="segmentation"), *method_names(kind="boxes"))
LOCAL_TYPES = (
    "DAWID_SKENE",
    "WEIGHTED_DYNAMIC_OVERLAP",
    "MAJORITY_VOTE",
    *LOCAL_METHODS,
    *AREA_TYPES,
)
AreaType = Literal["SEGMENTATION_MV", "SEGMENTATION_RASA", "SEGMENTATION_EM", "BOXES"]
LocalType = (
    Literal["DAWID_SKENE", "WEIGHTED_DYNAMIC_OVERLAP", "MAJORITY_VOTE"] | LocalMethod | AreaType
)


def check_local_type(type: object) -> str:
    """Validate ``type=`` of local aggregation, returning its upper-case name."""
    kind = getattr(type, "value", type)
    if not isinstance(kind, str) or kind.upper() not in LOCAL_TYPES:
        raise InvalidArgumentError(f"type must be one of {list(LOCAL_TYPES)}, got {type!r}.")
    return kind.upper()
