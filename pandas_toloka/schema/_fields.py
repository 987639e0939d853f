"""Input and output fields, their Arrow types and the column layout of result tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa

from ..errors import InvalidArgumentError
from ._scalars import python_value_ok

_STRING = pa.string()


def _list_of(value_type: pa.DataType) -> pa.DataType:
    # "element" is the name Parquet gives list items: the type then survives a round trip.
    return pa.list_(pa.field("element", value_type))


#: Arrow type of each Toloka output field type (STRING with ``allowed_values``
#: becomes ``dictionary<int32, string>`` instead, see :meth:`OutputField.arrow_type`).
ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": _STRING,
    "INTEGER": pa.int64(),
    "FLOAT": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "URL": _STRING,
    "FILE": _STRING,
    "COORDINATES": _STRING,
    "JSON": _STRING,
    "ARRAY_STRING": _list_of(_STRING),
    "ARRAY_INTEGER": _list_of(pa.int64()),
    "ARRAY_FLOAT": _list_of(pa.float64()),
    "ARRAY_BOOLEAN": _list_of(pa.bool_()),
    "ARRAY_URL": _list_of(_STRING),
    "ARRAY_FILE": _list_of(_STRING),
    "ARRAY_COORDINATES": _list_of(_STRING),
}

#: Arrow type of each Toloka input field type: the output types and ``ARRAY_JSON``
#: (a list of JSON texts), which only an input spec may declare.
INPUT_ARROW_TYPES: dict[str, pa.DataType] = {**ARROW_TYPES, "ARRAY_JSON": _list_of(_STRING)}

NOTES: dict[str, str] = {
    "STRING": "free text",
    "URL": "the URL as text",
    "FILE": "the file id as text",
    "COORDINATES": 'text as Toloka sends it, e.g. "55.75,37.62"',
    "JSON": "the value re-serialised as JSON text (lossless, any JSON)",
    "ARRAY_JSON": "input fields only: each item re-serialised as JSON text",
}

_AGGREGATABLE = frozenset({"STRING", "INTEGER", "FLOAT", "BOOLEAN"})
#: A bounded INTEGER's ``min..max`` is its Dawid–Skene label space only up to this many
#: values; a wider range would cost ``workers x range**2`` floats for the confusion matrices.
MAX_RANGE_LABELS = 100

#: Metadata columns of an aggregated-solutions frame, in order.
AGGREGATED_META_COLUMNS: tuple[str, ...] = ("pool_id", "task_id", "confidence")
#: Metadata columns of a raw-responses frame, in order.
RESPONSES_META_COLUMNS: tuple[str, ...] = (
    "pool_id",
    "task_id",
    "worker_id",
    "assignment_id",
    "status",
    "submitted",
)
_ALL_META = frozenset(AGGREGATED_META_COLUMNS) | frozenset(RESPONSES_META_COLUMNS)
_COLLISION_PREFIX = "output_values."
#: Prefix of the column of a field named like a metadata column, e.g. ``output_values.task_id``.
OUTPUT_VALUES_PREFIX = _COLLISION_PREFIX


@dataclass(frozen=True)
class _SpecField:
    """A field of a project's input or output spec (the two share types and checks)."""

    #: "Input" or "Output": which spec declares fields of this class (used in messages).
    ROLE: ClassVar[str] = "Output"
    #: The types this spec may declare, with their Arrow types.
    TYPES: ClassVar[Mapping[str, pa.DataType]] = ARROW_TYPES

    name: str
    type: str
    required: bool = True
    allowed_values: tuple[Any, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    hidden: bool = False

    @classmethod
    def from_spec(cls, name: str, spec: Mapping[str, Any]) -> Any:
        """Build a field from its spec entry, e.g. ``{"type": "STRING", ...}``."""
        role = cls.ROLE
        if not isinstance(spec, Mapping):
            raise InvalidArgumentError(
                f"{role} spec of field {name!r} must be a mapping like "
                f'{{"type": "STRING"}}, got {type(spec).__name__}.'
            )
        field_type = spec.get("type")
        if not isinstance(field_type, str) or field_type not in cls.TYPES:
            raise InvalidArgumentError(
                f"{role} field {name!r} has unknown type {field_type!r}; "
                f"expected one of {sorted(cls.TYPES)}."
            )
        allowed = spec.get("allowed_values")
        if allowed is not None:
            if not isinstance(allowed, (list, tuple)) or not allowed:
                raise InvalidArgumentError(
                    f"allowed_values of {role.lower()} field {name!r} must be a non-empty list."
                )
            if len(set(allowed)) != len(allowed):
                raise InvalidArgumentError(
                    f"allowed_values of {role.lower()} field {name!r} has duplicates: {list(allowed)}."
                )
            allowed = tuple(allowed)
            for value in allowed:
                if not python_value_ok(value, field_type):
                    raise InvalidArgumentError(
                        f"allowed value {value!r} of {role.lower()} field {name!r} is not of type {field_type}."
                    )
        return cls(
            name=str(name),
            type=str(field_type),
            required=bool(spec.get("required", True)),
            allowed_values=allowed,
            min_value=spec.get("min_value"),
            max_value=spec.get("max_value"),
            hidden=bool(spec.get("hidden", False)),
        )

    @property
    def is_categorical(self) -> bool:
        """Whether the field becomes an Arrow dictionary / pandas categorical column."""
        return self.type == "STRING" and self.allowed_values is not None

    @property
    def arrow_type(self) -> pa.DataType:
        """The Arrow type of this field's column."""
        if self.is_categorical:
            return pa.dictionary(pa.int32(), _STRING)
        return self.TYPES[self.type]

    def to_spec(self) -> dict[str, Any]:
        """The spec entry of this field, as Toloka's API returns it."""
        spec: dict[str, Any] = {"type": self.type, "required": self.required}
        if self.allowed_values is not None:
            spec["allowed_values"] = list(self.allowed_values)
        if self.min_value is not None:
            spec["min_value"] = self.min_value
        if self.max_value is not None:
            spec["max_value"] = self.max_value
        if self.hidden:
            spec["hidden"] = True
        return spec


@dataclass(frozen=True)
class OutputField(_SpecField):
    """One output field of a Toloka project, as its output spec declares it.

    Parameters
    ----------
    name : str
        Field name, the key in ``output_values``.
    type : str
        Toloka type, one of the keys of :data:`ARROW_TYPES`.
    required : bool, default True
    allowed_values : tuple, optional
        The values a worker may choose from, in the spec's order.
    min_value, max_value : int or float, optional
        Bounds of an INTEGER or FLOAT field.
    hidden : bool, default False
    """

    @classmethod
    def from_spec(cls, name: str, spec: Mapping[str, Any]) -> OutputField:
        """Build a field from its output-spec entry, e.g. ``{"type": "STRING", ...}``."""
        field: OutputField = super().from_spec(name, spec)
        return field

    @property
    def n_options(self) -> int | None:
        """The number of possible answers ``Y``, when the spec bounds it.

        ``len(allowed_values)`` when given, 2 for BOOLEAN, ``max - min + 1``
        for an INTEGER with both bounds, otherwise None.
        """
        if self.allowed_values is not None:
            return len(self.allowed_values)
        if self.type == "BOOLEAN":
            return 2
        if self.type == "INTEGER" and self.min_value is not None and self.max_value is not None:
            return int(self.max_value) - int(self.min_value) + 1
        return None

    @property
    def is_aggregatable(self) -> bool:
        """Whether the server can aggregate this field (scalar STRING, INTEGER, FLOAT, BOOLEAN)."""
        return self.type in _AGGREGATABLE


@dataclass(frozen=True)
class InputField(_SpecField):
    """One input field of a Toloka project, as its input spec declares it.

    The types are the output ones plus ``ARRAY_JSON`` (:data:`INPUT_ARROW_TYPES`);
    values convert to Arrow by the same rules as outputs.

    Parameters
    ----------
    name : str
        Field name, the key in a task's ``input_values``.
    type : str
        Toloka type, one of the keys of :data:`INPUT_ARROW_TYPES`.
    required : bool, default True
    allowed_values : tuple, optional
    min_value, max_value : int or float, optional
    hidden : bool, default False
    """

    ROLE: ClassVar[str] = "Input"
    TYPES: ClassVar[Mapping[str, pa.DataType]] = INPUT_ARROW_TYPES

    @classmethod
    def from_spec(cls, name: str, spec: Mapping[str, Any]) -> InputField:
        """Build a field from its input-spec entry, e.g. ``{"type": "URL"}``."""
        field: InputField = super().from_spec(name, spec)
        return field


def parse_output_spec(output_spec: Mapping[str, Any]) -> dict[str, OutputField]:
    """Parse a project's ``task_spec.output_spec`` into fields, keeping its order.

    Raises
    ------
    InvalidArgumentError
        If the spec is not a mapping or declares an unknown type.
    """
    if not isinstance(output_spec, Mapping):
        raise InvalidArgumentError(
            f"output_spec must be a mapping of field name to spec, got {type(output_spec).__name__}."
        )
    return {str(name): OutputField.from_spec(str(name), spec) for name, spec in output_spec.items()}


def parse_input_spec(input_spec: Mapping[str, Any] | None) -> dict[str, InputField]:
    """Parse a project's ``task_spec.input_spec`` into fields, keeping its order.

    ``None`` (a project that declares no inputs) gives no fields.

    Raises
    ------
    InvalidArgumentError
        If the spec is not a mapping or declares an unknown type.
    """
    if input_spec is None:
        return {}
    if not isinstance(input_spec, Mapping):
        raise InvalidArgumentError(
            f"input_spec must be a mapping of field name to spec, got {type(input_spec).__name__}."
        )
    return {str(name): InputField.from_spec(str(name), spec) for name, spec in input_spec.items()}


def default_aggregation_fields(spec: Mapping[str, OutputField]) -> list[OutputField]:
    """The fields ``fields=None`` may choose from: aggregatable and not hidden.

    The reader, the accessor and local aggregation all resolve ``fields=None``
    to the single field this returns, and refuse to guess between several.
    """
    return [f for f in spec.values() if f.is_aggregatable and not f.hidden]


def options_count(field: OutputField, observed: int) -> int:
    """``Y`` for skill-weighted confidence: the spec's bound, else the observed distinct answers.

    Fields without a declared set of values (free STRING, FLOAT, unbounded
    INTEGER) fall back to the number of distinct answers observed in the pool,
    at least 2.
    """
    declared = field.n_options
    if declared is not None:
        return declared
    return max(2, int(observed))


def result_column_name(
    field_name: str, meta_columns: Sequence[str] = AGGREGATED_META_COLUMNS
) -> str:
    """The column name of an output field in a result frame.

    A field is named after itself unless that clashes with a metadata column
    (``pool_id``, ``task_id``, ``confidence``, ...); then it becomes
    ``"output_values.<name>"``, which cannot clash since Toloka field names
    contain no dots.
    """
    if field_name in meta_columns or field_name in _ALL_META:
        return _COLLISION_PREFIX + field_name
    return field_name


def aggregated_schema(fields: Sequence[OutputField]) -> pa.Schema:
    """Arrow schema of aggregated solutions: ``pool_id``, ``task_id``, ``confidence``, fields."""
    columns = [
        pa.field("pool_id", _STRING),
        pa.field("task_id", _STRING),
        pa.field("confidence", pa.float64()),
    ]
    columns += [pa.field(result_column_name(f.name), f.arrow_type) for f in fields]
    return pa.schema(columns)


#: Arrow type of the ``submitted`` column of raw responses (Toloka sends UTC).
SUBMITTED_TYPE = pa.timestamp("us", tz="UTC")


def responses_schema(fields: Sequence[OutputField]) -> pa.Schema:
    """Arrow schema of raw responses: metadata columns, then one column per field."""
    columns = [
        pa.field("pool_id", _STRING),
        pa.field("task_id", _STRING),
        pa.field("worker_id", _STRING),
        pa.field("assignment_id", _STRING),
        pa.field("status", _STRING),
        pa.field("submitted", SUBMITTED_TYPE),
    ]
    columns += [
        pa.field(result_column_name(f.name, RESPONSES_META_COLUMNS), f.arrow_type) for f in fields
    ]
    return pa.schema(columns)


def label_space(field: OutputField) -> list[Any] | None:
    """The full set of answers a field allows, for aggregation; None when unbounded.

    ``allowed_values`` in the spec's order when given, ``[False, True]`` for a
    BOOLEAN, ``min_value..max_value`` for an INTEGER bounded on both sides by a
    range of at most :data:`MAX_RANGE_LABELS` values, otherwise None (the
    answers observed are then the label space: a wide range such as 0..1,000,000
    would need confusion matrices of ``range**2`` cells per worker, and labels
    nobody chose practically never win anyway). Dawid–Skene uses it so that a
    label nobody chose can still win, both in the bundled server and in
    ``df.toloka.aggregate_locally``.
    """
    if field.allowed_values is not None:
        return list(field.allowed_values)
    if field.type == "BOOLEAN":
        return [False, True]
    if field.type == "INTEGER" and field.min_value is not None and field.max_value is not None:
        low, high = int(field.min_value), int(field.max_value)
        if high - low + 1 <= MAX_RANGE_LABELS:
            return list(range(low, high + 1))
    return None


#: Prefix of an input column named like another column, e.g. ``input_values.overlap``.
INPUT_VALUES_PREFIX = "input_values."
#: Prefix of the columns holding a control task's known answer, e.g. ``golden.result``.
GOLDEN_PREFIX = "golden."
#: Columns of a tasks frame besides the input and golden columns, in order.
TASKS_META_COLUMNS: tuple[str, ...] = (
    "pool_id",
    "task_id",
    "overlap",
    "infinite_overlap",
    "remaining_overlap",
    "created",
    "origin_task_id",
    "correctness_weight",
    "hint",
    "known_solutions",
)


def input_column_name(field_name: str, taken: Sequence[str] = TASKS_META_COLUMNS) -> str:
    """The column of an input field: its name, or ``input_values.<name>`` when that is taken."""
    return INPUT_VALUES_PREFIX + field_name if field_name in taken else field_name


def known_solutions_type(outputs: Sequence[OutputField]) -> pa.DataType:
    """``list<struct<output_values: struct<field...>, correctness_weight: double>>``.

    The output values keep their plain types (text, not dictionaries) inside the list.
    """
    values = pa.struct(
        [pa.field(f.name, _STRING if f.is_categorical else f.arrow_type) for f in outputs]
    )
    solution = pa.struct(
        [pa.field("output_values", values), pa.field("correctness_weight", pa.float64())]
    )
    return _list_of(solution)


def tasks_schema(inputs: Sequence[InputField], outputs: Sequence[OutputField]) -> pa.Schema:
    """Arrow schema of tasks: ``pool_id``, ``task_id``, the inputs, then the task's settings.

    ``pool_id``, ``task_id``, one column per input field
    (:func:`input_column_name`), ``overlap``, ``infinite_overlap``,
    ``remaining_overlap``, ``created``, ``origin_task_id``, then what control tasks
    carry: ``golden.<field>`` per output field (the first known solution, typed like
    the outputs), its ``correctness_weight``, the ``hint``
    (``message_on_unknown_solution``) and every known solution (``known_solutions``).
    """
    columns = [pa.field("pool_id", _STRING), pa.field("task_id", _STRING)]
    columns += [pa.field(input_column_name(f.name), f.arrow_type) for f in inputs]
    columns += [
        pa.field("overlap", pa.int64()),
        pa.field("infinite_overlap", pa.bool_()),
        pa.field("remaining_overlap", pa.int64()),
        pa.field("created", SUBMITTED_TYPE),
        pa.field("origin_task_id", _STRING),
    ]
    columns += [pa.field(GOLDEN_PREFIX + f.name, f.arrow_type) for f in outputs]
    columns += [
        pa.field("correctness_weight", pa.float64()),
        pa.field("hint", _STRING),
        pa.field("known_solutions", known_solutions_type(outputs)),
    ]
    return pa.schema(columns)
