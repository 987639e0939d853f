"""Arrow types of area-selection values: rectangles, polygons and points in relative coordinates."""

from __future__ import annotations

import pyarrow as pa

__all__ = [
    "BOX_TYPE",
    "FUSED_BOX_TYPE",
    "FUSED_POINT_TYPE",
    "MASK_TYPE",
    "POINT_TYPE",
    "POLYGON_TYPE",
    "list_of",
]


def list_of(value_type: pa.DataType) -> pa.DataType:
    """``list<element: value_type>``: "element" is the name Parquet gives list items, so the
    type reads back unchanged."""
    return pa.list_(pa.field("element", value_type))


_F64 = pa.float64()
_VERTEX = pa.struct([("left", _F64), ("top", _F64)])

#: One rectangle as Toloka stores it (``label`` null when the interface has no labels).
BOX_TYPE = pa.struct(
    [("left", _F64), ("top", _F64), ("width", _F64), ("height", _F64), ("label", pa.string())]
)
#: One polygon: its vertices in drawing order.
POLYGON_TYPE = pa.struct([("points", list_of(_VERTEX)), ("label", pa.string())])
#: One point.
POINT_TYPE = pa.struct([("left", _F64), ("top", _F64), ("label", pa.string())])
#: One aggregated rectangle.
FUSED_BOX_TYPE = pa.struct(
    [("left", _F64), ("top", _F64), ("width", _F64), ("height", _F64), ("confidence", _F64)]
)
#: One aggregated point.
FUSED_POINT_TYPE = pa.struct([("left", _F64), ("top", _F64), ("confidence", _F64)])
#: A segmentation mask: rows of pixels.
MASK_TYPE = list_of(list_of(pa.bool_()))
