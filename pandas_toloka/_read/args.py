"""Checks of the public functions' arguments, in one place.

Every public reader, the accessor and local aggregation check what they are
given here, before any request is sent, so that the same mistake gets the
same :class:`~pandas_toloka.errors.InvalidArgumentError` wherever it is made.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._protocol import MAX_PAGE_SIZE, AggregationType, AggregationTypeName
from ..aggregation import LOCAL_METHODS, LocalMethod
from ..errors import InvalidArgumentError
from ..schema import DtypeBackend, OutputField, default_aggregation_fields

if TYPE_CHECKING:
    from ..client import Client

__all__ = [
    "ClientSettings",
    "AggregationTypeName",
    "DtypeBackend",
    "Strategy",
    "LOCAL_TYPES",
    "LocalType",
    "check_aggregation_fields",
    "check_seconds",
    "check_local_type",
    "check_credentials",
    "check_page_size",
    "check_progress_bar",
    "check_statuses",
    "check_wait_timeout",
    "client_scope",
    "field_names",
    "id_text",
    "resolve_fields",
]

#: ``strategy=`` of :meth:`pandas_toloka.accessor.TolokaAccessor.aggregate`.
Strategy = Literal["auto", "by_task", "by_pool"]

#: Aggregation types that :meth:`~pandas_toloka.accessor.TolokaAccessor.aggregate_locally` runs:
#: the server's three, then the local-only methods of :mod:`pandas_toloka.aggregation`.
LOCAL_TYPES = ("DAWID_SKENE", "WEIGHTED_DYNAMIC_OVERLAP", "MAJORITY_VOTE", *LOCAL_METHODS)
LocalType = Literal["DAWID_SKENE", "WEIGHTED_DYNAMIC_OVERLAP", "MAJORITY_VOTE"] | LocalMethod

#: Assignment statuses of the Toloka API.
STATUSES = ("ACTIVE", "SUBMITTED", "ACCEPTED", "REJECTED", "SKIPPED", "EXPIRED")


def id_text(value: object, *, name: str) -> str:
    """An id argument (``pool_id``, ``operation_id``, ...) as the text sent to the API.

    Accepts ``str`` and ``int`` (not ``bool``); rejects empty or blank text.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidArgumentError(f"{name} must be a str or an int, got {value!r}.")
    text = str(value)
    if not text.strip():
        raise InvalidArgumentError(f"{name} is empty; pass the id shown in Toloka.")
    return text


def field_names(fields: object) -> list[str] | None:
    """``fields=`` as a list of distinct output field names, or None for "choose for me"."""
    if fields is None:
        return None
    if isinstance(fields, str):
        names: list[Any] = [fields]
    elif isinstance(fields, Sequence) or (
        hasattr(fields, "__iter__") and not isinstance(fields, (bytes, dict))
    ):
        names = list(fields)
    else:
        raise InvalidArgumentError(
            f"fields must be an output field name or a list of names, got {fields!r}."
        )
    if not names:
        raise InvalidArgumentError("fields is empty; pass a field name, a list of names, or None.")
    if not all(isinstance(name, str) and name for name in names):
        raise InvalidArgumentError(f"fields must be output field names (str), got {names!r}.")
    if len(set(names)) != len(names):
        raise InvalidArgumentError(f"fields has duplicates: {names!r}.")
    return names


def check_aggregation_fields(
    kind: AggregationType | str, names: list[str] | None, skill: str | None
) -> None:
    """The rules an algorithm puts on ``fields=`` and ``answer_weight_skill_id=``."""
    kind = str(getattr(kind, "value", kind))
    if kind == "DAWID_SKENE" and names is not None and len(names) != 1:
        raise InvalidArgumentError(
            f"DAWID_SKENE aggregates exactly one field, got {names!r}; read the fields one at a "
            "time, or use type='WEIGHTED_DYNAMIC_OVERLAP' with answer_weight_skill_id."
        )
    if kind == "WEIGHTED_DYNAMIC_OVERLAP" and not skill:
        raise InvalidArgumentError(
            "WEIGHTED_DYNAMIC_OVERLAP weighs each answer by a skill: pass answer_weight_skill_id= "
            "(the pool's dynamic overlap skill), or use type='DAWID_SKENE'."
        )


def resolve_fields(
    spec: dict[str, OutputField], names: list[str] | None, pool_id: str
) -> list[OutputField]:
    """The output fields to aggregate, checked against the project's output spec."""
    aggregatable = [f.name for f in spec.values() if f.is_aggregatable]
    if names is None:
        candidates = default_aggregation_fields(spec)
        if len(candidates) == 1:
            return candidates
        if not candidates:
            raise InvalidArgumentError(
                f"Pool {pool_id!r} has no output field that can be aggregated (its fields: "
                f"{[f'{f.name} ({f.type})' for f in spec.values()]})."
            )
        raise InvalidArgumentError(
            f"Pool {pool_id!r} has several fields that can be aggregated: "
            f"{[f.name for f in candidates]}; choose with fields=..."
        )
    out = []
    for name in names:
        if name not in spec:
            raise InvalidArgumentError(
                f"Pool {pool_id!r} has no output field {name!r}; its fields are {list(spec)}."
            )
        if not spec[name].is_aggregatable:
            raise InvalidArgumentError(
                f"Output field {name!r} of pool {pool_id!r} has type {spec[name].type}, which "
                f"cannot be aggregated; fields that can: {aggregatable}."
            )
        out.append(spec[name])
    return out


def check_local_type(type: object) -> str:
    """Validate ``type=`` of local aggregation, returning its upper-case name."""
    kind = getattr(type, "value", type)
    if not isinstance(kind, str) or kind.upper() not in LOCAL_TYPES:
        raise InvalidArgumentError(f"type must be one of {list(LOCAL_TYPES)}, got {type!r}.")
    return kind.upper()


def check_page_size(page_size: object) -> int:
    """Validate ``page_size`` (1 to 100,000)."""
    if (
        isinstance(page_size, bool)
        or not isinstance(page_size, int)
        or not 1 <= page_size <= MAX_PAGE_SIZE
    ):
        raise InvalidArgumentError(
            f"page_size must be an int from 1 to {MAX_PAGE_SIZE}, got {page_size!r}."
        )
    return page_size


def check_wait_timeout(wait_timeout: object) -> float | None:
    """Validate ``wait_timeout``: positive seconds, or None to wait for ever."""
    if wait_timeout is None:
        return None
    if (
        isinstance(wait_timeout, bool)
        or not isinstance(wait_timeout, (int, float))
        or not wait_timeout > 0
        or math.isnan(wait_timeout)
    ):
        raise InvalidArgumentError(
            f"wait_timeout must be positive seconds or None, got {wait_timeout!r}."
        )
    return float(wait_timeout)


def check_seconds(
    value: object,
    *,
    name: str,
    minimum: float = 0.0,
    inclusive: bool = True,
    infinite: bool = False,
) -> float:
    """A number of seconds (not a bool) at least ``minimum`` (or above it); finite unless ``infinite``."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and not math.isnan(value)
        and (infinite or math.isfinite(value))
        and (value >= minimum if inclusive else value > minimum)
    )
    if not ok:
        bound = f"at least {minimum:g}" if inclusive else f"more than {minimum:g}"
        raise InvalidArgumentError(f"{name} must be a number of seconds {bound}, got {value!r}.")
    return float(value)  # type: ignore[arg-type]


def _check_count(value: object, *, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgumentError(f"{name} must be an int from {low} to {high}, got {value!r}.")
    return value


#: The shortest first interval between polls of an operation: a smaller one floods the server.
MIN_POLL_INTERVAL = 0.01


@dataclass(frozen=True, kw_only=True)
class ClientSettings:
    """The settings of :class:`~pandas_toloka.Client` (its docstring says what each means), checked.

    One object instead of the settings spelled out again at every layer: the
    client builds it from its keyword arguments, the transport reads it.
    ``timeout`` is kept as requests takes it (seconds, or a connect/read pair).

    Raises
    ------
    InvalidArgumentError
        For a setting of the wrong type or out of range.
    """

    timeout: float | tuple[float, float]
    max_attempts: int
    backoff_base: float
    backoff_max: float
    rate_limit_wait: float
    max_wait: float
    pool_size: int
    poll_min: float
    poll_max: float

    def __post_init__(self) -> None:
        timeout: object = self.timeout
        if isinstance(timeout, tuple) and len(timeout) == 2:
            checked: float | tuple[float, float] = (
                check_seconds(timeout[0], name="timeout[0] (connect)", inclusive=False),
                check_seconds(timeout[1], name="timeout[1] (read)", inclusive=False),
            )
        elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
            checked = check_seconds(timeout, name="timeout", inclusive=False)
        else:
            raise InvalidArgumentError(
                f"timeout must be seconds or a (connect, read) pair of seconds, got {timeout!r}."
            )
        object.__setattr__(self, "timeout", checked)
        _check_count(self.max_attempts, name="max_attempts", low=1, high=100)
        base = check_seconds(self.backoff_base, name="backoff_base")
        cap = check_seconds(self.backoff_max, name="backoff_max")
        if cap < base:
            raise InvalidArgumentError(
                f"backoff_max ({cap:g} s) must not be shorter than backoff_base ({base:g} s)."
            )
        check_seconds(self.rate_limit_wait, name="rate_limit_wait")
        check_seconds(self.max_wait, name="max_wait", infinite=True)  # inf: any Retry-After
        _check_count(self.pool_size, name="pool_size", low=1, high=1024)
        low = check_seconds(self.poll_min, name="poll_min", minimum=MIN_POLL_INTERVAL)
        high = check_seconds(self.poll_max, name="poll_max", minimum=MIN_POLL_INTERVAL)
        if high < low:
            raise InvalidArgumentError(
                f"poll_max ({high:g} s) must not be shorter than poll_min ({low:g} s)."
            )


def check_progress_bar(progress_bar: object) -> bool | None:
    """``progress_bar=``: True, False or None (automatic)."""
    if progress_bar is not None and not isinstance(progress_bar, bool):
        raise InvalidArgumentError(
            f"progress_bar must be True, False or None (automatic), got {progress_bar!r}."
        )
    return progress_bar


def check_statuses(status: object) -> tuple[str, ...] | None:
    """``status=`` as a tuple of assignment statuses, or None for every status."""
    if status is None:
        return None
    if isinstance(status, str):
        wanted: tuple[Any, ...] = (status,)
    elif isinstance(status, (list, tuple, set, frozenset)):
        wanted = tuple(status)
    else:
        wanted = (status,)
    bad = [s for s in wanted if not isinstance(s, str) or s not in STATUSES]
    if bad or not wanted:
        raise InvalidArgumentError(
            f"status must be one of {list(STATUSES)}, a list of them, or None for all; "
            f"got {status!r}."
        )
    return wanted


def check_credentials(client: object, *, token: object, environment: object, url: object) -> None:
    """The rule shared by every public function: ``client=`` or credentials, not both."""
    from ..client import Client

    if client is None:
        return
    if not isinstance(client, Client):
        raise InvalidArgumentError(
            f"client must be a pandas_toloka.Client, got {type(client).__name__}; pass the token "
            "with token= instead."
        )
    if token is not None or environment is not None or url is not None:
        raise InvalidArgumentError(
            "Pass either client= or token=/environment=/url=, not both: the client already "
            "holds its token and URL."
        )


def check_connection(client: object, *, token: object, environment: object, url: object) -> None:
    """:func:`check_credentials`, and without ``client=`` the token and URL a client would take.

    Eager: the same checks :class:`~pandas_toloka.client.Client` makes, without
    opening a connection (for the lazy iterators, which build it later).
    """
    from .._http.auth import resolve_base_url, resolve_token

    check_credentials(client, token=token, environment=environment, url=url)
    if client is None:
        resolve_token(token)  # type: ignore[arg-type]
        resolve_base_url(environment, url)  # type: ignore[arg-type]


def check_aggregation_request(
    pool_id: object,
    *,
    type: object,
    fields: object,
    answer_weight_skill_id: object,
    operation_id: object,
) -> tuple[str | None, AggregationType | None, list[str] | None, str | None, str | None]:
    """The arguments naming an aggregation to start or resume, checked and normalised.

    Returns ``(pool, type, field names, skill, operation id)``; ``type`` is
    None when not given. Without ``operation_id`` a pool is required and the
    algorithm's rules on fields and skill apply (:func:`check_aggregation_fields`).
    """
    names = field_names(fields)
    kind = AggregationType.parse(type) if type is not None else None  # type: ignore[arg-type]
    skill = (
        None
        if answer_weight_skill_id is None
        else id_text(answer_weight_skill_id, name="answer_weight_skill_id")
    )
    pool = None if pool_id is None else id_text(pool_id, name="pool_id")
    operation = None if operation_id is None else id_text(operation_id, name="operation_id")
    if operation is None:
        if pool is None:
            raise InvalidArgumentError(
                "Pass a pool_id (or operation_id= to read a started aggregation)."
            )
        check_aggregation_fields(kind or AggregationType.DAWID_SKENE, names, skill)
    return pool, kind, names, skill, operation


@contextlib.contextmanager
def client_scope(
    client: Client | None, *, token: str | None, environment: str | None, url: str | None
) -> Iterator[Client]:
    """Use ``client`` as given, or build one from the credentials and close it afterwards."""
    from ..client import Client

    check_credentials(client, token=token, environment=environment, url=url)
    if client is not None:
        yield client
        return
    with Client(token, environment=environment, url=url) as own:
        yield own
