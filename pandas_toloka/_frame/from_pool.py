"""What local aggregation reads from the pool when asked: control tasks' answers and skills.

``golden="pool"`` takes the known solutions of the pool's control tasks: from the
frame's own ``golden.<field>`` columns when it has them (a results export, no
request), else with :func:`~pandas_toloka.read_tasks` through the connection the
caller gave (``client=`` or ``token=``/``environment=``/``url=``). Local
``WEIGHTED_DYNAMIC_OVERLAP`` without ``skills=`` reads them with
:func:`~pandas_toloka.read_user_skills` the same way. Several known solutions per
task and their ``correctness_weight`` are resolved by
:func:`pandas_toloka.aggregation._golden.anchor_labels` (docs/local-aggregation.md).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._read.args import id_text
from .._read.connect import check_credentials, client_scope
from ..aggregation._golden import (
    GOLDEN_PREFIX,
    KnownSolutions,
    anchor_labels,
    known_from_mapping,
    known_solutions_from_frame,
)
from ..client import Client
from ..errors import InvalidArgumentError, TolokaWarning
from ..tasks import read_tasks, read_user_skills

__all__ = ["Connection", "GoldenLabels", "PoolTasks", "pool_skills", "resolve_golden"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Connection:
    """``client=`` or ``token=``/``environment=``/``url=`` of a local method, as given."""

    client: Client | None = None
    token: str | None = None
    environment: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        check_credentials(self.client, token=self.token, environment=self.environment, url=self.url)

    @property
    def given(self) -> bool:
        """Whether the caller named a server (a client, a token or a URL)."""
        return any(v is not None for v in (self.client, self.token, self.environment, self.url))

    def scope(self) -> Any:
        """The client to use, closed afterwards when made here."""
        return client_scope(
            self.client, token=self.token, environment=self.environment, url=self.url
        )


@dataclass(frozen=True)
class GoldenLabels:
    """The control tasks' known solutions, per pool (None: the same for every pool)."""

    by_pool: Mapping[str | None, KnownSolutions]

    def known(self, pool: str | None) -> KnownSolutions:
        """Every known solution of the pool's control tasks (task -> {label: weight})."""
        if None in self.by_pool:
            return self.by_pool[None]
        return self.by_pool.get(pool, {})

    def anchors(self, pool: str | None) -> dict[object, object]:
        """Task id -> the one label the pool's aggregation is anchored on."""
        anchors, _ = anchor_labels(self.known(pool))
        return anchors


class PoolTasks:
    """The pools' tasks, read with :func:`read_tasks` at most once per call.

    ``golden="pool"`` and ``inputs=`` of one ``aggregate_locally`` call share them.
    """

    def __init__(self, connection: Connection, *, purpose: str) -> None:
        self._connection = connection
        self._purpose = purpose
        self._read: dict[str, pd.DataFrame] = {}

    def read(self, pools: Sequence[str | None]) -> dict[str, pd.DataFrame]:
        """Each pool's tasks (one client for the pools not read yet)."""
        if any(pool is None for pool in pools):
            raise InvalidArgumentError(
                f"{self._purpose} needs the pool: the frame has no pool_id column nor attrs "
                "naming it; pass pool_id=."
            )
        wanted = [str(pool) for pool in pools]
        missing = [pool for pool in wanted if pool not in self._read]
        if missing:
            with self._connection.scope() as client:
                for pool in missing:
                    self._read[pool] = read_tasks(
                        id_text(pool, name="pool_id"), client=client, progress_bar=False
                    )
                    logger.info("pool %s: %d task(s) read", pool, len(self._read[pool]))
        return {pool: self._read[pool] for pool in wanted}


def resolve_golden(
    golden: Any,
    frame: pd.DataFrame,
    *,
    field: str,
    task: Hashable,
    pools: Sequence[str | None],
    connection: Connection,
    tasks: PoolTasks | None = None,
) -> GoldenLabels | None:
    """``golden=`` of a local method as known solutions per pool, read when ``"pool"``.

    Raises
    ------
    InvalidArgumentError
        For an unknown string, ``"pool"`` with neither ``golden.<field>`` columns
        nor a connection, or a pool that cannot be named.
    """
    if golden is None:
        return None
    if isinstance(golden, str):
        if golden != "pool":
            raise InvalidArgumentError(
                f"golden must be 'pool', a frame of tasks, or a mapping/Series of task id -> "
                f"label, got {golden!r}."
            )
        if GOLDEN_PREFIX + field in frame.columns:  # a results export: no request
            known = known_solutions_from_frame(frame, field=field, task=task)
            return _checked({None: known})
        if not connection.given:
            raise InvalidArgumentError(
                f"golden='pool' reads the pool's control tasks with read_tasks: pass client= "
                f"(or token=/url=), or pass their frame as golden=; this frame has no "
                f"{GOLDEN_PREFIX + field!r} column to take them from."
            )
        tasks = tasks or PoolTasks(connection, purpose="golden='pool'")
        return _checked(_read_pools(pools, field=field, tasks=tasks))
    if isinstance(golden, pd.DataFrame):
        own_task = task if task in golden.columns else "task_id"
        return _checked({None: known_solutions_from_frame(golden, field=field, task=own_task)})
    return GoldenLabels({None: known_from_mapping(golden)})


def _read_pools(
    pools: Sequence[str | None], *, field: str, tasks: PoolTasks
) -> dict[str | None, KnownSolutions]:
    out: dict[str | None, KnownSolutions] = {}
    for pool, frame in tasks.read(pools).items():
        out[pool] = known_solutions_from_frame(frame, field=field, task="task_id")
        logger.info("pool %s: %d control task(s) read", pool, len(out[pool]))
    return out


def _checked(by_pool: dict[str | None, KnownSolutions]) -> GoldenLabels:
    tied = sum(len(anchor_labels(known)[1]) for known in by_pool.values())
    if tied:
        warnings.warn(
            f"{tied} control task(s) have known solutions that tie (several labels of the "
            "same correctness weight): no label is anchored for them; they are aggregated "
            "from their responses, and scored by every known solution.",
            TolokaWarning,
            stacklevel=4,
        )
    return GoldenLabels(by_pool)


def pool_skills(connection: Connection, skill_id: str | int | None) -> pd.DataFrame:
    """The skill values local ``WEIGHTED_DYNAMIC_OVERLAP`` weighs answers by, read from the API.

    ``worker_id`` and ``value`` (the exact value, as the server aggregates with it).
    """
    if skill_id is None:
        raise InvalidArgumentError(
            "WEIGHTED_DYNAMIC_OVERLAP without skills= reads the skill with read_user_skills: "
            "pass answer_weight_skill_id= (the pool's dynamic overlap skill)."
        )
    with connection.scope() as client:
        skills = read_user_skills(skill_id=skill_id, client=client)
    logger.info("skill %s: %d worker value(s) read", skill_id, len(skills))
    return pd.DataFrame(
        {"worker_id": skills["worker_id"].array, "value": skills["exact_value"].array}
    )
