"""Tasks and labeled datasets of many pools: one partition per pool.

:func:`read_tasks` is :func:`pandas_toloka.read_tasks` of each pool on a worker.
:func:`read_labeled_dataset` gives, per pool, its tasks left-joined with their
aggregated answers (:mod:`pandas_toloka._read.dataset`). Unlike
:func:`~pandas_toloka.dask.read_aggregated_solutions`, whose driver starts every
aggregation before any partition runs, each partition starts its own pool's
aggregation, waits for it and reads it while holding one lease of a semaphore of
``max_concurrency`` leases (a :class:`distributed.Semaphore` on a cluster, a
process-local one on the local schedulers): a thousand pools never have more than
``max_concurrency`` operations started and not yet read, so none waits for its
partition long enough to be evicted by the server.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from typing import Any

import dask.dataframe as dd
import pandas as pd
import pyarrow as pa

from .. import schema
from .. import tasks as _tasks
from .._config import MAX_CONCURRENT_OPERATIONS, SOLUTIONS_PAGE_SIZE, TASKS_PAGE_SIZE, WAIT_TIMEOUT
from .._protocol import AggregationTypeName
from .._read.args import (
    check_page_size,
    dataset_inputs,
    field_names,
    resolve_inputs,
    table_inputs,
)
from .._read.dataset import join_labeled, read_labeled_table
from .._read.tasks import tasks_to_table
from ..client import AggregationType, Client
from ..errors import InvalidArgumentError
from ..schema import DtypeBackend, InputField, OutputField
from ._credentials import ClientDescription, Credentials, Lease, worker_client
from ._frames import conform, keep_dtypes, shared_driver, union_meta
from ._start import check_pool_ids, check_positive, run_in_threads

__all__ = ["read_labeled_dataset", "read_tasks"]

logger = logging.getLogger(__name__)

Spec = tuple[list[InputField], list[OutputField]]

_local_lock = threading.Lock()
#: semaphore name -> the process-local semaphore (the local schedulers)
_local_semaphores: dict[str, threading.BoundedSemaphore] = {}


def _specs(driver: Client, pools: Sequence[str], threads: int) -> dict[str, Spec]:
    """Each pool's input and output fields, read by the driver ``threads`` at a time."""
    answers = run_in_threads(driver.get_task_spec, pools, threads)
    return {
        pool: (
            list(schema.parse_input_spec(inputs).values()),
            list(schema.parse_output_spec(outputs).values()),
        )
        for pool, (inputs, outputs) in zip(pools, answers)
    }


# --------------------------------------------------------------------------- tasks
def _read_tasks_partition(
    part: tuple[str, dict[str, Any], dict[str, Any]],
    *,
    description: ClientDescription,
    like: pd.DataFrame,
    dtype_backend: DtypeBackend,
    page_size: int,
) -> pd.DataFrame:
    pool_id, input_spec, output_spec = part
    frame = _tasks.read_tasks(
        pool_id,
        client=worker_client(description),
        input_spec=input_spec,
        output_spec=output_spec,
        page_size=page_size,
        progress_bar=False,
        dtype_backend=dtype_backend,
    )
    return conform(frame, like)


def read_tasks(
    pool_ids: Sequence[str | int],
    *,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    max_concurrency: int = MAX_CONCURRENT_OPERATIONS,
    page_size: int = TASKS_PAGE_SIZE,
    dtype_backend: DtypeBackend = "pyarrow",
    credentials: Credentials = "ship",
) -> dd.DataFrame:
    """Read the tasks of many pools into a Dask DataFrame, one partition per pool.

    The driver reads each pool's input and output specs (``max_concurrency``
    at a time) for ``meta``; each partition is :func:`pandas_toloka.read_tasks`
    of its pool, run on a worker.

    Parameters
    ----------
    pool_ids : list of str
        The pools, one partition each, in this order.
    client, token, environment, url, credentials
        As for :func:`read_aggregated_solutions`.
    max_concurrency : int, default 8
        Specs read at once by the driver.
    page_size, dtype_backend
        As for :func:`pandas_toloka.read_tasks`.

    Returns
    -------
    dask.dataframe.DataFrame
        Columns and dtypes of :func:`pandas_toloka.read_tasks`; partition ``i``
        holds pool ``pool_ids[i]`` in task id order.

    Raises
    ------
    InvalidArgumentError
        For bad arguments, or pools whose specs give different columns.
    TolokaApiError
        From the driver (reading a spec) or at compute time, as the pandas reader.

    Examples
    --------
    >>> tasks = ptd.read_tasks(["36502086", "36502087"])  # doctest: +SKIP
    >>> tasks.to_parquet("tasks/", partition_on=["pool_id"])  # doctest: +SKIP
    """
    pools = check_pool_ids(pool_ids)
    threads = check_positive(max_concurrency, "max_concurrency")
    backend = schema.check_dtype_backend(dtype_backend)
    check_page_size(page_size)
    description, lease, specs = shared_driver(
        client, token, environment, url, credentials, lambda driver: _specs(driver, pools, threads)
    )
    with closing(lease):
        return _tasks_frame(pools, specs, description, backend, page_size, lease)


def _tasks_frame(
    pools: list[str],
    specs: dict[str, tuple[list[Any], list[Any]]],
    description: ClientDescription,
    backend: DtypeBackend,
    page_size: int,
    lease: Lease,
) -> dd.DataFrame:
    empties = {p: tasks_to_table([], i, o, pool_id=p) for p, (i, o) in specs.items()}
    meta = union_meta(empties, "tasks", backend)
    parts = [
        (
            pool,
            {f.name: f.to_spec() for f in specs[pool][0]},
            {f.name: f.to_spec() for f in specs[pool][1]},
        )
        for pool in pools
    ]
    with keep_dtypes():
        frame = dd.from_map(
            _read_tasks_partition,
            parts,
            meta=meta,
            label="read-tasks",
            description=description,
            like=meta,
            dtype_backend=backend,
            page_size=page_size,
        )
        lease.keep_with(frame.expr)  # the credentials live as long as the frame
    return frame


# --------------------------------------------------------------------------- labeled dataset
def _distributed_client() -> Any | None:
    from distributed import get_client

    try:
        return get_client()
    except ValueError:
        return None


@contextmanager
def _lease(semaphore: Any, name: str, limit: int) -> Iterator[None]:
    """Hold one of ``limit`` leases: the cluster's semaphore, or this process's."""
    if semaphore is not None:
        with semaphore:
            yield
        return
    with _local_lock:
        local = _local_semaphores.setdefault(name, threading.BoundedSemaphore(limit))
    with local:
        yield


def _read_labeled_partition(
    pool_id: str,
    *,
    description: ClientDescription,
    like: pd.DataFrame,
    semaphore: Any,
    semaphore_name: str,
    limit: int,
    type: AggregationType | None,
    fields: list[str] | None,
    inputs: list[str] | None,
    golden: bool,
    answer_weight_skill_id: str | None,
    dtype_backend: DtypeBackend,
    page_size: int,
    wait_timeout: float | None,
) -> pd.DataFrame:
    """One pool: start its aggregation under a lease, read it and its tasks, join."""
    client = worker_client(description)
    with _lease(semaphore, semaphore_name, limit):
        labeled = read_labeled_table(
            pool_id,
            client=client,
            type=type,
            fields=fields,
            inputs=inputs,
            golden=golden,
            answer_weight_skill_id=answer_weight_skill_id,
            page_size=page_size,
            wait_timeout=wait_timeout,
        )
    for line in labeled.counts.describe():
        logger.warning("pool %s: %s", pool_id, line)
    frame = schema.to_pandas(labeled.table, dtype_backend=dtype_backend)
    frame.attrs[schema.ATTRS_KEY] = dict(labeled.attrs)
    return conform(frame, like)


def _aggregated_fields(
    pool: str, outputs: list[OutputField], names: list[str] | None
) -> list[OutputField]:
    by_name = {f.name: f for f in outputs}
    if names is None:
        if len(outputs) != 1:
            raise InvalidArgumentError(
                f"Pool {pool!r} has several output fields {list(by_name)}: choose the ones "
                "to aggregate with fields=."
            )
        return list(outputs)
    missing = [n for n in names if n not in by_name]
    if missing:
        raise InvalidArgumentError(
            f"Pool {pool!r} has no output field(s) {missing}; its fields are {list(by_name)}."
        )
    return [by_name[n] for n in names]


def read_labeled_dataset(
    pool_ids: Sequence[str | int],
    *,
    type: AggregationTypeName | AggregationType | None = None,
    fields: str | Sequence[str] | None = None,
    inputs: bool | str | Sequence[str] | None = None,
    golden: bool = False,
    answer_weight_skill_id: str | int | None = None,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    max_concurrency: int = MAX_CONCURRENT_OPERATIONS,
    dtype_backend: DtypeBackend = "pyarrow",
    page_size: int = SOLUTIONS_PAGE_SIZE,
    wait_timeout: float | None = WAIT_TIMEOUT,
    credentials: Credentials = "ship",
) -> dd.DataFrame:
    """The labeled datasets of many pools -- inputs, labels, confidence -- one partition per pool.

    Per pool, one row per task: the task's input fields (what was labeled),
    the aggregated outputs and ``confidence`` (the server's aggregation), and
    with ``golden`` the control tasks' known answers. Write it as a Parquet
    lake partitioned by pool with ``.to_parquet(path, partition_on=["pool_id"])``.

    Each partition starts its pool's aggregation on the server, reads the
    pool's tasks while it runs, then its results, holding one of
    ``max_concurrency`` leases of a semaphore from the start to the last page;
    so at most ``max_concurrency`` aggregations are started and not yet read
    at any time, however many pools there are.

    Parameters
    ----------
    pool_ids : list of str
        The pools, one partition each, in this order.
    type, fields, answer_weight_skill_id
        As for :func:`pandas_toloka.read_aggregated_solutions`, the same for
        every pool; without ``fields`` every pool must have one output field.
    inputs : bool, str or list of str, optional
        The input fields to keep: the names of some, or None, True or ``"all"``
        (the default) for every one; False keeps none.
    golden : bool, default False
        Add the control tasks' known answers, ``golden.<field>`` per
        aggregated field (missing on the other tasks).
    client, token, environment, url, credentials
        As for :func:`read_aggregated_solutions`.
    max_concurrency : int, default 8
        Aggregations started and not yet read at once, across the cluster.
    dtype_backend, page_size, wait_timeout
        As for the pandas readers, per pool.

    Returns
    -------
    dask.dataframe.DataFrame
        ``pool_id``, ``task_id``, the input columns (an input named like an
        output column takes the ``input_values.`` prefix), ``confidence``, the
        aggregated outputs, and with ``golden`` the ``golden.<field>``
        columns; partition ``i`` holds pool ``pool_ids[i]`` in task id order.
        A task without an aggregated answer keeps its row with empty outputs,
        and an answer for a task the pool does not list is kept with empty
        inputs; each is logged as a warning with its count.

    Raises
    ------
    InvalidArgumentError
        In the driver, for bad arguments, unknown fields or inputs, or pools
        whose columns differ in type.
    OperationFailedError
        At compute time, for a pool whose aggregation failed.

    See Also
    --------
    pandas_toloka.read_tasks : What was labeled, for one pool.
    pandas_toloka.read_aggregated_solutions : The labels, for one pool.

    Examples
    --------
    >>> ddf = ptd.read_labeled_dataset(pools, fields="result")  # doctest: +SKIP
    >>> ddf.to_parquet("lake/", partition_on=["pool_id"])  # doctest: +SKIP
    """
    pools = check_pool_ids(pool_ids)
    limit = check_positive(max_concurrency, "max_concurrency")
    backend = schema.check_dtype_backend(dtype_backend)
    check_page_size(page_size)
    kind = AggregationType.parse(type) if type is not None else None
    names = field_names(fields)
    wanted = dataset_inputs(inputs)
    if not isinstance(golden, bool):
        raise InvalidArgumentError(f"golden must be True or False, got {golden!r}.")
    skill = None if answer_weight_skill_id is None else str(answer_weight_skill_id)
    description, lease, specs = shared_driver(
        client, token, environment, url, credentials, lambda driver: _specs(driver, pools, limit)
    )
    with closing(lease):
        return _labeled_frame(
            pools,
            specs,
            description,
            lease,
            kind=kind,
            names=names,
            wanted=wanted,
            golden=golden,
            skill=skill,
            limit=limit,
            backend=backend,
            page_size=page_size,
            wait_timeout=wait_timeout,
        )


def _labeled_frame(
    pools: list[str],
    specs: dict[str, tuple[list[Any], list[Any]]],
    description: ClientDescription,
    lease: Lease,
    *,
    kind: Any,
    names: Any,
    wanted: list[str] | bool,
    golden: bool,
    skill: str | None,
    limit: int,
    backend: DtypeBackend,
    page_size: int,
    wait_timeout: Any,
) -> dd.DataFrame:
    empties = {}
    for pool, (pool_inputs, outputs) in specs.items():
        aggregated = _aggregated_fields(pool, outputs, names)
        chosen = resolve_inputs(wanted, {f.name: f for f in pool_inputs}, pool)
        tasks = tasks_to_table([], pool_inputs, outputs, pool_id=pool)
        solutions = pa.Table.from_batches([schema.aggregated_page_to_batch([], aggregated)])
        empties[pool], _ = join_labeled(
            tasks, solutions, inputs=[f.name for f in chosen], golden=golden
        )
    meta = union_meta(empties, "labeled datasets", backend)
    dask_client = _distributed_client()
    name = f"pandas-toloka-aggregations-{uuid.uuid4().hex}"
    semaphore = None
    if dask_client is not None:
        from distributed import Semaphore

        semaphore = Semaphore(max_leases=limit, name=name)
    with keep_dtypes():
        frame = dd.from_map(
            _read_labeled_partition,
            pools,
            meta=meta,
            label="read-labeled-dataset",
            description=description,
            like=meta,
            semaphore=semaphore,
            semaphore_name=name,
            limit=limit,
            type=kind,
            fields=names,
            inputs=table_inputs(wanted),
            golden=golden,
            answer_weight_skill_id=skill,
            dtype_backend=backend,
            page_size=page_size,
            wait_timeout=wait_timeout,
        )
        lease.keep_with(frame.expr)  # the credentials live as long as the frame
    return frame
