"""Rectangles and polygons in relative coordinates turned into boolean masks (scanline fill)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError
from .areas import polygon, rectangle, shape_list

__all__ = ["rasterize_shapes"]


def _size(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidArgumentError(f"{name} must be a positive integer (pixels), got {value!r}.")
    return int(value)


def _fill_polygon(mask: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
    """XOR the even-odd fill of one polygon (vertices in pixel units) into ``mask``."""
    height, width = mask.shape
    x0, y0 = xs, ys
    x1, y1 = np.roll(xs, -1), np.roll(ys, -1)
    centres = np.arange(height) + 0.5
    # Edge e crosses the scanline through row r's centres when y is in [min, max) of the edge:
    # half-open, so a vertex on a scanline is counted once and horizontal edges never.
    low, high = np.minimum(y0, y1), np.maximum(y0, y1)
    crosses = (centres[:, None] >= low[None, :]) & (centres[:, None] < high[None, :])
    rows, edges = np.nonzero(crosses)
    if rows.size == 0:
        return
    slope = (x1[edges] - x0[edges]) / (y1[edges] - y0[edges])
    x_cross = x0[edges] + (centres[rows] - y0[edges]) * slope
    # Pixel j (centre j + 0.5) is right of the crossing when j + 0.5 >= x: a crossing flips
    # the parity of every pixel from ceil(x - 0.5) on.
    first = np.clip(np.ceil(x_cross - 0.5), 0, width).astype(np.intp)
    flips = np.zeros((height, width + 1), dtype=np.int32)
    np.add.at(flips, (rows, first), 1)
    mask ^= (np.cumsum(flips, axis=1)[:, :width] & 1).astype(bool)


def _shape_vertices(shape: Mapping[str, Any], where: str) -> tuple[np.ndarray, np.ndarray]:
    kind = shape.get("shape")
    if kind is None:
        kind = "polygon" if "points" in shape else "rectangle" if "width" in shape else None
    if kind == "rectangle":
        box = rectangle(shape, where)
        left, top = box["left"], box["top"]
        right, bottom = left + box["width"], top + box["height"]
        return np.array([left, right, right, left]), np.array([top, top, bottom, bottom])
    if kind == "polygon":
        vertices = polygon(shape, where)["points"]
        return (
            np.array([v["left"] for v in vertices], dtype=np.float64),
            np.array([v["top"] for v in vertices], dtype=np.float64),
        )
    raise InvalidArgumentError(
        f"{where}: only rectangles and polygons have an area to rasterise, got {kind!r}."
    )


def rasterize_shapes(shapes: object, *, width: int, height: int) -> np.ndarray:
    """Rasterise rectangles and polygons into a boolean mask of ``height x width`` pixels.

    Parameters
    ----------
    shapes : list of dict, dict, str or None
        One worker's answer: Toloka shape objects in relative coordinates
        (``{"shape": "polygon", "points": [{"left", "top"}, ...]}``,
        ``{"shape": "rectangle", "left", "top", "width", "height"}``), their
        JSON text, or one value of :func:`parse_areas`' ``polygons`` or
        ``rectangles`` column (objects without ``"shape"``). None or an empty
        list gives an empty mask.
    width, height : int
        The mask's size in pixels: the resolution the segmentation methods
        compare pixels at.

    Returns
    -------
    numpy.ndarray
        ``(height, width)`` bool array; ``mask[i, j]`` is True when the centre
        of pixel ``(i, j)``, the point ``((j + 0.5) / width, (i + 0.5) / height)``
        in relative coordinates, is inside one of the shapes.

    Raises
    ------
    InvalidArgumentError
        If ``width`` or ``height`` is not a positive integer, or a shape is a
        point, unknown or malformed.

    Notes
    -----
    Each polygon is filled by an even-odd scanline fill (a self-intersecting
    polygon has holes where its outline crosses itself an even number of
    times); the mask is the union of the shapes. Edges are half-open: a
    centre exactly on a left or top edge is inside, on a right or bottom edge
    outside, so two shapes sharing an edge never share a pixel, and a
    rectangle covers exactly the pixels whose centres are in
    ``[left, left + width) x [top, top + height)``.

    Examples
    --------
    >>> rasterize_shapes(
    ...     [{"shape": "rectangle", "left": 0.25, "top": 0.0, "width": 0.5, "height": 0.5}],
    ...     width=4, height=2,
    ... ).astype(int)
    array([[0, 1, 1, 0],
           [0, 0, 0, 0]])
    """
    width, height = _size(width, "width"), _size(height, "height")
    mask = np.zeros((height, width), dtype=bool)
    listed = shape_list(shapes, "shapes")
    for position, shape in enumerate(listed or ()):
        xs, ys = _shape_vertices(shape, f"shape {position}")
        layer = np.zeros_like(mask)
        _fill_polygon(layer, xs * width, ys * height)
        mask |= layer
    return mask
