"""Load a data directory into a server, and write one (the layout is in docs/server.md).

::

    DIR/
      skills.parquet                        optional: worker_id, skill_id, value (0..100)
      projects/<project_id>.json            project JSON; task_spec.output_spec is required
      pools/<pool_id>/pool.json             pool JSON: project_id, mixer_config?, dynamic_overlap_config?, ...
      pools/<pool_id>/responses.parquet     task_id, worker_id, [assignment_id, status, submitted], <fields>
      pools/<pool_id>/ground_truth.parquet  optional: task_id, <fields>
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InvalidArgumentError

if TYPE_CHECKING:
    from ._server import LocalTolokaServer

__all__ = ["load_directory", "write_pool", "write_skills"]

logger = logging.getLogger(__name__)

_POOL_KEYS = ("id", "project_id", "smart_mixing", "mixer_config", "dynamic_overlap_config")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidArgumentError(f"Cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidArgumentError(f"{path} must hold a JSON object")
    return data


def load_directory(server: LocalTolokaServer, root: Path) -> None:
    """Add every pool under ``root/pools`` (and ``root/skills.parquet``) to ``server``.

    Raises
    ------
    InvalidArgumentError
        If the directory, a pool's project, or a required file is missing or malformed.
    """
    pools_dir = root / "pools"
    if not pools_dir.is_dir():
        raise InvalidArgumentError(
            f"{root} is not a pandas-toloka data directory: {pools_dir} is missing"
        )
    skills_path = root / "skills.parquet"
    if skills_path.exists():
        server.add_skills(pd.read_parquet(skills_path))
    for pool_dir in sorted(p for p in pools_dir.iterdir() if p.is_dir()):
        pool = _read_json(pool_dir / "pool.json")
        project_id = str(pool.get("project_id") or pool_dir.name)
        project_path = root / "projects" / f"{project_id}.json"
        if not project_path.exists():
            raise InvalidArgumentError(
                f"Pool {pool_dir.name}: project file {project_path} is missing"
            )
        project = _read_json(project_path)
        output_spec = (project.get("task_spec") or {}).get("output_spec")
        if not isinstance(output_spec, dict):
            raise InvalidArgumentError(f"{project_path} has no task_spec.output_spec object")
        responses_path = pool_dir / "responses.parquet"
        if not responses_path.exists():
            raise InvalidArgumentError(f"Pool {pool_dir.name}: {responses_path} is missing")
        truth_path = pool_dir / "ground_truth.parquet"
        server.add_pool(
            str(pool.get("id") or pool_dir.name),
            responses=pd.read_parquet(responses_path),
            output_spec=output_spec,
            smart_mixing=bool(pool.get("smart_mixing", False)),
            project_id=project_id,
            mixer_config=pool.get("mixer_config"),
            dynamic_overlap_config=pool.get("dynamic_overlap_config"),
            ground_truth=pd.read_parquet(truth_path) if truth_path.exists() else None,
            pool_info={k: v for k, v in pool.items() if k not in _POOL_KEYS},
            project_info={k: v for k, v in project.items() if k != "id"},
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
) -> Path:
    """Write one pool (and its project) in the data-directory layout; return the pool's folder."""
    pool_dir = root / "pools" / pool_id
    pool_dir.mkdir(parents=True, exist_ok=True)
    (root / "projects").mkdir(parents=True, exist_ok=True)
    project = {
        "id": project_id,
        **dict(project_info or {}),
        "task_spec": {"input_spec": {}, "output_spec": dict(output_spec)},
    }
    (root / "projects" / f"{project_id}.json").write_text(
        json.dumps(project, indent=2), encoding="utf-8"
    )
    pool = {"id": pool_id, "project_id": project_id, **dict(pool_info or {})}
    (pool_dir / "pool.json").write_text(json.dumps(pool, indent=2), encoding="utf-8")
    responses.to_parquet(pool_dir / "responses.parquet", index=False)
    if ground_truth is not None:
        ground_truth.to_parquet(pool_dir / "ground_truth.parquet", index=False)
    return pool_dir


def write_skills(root: Path, skills: pd.DataFrame) -> Path:
    """Write the server-wide skills table; return its path."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "skills.parquet"
    skills.to_parquet(path, index=False)
    return path
