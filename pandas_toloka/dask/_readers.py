"""Read many pools into one Dask DataFrame: one partition per pool.

The driver does the cheap, sequential-by-nature part: it checks the
arguments, fetches the output specs (for ``meta``, the exact dtypes the pandas
readers give) and starts the aggregations (:mod:`._start`). Each partition
then runs the pandas reader for its pool on a worker, resuming the operation
the driver started (``operation_id=``), with a client rebuilt from a
token-free description (:mod:`._credentials`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import replace
from typing import Any

import dask.dataframe as dd
import pandas as pd

from .. import reader as _reader
from .. import responses as _responses
from .. import schema
from .._config import (
    MAX_CONCURRENT_OPERATIONS,
    MAX_CONCURRENT_REQUESTS,
    RESPONSES_PAGE_SIZE,
    SOLUTIONS_PAGE_SIZE,
    WAIT_TIMEOUT,
)
from .._protocol import AggregationTypeName
from .._read.args import check_page_size, check_statuses, renamed_arguments
from .._read.assignments import assignments_to_table
from .._read.operations import (
    AggregationJob,
    resumable,
    wait_operation,
)
from ..client import AggregationType, Client
from ..schema import DtypeBackend, OutputField
from ._credentials import ClientDescription, Credentials, share_client, worker_client
from ._frames import conform, driver_client, keep_dtypes, same_schema, typed_empty
from ._start import (
    check_pool_ids,
    check_positive,
    operation_map,
    run_in_threads,
    start_aggregations_with,
)

__all__ = ["read_aggregated_solutions", "read_responses", "start_aggregations"]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- aggregated solutions
def _read_aggregated_partition(
    part: tuple[str, str, list[OutputField]],
    *,
    description: ClientDescription,
    like: pd.DataFrame,
    type: AggregationType,
    answer_weight_skill_id: str | None,
    dtype_backend: DtypeBackend,
    page_size: int,
    wait_timeout: float | None,
) -> pd.DataFrame:
    """One pool: wait for its operation, then stream its pages, as the pandas reader does.

    The driver already checked the operation against the pool, type and
    fields, so the partition goes straight to the operation (no output spec
    read again) and reads it with :class:`pandas_toloka.reader.AggregatedSolutions`.
    """
    pool_id, operation_id, fields = part
    client = worker_client(description)
    interrupted = f"Interrupted while reading aggregation {operation_id}: resume it with operation_id={operation_id!r}."
    with resumable(operation_id, doing="waiting for", interrupted=interrupted):
        operation = client.get_operation(operation_id)
    operation = wait_operation(client, operation, wait_timeout=wait_timeout, progress=False)
    request = AggregationJob(pool_id, type, fields, answer_weight_skill_id, operation)
    with _reader.AggregatedSolutions(
        client, request, owns_client=False, page_size=page_size, progress=False
    ) as stream:
        table = stream.read_table()
        frame = schema.to_pandas(table, dtype_backend=dtype_backend)
        frame.attrs[schema.ATTRS_KEY] = dict(stream.attrs)
    return conform(frame, like)


@renamed_arguments(max_concurrent_operations="max_concurrency")
def start_aggregations(
    pool_ids: Sequence[str | int],
    *,
    type: AggregationTypeName | AggregationType | None = None,
    fields: str | Sequence[str] | None = None,
    answer_weight_skill_id: str | int | None = None,
    operation_ids: Mapping[str, str] | None = None,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    max_concurrency: int = MAX_CONCURRENT_OPERATIONS,
) -> dict[str, str]:
    """Start the aggregation of every pool, at most ``max_concurrency`` at a time.

    Returns as soon as the last pool's aggregation is started (the last few
    may still be running). Pass the result as ``operation_ids=`` to
    :func:`read_aggregated_solutions` to read them without starting them again.

    Parameters
    ----------
    pool_ids : list of str
        The pools.
    type, fields, answer_weight_skill_id, operation_ids, client, token, environment, url, \
max_concurrency
        As for :func:`read_aggregated_solutions` (``max_concurrent_operations=``
        is the deprecated spelling of ``max_concurrency=``).

    Returns
    -------
    dict
        Pool id -> operation id, in the order of ``pool_ids``.
    """
    pools = check_pool_ids(pool_ids)
    limit = check_positive(max_concurrency, "max_concurrency")
    resume = operation_map(operation_ids, pools)
    driver, owns = driver_client(client, token, environment, url)
    try:
        requests = start_aggregations_with(
            driver,
            pools,
            type=type,
            fields=fields,
            answer_weight_skill_id=answer_weight_skill_id,
            operation_ids=resume,
            max_concurrent_operations=limit,
        )
    finally:
        if owns:
            driver.close()
    return {pool: request.operation_id for pool, request in requests.items()}


@renamed_arguments(max_concurrent_operations="max_concurrency")
def read_aggregated_solutions(
    pool_ids: Sequence[str | int],
    *,
    type: AggregationTypeName | AggregationType | None = None,
    fields: str | Sequence[str] | None = None,
    answer_weight_skill_id: str | int | None = None,
    operation_ids: Mapping[str, str] | None = None,
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
    """Aggregate many pools on the Toloka server into a Dask DataFrame, one partition per pool.

    The driver checks the arguments, reads each pool's output spec and starts
    the aggregations, keeping at most ``max_concurrency`` running on
    the server (the API's quota on ``aggregate-by-pool``); it returns once the
    last one is started. Each partition then waits for its pool's operation and
    pages through its results on a worker, exactly as
    :func:`pandas_toloka.read_aggregated_solutions` with ``operation_id=``.

    Parameters
    ----------
    pool_ids : list of str
        The pools, one partition each, in this order.
    type, fields, answer_weight_skill_id
        As for :func:`pandas_toloka.read_aggregated_solutions`; the same for
        every pool.
    operation_ids : dict, optional
        Pool id -> id of an aggregation already started for it (e.g. from
        :func:`start_aggregations`, or the ``operation_ids`` attribute of an
        error): those pools are read without starting anything.
    client, token, environment, url
        How the driver reaches Toloka, as for the pandas reader. The workers
        get a client of their own (see ``credentials``).
    max_concurrency : int, default 8
        Aggregations running on the server at once. Formerly
        ``max_concurrent_operations=`` (deprecated, still accepted with a
        ``FutureWarning``).
    dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
        As for the pandas reader; ``meta`` has exactly the dtypes it returns.
    page_size, wait_timeout
        As for the pandas reader, per pool.
    credentials : {'ship', 'worker-env'}, default 'ship'
        ``'ship'`` sends the driver's client to the workers in a Dask worker
        plugin of the active ``distributed`` client, never in the task graph;
        ``'worker-env'`` lets each worker read ``TOLOKA_API_KEY`` (or
        ``TOLOKA_TOKEN``) from its own environment.

    Returns
    -------
    dask.dataframe.DataFrame
        Columns and dtypes of :func:`pandas_toloka.read_aggregated_solutions`;
        partition ``i`` holds pool ``pool_ids[i]`` sorted by ``task_id``.

    Raises
    ------
    InvalidArgumentError
        In the driver, for bad arguments or pools whose output fields differ
        in type.
    OperationFailedError
        At compute time, for a pool whose aggregation failed; names its
        ``operation_id``. Other errors are those of the pandas reader.
    TolokaError
        An error met while starting; its ``operation_ids`` attribute maps the
        pools already started to their operations, to pass back as
        ``operation_ids=``.
    """
    pools = check_pool_ids(pool_ids)
    limit = check_positive(max_concurrency, "max_concurrency")
    resume = operation_map(operation_ids, pools)
    backend = schema.check_dtype_backend(dtype_backend)
    check_page_size(page_size)
    driver, owns = driver_client(client, token, environment, url)
    lease = None
    try:
        description, lease = share_client(driver, credentials=credentials, owned=owns)
        requests = start_aggregations_with(
            driver,
            pools,
            type=type,
            fields=fields,
            answer_weight_skill_id=answer_weight_skill_id,
            operation_ids=resume,
            max_concurrent_operations=limit,
        )
    except BaseException:
        if lease is not None:
            lease.close()  # no frame will hold it
        raise
    finally:
        if owns and credentials == "worker-env":
            driver.close()
    with closing(lease):
        first = next(iter(requests.values()))
        pa_schema = same_schema(
            {p: schema.aggregated_schema(r.fields) for p, r in requests.items()},
            "aggregated results",
        )
        meta = schema.to_pandas(
            typed_empty(
                pa_schema, [r.fields for r in requests.values()], schema.AGGREGATED_META_COLUMNS
            ),
            dtype_backend=backend,
        )
        parts = [(pool, r.operation_id, r.fields) for pool, r in requests.items()]
        with keep_dtypes():
            frame = dd.from_map(
                _read_aggregated_partition,
                parts,
                meta=meta,
                label="read-aggregated-solutions",
                description=description,
                like=meta,
                type=first.type,
                answer_weight_skill_id=first.answer_weight_skill_id,
                dtype_backend=backend,
                page_size=page_size,
                wait_timeout=wait_timeout,
            )
            lease.keep_with(frame.expr)
    return frame


# --------------------------------------------------------------------------- responses
def _read_responses_partition(
    part: tuple[str, dict[str, Any]],
    *,
    description: ClientDescription,
    like: pd.DataFrame,
    status: str | list[str] | None,
    dtype_backend: DtypeBackend,
    page_size: int,
) -> pd.DataFrame:
    pool_id, output_spec = part
    frame = _responses.read_responses(
        pool_id,
        status=status,
        client=worker_client(description),
        output_spec=output_spec,
        page_size=page_size,
        progress_bar=False,
        dtype_backend=dtype_backend,
    )
    return conform(frame, like)


@renamed_arguments(max_concurrent_requests="max_concurrency")
def read_responses(
    pool_ids: Sequence[str | int],
    *,
    status: str | Sequence[str] | None = "ACCEPTED",
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    output_spec: Mapping[str, Any] | None = None,
    max_concurrency: int = MAX_CONCURRENT_REQUESTS,
    page_size: int = RESPONSES_PAGE_SIZE,
    dtype_backend: DtypeBackend = "pyarrow",
    credentials: Credentials = "ship",
) -> dd.DataFrame:
    """Read the raw responses of many pools into a Dask DataFrame, one partition per pool.

    The driver reads the pools' output specs (``max_concurrency`` at
    a time) to build ``meta``; each partition is
    :func:`pandas_toloka.read_responses` of its pool, run on a worker.

    Parameters
    ----------
    pool_ids : list of str
        The pools, one partition each, in this order.
    status, output_spec, dtype_backend, page_size
        As for :func:`pandas_toloka.read_responses`; ``output_spec``, when
        given, is used for every pool instead of reading theirs.
    client, token, environment, url, credentials
        As for :func:`read_aggregated_solutions`.
    max_concurrency : int, default 8
        Output specs read at once by the driver. Formerly
        ``max_concurrent_requests=`` (deprecated, still accepted with a
        ``FutureWarning``).

    Returns
    -------
    dask.dataframe.DataFrame
        Columns and dtypes of :func:`pandas_toloka.read_responses`. Its
        ``attrs["toloka"]`` (on the frame's ``meta``) holds the output spec, which
        :meth:`aggregate_locally` uses as the pandas accessor does.

    Raises
    ------
    InvalidArgumentError
        For bad arguments, or pools whose output specs give different columns.
    TolokaApiError
        From the driver (reading a spec) or at compute time, as the pandas reader.
    """
    pools = check_pool_ids(pool_ids)
    threads = check_positive(max_concurrency, "max_concurrency")
    statuses = check_statuses(status)
    backend = schema.check_dtype_backend(dtype_backend)
    check_page_size(page_size)
    driver, owns = driver_client(client, token, environment, url)
    lease = None
    try:
        description, lease = share_client(driver, credentials=credentials, owned=owns)
        if output_spec is None:
            specs = run_in_threads(driver.get_output_spec, pools, threads)
        else:
            specs = [dict(output_spec)] * len(pools)
    except BaseException:
        if lease is not None:
            lease.close()  # no frame will hold it
        raise
    finally:
        if owns and credentials == "worker-env":
            driver.close()
    with closing(lease):
        fields = {p: list(schema.parse_output_spec(s).values()) for p, s in zip(pools, specs)}
        tables = {p: assignments_to_table([], f, pool_id=p) for p, f in fields.items()}
        pa_schema = same_schema({p: t.schema for p, t in tables.items()}, "responses")
        first = fields[pools[0]]
        meta = schema.to_pandas(
            typed_empty(pa_schema, list(fields.values()), schema.RESPONSES_META_COLUMNS),
            dtype_backend=backend,
        )
        # The frame's pools are in its pool_id column; the provenance names none of them, and
        # its output spec allows, per field, what any of the pools allows.
        union = {f.name: list(f.allowed_values or ()) for f in first}
        for pool_fields in fields.values():
            for f in pool_fields:
                union[f.name].extend(v for v in f.allowed_values or () if v not in union[f.name])
        spec = {
            f.name: (
                replace(f, allowed_values=tuple(union[f.name])) if f.allowed_values else f
            ).to_spec()
            for f in first
        }
        meta.attrs[schema.ATTRS_KEY] = schema.make_provenance(
            "responses",
            pool_id=None,
            output_spec=spec,
            status=None if statuses is None else list(statuses),
        )
        with keep_dtypes():
            frame = dd.from_map(
                _read_responses_partition,
                [(pool, {f.name: f.to_spec() for f in fields[pool]}) for pool in pools],
                meta=meta,
                label="read-responses",
                description=description,
                like=meta,
                status=None if statuses is None else list(statuses),
                dtype_backend=backend,
                page_size=page_size,
            )
            lease.keep_with(frame.expr)
    return frame
