"""``aggregate_locally`` for area selection: segmentation masks and bounding boxes.

An area-selection answer is a ``JSON`` output field holding Toloka's shapes (see
:func:`pandas_toloka.aggregation.parse_areas`). BOXES aggregates its rectangles,
POINTS its points;
the SEGMENTATION_* methods rasterise its polygons and rectangles at the
``width`` x ``height`` given in ``method_kwargs`` — or take a column of masks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .._read.args import check_statuses
from ..aggregation import parse_areas, rasterize_shapes
from ..aggregation._registry import get_method
from ..errors import InvalidArgumentError, MissingColumnsError
from ..schema import DtypeBackend, OutputField
from .from_pool import Connection, resolve_golden
from .inputs import ATTRS_KEY, frame_output_spec
from .rows import Dropped, check_input, pool_groups, select_rows, text_ids
from .task_inputs import attach_inputs, inputs_for

__all__ = ["AREA_KINDS", "aggregate_areas", "area_column"]

logger = logging.getLogger(__name__)

#: The registry families aggregated here.
AREA_KINDS = frozenset({"segmentation", "boxes"})
#: The rasterisation options of the segmentation methods (not options of the methods).
RESOLUTION = ("width", "height")


def area_column(
    frame: pd.DataFrame,
    fields: str | Sequence[str] | None,
    *,
    kind: str,
    output_spec: Mapping[str, Any] | None,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
) -> tuple[str, Hashable]:
    """The name of the area field :func:`aggregate_areas` aggregates, and its column."""
    reserved = [task, worker, *schema.RESPONSES_META_COLUMNS]
    field, column = _field(frame, fields, kind=kind, reserved=reserved, output_spec=output_spec)
    return field.name, column


def _field(
    frame: pd.DataFrame,
    fields: str | Sequence[str] | None,
    *,
    kind: str,
    reserved: Sequence[Hashable],
    output_spec: Mapping[str, Any] | None,
) -> tuple[OutputField, Hashable]:
    spec = schema.parse_output_spec(output_spec) if output_spec is not None else None
    if fields is None:
        if spec is not None:
            names = [f.name for f in spec.values() if f.type == "JSON"]
        else:
            names = [str(c) for c in frame.columns if c not in reserved]
        if len(names) != 1:
            raise InvalidArgumentError(
                f"{kind} aggregates one area-selection (JSON) field; "
                f"{'found ' + str(names) if names else 'there is none'}: choose with fields=."
            )
        name = names[0]
    elif isinstance(fields, str):
        name = fields
    else:
        listed = list(fields)
        if len(listed) != 1:
            raise InvalidArgumentError(f"{kind} aggregates exactly one field, got fields={listed}.")
        name = str(listed[0])
    prefixed = schema.result_column_name(name, schema.RESPONSES_META_COLUMNS)
    column = prefixed if spec is not None and prefixed in frame.columns else name
    if column not in frame.columns:
        raise MissingColumnsError([column], list(frame.columns), purpose=f"for field {name!r}")
    if spec is not None and name in spec:
        return spec[name], column
    return OutputField(name, "JSON"), column


def _options(
    kind: str, method_kwargs: Mapping[str, Any] | None, n_iter: int | None, tol: float | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The method's options and the resolution, checked by name."""
    row = get_method(kind)
    takes = [o for o in row.options if o != "flat"]
    for name, value in (("n_iter", n_iter), ("tol", tol)):
        if value is not None and name not in takes:
            raise InvalidArgumentError(f"type={kind!r} does not take {name}=.")
    given = dict(method_kwargs or {})
    if method_kwargs is not None and not isinstance(method_kwargs, Mapping):
        raise InvalidArgumentError(
            "method_kwargs must be a mapping of option name -> value, "
            f"got {type(method_kwargs).__name__}."
        )
    allowed = [o for o in takes if o not in ("n_iter", "tol")]
    if row.kind == "segmentation":
        allowed += list(RESOLUTION)
    unknown = sorted(str(k) for k in given if k not in allowed)
    if unknown:
        raise InvalidArgumentError(
            f"type={kind!r} takes only {allowed} in method_kwargs; got {unknown}."
        )
    resolution = {k: given.pop(k) for k in RESOLUTION if k in given}
    if n_iter is not None:
        given["n_iter"] = n_iter
    if tol is not None:
        given["tol"] = tol
    return given, resolution


def _is_text(series: pd.Series) -> bool:
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        return True
    if isinstance(series.dtype, pd.ArrowDtype):
        return pa.types.is_string(series.dtype.pyarrow_dtype) or pa.types.is_large_string(
            series.dtype.pyarrow_dtype
        )
    return series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) == "string"


def _check_resolution(resolution: Mapping[str, Any], kind: str) -> None:
    if set(resolution) != set(RESOLUTION):
        raise InvalidArgumentError(
            f"type={kind!r} on Toloka's shapes needs the resolution to rasterise them at: "
            "method_kwargs={'width': ..., 'height': ...} (pixels)."
        )
    for name in RESOLUTION:
        value = resolution[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgumentError(
                f"method_kwargs[{name!r}] must be a positive integer (pixels), got {value!r}."
            )


def _masks(values: pd.Series, resolution: Mapping[str, Any], kind: str) -> pd.Series:
    if not _is_text(values):
        return values  # masks already (arrays, nested lists, list<list<bool>>)
    _check_resolution(resolution, kind)
    return values.map(
        lambda shapes: rasterize_shapes(
            shapes, width=resolution["width"], height=resolution["height"]
        )
    )


def _run(
    kind: str,
    rows: pd.DataFrame,
    column: Hashable,
    *,
    task: Hashable,
    worker: Hashable,
    options: Mapping[str, Any],
    resolution: Mapping[str, Any],
    golden: Any,
) -> pd.DataFrame:
    row = get_method(kind)
    values = rows[column]
    if row.kind == "boxes":
        shapes = row.roles[2]  # "boxes", or "points" for POINTS
        data = (
            parse_areas(values)["rectangles" if shapes == "boxes" else shapes]
            if _is_text(values)
            else values
        )
        frame = pd.DataFrame({task: rows[task], worker: rows[worker], column: data})
        return row.function(
            frame, task=task, worker=worker, **{shapes: column}, golden=golden, **options
        )
    frame = pd.DataFrame(
        {task: rows[task], worker: rows[worker], column: _masks(values, resolution, kind)}
    )
    return row.function(frame, task=task, worker=worker, mask=column, **options)


def _known_shapes(
    golden: Any,
    frame: pd.DataFrame,
    *,
    field: str,
    task: Hashable,
    kind: str,
    pools: Sequence[str | None],
    connection: Connection,
) -> Callable[[str | None], dict[object, object]] | None:
    """``golden="pool"`` or a frame of tasks as each pool's known shapes (None: as given).

    The control tasks' known answers are the field's JSON text; a task is anchored on
    its solution of the largest ``correctness_weight`` (:func:`resolve_golden`), and
    its shapes of the method's kind are taken as :func:`parse_areas` splits them.
    """
    if not isinstance(golden, (str, pd.DataFrame)):
        return None
    labels = resolve_golden(
        golden, frame, field=field, task=task, pools=pools, connection=connection
    )
    if labels is None:
        return None
    shapes = get_method(kind).roles[2]  # "boxes" or "points"
    column = "rectangles" if shapes == "boxes" else shapes

    def known(pool: str | None) -> dict[object, object]:
        anchors = labels.anchors(pool)
        if not anchors:
            return {}
        parsed = parse_areas(pd.Series(list(anchors.values()), dtype=object))[column]
        return dict(zip(anchors, parsed.tolist(), strict=True))

    return known


def aggregate_areas(
    frame: pd.DataFrame,
    *,
    kind: str,
    fields: str | Sequence[str] | None,
    task: Hashable,
    worker: Hashable,
    pool_id: str | int | None,
    output_spec: Mapping[str, Any] | None,
    status: str | Sequence[str] | None,
    n_iter: int | None,
    tol: float | None,
    dtype_backend: DtypeBackend,
    golden: Any = None,
    method_kwargs: Mapping[str, Any] | None = None,
    inputs: object = None,
    connection: Connection | None = None,
) -> pd.DataFrame:
    """Aggregate an area-selection field pool by pool; see :meth:`TolokaAccessor.aggregate_locally`.

    Returns ``pool_id``, ``task_id`` (strings, sorted), the field's column (the
    method's nested Arrow type, whatever ``dtype_backend``), with ``golden=``
    ``golden``, and with ``inputs=`` the input columns (:func:`.task_inputs.inputs_for`:
    checked, and read through ``connection`` when the frame lacks them, after
    every other argument and before any aggregation).
    """
    row = get_method(kind)
    options, resolution = _options(kind, method_kwargs, n_iter, tol)
    if golden is not None and not row.golden:
        raise InvalidArgumentError(f"golden= is not supported by type={kind!r}.")
    schema.check_dtype_backend(dtype_backend)
    missing = [str(c) for c in (task, worker) if c not in frame.columns]
    if missing:
        raise MissingColumnsError(missing, list(frame.columns), purpose="to aggregate responses")
    statuses = check_statuses(status)
    check_input(frame, statuses)
    frame = text_ids(frame, task, worker)
    reserved = [task, worker, *schema.RESPONSES_META_COLUMNS]
    spec = frame_output_spec(frame, output_spec)
    field, column = _field(frame, fields, kind=kind, reserved=reserved, output_spec=spec)
    if row.kind == "segmentation" and _is_text(frame[column]):
        _check_resolution(resolution, kind)
    prepared = inputs_for(
        frame,
        inputs,
        task=task,
        worker=worker,
        columns=[column],
        pool_id=pool_id,
        connection=connection or Connection(),
    )
    results = []
    groups = pool_groups(frame, pool_id)
    known = _known_shapes(
        golden,
        frame,
        field=field.name,
        task=task,
        kind=kind,
        pools=[p for p, _ in groups],
        connection=connection or Connection(),
    )
    dropped = Dropped()
    for pool, group in groups:
        accepted = select_rows(group, statuses, [])
        rows = accepted.dropna(subset=[column])
        dropped.count(group, accepted, rows)
        logger.info("aggregating %d response(s) of pool %s locally with %s", len(rows), pool, kind)
        result = _run(
            kind,
            rows,
            column,
            task=task,
            worker=worker,
            options=options,
            resolution=resolution,
            golden=golden if known is None else known(pool),
        )
        results.append((pool, result))
    dropped.warn("aggregate_locally", len(frame), statuses, [field.name])
    meta_arrays: dict[str, list[pa.Array]] = {"pool_id": [], "task_id": [], "golden": []}
    values: list[pa.Array] = []
    for pool, result in results:
        ids = schema.id_array(result[task])
        meta_arrays["pool_id"].append(pa.array([pool] * len(result), type=pa.string()))
        meta_arrays["task_id"].append(ids)
        if golden is not None:
            meta_arrays["golden"].append(pa.array(result["golden"].to_numpy(dtype=bool)))
        values.append(pa.chunked_array(result[column].array._pa_array).combine_chunks())  # noqa: SLF001
    value_type = values[0].type if values else _empty_type(kind)
    names = ["pool_id", "task_id"] + (["golden"] if golden is not None else [])
    table = pa.table(
        {
            name: pa.chunked_array(
                meta_arrays[name], type=pa.bool_() if name == "golden" else pa.string()
            )
            for name in names
        }
        | {"__value": pa.chunked_array(values, type=value_type)}
    )
    table = table.take(
        pc.sort_indices(table, sort_keys=[("pool_id", "ascending"), ("task_id", "ascending")])
    )
    out = schema.to_pandas(table.drop_columns(["__value"]), dtype_backend=dtype_backend)
    position = 2
    out.insert(
        position,
        schema.result_column_name(field.name),
        pd.arrays.ArrowExtensionArray(table["__value"].combine_chunks()),
    )
    out.attrs[ATTRS_KEY] = schema.make_provenance(
        "local_aggregation",
        type=kind,
        fields=[field.name],
        output_spec={field.name: field.to_spec()},
        pool_ids=sorted(str(pool) for pool, _ in groups if pool is not None),
    )
    return attach_inputs(out, prepared, dtype_backend=dtype_backend)


def _empty_type(kind: str) -> pa.DataType:
    from ..aggregation._area_types import FUSED_BOX_TYPE, FUSED_POINT_TYPE, MASK_TYPE, list_of

    family = get_method(kind).kind
    if family == "boxes":
        return list_of(FUSED_POINT_TYPE if kind == "POINTS" else FUSED_BOX_TYPE)
    return MASK_TYPE
