"""Load a data directory into a server, and write one (the layout is in docs/server.md).

::

    DIR/
      skills.parquet                        optional: worker_id, skill_id, value (0..100)
      projects/<project_id>.json            project JSON; task_spec.output_spec is required
      pools/<pool_id>/pool.json             pool JSON: project_id, mixer_config?, dynamic_overlap_config?, ...
      pools/<pool_id>/responses.parquet     task_id, worker_id, [assignment_id, status, submitted], <fields>
      pools/<pool_id>/ground_truth.parquet  optional: task_id, <fields>
      pools/<pool_id>/tasks.parquet         optional: task_id, <input fields>, known_solutions?, ...
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa

from ..errors import InvalidArgumentError, TolokaError
from ..schema import parse_output_spec

__all__ = ["PoolSink", "load_directory", "write_pool", "write_skills"]

logger = logging.getLogger(__name__)

_POOL_KEYS = ("id", "project_id", "smart_mixing", "mixer_config", "dynamic_overlap_config")


class PoolSink(Protocol):
    """What a data directory is loaded into (a ``LocalTolokaServer``, without importing it)."""

    def add_pool(
        self,
        pool_id: str,
        *,
        responses: pd.DataFrame,
        output_spec: Mapping[str, Any],
        smart_mixing: bool,
        project_id: str,
        dynamic_overlap_config: Mapping[str, Any] | None,
        mixer_config: Mapping[str, Any] | None,
        ground_truth: pd.DataFrame | None,
        pool_info: Mapping[str, Any] | None,
        project_info: Mapping[str, Any] | None,
        tasks: pd.DataFrame | None,
        input_spec: Mapping[str, Any] | None,
    ) -> None: ...

    def add_skills(self, skills: pd.DataFrame) -> None: ...


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InvalidArgumentError(f"{path} is missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidArgumentError(f"Cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidArgumentError(f"{path} must hold a JSON object")
    return data


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InvalidArgumentError(f"Cannot read {path} as Parquet: {exc}") from exc


@contextlib.contextmanager
def _naming(source: Path | str) -> Iterator[None]:
    """Re-raise a data error (missing column, bad value, ...) with the file it came from."""
    try:
        yield
    except TolokaError as exc:
        raise InvalidArgumentError(f"{source}: {exc}") from exc


def _pool_options(pool: dict[str, Any], path: Path) -> dict[str, Any]:
    """``smart_mixing``, ``mixer_config`` and ``dynamic_overlap_config`` of a pool.json, checked."""
    smart_mixing = pool.get("smart_mixing", False)
    if not isinstance(smart_mixing, bool):
        raise InvalidArgumentError(
            f"{path}: smart_mixing must be true or false, got {smart_mixing!r}"
        )
    options: dict[str, Any] = {"smart_mixing": smart_mixing}
    for key in ("mixer_config", "dynamic_overlap_config"):
        value = pool.get(key)
        if value is not None and not isinstance(value, dict):
            raise InvalidArgumentError(f"{path}: {key} must be a JSON object, got {value!r}")
        options[key] = value
    return options


def load_directory(server: PoolSink, root: Path) -> None:
    """Add every pool under ``root/pools`` (and ``root/skills.parquet``) to ``server``.

    Folders under ``pools`` whose name starts with a dot (``.ipynb_checkpoints``, ...)
    are skipped.

    Raises
    ------
    InvalidArgumentError
        If the directory, a pool's project, or a required file is missing or
        malformed, or a file's data does not fit (missing column, a value the
        output spec does not allow, a skill outside 0..100); the message names
        the file.
    """
    pools_dir = root / "pools"
    if not pools_dir.is_dir():
        raise InvalidArgumentError(
            f"{root} is not a pandas-toloka data directory: {pools_dir} is missing"
        )
    skills_path = root / "skills.parquet"
    if skills_path.exists():
        skills = _read_parquet(skills_path)
        with _naming(skills_path):
            server.add_skills(skills)
    pool_dirs = (p for p in pools_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    for pool_dir in sorted(pool_dirs):
        pool_path = pool_dir / "pool.json"
        pool = _read_json(pool_path)
        options = _pool_options(pool, pool_path)
        project_id = str(pool.get("project_id") or pool_dir.name)
        project_path = root / "projects" / f"{project_id}.json"
        if not project_path.is_file():
            raise InvalidArgumentError(
                f"Pool {pool_dir.name}: project file {project_path} is missing"
            )
        project = _read_json(project_path)
        output_spec = (project.get("task_spec") or {}).get("output_spec")
        if not isinstance(output_spec, dict):
            raise InvalidArgumentError(f"{project_path} has no task_spec.output_spec object")
        with _naming(project_path):
            parse_output_spec(output_spec)
        responses_path = pool_dir / "responses.parquet"
        if not responses_path.is_file():
            raise InvalidArgumentError(f"Pool {pool_dir.name}: {responses_path} is missing")
        responses = _read_parquet(responses_path)
        input_spec = (project.get("task_spec") or {}).get("input_spec") or None
        if input_spec is not None and not isinstance(input_spec, dict):
            raise InvalidArgumentError(f"{project_path}: task_spec.input_spec must be an object")
        tasks_path = pool_dir / "tasks.parquet"
        tasks = _read_parquet(tasks_path) if tasks_path.exists() else None
        truth_path = pool_dir / "ground_truth.parquet"
        truth = _read_parquet(truth_path) if truth_path.exists() else None
        if truth is not None and "task_id" not in truth.columns:
            raise InvalidArgumentError(f"{truth_path} needs a task_id column")
        with _naming(f"Pool {pool_dir.name} ({responses_path})"):
            server.add_pool(
                str(pool.get("id") or pool_dir.name),
                responses=responses,
                output_spec=output_spec,
                project_id=project_id,
                ground_truth=truth,
                tasks=tasks,
                input_spec=input_spec,
                pool_info={k: v for k, v in pool.items() if k not in _POOL_KEYS},
                project_info={k: v for k, v in project.items() if k != "id"},
                **options,
            )
        logger.info("loaded pool %s from %s", pool_dir.name, pool_dir)


def write_pool(
    root: Path,
    pool_id: str,
    *,
    responses: pd.DataFrame,
    output_spec: Mapping[str, Any],
    project_id: str,
    pool_info: Mapping[str, Any] | None = None,
    project_info: Mapping[str, Any] | None = None,
    ground_truth: pd.DataFrame | None = None,
    tasks: pd.DataFrame | None = None,
    input_spec: Mapping[str, Any] | None = None,
) -> Path:
    """Write one pool (and its project) in the data-directory layout; return the pool's folder."""
    pool_dir = root / "pools" / pool_id
    pool_dir.mkdir(parents=True, exist_ok=True)
    (root / "projects").mkdir(parents=True, exist_ok=True)
    project = {
        "id": project_id,
        **dict(project_info or {}),
        "task_spec": {"input_spec": dict(input_spec or {}), "output_spec": dict(output_spec)},
    }
    (root / "projects" / f"{project_id}.json").write_text(
        json.dumps(project, indent=2), encoding="utf-8"
    )
    pool = {"id": pool_id, "project_id": project_id, **dict(pool_info or {})}
    (pool_dir / "pool.json").write_text(json.dumps(pool, indent=2), encoding="utf-8")
    responses.to_parquet(pool_dir / "responses.parquet", index=False)
    if ground_truth is not None:
        ground_truth.to_parquet(pool_dir / "ground_truth.parquet", index=False)
    if tasks is not None:
        tasks.to_parquet(pool_dir / "tasks.parquet", index=False)
    return pool_dir


def write_skills(root: Path, skills: pd.DataFrame) -> Path:
    """Write the server-wide skills table; return its path."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "skills.parquet"
    skills.to_parquet(path, index=False)
    return path
