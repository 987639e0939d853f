"""Facts of the Toloka wire protocol that the client side and the bundled server share.

Neither side imports the other; both import this module, so the API prefix,
the page-size limits, the algorithm names and the datetime format are written
down once. Facts of the wire only: the client's own defaults (page sizes it
asks for, attempts, timeouts) are in :mod:`pandas_toloka._config`.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import math
import re
from typing import Any, Literal

from .errors import InvalidArgumentError

__all__ = [
    "API_PREFIX",
    "ASSIGNMENT_STATUSES",
    "DEFAULT_LIMIT",
    "EXPORT_ASSIGNMENT_FIELDS",
    "EXPORT_DEFAULT_FIELDS",
    "EXPORT_PATH",
    "EXPORT_STATUSES",
    "MAX_PAGE_SIZE",
    "AggregationType",
    "InvalidJSON",
    "decode_json_prefix",
    "format_datetime",
    "loads_json",
    "parse_datetime",
]

#: Path prefix of every endpoint.
API_PREFIX = "/api/v1"
#: ``limit`` of list endpoints when the request gives none (the wire's default; what
#: the client asks for is its own choice, in :mod:`pandas_toloka._config`).
DEFAULT_LIMIT = 50
#: Largest ``limit`` a list endpoint accepts.
MAX_PAGE_SIZE = 100_000

#: An assignment's ``status`` in the API.
ASSIGNMENT_STATUSES = ("ACTIVE", "SUBMITTED", "ACCEPTED", "REJECTED", "SKIPPED", "EXPIRED")
#: The API's status -> how the results export (and the web interface) spells it.
EXPORT_STATUSES: dict[str, str] = {
    "ACTIVE": "ACTIVE",
    "SUBMITTED": "SUBMITTED",
    "ACCEPTED": "APPROVED",
    "REJECTED": "REJECTED",
    "SKIPPED": "SKIPPED",
    "EXPIRED": "EXPIRED",
}
#: The results export of a pool (outside :data:`API_PREFIX`), a TSV.
EXPORT_PATH = "/new/requester/pools/{pool_id}/assignments.tsv"
#: Every ``ASSIGNMENT:`` column of the results export, in its order: the names its
#: ``field`` parameter (comma-separated) chooses from. The ``INPUT:``, ``OUTPUT:``,
#: ``GOLDEN:``, ``HINT:`` and ``ACCEPT:`` columns are always downloaded.
EXPORT_ASSIGNMENT_FIELDS = (
    "ASSIGNMENT:link",
    "ASSIGNMENT:assignment_id",
    "ASSIGNMENT:task_id",
    "ASSIGNMENT:task_suite_id",
    "ASSIGNMENT:worker_id",
    "ASSIGNMENT:status",
    "ASSIGNMENT:started",
    "ASSIGNMENT:submitted",
    "ASSIGNMENT:accepted",
    "ASSIGNMENT:rejected",
    "ASSIGNMENT:skipped",
    "ASSIGNMENT:expired",
    "ASSIGNMENT:reward",
)
#: The ``ASSIGNMENT:`` columns of a download that names no ``field`` (no ``task_id``).
EXPORT_DEFAULT_FIELDS = (
    "ASSIGNMENT:link",
    "ASSIGNMENT:assignment_id",
    "ASSIGNMENT:worker_id",
    "ASSIGNMENT:status",
    "ASSIGNMENT:started",
)


#: The algorithms of ``aggregate-by-pool`` by name, for type checkers.
AggregationTypeName = Literal["DAWID_SKENE", "WEIGHTED_DYNAMIC_OVERLAP"]


class AggregationType(str, enum.Enum):
    """Aggregation algorithms of the Toloka API."""

    DAWID_SKENE = "DAWID_SKENE"
    WEIGHTED_DYNAMIC_OVERLAP = "WEIGHTED_DYNAMIC_OVERLAP"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: str | AggregationType) -> AggregationType:
        """Accept a member or its name in any case, else raise InvalidArgumentError."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and value.strip().upper() in cls.__members__:
            return cls[value.strip().upper()]
        raise InvalidArgumentError(
            f"Unknown aggregation type {value!r}; use one of {[m.value for m in cls]}."
        )


_FRACTION = re.compile(r"\.(\d{1,9})")


def format_datetime(value: _dt.datetime) -> str:
    """Format as Toloka does: UTC ISO-8601, no zone suffix, millisecond fraction.

    A naive datetime is taken to be UTC already.
    """
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds")


def parse_datetime(text: str) -> _dt.datetime:
    """Parse a Toloka datetime into an aware UTC datetime.

    Toloka sends UTC without a zone suffix and a fraction of 0–6 digits; a
    zone suffix (``Z`` or an offset), when present, is honoured.

    Raises
    ------
    ValueError
        If ``text`` is not an ISO-8601 datetime.
    """
    # Python 3.10's fromisoformat takes only 3 or 6 fraction digits: pad to 6.
    text = _FRACTION.sub(lambda m: "." + m.group(1).ljust(6, "0")[:6], text.strip(), count=1)
    value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


# --- JSON: the wire is strict JSON (RFC 8259) ----------------------------------------


class InvalidJSON(ValueError):
    """A text that is not strict JSON: NaN or Infinity, nested too deep, or malformed."""


def _refuse_constant(name: str) -> Any:
    raise InvalidJSON(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: a number too large for a float
        raise InvalidJSON(f"the number {text[:20]} is too large for a float")
    return value


_STRICT = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)
_CONTROL = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_finite_float, strict=False
)


def loads_json(text: str | bytes | bytearray, *, control_characters: bool = False) -> Any:
    """Parse strict JSON: ``json.loads`` refusing NaN and Infinity, its depth bounded.

    The wire is RFC 8259 JSON, which has no ``NaN``, ``Infinity`` or
    ``-Infinity`` (Python's :mod:`json` accepts them, and reads ``1e400`` as
    infinity: refused too, so every float read is finite); nesting deeper than the
    interpreter's recursion limit (about 1,000 levels; no answer of the API
    comes near) is refused instead of raising a bare :class:`RecursionError`.
    ``control_characters`` lets raw control characters (tabs) stand inside
    strings, as ``json.loads(strict=False)`` does (cells of the results export).

    Raises
    ------
    InvalidJSON
        A :class:`ValueError`, for every text that is not strict JSON.
    """
    if not isinstance(text, str):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidJSON(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    value, end = decode_json_prefix(
        text, _skip_space(text, 0), control_characters=control_characters
    )
    if _skip_space(text, end) != len(text):
        raise InvalidJSON(f"extra data at position {end}")
    return value


def decode_json_prefix(
    text: str, index: int, *, control_characters: bool = False
) -> tuple[Any, int]:
    """The strict JSON value starting at ``text[index]`` and the index after it (raw_decode).

    Raises
    ------
    InvalidJSON
        As :func:`loads_json`.
    """
    try:
        return (_CONTROL if control_characters else _STRICT).raw_decode(text, index)
    except InvalidJSON:
        raise
    except RecursionError:
        raise InvalidJSON("nested too deep to be an answer of the API") from None
    except ValueError as exc:
        raise InvalidJSON(str(exc)) from None


_SPACE = re.compile(r"[ \t\n\r]*")


def _skip_space(text: str, index: int) -> int:
    match = _SPACE.match(text, index)
    return index if match is None else match.end()
