"""Provenance: what ``df.attrs["toloka"]`` holds for each kind of frame the package returns.

Every frame the package returns says where it came from under
``df.attrs[ATTRS_KEY]``: a JSON object (pandas writes ``attrs`` into Parquet
metadata) with a ``kind``, the ``output_spec`` of its fields, the library
version, and what the kind adds. The definitions below are the contract;
:func:`make_provenance` is the one writer and :func:`get_provenance` the one
reader. Never a token: only ids, names, times and the base URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, TypedDict, cast

import pandas as pd

from .._version import __version__

__all__ = [
    "ATTRS_KEY",
    "KINDS",
    "AggregatedSolutionsProvenance",
    "JoinedAggregatesProvenance",
    "LocalAggregationProvenance",
    "Provenance",
    "ProvenanceKind",
    "RankingProvenance",
    "ResponsesProvenance",
    "ResultsExportProvenance",
    "TasksProvenance",
    "WorkerQualityProvenance",
    "get_provenance",
    "make_provenance",
]

#: Key of ``DataFrame.attrs`` under which frames from this package carry their provenance.
ATTRS_KEY = "toloka"

ProvenanceKind = Literal[
    "aggregated_solutions",
    "responses",
    "results_export",
    "tasks",
    "joined_aggregates",
    "local_aggregation",
    "worker_quality",
    "agreement",
    "ranking",
]
#: Every ``kind`` a frame's provenance can have.
KINDS: tuple[ProvenanceKind, ...] = (
    "aggregated_solutions",
    "responses",
    "results_export",
    "tasks",
    "joined_aggregates",
    "local_aggregation",
    "worker_quality",
    "agreement",
    "ranking",
)


class _Base(TypedDict):
    #: The pandas-toloka that made the frame, e.g. ``"pandas-toloka 0.3.0"``.
    library: str
    #: Output spec of the frame's fields, as the API returns it (field -> spec).
    output_spec: dict[str, dict[str, Any]]


class _WithInputs(TypedDict, total=False):
    #: Input spec of the frame's input columns (``inputs=``); absent without them.
    input_spec: dict[str, dict[str, Any]]


class AggregatedSolutionsProvenance(_Base, _WithInputs):
    """``read_aggregated_solutions`` / ``iter_aggregated_solutions``: one pool's aggregation."""

    kind: Literal["aggregated_solutions"]
    pool_id: str
    operation_id: str
    type: str
    fields: list[str]
    answer_weight_skill_id: str | None
    submitted: str | None
    started: str | None
    finished: str | None
    environment: str
    base_url: str


class ResponsesProvenance(_Base, _WithInputs):
    """``read_responses`` / ``iter_responses``: one pool's raw responses."""

    kind: Literal["responses"]
    pool_id: str
    #: The assignment statuses read, or None for all.
    status: list[str] | None


class TasksProvenance(_Base):
    """``read_tasks`` / ``iter_tasks``: one pool's tasks."""

    kind: Literal["tasks"]
    pool_id: str
    #: Input spec of the input columns, as the API returns it.
    input_spec: dict[str, dict[str, Any]]


class ResultsExportProvenance(_Base):
    """``read_assignments_tsv``: a results export downloaded from the web interface."""

    kind: Literal["results_export"]
    pool_id: str
    #: The assignment statuses kept, or None for every row of the file.
    status: list[str] | None
    #: Input spec of the ``INPUT:`` columns (given, or inferred).
    input_spec: dict[str, dict[str, Any]]
    #: The fields whose types were inferred from the cells (``INPUT:<name>`` for inputs).
    inferred_fields: list[str]
    #: Whether ``task_id`` was made from the input values (the export had no task ids).
    task_ids_from_inputs: bool


class JoinedAggregatesProvenance(_Base):
    """``df.toloka.aggregate``: server answers joined onto a frame's rows."""

    kind: Literal["joined_aggregates"]
    type: str
    fields: list[str]
    answer_weight_skill_id: str | None
    #: Pool id -> the strategy used for it (``"by_task"`` or ``"by_pool"``).
    strategies: dict[str, str]


class LocalAggregationProvenance(_Base, _WithInputs):
    """``df.toloka.aggregate_locally``: responses aggregated on this machine."""

    kind: Literal["local_aggregation"]
    type: str
    fields: list[str]
    #: The pools of the input (sorted), or an empty list when it had no ``pool_id``.
    pool_ids: list[str]


class WorkerQualityProvenance(_Base):
    """``df.toloka.worker_quality``: each worker's quality under a fitted model."""

    kind: Literal["worker_quality"]
    type: str
    fields: list[str]
    pool_ids: list[str]


class AgreementProvenance(_Base):
    """``df.toloka.agreement``: how much the workers of each pool agree."""

    kind: Literal["agreement"]
    fields: list[str]
    pool_ids: list[str]
    #: Krippendorff's alpha's level of measurement.
    level: str


class RankingProvenance(_Base):
    """``df.toloka.rank`` / ``ddf.toloka.rank`` / ``aggregate_locally`` of a pairwise
    method: items ranked from side-by-side comparisons."""

    kind: Literal["ranking"]
    #: The pairwise method, e.g. ``"BRADLEY_TERRY"``.
    method: str
    #: The columns of the two items compared and of the outcome.
    left: str
    right: str
    winner: str
    #: Bootstrap replicates behind ``ci_low``/``ci_high`` (0: the intervals are the score).
    n_bootstrap: int
    #: Seed of the bootstrap (and of Elo's shuffle), or None for a method without one.
    seed: int | None
    #: The pools of the input (sorted), or an empty list when it had no ``pool_id``.
    pool_ids: list[str]


Provenance = (
    AggregatedSolutionsProvenance
    | ResponsesProvenance
    | ResultsExportProvenance
    | TasksProvenance
    | JoinedAggregatesProvenance
    | LocalAggregationProvenance
    | WorkerQualityProvenance
    | AgreementProvenance
    | RankingProvenance
)

_CLASSES: dict[str, type] = {
    "aggregated_solutions": AggregatedSolutionsProvenance,
    "responses": ResponsesProvenance,
    "results_export": ResultsExportProvenance,
    "tasks": TasksProvenance,
    "joined_aggregates": JoinedAggregatesProvenance,
    "local_aggregation": LocalAggregationProvenance,
    "worker_quality": WorkerQualityProvenance,
    "agreement": AgreementProvenance,
    "ranking": RankingProvenance,
}


def make_provenance(kind: ProvenanceKind, **values: Any) -> Provenance:
    """Build the provenance of a frame of ``kind``, checked against its definition.

    ``library`` is filled in; every other key of the kind's definition must be
    given, and nothing else. The result is plain JSON (it goes into Parquet).

    Raises
    ------
    ValueError
        If a key is missing or unknown, or a value is not JSON.
    """
    if kind not in _CLASSES:
        raise ValueError(f"unknown provenance kind {kind!r}; kinds are {list(KINDS)}")
    record: dict[str, Any] = {"kind": kind, "library": f"pandas-toloka {__version__}", **values}
    definition: Any = _CLASSES[kind]
    expected = set(definition.__required_keys__) | {"kind"}
    allowed = expected | set(definition.__optional_keys__)
    missing, unknown = expected - set(record), set(record) - allowed
    if missing or unknown:
        raise ValueError(f"{kind} provenance: missing {sorted(missing)}, unknown {sorted(unknown)}")
    # a round trip through JSON: what Parquet will keep, and a check that it is JSON
    return cast(Provenance, json.loads(json.dumps(record, allow_nan=False)))


def get_provenance(frame: pd.DataFrame) -> Provenance | None:
    """The provenance a frame of this package carries, or None for any other frame."""
    record = frame.attrs.get(ATTRS_KEY)
    if isinstance(record, Mapping) and record.get("kind") in _CLASSES:
        return cast(Provenance, dict(record))
    return None
