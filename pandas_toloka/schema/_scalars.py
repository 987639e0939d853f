"""Which JSON-decoded Python values each output field type takes.

The strict rule both the output spec (``allowed_values``, in :mod:`._fields`) and the
strict decoding of values (:mod:`._values`) apply: integers within int64, no bool for
a number, no number for a bool.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["INT64_MAX", "INT64_MIN", "python_value_ok", "scalar_kind"]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def scalar_kind(field_type: str) -> str:
    """``"int"``, ``"float"``, ``"bool"`` or ``"str"``: the Python kind of a field type's scalars."""
    base = field_type[len("ARRAY_") :] if field_type.startswith("ARRAY_") else field_type
    return {"INTEGER": "int", "FLOAT": "float", "BOOLEAN": "bool"}.get(base, "str")


def _python_scalar_ok(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "int":
        if isinstance(value, float):
            return math.isfinite(value) and value.is_integer() and INT64_MIN <= value <= INT64_MAX
        return isinstance(value, int) and INT64_MIN <= value <= INT64_MAX
    return isinstance(value, (int, float))


def python_value_ok(value: Any, field_type: str) -> bool:
    """Whether a JSON-decoded ``value`` is one a field of ``field_type`` takes (None always is)."""
    if value is None or field_type == "JSON":
        return True
    if field_type == "ARRAY_JSON":
        return isinstance(value, list)
    kind = scalar_kind(field_type)
    if field_type.startswith("ARRAY_"):
        return isinstance(value, list) and all(
            v is None or _python_scalar_ok(v, kind) for v in value
        )
    return _python_scalar_ok(value, kind)
