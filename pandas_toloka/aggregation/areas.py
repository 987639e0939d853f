"""Toloka's area-selection output parsed into typed columns: rectangles, polygons and points.

Toloka's image annotation interface (``field.image-annotation``) stores a worker's
answer in a JSON output field as a list of shapes in *relative* coordinates (0..1
of the image width and height, origin at the top left corner)::

    [{"shape": "rectangle", "left": 0.1, "top": 0.2, "width": 0.3, "height": 0.4},
     {"shape": "polygon", "points": [{"left": 0.5, "top": 0.5}, ...]},
     {"shape": "point", "left": 0.7, "top": 0.1, "label": "eye"}]

Each shape may carry a ``label`` (the interface's ``labels`` option).
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import InvalidArgumentError
from ._area_types import BOX_TYPE, POINT_TYPE, POLYGON_TYPE, list_of

__all__ = ["parse_areas"]

_KINDS = ("rectangle", "polygon", "point")
#: Output column of each shape kind.
COLUMNS = {"rectangle": "rectangles", "polygon": "polygons", "point": "points"}


def _where(index: Hashable, position: int) -> str:
    return f"row {index!r}, shape {position}"


def coordinate(shape: Mapping[str, Any], key: str, where: str) -> float:
    """A finite number at ``shape[key]``, as float."""
    value = shape.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(
            f"{where}: {key!r} must be a number (relative coordinate), got {value!r}."
        )
    number = float(value)
    if not math.isfinite(number):
        raise InvalidArgumentError(f"{where}: {key!r} must be finite, got {value!r}.")
    return number


def _label(shape: Mapping[str, Any], where: str) -> str | None:
    label = shape.get("label")
    if label is not None and not isinstance(label, str):
        raise InvalidArgumentError(f"{where}: 'label' must be a string, got {label!r}.")
    return label


def rectangle(shape: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A rectangle's fields, checked: finite numbers, non-negative width and height."""
    box: dict[str, Any] = {
        key: coordinate(shape, key, where) for key in ("left", "top", "width", "height")
    }
    if box["width"] < 0 or box["height"] < 0:
        raise InvalidArgumentError(
            f"{where}: a rectangle's width and height must be >= 0, got "
            f"width={box['width']!r}, height={box['height']!r}."
        )
    box["label"] = _label(shape, where)
    return box


def point(shape: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A point's fields, checked."""
    return {
        "left": coordinate(shape, "left", where),
        "top": coordinate(shape, "top", where),
        "label": _label(shape, where),
    }


def polygon(shape: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A polygon's fields, checked: at least three vertices with finite coordinates."""
    vertices = shape.get("points")
    if not isinstance(vertices, (list, tuple)) or len(vertices) < 3:
        raise InvalidArgumentError(
            f"{where}: a polygon needs 'points', a list of at least 3 vertices "
            f"{{'left': x, 'top': y}}, got {vertices!r}."
        )
    points = []
    for number, vertex in enumerate(vertices):
        if not isinstance(vertex, Mapping):
            raise InvalidArgumentError(
                f"{where}: polygon vertex {number} must be an object {{'left', 'top'}}, "
                f"got {vertex!r}."
            )
        at = f"{where}, vertex {number}"
        points.append(
            {"left": coordinate(vertex, "left", at), "top": coordinate(vertex, "top", at)}
        )
    return {"points": points, "label": _label(shape, where)}


_PARSERS = {"rectangle": rectangle, "polygon": polygon, "point": point}


def shape_list(value: object, index: Hashable) -> list[Mapping[str, Any]] | None:
    """One answer as a list of shape objects (JSON text is parsed); None when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise InvalidArgumentError(
                f"row {index!r}: the value is not valid JSON ({exc}); expected Toloka's "
                "list of shapes."
            ) from exc
        if value is None:
            return None
    if isinstance(value, Mapping):
        value = [value]
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise InvalidArgumentError(
            f"row {index!r}: expected a list of shapes (or its JSON text), "
            f"got {type(value).__name__}."
        )
    for position, shape in enumerate(value):
        if not isinstance(shape, Mapping):
            raise InvalidArgumentError(
                f"{_where(index, position)}: expected an object with a 'shape' key, got {shape!r}."
            )
    return list(value)


def parse_areas(values: pd.Series) -> pd.DataFrame:
    """Parse Toloka area-selection answers into typed columns, one per shape kind.

    Parameters
    ----------
    values : pandas.Series
        One answer per row: the JSON text of a ``JSON`` output field as the
        reader returns it, or the parsed value (a list of shape objects, or one
        shape object). Shapes are ``{"shape": "rectangle", "left", "top",
        "width", "height"}``, ``{"shape": "polygon", "points": [{"left",
        "top"}, ...]}`` and ``{"shape": "point", "left", "top"}``, each with an
        optional ``"label"``; coordinates are relative to the image (0..1).
        Other keys are ignored. Null values (no answer) stay null.

    Returns
    -------
    pandas.DataFrame
        Same index as ``values``, three columns of ``pd.ArrowDtype`` list
        types, each row holding that answer's shapes of the kind in drawing
        order (an empty list when the worker drew none of that kind; null
        where the value was null):

        - ``rectangles``: ``list<struct<left, top, width, height: double, label: string>>``
        - ``polygons``: ``list<struct<points: list<struct<left, top: double>>, label: string>>``
        - ``points``: ``list<struct<left, top: double, label: string>>``

        ``rectangles`` is what :func:`bounding_boxes` takes, ``points`` what
        :func:`points` takes and ``polygons`` what :func:`rasterize_shapes`
        turns into masks for the segmentation methods. The types survive a
        Parquet round trip.

    Raises
    ------
    InvalidArgumentError
        If ``values`` is not a Series, a value is not JSON or not a list of
        shapes, a shape kind is unknown, or a coordinate is missing or not a
        finite number (the message names the row and the shape).

    Examples
    --------
    >>> answers = pd.Series([
    ...     '[{"shape": "rectangle", "left": 0.1, "top": 0.2, "width": 0.3, "height": 0.4}]',
    ...     '[{"shape": "point", "left": 0.5, "top": 0.5, "label": "eye"}]',
    ... ])
    >>> areas = parse_areas(answers)
    >>> areas["rectangles"].list.len().tolist()
    [1, 0]
    >>> list(areas["points"].iloc[1])
    [{'left': 0.5, 'top': 0.5, 'label': 'eye'}]
    """
    if not isinstance(values, pd.Series):
        raise InvalidArgumentError(
            f"values must be a pandas Series of answers, got {type(values).__name__}; "
            "pass one column, e.g. df['result']."
        )
    kinds: dict[str, list[list[dict[str, Any]] | None]] = {kind: [] for kind in _KINDS}
    for index, value in zip(values.index, values.tolist()):
        shapes = shape_list(value, index)
        if shapes is None:
            for kind in _KINDS:
                kinds[kind].append(None)
            continue
        row: dict[str, list[dict[str, Any]]] = {kind: [] for kind in _KINDS}
        for position, shape in enumerate(shapes):
            drawn = shape.get("shape")
            if not isinstance(drawn, str) or drawn not in _PARSERS:
                raise InvalidArgumentError(
                    f"{_where(index, position)}: unknown shape {drawn!r}; Toloka's area "
                    f"selection draws {list(_KINDS)}."
                )
            row[drawn].append(_PARSERS[drawn](shape, _where(index, position)))
        for kind in _KINDS:
            kinds[kind].append(row[kind])
    types = {"rectangle": BOX_TYPE, "polygon": POLYGON_TYPE, "point": POINT_TYPE}
    return pd.DataFrame(
        {
            COLUMNS[kind]: pd.Series(
                pa.array(kinds[kind], type=list_of(types[kind])),
                index=values.index,
                dtype=pd.ArrowDtype(list_of(types[kind])),
            )
            for kind in _KINDS
        },
        index=values.index,
    )
