"""Aggregation requests: validation, and running the algorithms on a pool.

The algorithms themselves live in :mod:`pandas_toloka.aggregation`; this
module checks a request the way Toloka does, feeds the pool's ACCEPTED
responses to the algorithm and turns its answer into a results table sorted by
``task_id`` (``task_id``, ``confidence``, one ``out.<field>`` column per field).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._protocol import AggregationType
from ..aggregation._memory import DEFAULT_MAX_MEMORY, em_memory
from ..schema import OutputField, field_to_arrow, label_space, options_count
from ._errors import ApiError, not_found, validation_error
from ._store import Pool, Store, column_name

__all__ = ["ALGORITHMS", "AggregationRequest", "Aggregator", "check_request", "parse_request"]

ALGORITHMS = tuple(kind.value for kind in AggregationType)


@dataclass(frozen=True)
class AggregationRequest:
    """A validated aggregation request body."""

    type: str
    pool_id: str
    fields: tuple[str, ...]
    skill_id: str | None = None
    task_id: str | None = None


def _id(body: Mapping[str, Any], key: str, *, required: bool) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise validation_error(key, f"{key} is required", code="VALUE_REQUIRED")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise validation_error(key, f"{key} must be a string", code="VALUE_INVALID")
    return str(value)


def parse_request(body: Any, *, by_task: bool) -> AggregationRequest:
    """Check the shape of an aggregation body (400 ``VALIDATION_ERROR`` naming the path)."""
    if not isinstance(body, dict):
        raise ApiError(400, "VALIDATION_ERROR", "The request body must be a JSON object")
    kind = body.get("type")
    if kind is None:
        raise validation_error("type", "type is required", code="VALUE_REQUIRED")
    if kind not in ALGORITHMS:
        raise validation_error(
            "type", f"type must be one of {list(ALGORITHMS)}", code="VALUE_INVALID"
        )
    pool_id = _id(body, "pool_id", required=True)
    task_id = _id(body, "task_id", required=True) if by_task else None
    fields = body.get("fields")
    if not isinstance(fields, list) or not fields:
        raise validation_error(
            "fields", "fields must be a non-empty list of {name}", code="VALUE_REQUIRED"
        )
    names = []
    for i, item in enumerate(fields):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            raise validation_error(
                f"fields[{i}].name", "a field name is required", code="VALUE_REQUIRED"
            )
        if name in names:
            raise validation_error(
                f"fields[{i}].name", f"field {name!r} is repeated", code="VALUE_INVALID"
            )
        names.append(name)
    skill_id = None
    if kind == "DAWID_SKENE":
        if len(names) != 1:
            raise validation_error(
                "fields", "DAWID_SKENE aggregates exactly one field", code="VALUE_INVALID"
            )
    else:
        skill_id = _id(body, "answer_weight_skill_id", required=True)
    assert pool_id is not None
    return AggregationRequest(kind, pool_id, tuple(names), skill_id, task_id)


def check_request(request: AggregationRequest, store: Store) -> Pool:
    """Check the request against the data: 404 pool/task/skill, 400 fields, 409 mixer."""
    pool = store.pool(request.pool_id)
    if pool is None:
        raise not_found("Pool", request.pool_id)
    for i, name in enumerate(request.fields):
        field = pool.fields.get(name)
        if field is None:
            raise validation_error(
                f"fields[{i}].name",
                f"field {name!r} is not in the project's output spec ({sorted(pool.fields)})",
                code="VALUE_INVALID",
            )
        if not field.is_aggregatable:
            raise validation_error(
                f"fields[{i}].name",
                f"field {name!r} of type {field.type} cannot be aggregated",
                code="VALUE_INVALID",
            )
    if request.type == "WEIGHTED_DYNAMIC_OVERLAP":
        if not pool.has_mixer:
            raise ApiError(
                409,
                "ONLY_FOR_POOL_WITH_MIXER",
                f"Pool {pool.id!r} has neither smart mixing nor dynamic overlap: aggregation by skill is not allowed",
            )
        skills = store.skills()
        if not (skills["skill_id"] == request.skill_id).any():
            raise not_found("Skill", str(request.skill_id))
    if request.task_id is not None and not pool.has_task(request.task_id):
        raise not_found("Task", f"{request.task_id} in pool {pool.id}")
    return pool


def result_table(frame: pd.DataFrame, fields: list[OutputField]) -> pa.Table:
    """Turn an algorithm's output into the results table, sorted by ``task_id``."""
    task_ids = pa.array(frame["task_id"].astype(str).to_numpy(dtype=object), type=pa.string())
    columns: dict[str, Any] = {
        "task_id": task_ids,
        "confidence": pa.array(frame["confidence"].to_numpy(dtype=float), type=pa.float64()),
    }
    for field in fields:
        values = frame[column_name(field.name)]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        columns[column_name(field.name)] = field_to_arrow(values, field, task_ids=task_ids)
    table = pa.table(columns)
    return table.take(pc.sort_indices(table, sort_keys=[("task_id", "ascending")])).combine_chunks()


class Aggregator:
    """Runs aggregations for a store; caches the Dawid–Skene model per (pool, field).

    Parameters
    ----------
    store : Store
    max_memory : int, default 1 GiB
        Dawid–Skene fits whose dense arrays would need more bytes are refused
        when requested (:meth:`check_size`), before any operation starts.
    """

    def __init__(self, store: Store, *, max_memory: int = DEFAULT_MAX_MEMORY) -> None:
        self.store = store
        self.max_memory = max_memory
        self._lock = threading.Lock()
        self._models: dict[tuple[str, int, str], Any] = {}
        self._fitting: dict[tuple[str, int, str], threading.Lock] = {}
        self._sizes: dict[tuple[str, int, str], tuple[int, int, int]] = {}

    def fit_size(self, pool: Pool, field_name: str) -> tuple[int, int, int]:
        """``(tasks, workers, labels)`` of the Dawid–Skene fit of one field (cached per pool version).

        The labels are the field's label space when it is bounded, else the
        distinct answers given (free text, FLOAT, a wide INTEGER range).
        """
        key = (pool.id, pool.version, field_name)
        with self._lock:
            size = self._sizes.get(key)
        if size is None:
            frame, _ = pool.accepted()
            column = column_name(field_name)
            answered = frame[["task_id", "worker_id", column]].dropna(subset=[column])
            space = label_space(pool.fields[field_name])
            n_labels = len(space) if space is not None else int(answered[column].nunique())
            size = (
                int(answered["task_id"].nunique()),
                int(answered["worker_id"].nunique()),
                n_labels,
            )
            with self._lock:
                self._sizes = {k: v for k, v in self._sizes.items() if k[0] != pool.id}
                self._sizes[key] = size
        return size

    def check_size(self, request: AggregationRequest, pool: Pool) -> None:
        """Refuse (400) a Dawid–Skene request whose fit would need more than ``max_memory``.

        Toloka advises aggregating only fields with a limited set of values; a
        free-text field with thousands of distinct answers would make the
        confusion matrices (workers x labels x labels) gigabytes.
        """
        if request.type != "DAWID_SKENE":
            return
        name = request.fields[0]
        n_tasks, n_workers, n_labels = self.fit_size(pool, name)
        needed = em_memory(n_tasks, n_workers, n_labels)
        if needed > self.max_memory:
            raise validation_error(
                "fields[0].name",
                f"field {name!r} has {n_labels:,} distinct answers from {n_workers:,} workers: "
                f"DAWID_SKENE would need about {needed / (1 << 30):.1f} GiB, more than this "
                f"server allows ({self.max_memory / (1 << 30):.1f} GiB). Aggregate a field with "
                "a limited set of values (allowed_values, BOOLEAN, a small INTEGER range), or "
                "use WEIGHTED_DYNAMIC_OVERLAP",
                code="VALUE_INVALID",
            )

    def dawid_skene_model(self, pool: Pool, field_name: str) -> Any:
        """The Dawid–Skene model fitted on the pool's ACCEPTED answers to one field (cached)."""
        from ..aggregation.dawid_skene import fit_dawid_skene

        key = (pool.id, pool.version, field_name)
        with self._lock:
            if key in self._models:
                return self._models[key]
            fit_lock = self._fitting.setdefault(key, threading.Lock())
        with fit_lock:
            with self._lock:
                if key in self._models:
                    return self._models[key]
            frame, _ = pool.accepted()
            column = column_name(field_name)
            frame = frame[["task_id", "worker_id", column]].dropna(subset=[column])
            model = fit_dawid_skene(
                frame,
                task="task_id",
                worker="worker_id",
                label=column,
                labels=label_space(pool.fields[field_name]),
                max_memory=self.max_memory,
            )
            with self._lock:
                # Drop models of replaced versions of the pool.
                for old in [k for k in self._models if k[0] == pool.id and k[1] != pool.version]:
                    del self._models[old]
                self._models[key] = model
                self._fitting.pop(key, None)
            return model

    def _weighted(
        self, pool: Pool, frame: pd.DataFrame, request: AggregationRequest
    ) -> pd.DataFrame:
        from ..aggregation import weighted_dynamic_overlap

        skills = self.store.skills()
        skills = skills.loc[skills["skill_id"] == request.skill_id, ["worker_id", "value"]]
        fields = [pool.fields[name] for name in request.fields]
        columns = [column_name(f.name) for f in fields]
        frame = frame[["task_id", "worker_id", *columns]].dropna(subset=columns)
        full, _ = pool.accepted()
        n_options: dict[Hashable, int] = {
            column_name(f.name): options_count(f, int(full[column_name(f.name)].nunique()))
            for f in fields
        }
        return weighted_dynamic_overlap(
            frame,
            skills,
            fields=columns,
            n_options=n_options,
            task="task_id",
            worker="worker_id",
            skill_worker="worker_id",
            skill_value="value",
        )

    def aggregate_pool(
        self, request: AggregationRequest, pool: Pool, progress: Callable[[int], None] | None = None
    ) -> pa.Table:
        """Aggregate the whole pool; return the results table sorted by ``task_id``."""
        fields = [pool.fields[name] for name in request.fields]
        if request.type == "DAWID_SKENE":
            frame = self.dawid_skene_model(pool, request.fields[0]).to_frame()
        else:
            accepted, _ = pool.accepted()
            frame = self._weighted(pool, accepted, request)
        if progress is not None:
            progress(90)
        return result_table(frame, fields)

    def aggregate_task(self, request: AggregationRequest, pool: Pool) -> dict[str, Any]:
        """Aggregate one task; return the aggregated solution JSON object."""
        assert request.task_id is not None
        fields = [pool.fields[name] for name in request.fields]
        if request.type == "DAWID_SKENE":
            model = self.dawid_skene_model(pool, request.fields[0])
            try:
                answer = model.task_result(request.task_id)
            except KeyError:
                raise not_found("Accepted solutions of task", request.task_id) from None
            frame = pd.DataFrame(
                {
                    "task_id": [request.task_id],
                    column_name(fields[0].name): [answer["label"]],
                    "confidence": [answer["confidence"]],
                }
            )
        else:
            frame = self._weighted(pool, pool.task_rows(request.task_id), request)
            if frame.empty:
                raise not_found("Accepted solutions of task", request.task_id)
        row = result_table(frame, fields).to_pylist()[0]
        return {
            "pool_id": pool.id,
            "task_id": row["task_id"],
            "confidence": row["confidence"],
            "output_values": {f.name: row[column_name(f.name)] for f in fields},
        }
