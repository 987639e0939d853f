"""Pools, projects and skills a server serves, validated once when added.

A :class:`Pool` is an immutable snapshot: ``add_pool`` with an existing id
replaces the snapshot atomically, so a request (or a running operation) keeps
a consistent view. Indexes a request needs (accepted responses by task,
assignments by id) are built lazily, once, under the pool's lock.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InvalidArgumentError, MissingColumnsError
from ..schema import InputField, OutputField, parse_input_spec, parse_output_spec
from ._ingest import ASSIGNMENT_STATUSES, column_name, normalize_responses, string_column
from ._serialize import format_datetime, utc_now
from ._tasks import TaskTable

__all__ = ["ASSIGNMENT_STATUSES", "Pool", "Project", "Store", "column_name", "normalize_responses"]

_versions = itertools.count(1)


@dataclass(frozen=True)
class Project:
    """A project: its id, output spec, input spec and extra JSON fields."""

    id: str
    fields: dict[str, OutputField]
    info: dict[str, Any] = field(default_factory=dict)
    created: datetime = field(default_factory=utc_now)
    inputs: dict[str, InputField] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The project as ``GET /projects/{id}`` returns it."""
        out: dict[str, Any] = {
            "public_name": f"Project {self.id}",
            "public_description": "",
            "status": "ACTIVE",
            "created": format_datetime(self.created),
        }
        out.update(self.info)
        task_spec = dict(out.get("task_spec") or {})
        if self.inputs:
            task_spec["input_spec"] = {name: f.to_spec() for name, f in self.inputs.items()}
        task_spec.setdefault("input_spec", {})
        task_spec["output_spec"] = {name: f.to_spec() for name, f in self.fields.items()}
        out["task_spec"] = task_spec
        out["id"] = self.id
        return out


@dataclass
class AssignmentIndex:
    """Responses of one status filter sorted by assignment id, with group starts."""

    rows: pa.Table
    ids: pa.Array  # unique assignment ids, ascending
    starts: np.ndarray  # len(ids) + 1 row offsets into ``rows``


class Pool:
    """One pool's immutable data and its lazily built indexes."""

    def __init__(
        self,
        pool_id: str,
        project: Project,
        responses: pa.Table,
        tasks: TaskTable,
        *,
        mixer_config: Mapping[str, Any] | None,
        dynamic_overlap_config: Mapping[str, Any] | None,
        info: Mapping[str, Any] | None = None,
        ground_truth: pd.DataFrame | None = None,
        created: datetime | None = None,
    ) -> None:
        self.id = pool_id
        self.project = project
        self.tasks = tasks
        # Each response's row in the task table: assignments embed their tasks' inputs.
        self.responses = responses.append_column(
            "task_pos", tasks.positions(responses.column("task_id")).cast(pa.int64())
        )
        self.mixer_config = dict(mixer_config) if mixer_config is not None else None
        self.dynamic_overlap_config = (
            dict(dynamic_overlap_config) if dynamic_overlap_config is not None else None
        )
        self.info = dict(info or {})
        self.ground_truth = ground_truth
        self.created = created or utc_now()
        self.version = next(_versions)
        self._lock = threading.Lock()
        self._accepted: tuple[pd.DataFrame, pa.Array] | None = None
        self._assignments: dict[str | None, AssignmentIndex] = {}

    @property
    def fields(self) -> dict[str, OutputField]:
        """The project's output fields."""
        return self.project.fields

    @property
    def has_mixer(self) -> bool:
        """Whether aggregation by skill is allowed (smart mixing or dynamic overlap)."""
        return self.mixer_config is not None or self.dynamic_overlap_config is not None

    def to_json(self) -> dict[str, Any]:
        """The pool as ``GET /pools/{id}`` returns it."""
        out: dict[str, Any] = {
            "private_name": f"Pool {self.id}",
            "status": "CLOSED",
            "created": format_datetime(self.created),
            "may_contain_adult_content": False,
        }
        out.update(self.info)
        out["id"] = self.id
        out["project_id"] = self.project.id
        if self.mixer_config is not None:
            out["mixer_config"] = self.mixer_config
        if self.dynamic_overlap_config is not None:
            out["dynamic_overlap_config"] = self.dynamic_overlap_config
        return out

    def accepted(self) -> tuple[pd.DataFrame, pa.Array]:
        """ACCEPTED responses as a DataFrame sorted by task id, and its task ids as Arrow."""
        with self._lock:
            if self._accepted is None:
                table = self.responses.filter(pc.equal(self.responses.column("status"), "ACCEPTED"))
                table = table.take(pc.sort_indices(table, sort_keys=[("task_id", "ascending")]))
                table = table.select(["task_id", "worker_id", *map(column_name, self.fields)])
                table = pa.table(
                    {
                        name: pc.cast(col, col.type.value_type)
                        if pa.types.is_dictionary(col.type)
                        else col
                        for name, col in zip(table.column_names, table.columns)
                    }
                )
                frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
                self._accepted = (frame, table.column("task_id").combine_chunks())
            return self._accepted

    def task_rows(self, task_id: str) -> pd.DataFrame:
        """The ACCEPTED responses to one task (O(log n) lookup)."""
        from ._serialize import key_range

        frame, keys = self.accepted()
        lo, hi = key_range(keys, gte=task_id, lte=task_id)
        return frame.iloc[lo:hi]

    def has_task(self, task_id: str) -> bool:
        """Whether any response (of any status) answers ``task_id``."""
        if len(self.task_rows(task_id)):
            return True
        return bool(pc.any(pc.equal(self.responses.column("task_id"), task_id)).as_py())

    def assignments(self, status: str | None) -> AssignmentIndex:
        """Responses with ``status`` (all if None) grouped by assignment id, ascending."""
        with self._lock:
            index = self._assignments.get(status)
            if index is None:
                table = self.responses
                if status is not None:
                    table = table.filter(pc.equal(table.column("status"), status))
                table = table.combine_chunks()
                ids = table.column("assignment_id")
                if (
                    table.num_rows > 1
                    and not pc.all(
                        pc.less_equal(ids.slice(0, table.num_rows - 1), ids.slice(1))
                    ).as_py()
                ):
                    table = table.take(
                        pc.sort_indices(table, sort_keys=[("assignment_id", "ascending")])
                    )
                    table = table.combine_chunks()
                ids = (
                    table.column("assignment_id").combine_chunks()
                    if table.num_rows
                    else pa.array([], pa.string())
                )
                if len(ids) > 1:
                    change = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1))
                    starts = np.concatenate(
                        [[0], np.flatnonzero(change.to_numpy(zero_copy_only=False)) + 1]
                    )
                else:
                    starts = np.arange(len(ids), dtype=np.int64)
                unique = ids.take(pa.array(starts, pa.int64())) if len(starts) else ids
                index = AssignmentIndex(table, unique, np.append(starts, len(ids)).astype(np.int64))
                self._assignments[status] = index
            return index


class Store:
    """Thread-safe registry of the pools, projects and skills a server serves."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._pools: dict[str, Pool] = {}
        self._projects: dict[str, Project] = {}
        self._skills = pd.DataFrame(
            {
                "skill_id": pd.Series([], dtype=str),
                "worker_id": pd.Series([], dtype=str),
                "value": pd.Series([], dtype=float),
                "created": pd.Series([], dtype=str),
                "modified": pd.Series([], dtype=str),
            }
        )

    def pool(self, pool_id: str) -> Pool | None:
        with self._lock:
            return self._pools.get(pool_id)

    def pools(self) -> list[Pool]:
        with self._lock:
            return sorted(self._pools.values(), key=lambda p: p.id)

    def project(self, project_id: str) -> Project | None:
        with self._lock:
            return self._projects.get(project_id)

    def projects(self) -> list[Project]:
        with self._lock:
            return sorted(self._projects.values(), key=lambda p: p.id)

    def skills(self) -> pd.DataFrame:
        """All skill values: ``skill_id``, ``worker_id``, ``value`` (0..100), ``created``,
        ``modified`` (served datetime text), sorted."""
        with self._lock:
            return self._skills

    def add_project(
        self,
        project_id: str,
        output_spec: Mapping[str, Any],
        info: Mapping[str, Any] | None = None,
        input_spec: Mapping[str, Any] | None = None,
    ) -> Project:
        """Register a project, or return the existing one if its specs are the same."""
        fields = parse_output_spec(output_spec)
        inputs = parse_input_spec(input_spec)
        with self._lock:
            existing = self._projects.get(project_id)
            if existing is not None:
                for kind, old, new in (
                    ("output", existing.fields, fields),
                    ("input", existing.inputs, inputs),
                ):
                    if old != new:
                        raise InvalidArgumentError(
                            f"Project {project_id!r} already exists with another {kind} spec; "
                            "give the pool another project_id."
                        )
                return existing
            project = Project(project_id, fields, dict(info or {}), inputs=inputs)
            self._projects[project_id] = project
            return project

    def put_pool(self, pool: Pool) -> None:
        with self._lock:
            self._pools[pool.id] = pool

    def add_skills(self, skills: pd.DataFrame) -> None:
        """Merge skill values in (a new value for a (skill, worker) replaces the old one)."""
        if not isinstance(skills, pd.DataFrame):
            raise InvalidArgumentError(
                f"skills must be a pandas DataFrame, got {type(skills).__name__}"
            )
        missing = [c for c in ("worker_id", "skill_id", "value") if c not in skills.columns]
        if missing:
            raise MissingColumnsError(missing, list(skills.columns), purpose="as skills")
        frame = pd.DataFrame(
            {
                "skill_id": string_column(skills, "skill_id").to_numpy(zero_copy_only=False),
                "worker_id": string_column(skills, "worker_id").to_numpy(zero_copy_only=False),
                "value": pd.to_numeric(skills["value"], errors="coerce").to_numpy(dtype=float),
            }
        )
        bad = (
            ~np.isfinite(frame["value"].to_numpy())
            | (frame["value"] < 0).to_numpy()
            | (frame["value"] > 100).to_numpy()
        )
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            value = skills["value"].iloc[row]
            value = value.item() if isinstance(value, np.generic) else value
            raise InvalidArgumentError(
                f"Skill values must be numbers in 0..100; row {row} has {value!r}"
            )
        now = format_datetime(utc_now())
        frame["modified"] = now
        with self._lock:
            # A value given again is modified now; it keeps the time it was first created.
            first = self._skills.set_index(["skill_id", "worker_id"])["created"]
            keys = pd.MultiIndex.from_arrays([frame["skill_id"], frame["worker_id"]])
            frame["created"] = first.reindex(keys).fillna(now).to_numpy()
            merged = pd.concat([self._skills, frame], ignore_index=True)
            merged = merged.drop_duplicates(["skill_id", "worker_id"], keep="last")
            self._skills = merged.sort_values(["skill_id", "worker_id"], kind="stable").reset_index(
                drop=True
            )
