"""Checks of the public functions' arguments, in one place.

Every public reader, the accessor and local aggregation check what they are
given here, before any request is sent, so that the same mistake gets the
same :class:`~pandas_toloka.errors.InvalidArgumentError` wherever it is made.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from .._protocol import ASSIGNMENT_STATUSES, EXPORT_STATUSES, MAX_PAGE_SIZE, AggregationType
from ..errors import InvalidArgumentError
from ..schema import InputField, OutputField, default_aggregation_fields

__all__ = [
    "STATUSES",
    "check_aggregation_fields",
    "check_aggregation_request",
    "check_count",
    "check_page_size",
    "check_progress_bar",
    "check_seconds",
    "check_statuses",
    "check_wait_timeout",
    "field_names",
    "input_names",
    "resolve_inputs",
    "id_text",
    "renamed_arguments",
    "resolve_fields",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Assignment statuses of the Toloka API.
STATUSES = ASSIGNMENT_STATUSES


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


def input_names(inputs: object) -> list[str] | bool:
    """``inputs=`` checked for form: False for none, True for all, or a list of field names.

    None and False mean no input column; True or ``"all"`` every input field; a
    name or a list of names those fields (distinct, in the order given).
    """
    if inputs is None or inputs is False:
        return False
    if inputs is True or inputs == "all":
        return True
    if isinstance(inputs, str):
        names: list[Any] = [inputs]
    elif isinstance(inputs, (list, tuple)):
        names = list(inputs)
    else:
        raise InvalidArgumentError(
            f"inputs must be True or 'all' (every input field), an input field name or a list "
            f"of names, or None; got {inputs!r}."
        )
    if not names or not all(isinstance(n, str) and n for n in names):
        raise InvalidArgumentError(
            f"inputs must name input fields (non-empty str), got {inputs!r}; pass True for all."
        )
    if len(set(names)) != len(names):
        raise InvalidArgumentError(f"inputs has duplicates: {names!r}.")
    return names


def dataset_inputs(inputs: object) -> list[str] | bool:
    """``inputs=`` of the labeled dataset: :func:`input_names`, but None keeps every field.

    A labeled dataset is inputs next to labels, so its default is all of them;
    False keeps none.
    """
    return True if inputs is None else input_names(inputs)


def table_inputs(wanted: list[str] | bool) -> list[str] | None:
    """:func:`dataset_inputs`' answer as ``read_labeled_table`` takes it (None: all)."""
    if wanted is True:
        return None
    return [] if wanted is False else list(wanted)


def resolve_inputs(
    names: list[str] | bool, spec: dict[str, InputField], pool_id: str
) -> list[InputField]:
    """The input fields ``inputs=`` asks for (:func:`input_names`), checked against the spec."""
    if names is False:
        return []
    if names is True:
        return list(spec.values())
    unknown = [n for n in names if n not in spec]
    if unknown:
        raise InvalidArgumentError(
            f"Pool {pool_id!r} has no input field {', '.join(map(repr, unknown))}; its input "
            f"spec's fields are {list(spec)}."
        )
    return [spec[n] for n in names]


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


def check_count(value: object, *, name: str, low: int, high: int) -> int:
    """An int (not a bool) from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgumentError(f"{name} must be an int from {low} to {high}, got {value!r}.")
    return value


def check_progress_bar(progress_bar: object) -> bool | None:
    """``progress_bar=``: True, False or None (automatic)."""
    if progress_bar is not None and not isinstance(progress_bar, bool):
        raise InvalidArgumentError(
            f"progress_bar must be True, False or None (automatic), got {progress_bar!r}."
        )
    return progress_bar


#: The results export's spellings of API statuses (``APPROVED`` is ``ACCEPTED``).
STATUS_ALIASES = {v: k for k, v in EXPORT_STATUSES.items() if k != v}


def check_statuses(status: object) -> tuple[str, ...] | None:
    """``status=`` as a tuple of API assignment statuses, or None for every status.

    The results export's ``APPROVED`` is taken as the API's ``ACCEPTED``.
    """
    if status is None:
        return None
    if isinstance(status, str):
        wanted: tuple[Any, ...] = (status,)
    elif isinstance(status, (list, tuple, set, frozenset)):
        wanted = tuple(status)
    else:
        wanted = (status,)
    wanted = tuple(STATUS_ALIASES.get(s, s) if isinstance(s, str) else s for s in wanted)
    bad = [s for s in wanted if not isinstance(s, str) or s not in STATUSES]
    if bad or not wanted:
        raise InvalidArgumentError(
            f"status must be one of {list(STATUSES)} (or the results export's "
            f"{list(STATUS_ALIASES)}), a list of them, or None for all; got {status!r}."
        )
    return tuple(dict.fromkeys(wanted))


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


def renamed_arguments(**old_to_new: str) -> Callable[[F], F]:
    """Keep the old keyword spellings of renamed arguments, with a :class:`FutureWarning`.

    ``@renamed_arguments(max_workers="max_concurrency")``: a call with
    ``max_workers=`` warns and is passed on as ``max_concurrency=``; both at once
    is an :class:`~pandas_toloka.errors.InvalidArgumentError`. The function's
    signature (``inspect.signature``) shows only the new names; the old ones are
    listed in ``__renamed_arguments__``.
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise InvalidArgumentError(
                        f"Pass {new}= only: {old}= is its deprecated spelling."
                    )
                warnings.warn(
                    f"{old}= is deprecated and will be removed; pass {new}= instead.",
                    FutureWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        renamed: Mapping[str, str] = {
            **getattr(function, "__renamed_arguments__", {}),
            **old_to_new,
        }
        wrapper.__renamed_arguments__ = renamed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
