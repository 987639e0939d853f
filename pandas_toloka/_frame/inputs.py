"""What local aggregation reads from a frame: fields, their types and columns, and skills.

Resolves ``fields=`` against the output spec (given, or left in ``attrs`` by
:func:`read_responses`) or, without one, infers each field's type from its
column's dtype; and normalizes ``skills=`` to the ``worker_id``/``value`` frame
:func:`pandas_toloka.aggregation.weighted_dynamic_overlap` takes. Used by
:mod:`pandas_toloka._frame.local`, which runs the algorithms.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .._read.args import field_names
from ..aggregation._encoding import check_single_kind
from ..aggregation._registry import METHODS
from ..errors import InvalidArgumentError, MissingColumnsError
from ..schema import ATTRS_KEY, OutputField

__all__ = [
    "ATTRS_KEY",
    "FieldColumn",
    "frame_output_spec",
    "infer_field",
    "normalize_skills",
    "resolve_field_columns",
]


@dataclass(frozen=True)
class FieldColumn:
    """An output field and the frame column holding its answers."""

    field: OutputField
    column: Hashable


def frame_output_spec(
    frame: pd.DataFrame, output_spec: Mapping[str, Any] | None
) -> Mapping[str, Any] | None:
    """The output spec given, else the one :func:`read_responses` left in ``attrs``."""
    if output_spec is not None:
        return output_spec
    meta = schema.get_provenance(frame)
    if meta is not None and isinstance(meta.get("output_spec"), Mapping):
        return meta["output_spec"]
    return None


def infer_field(series: pd.Series, name: str) -> OutputField:
    """An :class:`OutputField` for a column without an output spec, from its dtype.

    Categoricals (pandas ``category`` or Arrow dictionary) of strings become a
    STRING field whose ``allowed_values`` are the categories; booleans BOOLEAN;
    integers INTEGER; floats FLOAT; text STRING. ``Y`` of the unbounded kinds
    then falls back to the number of distinct answers observed.
    """
    dtype = series.dtype
    categories: list[Any] | None = None
    if isinstance(dtype, pd.CategoricalDtype):
        categories = list(dtype.categories)
    elif isinstance(dtype, pd.ArrowDtype) and pa.types.is_dictionary(dtype.pyarrow_dtype):
        data = pa.array(series.array)
        if isinstance(data, pa.ChunkedArray):
            data = data.combine_chunks() if data.num_chunks else pa.array([], type=data.type)
        categories = data.dictionary.to_pylist()
    if categories is not None:
        if categories and all(isinstance(c, str) for c in categories):
            return OutputField(name, "STRING", allowed_values=tuple(categories))
        series = series.astype(object)
        dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return OutputField(name, "BOOLEAN")
    if pd.api.types.is_integer_dtype(dtype):
        return OutputField(name, "INTEGER")
    if pd.api.types.is_float_dtype(dtype):
        return OutputField(name, "FLOAT")
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        check_single_kind(series.rename(name), "label")  # the functions' rule, and message
        kind = pd.api.types.infer_dtype(series, skipna=True)
        mapped = {
            "string": "STRING",
            "empty": "STRING",
            "integer": "INTEGER",
            "floating": "FLOAT",
            "mixed-integer-float": "FLOAT",
            "boolean": "BOOLEAN",
        }.get(kind)
        if mapped is not None:
            return OutputField(name, mapped)
    raise InvalidArgumentError(
        f"Cannot aggregate column {name!r} of dtype {dtype}: answers must be strings, "
        "integers, floats or booleans. Pass output_spec= to declare its type."
    )


def resolve_field_columns(
    frame: pd.DataFrame,
    fields: str | Sequence[str] | None,
    *,
    type: str,
    reserved: Sequence[Hashable],
    output_spec: Mapping[str, Any] | None,
) -> list[FieldColumn]:
    """Which fields to aggregate, their types and their columns.

    With an output spec (given or in ``attrs``), a field ``f`` lives in the
    column :func:`schema.result_column_name` names in a responses frame
    (``output_values.f`` when ``f`` clashes with a metadata column), else in
    column ``f``. ``fields=None`` takes the spec's only aggregatable field, as
    :func:`read_aggregated_solutions` does, or, without a spec, the only column
    that is not a task, worker or metadata column.
    """
    spec = schema.parse_output_spec(output_spec) if output_spec is not None else None
    if fields is None:
        if spec is not None:
            names = [f.name for f in schema.default_aggregation_fields(spec)]
        else:
            names = [str(c) for c in frame.columns if c not in reserved]
        if len(names) > 1:  # as read_aggregated_solutions: no guessing between fields
            raise InvalidArgumentError(
                f"There are several fields that can be aggregated: {names}; choose with fields=..."
            )
        if not names:
            raise InvalidArgumentError("There is no field to aggregate; pass fields=.")
    else:
        names = field_names(fields) or []
        several = type in METHODS and METHODS[type].kind == "skill_weighted"  # the registry's
        if not several and len(names) != 1:
            raise InvalidArgumentError(f"{type} aggregates exactly one field, got fields={names}.")
    resolved: list[FieldColumn] = []
    for name in names:
        prefixed = schema.result_column_name(name, schema.RESPONSES_META_COLUMNS)
        column = prefixed if spec is not None and prefixed in frame.columns else name
        if column not in frame.columns:
            raise MissingColumnsError([column], list(frame.columns), purpose=f"for field {name!r}")
        if spec is not None:
            if name not in spec:
                raise InvalidArgumentError(
                    f"Field {name!r} is not in the output spec; its fields are {list(spec)}."
                )
            field = spec[name]
            if not field.is_aggregatable:
                raise InvalidArgumentError(
                    f"Field {name!r} of type {field.type} cannot be aggregated."
                )
        else:
            field = infer_field(frame[column], name)
        resolved.append(FieldColumn(field, column))
    return resolved


def normalize_skills(
    skills: pd.DataFrame | pd.Series | None,
    *,
    like: pd.Series,
    skill_id: str | int | None = None,
) -> pd.DataFrame:
    """Skills as a ``worker_id``/``value`` frame whose ids have the workers' dtype.

    Parameters
    ----------
    skills : DataFrame or Series
        A frame with ``worker_id`` and ``value`` (0..100) columns and optionally
        ``skill_id`` (then ``skill_id=`` picks one skill when there are several),
        or a Series of values indexed by worker.
    like : Series
        The responses' worker column, whose dtype the ids take.
    """
    if skills is None:
        raise InvalidArgumentError(
            "WEIGHTED_DYNAMIC_OVERLAP needs skills=: a DataFrame with worker_id and value "
            "(0..100) columns, or a Series of values indexed by worker; or pass client= (or "
            "token=/url=) with answer_weight_skill_id= to read them with read_user_skills."
        )
    if isinstance(skills, pd.Series):
        frame = pd.DataFrame(
            {"worker_id": skills.index.to_numpy(dtype=object), "value": skills.to_numpy()}
        )
    elif isinstance(skills, pd.DataFrame):
        needed = ["worker_id", "value"]
        missing = [c for c in needed if c not in skills.columns]
        if missing:
            raise MissingColumnsError(missing, list(skills.columns), purpose="in skills=")
        frame = skills
        if "skill_id" in skills.columns:
            skill_ids = schema.id_array(skills["skill_id"])
            ids = sorted(set(skill_ids.drop_null().to_pylist()))
            if skill_id is not None:
                chosen = pc.fill_null(pc.equal(skill_ids, schema.id_array([skill_id])[0]), False)
                frame = skills[chosen.to_numpy(zero_copy_only=False)]
                if frame.empty:
                    raise InvalidArgumentError(
                        f"skills= has no value of answer_weight_skill_id={skill_id!r}; its skills are {ids}."
                    )
            elif len(ids) > 1:
                raise InvalidArgumentError(
                    f"skills= holds several skills {ids}; pass answer_weight_skill_id= to choose one."
                )
        frame = frame[needed]
    else:
        raise InvalidArgumentError(
            f"skills must be a DataFrame or a Series, got {type(skills).__name__}."
        )
    if frame.empty:
        raise InvalidArgumentError(
            "skills= is empty: WEIGHTED_DYNAMIC_OVERLAP weighs each answer by its worker's skill, "
            "so give at least one worker's value (0..100)."
        )
    if like.dtype == object or pd.api.types.is_string_dtype(like.dtype):
        # Text worker ids: the skills' ids read as the server reads them (1, "1", 1.0 alike).
        text = pd.Series(pd.arrays.ArrowExtensionArray(schema.id_array(frame["worker_id"])))
        workers = text.astype(like.dtype)
    else:
        try:
            workers = frame["worker_id"].astype(like.dtype)
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"The skills' worker ids cannot be converted to the workers' dtype {like.dtype}: {exc}"
            ) from exc
    return pd.DataFrame({"worker_id": workers.array, "value": frame["value"].array})
